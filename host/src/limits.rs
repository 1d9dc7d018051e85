//! What a step may use, and the typed failure it gets when it uses more.

use std::time::Duration;

use crate::bindings::StepError;

/// A step's budget. Fuel is deterministic (the same step burns the same fuel on any
/// machine); the timeout is wall-clock time spent running wasm, a backstop for fuel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub memory_bytes: u64,
    pub fuel: u64,
    pub timeout: Duration,
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 << 20,
            // About a second of straight-line wasm; a real step uses a few million.
            fuel: 2_000_000_000,
            timeout: Duration::from_secs(30),
            output_bytes: 1 << 20,
        }
    }
}

/// Why a step did not succeed. Every variant names the limit or the cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StepFailure {
    #[error("{}: {}{}", .0.code, .0.message, .0.hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Plugin(StepError),
    #[error("the plugin trapped: {message}{}", if .stderr.is_empty() { String::new() } else { format!("\n  plugin stderr: {}", .stderr.trim_end().replace('\n', "\n  ")) })]
    Trap { message: String, stderr: String },
    #[error("the plugin ran out of fuel: it used its whole budget of {fuel} units (raise it with `limits.fuel` on the step if the work is legitimate)")]
    FuelExhausted { fuel: u64 },
    #[error("the plugin ran for more than {}s of wall-clock time (`limits.timeout` on the step)", .limit.as_secs_f64())]
    Timeout { limit: Duration },
    #[error("the plugin tried to grow its memory to {} MiB, past its limit of {} MiB (`limits.memory` on the step)", .requested >> 20, .limit >> 20)]
    MemoryLimit { limit: u64, requested: u64 },
    #[error("the plugin returned {} bytes of outputs, past the limit of {} bytes (`limits.output` on the step)", .bytes, .limit)]
    OutputTooLarge { bytes: usize, limit: usize },
    #[error("the plugin's outputs are not what it declared: {reason}")]
    BadOutput { reason: String },
    #[error("the plugin could not be instantiated: {reason}")]
    Instantiate { reason: String },
}

impl StepFailure {
    /// The code a flow's `expect` matches against.
    pub fn code(&self) -> &str {
        match self {
            StepFailure::Plugin(e) => &e.code,
            StepFailure::Trap { .. } => "Trap",
            StepFailure::FuelExhausted { .. } => "FuelExhausted",
            StepFailure::Timeout { .. } => "Timeout",
            StepFailure::MemoryLimit { .. } => "MemoryLimitExceeded",
            StepFailure::OutputTooLarge { .. } => "OutputTooLarge",
            StepFailure::BadOutput { .. } => "BadOutput",
            StepFailure::Instantiate { .. } => "InstantiateFailed",
        }
    }

    pub fn message(&self) -> String {
        match self {
            StepFailure::Plugin(e) => e.message.clone(),
            other => other.to_string(),
        }
    }
}

/// Raised from inside the store when a limit is hit, so the failure can be told apart
/// from an ordinary trap.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum LimitHit {
    #[error("memory limit of {limit} bytes exceeded (requested {requested})")]
    Memory { limit: u64, requested: u64 },
    #[error("wall-clock limit of {limit:?} exceeded")]
    Timeout { limit: Duration },
}

/// Caps linear memory and tables. Returning an error (rather than `false`) traps the guest
/// at once with a [`LimitHit`] the host recognises.
pub(crate) struct MemoryCap {
    pub limit: u64,
}

impl wasmtime::ResourceLimiter for MemoryCap {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.limit {
            return Err(wasmtime::Error::new(LimitHit::Memory { limit: self.limit, requested: desired as u64 }));
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Classifies an error out of a guest call.
pub(crate) fn classify(e: wasmtime::Error, limits: &Limits, stderr: String) -> StepFailure {
    if let Some(hit) = e.downcast_ref::<LimitHit>() {
        return match hit {
            LimitHit::Memory { limit, requested } => StepFailure::MemoryLimit { limit: *limit, requested: *requested },
            LimitHit::Timeout { limit } => StepFailure::Timeout { limit: *limit },
        };
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => StepFailure::FuelExhausted { fuel: limits.fuel },
        Some(wasmtime::Trap::Interrupt) => StepFailure::Timeout { limit: limits.timeout },
        Some(trap) => StepFailure::Trap { message: trap.to_string(), stderr },
        None => StepFailure::Trap { message: format!("{e}").lines().next().unwrap_or_default().to_string(), stderr },
    }
}

pub(crate) fn instantiate_error(e: wasmtime::Error) -> StepFailure {
    StepFailure::Instantiate { reason: format!("{e:#}") }
}
