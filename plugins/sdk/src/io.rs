//! Reading inputs and building outputs.

use crate::{Field, File, StepError, StepOutput, Value};

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
        self.opt(name).ok_or_else(|| StepError::bad_input(name, "is required but was not given"))
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

/// The outputs of a run, and files for the host to write under `--out`.
#[derive(Default)]
pub struct Outputs {
    fields: Vec<Field>,
    files: Vec<File>,
}

impl Outputs {
    pub fn new() -> Self {
        Outputs::default()
    }

    pub fn text(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push(Field { name: name.into(), value: Value::Text(value.into()) });
        self
    }

    pub fn secret(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push(Field { name: name.into(), value: Value::Secret(value.into()) });
        self
    }

    /// A file the host writes at `path` below the run's output directory.
    pub fn file(mut self, path: &str, contents: impl Into<String>, secret: bool) -> Self {
        let contents = contents.into();
        let contents = if secret { Value::Secret(contents) } else { Value::Text(contents) };
        self.files.push(File { path: path.into(), contents });
        self
    }
}

impl From<Outputs> for StepOutput {
    fn from(o: Outputs) -> Self {
        StepOutput { outputs: o.fields, files: o.files }
    }
}
