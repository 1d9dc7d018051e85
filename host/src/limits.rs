//! What a step may use, and the typed failure it gets when it uses more.

use std::time::Duration;

use crate::bindings::StepError;

/// A step's budget: everything it can make the host do. Fuel is deterministic (the same
/// step burns the same fuel on any machine); the timeout is wall-clock time for the whole
/// step, host calls included; calls, network and log bytes bound what the host spends on
/// its behalf (memory for bodies, transcript on disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    pub memory_bytes: u64,
    pub fuel: u64,
    pub timeout: Duration,
    pub output_bytes: usize,
    /// Cloud calls.
    pub calls: u64,
    /// Bytes sent plus bytes received over all its calls.
    pub network_bytes: u64,
    /// Bytes of log lines.
    pub log_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 128 << 20,
            // About a second of straight-line wasm; a real step uses a few million.
            fuel: 2_000_000_000,
            // Wall clock for the whole step, host calls included: long enough for a real AKS
            // create or upgrade (minutes of polling); runaway compute is fuel's to stop.
            timeout: Duration::from_secs(30 * 60),
            output_bytes: 1 << 20,
            // The busiest built-in step (an LRO poll loop) makes a few dozen.
            calls: 1_000,
            // Kubeconfigs and object lists are kilobytes; this leaves room for big lists
            // while capping what one step can make the host hold and record.
            network_bytes: 64 << 20,
            log_bytes: 1 << 20,
        }
    }
}

/// Which part of the budget a step ran through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Calls,
    Network,
    Log,
}

impl Budget {
    /// The flow-file key that raises it.
    pub fn key(self) -> &'static str {
        match self {
            Budget::Calls => "limits.calls",
            Budget::Network => "limits.network",
            Budget::Log => "limits.log",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Budget::Calls => "cloud calls",
            Budget::Network => "bytes sent and received",
            Budget::Log => "bytes of log lines",
        }
    }
}

/// What a step has spent so far, against its [`Limits`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spent {
    pub calls: u64,
    pub network_bytes: u64,
    pub log_bytes: u64,
}

impl Spent {
    /// Charges `n` to one part of the budget; past the limit, the step must stop.
    pub fn charge(&mut self, limits: &Limits, budget: Budget, n: u64) -> Result<(), LimitHit> {
        let (spent, limit) = match budget {
            Budget::Calls => (&mut self.calls, limits.calls),
            Budget::Network => (&mut self.network_bytes, limits.network_bytes),
            Budget::Log => (&mut self.log_bytes, limits.log_bytes),
        };
        *spent = spent.saturating_add(n);
        if *spent > limit {
            return Err(LimitHit::Budget { budget, limit });
        }
        Ok(())
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
    #[error("the plugin went past its budget of {limit} {} (raise `{}` on the step if the work is legitimate)", .budget.what(), .budget.key())]
    BudgetExceeded { budget: Budget, limit: u64 },
    #[error("the plugin asked to write `{path}`, which {owner} writes; each file under the output directory has one writer")]
    FileClash { path: String, owner: String },
    #[error("the plugin's outputs are not what it declared: {reason}")]
    BadOutput { reason: String },
    #[error("the plugin could not be instantiated: {reason}")]
    Instantiate { reason: String },
    /// aksflow's own code panicked while running the step (a host function, the simulator,
    /// a progress sink): the step fails instead of leaving the run waiting for it forever.
    #[error("aksflow itself failed while running this step: {message}. This is a bug in aksflow, not in the plugin or the flow; please report it with the flow, its seed and this message")]
    HostPanic { message: String },
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
            StepFailure::BudgetExceeded { budget: Budget::Calls, .. } => "CallLimitExceeded",
            StepFailure::BudgetExceeded { budget: Budget::Network, .. } => "NetworkLimitExceeded",
            StepFailure::BudgetExceeded { budget: Budget::Log, .. } => "LogLimitExceeded",
            StepFailure::FileClash { .. } => "FileClash",
            StepFailure::BadOutput { .. } => "BadOutput",
            StepFailure::Instantiate { .. } => "InstantiateFailed",
            StepFailure::HostPanic { .. } => "HostPanic",
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
    #[error("budget {budget:?} of {limit} exceeded")]
    Budget { budget: Budget, limit: u64 },
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
            LimitHit::Budget { budget, limit } => StepFailure::BudgetExceeded { budget: *budget, limit: *limit },
        };
    }
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::OutOfFuel) => StepFailure::FuelExhausted { fuel: limits.fuel },
        Some(wasmtime::Trap::Interrupt) => StepFailure::Timeout { limit: limits.timeout },
        // A Rust or C guest keeps its stack in linear memory, below its data: recursing past
        // it reads or writes below address 0, which wasm reports only as out of bounds.
        Some(wasmtime::Trap::MemoryOutOfBounds) => StepFailure::Trap {
            message: format!(
                "out of bounds memory access: in a plugin compiled from Rust or C this is most often a stack overflow (deep recursion ran past the stack, which lives in linear memory); if the recursion is meant, link the plugin with a larger stack (`-C link-arg=-zstack-size=BYTES` in its .cargo/config.toml, where `aksflow plugins new` puts {})",
                crate::engine::PLUGIN_STACK_BYTES
            ),
            stderr,
        },
        Some(trap) => StepFailure::Trap { message: trap.to_string(), stderr },
        None => StepFailure::Trap { message: format!("{e}").lines().next().unwrap_or_default().to_string(), stderr },
    }
}

