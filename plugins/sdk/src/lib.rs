//! Helpers for writing aksflow step plugins.
//!
//! A step is a `wasm32-wasip2` component that implements [`Guest`]: `describe` says what it
//! takes and gives, `run` does the work. Everything outside the sandbox goes through the
//! host: [`cloud`] for HTTP calls to Entra ID, Graph, ARM or a cluster, [`log`] for progress
//! lines, [`interact`] for prompts to the person at the keyboard.
//!
//! ```ignore
//! use aksflow_sdk::*;
//! struct Hello;
//! aksflow_sdk::inputs! {
//!     struct Args {
//!         name: Option<String> = "name" => "Who to greet (default: world)",
//!     }
//! }
//! impl Guest for Hello {
//!     fn describe() -> StepInfo {
//!         StepInfo::new("hello", "Says hello").takes::<Args>().output("greeting", "The greeting")
//!     }
//!     fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
//!         let args = Args::from_fields(inputs)?;
//!         let name = args.name.given().unwrap_or("world");
//!         Ok(Outputs::new().text("greeting", format!("hello, {name}")).into())
//!     }
//! }
//! aksflow_sdk::export!(Hello with_types_in aksflow_sdk::bindings);
//! ```

pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "step",
        pub_export_macro: true,
        default_bindings_module: "aksflow_sdk::bindings",
    });
}

mod describe;
mod http;
mod inputs;
mod outputs;
pub mod arm;
pub mod graph;
pub mod kube;
pub mod log;
pub mod retry;

pub use bindings::Guest;
pub use bindings::aksflow::step::cloud::{CallError, Header, Request, Response};
pub use bindings::aksflow::step::interact;
pub use bindings::aksflow::step::types::{
    CloudContext, Field, File, InputSpec, OutputSpec, Service, StepError, StepInfo, StepOutput, Value, ValueKind,
};
pub use bindings::export;
pub use http::*;
pub use inputs::*;
pub use outputs::*;

/// The tenant, subscription and default location of the run.
pub fn context() -> CloudContext {
    bindings::aksflow::step::cloud::context()
}

/// Seconds since the Unix epoch by the run's clock (inside a step, the host's: virtual
/// against the simulator).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
