//! Flow files: a TOML list of steps, each using a plugin with inputs that may refer to the
//! flow's `[vars]` and to earlier steps' outputs. Everything that can be checked is checked
//! before anything runs: syntax, plugins, references, required inputs, cycles.
//!
//! ```toml
//! [vars]
//! group = "aksflow-hello"
//!
//! [[step]]
//! id = "rg"
//! uses = "resource-group"
//! with = { name = "${{ vars.group }}", location = "eastus" }
//! grant = ["arm"]
//! ```

mod era;
mod error;
mod file;
mod plan;
mod template;
mod units;
mod width;

pub use era::{kubectl_version, refuse_era};
pub use error::{FlowError, FlowErrors};
pub use file::{ActAsDef, ExpectDef, FlowFile, LimitsDef, PersonaDef, StepDef};
pub use plan::{ActAs, Expect, Persona, Plan, PlannedStep, check_kind, load, load_str};
pub use template::{Part, Template, TemplateError};