pub(crate) fn instantiate_error(e: wasmtime::Error) -> StepFailure {
    // Every running step, in every flow of the process, holds one of the engine's slots. A
    // run reserves its own before its first step (`StepEngine::reserve`), counted in whole
    // sandboxes; the pool runs out only for a step run straight on the engine, or for plugins
    // that need more than a sandbox's share of the pool's core instances, memories or tables.
    if e.chain().any(|c| c.downcast_ref::<wasmtime::PoolConcurrencyLimitError>().is_some()) {
        return StepFailure::Instantiate {
            reason: format!(
                "the process's pool of {} sandboxes ran out ({e:#}): a step run outside `aksflow::runner::run` must reserve its sandbox first (`StepEngine::reserve`), and a plugin may use at most {} core instances, {} memories and {} tables; if this plugin needs more, run fewer of its steps at once (order them with `needs`)",
                crate::engine::MAX_INSTANCES,
                crate::engine::CORE_INSTANCES_PER_SANDBOX,
                crate::engine::MEMORIES_PER_SANDBOX,
                crate::engine::TABLES_PER_SANDBOX,
            ),
        };
    }
    StepFailure::Instantiate { reason: format!("{e:#}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_budget_allows_up_to_its_limit_and_no_more() {
        let limits = Limits { calls: 2, network_bytes: 100, log_bytes: 10, ..Limits::default() };
        let mut spent = Spent::default();
        assert!(spent.charge(&limits, Budget::Calls, 1).is_ok());
        assert!(spent.charge(&limits, Budget::Calls, 1).is_ok());
        assert!(matches!(spent.charge(&limits, Budget::Calls, 1), Err(LimitHit::Budget { budget: Budget::Calls, limit: 2 })));
        assert!(spent.charge(&limits, Budget::Network, 100).is_ok());
        assert!(spent.charge(&limits, Budget::Network, 1).is_err());
        assert!(spent.charge(&limits, Budget::Log, 11).is_err(), "one line over the limit is refused at once");
        assert!(spent.charge(&limits, Budget::Log, u64::MAX).is_err(), "no overflow");
    }

    #[test]
    fn an_out_of_bounds_trap_names_the_likely_stack_overflow() {
        let f = classify(wasmtime::Error::new(wasmtime::Trap::MemoryOutOfBounds), &Limits::default(), String::new());
        assert_eq!(f.code(), "Trap");
        assert!(f.message().contains("out of bounds memory access") && f.message().contains("stack overflow"), "{}", f.message());
        let f = classify(wasmtime::Error::new(wasmtime::Trap::StackOverflow), &Limits::default(), String::new());
        assert!(f.message().contains("call stack exhausted"), "{}", f.message());
    }

    #[test]
    fn a_budget_failure_names_the_limit_and_the_key_that_raises_it() {
        let f = classify(wasmtime::Error::new(LimitHit::Budget { budget: Budget::Network, limit: 64 << 20 }), &Limits::default(), String::new());
        assert_eq!(f, StepFailure::BudgetExceeded { budget: Budget::Network, limit: 64 << 20 });
        assert_eq!(f.code(), "NetworkLimitExceeded");
        assert_eq!(f.to_string(), "the plugin went past its budget of 67108864 bytes sent and received (raise `limits.network` on the step if the work is legitimate)");
        assert_eq!(StepFailure::BudgetExceeded { budget: Budget::Calls, limit: 1 }.code(), "CallLimitExceeded");
        assert_eq!(StepFailure::BudgetExceeded { budget: Budget::Log, limit: 1 }.code(), "LogLimitExceeded");
    }
}
