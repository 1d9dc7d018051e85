//! The run's saved state under `--out`: finished steps with their outputs, and the
//! simulator as it stood, written atomically after every step (or, in a suite, once at the
//! run's end) so `--resume` continues after a failure or a kill without redoing finished
//! work.
//!
//! The file holds secret outputs (a resumed step may need them), so it is written owner-only.

use super::run_files::RunFiles;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::journal::Exchange;
use crate::bindings::Field;
use crate::cloud::auth::CachedToken;
use crate::transcript::Mark;

pub const STATE_FILE: &str = ".aksflow/state.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedStep {
    pub fingerprint: String,
    pub expected_failure: bool,
    pub outputs: Vec<Field>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunState {
    pub version: u32,
    pub flow_hash: String,
    pub seed: u64,
    pub target: String,
    pub steps: BTreeMap<String, SavedStep>,
    /// The simulator (simulated runs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<aksflow_simulator::Snapshot>,
    /// The cluster API servers the run has learned (a resumed run may still call them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<String>,
    /// What a resumed run needs to go on exactly as an uninterrupted one would.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_point: Option<ResumePoint>,
    /// The injected faults the run had (a hash): a resume must have the same schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<String>,
}

/// Everything besides finished steps and the simulator that an uninterrupted run would
/// still have in memory at the save: with it, a resumed run writes the same transcript and
/// outputs, byte for byte.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ResumePoint {
    /// How far the transcript had got; what was written after (by steps the kill cut
    /// short) is cut off and written again.
    pub transcript: Mark,
    /// The secrets the run had learnt, so later records are redacted the same way.
    pub secrets: Vec<String>,
    /// The operator's tokens: a resumed run does not sign in again.
    pub operator_tokens: Vec<CachedToken>,
    /// Steps running at the save, with what the host had told them: a resumed run replays
    /// that to them instead of sending it again.
    pub running: BTreeMap<String, RunningStep>,
    /// The step whose turn came next in the rotation of concurrent steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_turn: Option<String>,
    /// Device codes a persona had yet to answer (`after = …`), by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub late_answers: Vec<LateAnswer>,
}

/// A device code a persona will answer at `at_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LateAnswer {
    pub step: String,
    pub at_ms: i64,
    pub verification_uri: String,
    pub user_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningStep {
    pub fingerprint: String,
    pub started_ms: i64,
    pub told: Vec<Exchange>,
}

impl RunState {
    pub fn new(flow_hash: &str, seed: u64, target: &str) -> Self {
        RunState { version: 1, flow_hash: flow_hash.into(), seed, target: target.into(), steps: BTreeMap::new(), simulator: None, egress: Vec::new(), resume_point: None, faults: None }
    }

    pub fn path(out_dir: &Path) -> PathBuf {
        out_dir.join(STATE_FILE)
    }

    pub fn load(out_dir: &Path) -> Result<Option<RunState>, String> {
        let path = Self::path(out_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is not a saved aksflow run ({e}); delete it to start over", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Forgets the saved run in `out_dir`, if any: a fresh run there must not leave an older
    /// run's state for `--resume` to pick up before it has saved its own.
    pub fn discard(out_dir: &Path, files: &RunFiles) -> Result<(), String> {
        let path = Self::path(out_dir);
        match files.remove(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove the earlier run's state {}: {e}; remove it, or run with --resume to continue that run", path.display())),
        }
    }

    /// Written whole or not at all (a kill at any moment leaves the old state or the new),
    /// owner-only, flushed to disk if `files` must survive a machine crash.
    pub fn save(&self, out_dir: &Path, files: &RunFiles) -> std::io::Result<()> {
        let path = Self::path(out_dir);
        std::fs::create_dir_all(path.parent().expect("state path has a directory"))?;
        files.write(&path, &serde_json::to_vec(self).expect("state serialises"), crate::atomic_file::PRIVATE)
    }
}
