//! Runs a checked [`Plan`]: steps start as soon as the steps they depend on have finished,
//! independent steps run concurrently, each in its own sandbox; state is saved after every
//! step; the result is a [`RunReport`].

pub mod backend;
mod exec;
mod io;
mod journal;
mod output_files;
mod own_thread;
pub mod preflight;
pub mod progress;
pub mod report;
mod run_files;
pub mod state;
mod stop;
pub mod turnstile;

use std::path::PathBuf;
use std::sync::Arc;

pub use backend::Live;
pub use own_thread::{run, side_by_side};
pub use progress::{Console, Progress, Silent};
pub use report::{RunReport, StepReport, StepStatus};

use crate::atomic_file;
use crate::cloud::Target;

pub struct RunOptions {
    pub seed: u64,
    pub target: Target,
    /// Where state, transcript and files a flow writes go.
    pub out_dir: PathBuf,
    /// Transcript path (default: `OUT/transcript.jsonl`).
    pub transcript: Option<PathBuf>,
    pub resume: bool,
    /// A golden transcript to compare the run's against.
    pub check: Option<PathBuf>,
    /// Settings for `azure` and URL targets.
    pub live: Option<Live>,
    pub progress: Arc<dyn Progress>,
    /// When the run's state is saved for `--resume`.
    pub saves: Saves,
    /// Where slow-to-make, seed-determined things are kept between processes.
    pub cache_dir: Option<PathBuf>,
    /// Keep the tokens each call carried, decoded (in [`RunReport::tokens`]), for the HTML report.
    pub keep_tokens: bool,
    /// Fault injection for tests of `--resume`: the process kills itself right after its
    /// Nth state save.
    pub kill_after_saves: Option<usize>,
    /// Passwords of the users steps act as (`as = …`) where no seeded one exists.
    pub identities: crate::identities::Identities,
    /// Faults the simulator injects (`--faults`), on top of the flow's own `[faults]`.
    pub faults: Option<aksflow_simulator::faults::FaultProfile>,
}

/// When a run saves its state (`OUT/.aksflow/state.json`) for `--resume`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saves {
    /// Not at all: benchmarks, and sweeps, which keep only their failures' output.
    Never,
    /// Kept in memory after every step and written once, when the run ends: the same file as
    /// `AfterEachStep` ends with, enough to resume after a failure. A suite's flows run for
    /// milliseconds and a killed suite is run again, so `aksflow test` saves so (writing the
    /// state after every step was a fifth of a suite's time).
    AtEnd,
    /// Written after every step too, so that `--resume` is exact after a kill. The kill hook
    /// (`kill_after_saves`) counts these saves.
    AfterEachStep,
}

impl RunOptions {
    /// A simulated run with defaults: seed, out dir, silent.
    pub fn sim(seed: u64, out_dir: impl Into<PathBuf>) -> Self {
        RunOptions {
            seed,
            target: Target::Sim,
            out_dir: out_dir.into(),
            transcript: None,
            resume: false,
            check: None,
            live: None,
            progress: Arc::new(Silent),
            saves: Saves::AfterEachStep,
            cache_dir: None,
            keep_tokens: false,
            kill_after_saves: None,
            identities: Default::default(),
            faults: None,
        }
    }

    pub fn transcript_path(&self) -> PathBuf {
        self.transcript.clone().unwrap_or_else(|| self.out_dir.join("transcript.jsonl"))
    }

    /// What the run's saved state and step files must survive. Every run's survive a killed
    /// process, which is what `--resume` is for. A run against a cloud also flushes them to
    /// disk, so that a machine crash cannot lose the record of resources it made there. A run
    /// in the built-in simulator does not: the same seed makes it again, byte for byte, in
    /// milliseconds, and a flush costs about a millisecond a file (it tripled a suite's time).
    pub fn files_survive(&self) -> atomic_file::Survives {
        match self.target {
            Target::Sim => atomic_file::Survives::Kill,
            Target::Azure | Target::Url(_) | Target::Proxy => atomic_file::Survives::Crash,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Setup(String),
    #[error("cannot resume: {0}")]
    Resume(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_runs_in_the_built_in_simulator_skip_flushing_their_files() {
        let mut opts = RunOptions::sim(1, "out");
        assert_eq!(opts.files_survive(), atomic_file::Survives::Kill);
        for target in [Target::Azure, Target::Url("https://127.0.0.1:8443".into()), Target::Proxy] {
            opts.target = target;
            assert_eq!(opts.files_survive(), atomic_file::Survives::Crash, "{:?}", opts.target);
        }
    }
}
