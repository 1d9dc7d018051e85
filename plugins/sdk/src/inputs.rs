//! Reading a run's inputs: declared once, in a struct made by [`inputs!`], which both
//! `describe` ([`StepInfo::takes`]) and `run` ([`StepInputs::from_fields`]) use.
//!
//! ```ignore
//! aksflow_sdk::inputs! {
//!     struct Args {
//!         name: String = "name" => "Resource group name",
//!         location: Option<String> = "location" => "Azure region (default: the run's)",
//!         tags: Option<Json<Tags>> = "tags" => "Tags as a JSON object of strings",
//!     }
//! }
//! // describe: StepInfo::new("resource-group", "…").takes::<Args>().output(…)
//! // run:      let args = Args::from_fields(inputs)?;
//! ```

use std::fmt;
use std::ops::Deref;

use crate::{Field, StepError, StepInfo, Value, ValueKind};

/// The inputs of one run, by name.
pub struct Inputs(Vec<Field>);

impl From<Vec<Field>> for Inputs {
    fn from(fields: Vec<Field>) -> Self {
        Inputs(fields)
    }
}

impl Inputs {
    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    /// A text or secret input's value, if it was given.
    pub fn opt(&self, name: &str) -> Option<&str> {
        self.get(name).map(|v| match v {
            Value::Text(s) | Value::Secret(s) => s.as_str(),
        })
    }

    /// A required input's value. The host checks required inputs before the step runs, so
    /// this fails only when a step reads an input it did not declare as required.
    pub fn req(&self, name: &str) -> Result<&str, StepError> {
        self.opt(name).ok_or_else(|| missing(name))
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>, StepError> {
        match self.opt(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(StepError::bad_input(name, format!("expected true or false, got `{other}`"))),
        }
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StepError> {
        self.opt(name)
            .map(|s| s.trim().parse::<i64>().map_err(|_| StepError::bad_input(name, format!("expected a whole number, got `{s}`"))))
            .transpose()
    }

    /// A JSON input parsed into `T`.
    pub fn opt_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, StepError> {
        self.opt(name)
            .map(|s| serde_json::from_str(s).map_err(|e| StepError::bad_input(name, format!("not valid JSON for this input: {e}"))))
            .transpose()
    }
}

fn missing(name: &str) -> StepError {
    StepError::bad_input(name, "is required but was not given")
}

/// One input's Rust type: how it is declared and how it is read. A required text input is
/// a `String`, an optional one an `Option<String>`; [`Secret`] is text that must be passed
/// as a secret; `bool`, `i64` and [`Json<T>`] are the typed kinds (each also optional);
/// `Option<Vec<String>>` is comma-separated text.
pub trait Input: Sized {
    const KIND: ValueKind;
    const REQUIRED: bool;
    const SECRET: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError>;
}

impl Input for String {
    const KIND: ValueKind = ValueKind::Text;
    const REQUIRED: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.req(name).map(String::from)
    }
}

impl Input for Option<String> {
    const KIND: ValueKind = ValueKind::Text;
    const REQUIRED: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        Ok(inputs.opt(name).map(String::from))
    }
}

impl Input for Secret {
    const KIND: ValueKind = ValueKind::Text;
    const REQUIRED: bool = true;
    const SECRET: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.req(name).map(|s| Secret(s.into()))
    }
}

impl Input for Option<Secret> {
    const KIND: ValueKind = ValueKind::Text;
    const REQUIRED: bool = false;
    const SECRET: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        Ok(inputs.opt(name).map(|s| Secret(s.into())))
    }
}

impl Input for Option<bool> {
    const KIND: ValueKind = ValueKind::Boolean;
    const REQUIRED: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.opt_bool(name)
    }
}

impl Input for Option<i64> {
    const KIND: ValueKind = ValueKind::Integer;
    const REQUIRED: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.opt_int(name)
    }
}

impl<T: serde::de::DeserializeOwned> Input for Option<Json<T>> {
    const KIND: ValueKind = ValueKind::Json;
    const REQUIRED: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        Ok(inputs.opt_json(name)?.map(Json))
    }
}

impl Input for bool {
    const KIND: ValueKind = ValueKind::Boolean;
    const REQUIRED: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.opt_bool(name)?.ok_or_else(|| missing(name))
    }
}

impl Input for i64 {
    const KIND: ValueKind = ValueKind::Integer;
    const REQUIRED: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.opt_int(name)?.ok_or_else(|| missing(name))
    }
}

impl<T: serde::de::DeserializeOwned> Input for Json<T> {
    const KIND: ValueKind = ValueKind::Json;
    const REQUIRED: bool = true;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        inputs.opt_json(name)?.map(Json).ok_or_else(|| missing(name))
    }
}

/// Comma-separated text: the items trimmed, empty ones dropped. `Some(vec![])` when the
/// input was given but names nothing.
impl Input for Option<Vec<String>> {
    const KIND: ValueKind = ValueKind::Text;
    const REQUIRED: bool = false;
    fn read(inputs: &Inputs, name: &str) -> Result<Self, StepError> {
        Ok(inputs.opt(name).map(|s| s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()))
    }
}

/// A text input that must be passed as a secret. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A JSON input parsed into `T`.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<T>(pub T);

