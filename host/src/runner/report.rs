//! What a run did, for the terminal and for `--json`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::tokens::DecodedToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    Succeeded,
    /// Failed the way the flow said it would.
    ExpectedFailure,
    Failed,
    /// Not run because a step it depends on failed.
    Skipped,
    /// Finished in an earlier run (`--resume`).
    Resumed,
}

impl StepStatus {
    pub fn passed(self) -> bool {
        matches!(self, StepStatus::Succeeded | StepStatus::ExpectedFailure | StepStatus::Resumed)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    pub id: String,
    pub uses: String,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Wall-clock milliseconds the step took (not part of any golden file).
    pub elapsed_ms: f64,
    /// Fuel the step's wasm burned: deterministic for the same inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// The inputs it was given, with secret values shown as `<redacted>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// Outputs, with secret values shown as `<redacted>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub outputs: BTreeMap<String, String>,
    /// Files the step wrote under `--out`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// When it started and finished on the run's clock (virtual against the simulator), in
    /// milliseconds since the Unix epoch. Steps that did not run have neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
}

impl StepReport {
    /// A step's report with nothing but its name, plugin and status filled in.
    pub fn new(id: &str, uses: &str, status: StepStatus) -> Self {
        StepReport {
            id: id.into(),
            uses: uses.into(),
            status,
            code: None,
            message: None,
            hint: None,
            elapsed_ms: 0.0,
            fuel: None,
            inputs: BTreeMap::new(),
            outputs: BTreeMap::new(),
            files: Vec::new(),
            started_ms: None,
            finished_ms: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunReport {
    pub flow: String,
    pub path: String,
    pub seed: u64,
    pub target: String,
    pub passed: bool,
    pub steps: Vec<StepReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// The first difference from the `--check` transcript, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_mismatch: Option<String>,
    pub elapsed_ms: f64,
    /// The tokens each call carried, decoded, by transcript record number (only when the
    /// run was asked to keep them; for the HTML report, never printed).
    #[serde(skip)]
    pub tokens: BTreeMap<u64, Vec<DecodedToken>>,
}

impl RunReport {
    pub fn count(&self, pred: impl Fn(StepStatus) -> bool) -> usize {
        self.steps.iter().filter(|s| pred(s.status)).count()
    }
}
