//! Building a run's outputs and the files it writes.

use crate::{Field, File, StepError, StepOutput, Value};

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

/// Checks a path a step was given (input `input`) for [`Outputs::file`]: relative, and
/// without `..`, so it stays below the output directory.
pub fn check_file_path(input: &str, path: &str) -> Result<(), StepError> {
    if path.starts_with('/') || path.split(['/', '\\']).any(|seg| seg == "..") {
        return Err(StepError::bad_input(input, "must be a relative path below the output directory, without `..`"));
    }
    Ok(())
}

impl From<Outputs> for StepOutput {
    fn from(o: Outputs) -> Self {
        StepOutput { outputs: o.fields, files: o.files }
    }
}