/// Optional text as a step uses it: trimmed, and only when not blank
/// (`args.location.given()`, `inputs.opt("location").given()`).
pub trait Given {
    fn given(&self) -> Option<&str>;
}

impl<S: Deref<Target = str>> Given for Option<S> {
    fn given(&self) -> Option<&str> {
        self.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

/// A step's inputs as one struct, made by [`inputs!`].
pub trait StepInputs: Sized {
    /// Adds the inputs to a step's `describe`, in declaration order.
    fn declare(info: StepInfo) -> StepInfo;
    fn read(inputs: &Inputs) -> Result<Self, StepError>;

    /// The run's fields, read into the struct.
    fn from_fields(fields: Vec<Field>) -> Result<Self, StepError> {
        Self::read(&Inputs::from(fields))
    }
}

impl StepInfo {
    /// Declares one input by its Rust type (see [`Input`]).
    pub fn declare<T: Input>(self, name: &str, description: &str) -> Self {
        self.input_with(name, description, T::KIND, T::REQUIRED, T::SECRET)
    }

    /// Declares the inputs of an [`inputs!`] struct.
    pub fn takes<T: StepInputs>(self) -> Self {
        T::declare(self)
    }
}

/// Declares a step's inputs once: a struct whose fields are read in `run`, and whose
/// declarations `describe` adds with [`StepInfo::takes`]. Each field is
/// `rust_name: Type = "input-name" => "description"`, with a type that is an [`Input`].
#[macro_export]
macro_rules! inputs {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $input:literal => $description:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $vis $field: $ty, )*
        }

        impl $crate::StepInputs for $name {
            fn declare(info: $crate::StepInfo) -> $crate::StepInfo {
                info $( .declare::<$ty>($input, $description) )*
            }

            fn read(inputs: &$crate::Inputs) -> ::std::result::Result<Self, $crate::StepError> {
                ::std::result::Result::Ok($name { $( $field: <$ty as $crate::Input>::read(inputs, $input)?, )* })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::inputs! {
        #[derive(Debug)]
        struct Args {
            name: String = "name" => "A name",
            location: Option<String> = "location" => "A region",
            kubeconfig: Secret = "kubeconfig" => "A kubeconfig",
            password: Option<Secret> = "password" => "A password",
            wait: Option<bool> = "wait" => "Whether to wait",
            count: Option<i64> = "count" => "How many",
            tags: Option<Json<std::collections::BTreeMap<String, String>>> = "tags" => "Tags",
            members: Option<Vec<String>> = "members" => "Members",
        }
    }

    fn text(name: &str, value: &str) -> Field {
        Field { name: name.into(), value: Value::Text(value.into()) }
    }

    #[test]
    fn declares_each_input_once_in_order() {
        let info = StepInfo::new("s", "S").takes::<Args>();
        let got: Vec<(&str, &str, ValueKind, bool, bool)> =
            info.inputs.iter().map(|i| (i.name.as_str(), i.description.as_str(), i.kind, i.required, i.secret)).collect();
        assert_eq!(
            got,
            [
                ("name", "A name", ValueKind::Text, true, false),
                ("location", "A region", ValueKind::Text, false, false),
                ("kubeconfig", "A kubeconfig", ValueKind::Text, true, true),
                ("password", "A password", ValueKind::Text, false, true),
                ("wait", "Whether to wait", ValueKind::Boolean, false, false),
                ("count", "How many", ValueKind::Integer, false, false),
                ("tags", "Tags", ValueKind::Json, false, false),
                ("members", "Members", ValueKind::Text, false, false),
            ]
        );
    }

    #[test]
    fn reads_each_kind() {
        let args = Args::from_fields(vec![
            text("name", " n "),
            text("location", "  "),
            Field { name: "kubeconfig".into(), value: Value::Secret("kc".into()) },
            text("wait", "true"),
            text("count", " 3 "),
            text("tags", r#"{"a":"b"}"#),
            text("members", "x, ,y,"),
        ])
        .unwrap();
        assert_eq!(args.name, " n ", "text is given as it came");
        assert_eq!((args.location.as_deref(), args.location.given()), (Some("  "), None));
        assert_eq!(&*args.kubeconfig, "kc");
        assert!(args.password.is_none());
        assert_eq!((args.wait, args.count), (Some(true), Some(3)));
        assert_eq!(args.tags.unwrap().0["a"], "b");
        assert_eq!(args.members.unwrap(), ["x", "y"]);
        assert!(!format!("{:?}", Secret("shh".into())).contains("shh"));
    }

    #[test]
    fn bad_values_name_the_input() {
        let e = Args::from_fields(vec![text("name", "n"), text("kubeconfig", "k"), text("wait", "yes")]).unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("InvalidInput", "input `wait`: expected true or false, got `yes`"));
        let e = Args::from_fields(vec![text("name", "n"), text("kubeconfig", "k"), text("tags", "[1]")]).unwrap_err();
        assert!(e.message.starts_with("input `tags`: not valid JSON for this input"), "{}", e.message);
    }

    #[test]
    fn given_trims_and_drops_blank_text() {
        let inputs = Inputs::from(vec![text("a", " x "), text("b", " ")]);
        assert_eq!((inputs.opt("a").given(), inputs.opt("b").given(), inputs.opt("c").given()), (Some("x"), None, None));
    }
}
