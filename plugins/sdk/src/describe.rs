//! Builders for `describe`, so a step's contract reads as one expression.

use crate::{InputSpec, OutputSpec, Service, StepError, StepInfo, ValueKind};

impl StepInfo {
    pub fn new(name: &str, summary: &str) -> Self {
        StepInfo { name: name.into(), summary: summary.into(), inputs: vec![], outputs: vec![], services: vec![] }
    }

    pub(crate) fn input_with(mut self, name: &str, description: &str, kind: ValueKind, required: bool, secret: bool) -> Self {
        self.inputs.push(InputSpec { name: name.into(), description: description.into(), kind, required, secret });
        self
    }

    /// A required text input.
    pub fn input(self, name: &str, description: &str) -> Self {
        self.input_with(name, description, ValueKind::Text, true, false)
    }

    /// An optional text input.
    pub fn optional(self, name: &str, description: &str) -> Self {
        self.input_with(name, description, ValueKind::Text, false, false)
    }

    /// An input of another kind (integer, boolean, json).
    pub fn typed(self, name: &str, description: &str, kind: ValueKind, required: bool) -> Self {
        self.input_with(name, description, kind, required, false)
    }

    /// An input that must be passed as a secret.
    pub fn secret_input(self, name: &str, description: &str, required: bool) -> Self {
        self.input_with(name, description, ValueKind::Text, required, true)
    }

    pub fn output(mut self, name: &str, description: &str) -> Self {
        self.outputs.push(OutputSpec { name: name.into(), description: description.into(), secret: false });
        self
    }

    pub fn secret_output(mut self, name: &str, description: &str) -> Self {
        self.outputs.push(OutputSpec { name: name.into(), description: description.into(), secret: true });
        self
    }

    pub fn uses(mut self, service: Service) -> Self {
        self.services.push(service);
        self
    }
}

impl StepError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        StepError { code: code.into(), message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// An input that is present but unusable.
    pub fn bad_input(name: &str, problem: impl std::fmt::Display) -> Self {
        StepError::new("InvalidInput", format!("input `{name}`: {problem}"))
    }
}
