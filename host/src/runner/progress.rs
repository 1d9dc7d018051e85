//! Progress lines while a flow runs. The CLI prints them; tests collect or drop them.

use crate::runner::report::{StepReport, StepStatus};
use crate::sandbox::{DeviceLogin, LogLevel};

pub trait Progress: Send + Sync {
    fn step_started(&self, id: &str, uses: &str);
    fn step_log(&self, id: &str, level: LogLevel, message: &str);
    /// A message for the person at the keyboard (device-code sign-in).
    fn prompt(&self, id: &str, message: &str, device: Option<&DeviceLogin>);
    fn step_finished(&self, report: &StepReport);
}

/// Prints nothing.
pub struct Silent;

impl Progress for Silent {
    fn step_started(&self, _: &str, _: &str) {}
    fn step_log(&self, _: &str, _: LogLevel, _: &str) {}
    fn prompt(&self, _: &str, _: &str, _: Option<&DeviceLogin>) {}
    fn step_finished(&self, _: &StepReport) {}
}

/// Human-readable lines on stderr.
pub struct Console {
    pub verbose: bool,
}

impl Progress for Console {
    fn step_started(&self, id: &str, uses: &str) {
        eprintln!("▶ {id} ({uses})");
    }

    fn step_log(&self, id: &str, level: LogLevel, message: &str) {
        match level {
            LogLevel::Debug if !self.verbose => {}
            LogLevel::Warn => eprintln!("  {id}: warning: {message}"),
            _ => eprintln!("  {id}: {message}"),
        }
    }

    fn prompt(&self, id: &str, message: &str, _device: Option<&DeviceLogin>) {
        eprintln!("  {id}: {message}");
    }

    fn step_finished(&self, r: &StepReport) {
        let ms = r.elapsed_ms;
        match r.status {
            StepStatus::Succeeded => eprintln!("✔ {} ({ms:.1} ms)", r.id),
            StepStatus::Resumed => eprintln!("✔ {} (finished in an earlier run)", r.id),
            StepStatus::ExpectedFailure => {
                eprintln!("✔ {} failed as expected: {} ({ms:.1} ms)", r.id, r.code.as_deref().unwrap_or(""))
            }
            StepStatus::Skipped => eprintln!("- {} skipped: {}", r.id, r.message.as_deref().unwrap_or("")),
            StepStatus::Failed => {
                eprintln!("✘ {}: {}: {}", r.id, r.code.as_deref().unwrap_or("Failed"), r.message.as_deref().unwrap_or(""));
                if let Some(h) = &r.hint {
                    eprintln!("  hint: {h}");
                }
            }
        }
    }
}
