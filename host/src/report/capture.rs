//! Keeps each step's log lines and prompts for the report while passing them on to the
//! progress display the run was given.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::runner::{Progress, StepReport};
use crate::sandbox::{DeviceLogin, LogLevel};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// `debug`, `info`, `warn`, or `prompt` (a message for the person at the keyboard).
    pub level: String,
    pub message: String,
}

pub struct Capture {
    inner: Arc<dyn Progress>,
    logs: Mutex<BTreeMap<String, Vec<LogLine>>>,
}

impl Capture {
    pub fn new(inner: Arc<dyn Progress>) -> Self {
        Capture { inner, logs: Mutex::new(BTreeMap::new()) }
    }

    /// Each step's lines, in the order the step wrote them.
    pub fn logs(&self) -> BTreeMap<String, Vec<LogLine>> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn keep(&self, id: &str, level: &str, message: &str) {
        let line = LogLine { level: level.into(), message: message.into() };
        self.logs.lock().unwrap_or_else(|p| p.into_inner()).entry(id.to_string()).or_default().push(line);
    }
}

impl Progress for Capture {
    fn step_started(&self, id: &str, uses: &str) {
        self.inner.step_started(id, uses);
    }

    fn step_log(&self, id: &str, level: LogLevel, message: &str) {
        let name = match level {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
        };
        self.keep(id, name, message);
        self.inner.step_log(id, level, message);
    }

    fn prompt(&self, id: &str, message: &str, device: Option<&DeviceLogin>) {
        self.keep(id, "prompt", message);
        self.inner.prompt(id, message, device);
    }

    fn step_finished(&self, report: &StepReport) {
        self.inner.step_finished(report);
    }
}
