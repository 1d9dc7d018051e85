//! What the report knows of a run beyond its transcript: the step results, the DAG, log
//! lines and the decoded tokens. `aksflow run` saves it as `OUT/.aksflow/run.json` so that
//! `aksflow report TRANSCRIPT` can draw the same page later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::capture::LogLine;
use super::tokens::DecodedToken;
use crate::flow::Plan;
use crate::runner::RunReport;

pub const RUN_FILE: &str = ".aksflow/run.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunData {
    pub report: RunReport,
    /// For each step, the steps it waits for (the flow's DAG).
    pub needs: BTreeMap<String, Vec<String>>,
    pub logs: BTreeMap<String, Vec<LogLine>>,
    /// The tokens each call carried, decoded, by transcript record number.
    pub tokens: BTreeMap<u64, Vec<DecodedToken>>,
}

impl RunData {
    pub fn new(plan: &Plan, report: RunReport, logs: BTreeMap<String, Vec<LogLine>>) -> Self {
        let needs = plan.steps.iter().map(|s| (s.id.clone(), s.deps.iter().map(|&d| plan.steps[d].id.clone()).collect())).collect();
        let tokens = report.tokens.clone();
        RunData { report, needs, logs, tokens }
    }

    /// Where a run that wrote its transcript to the default place keeps this file.
    pub fn beside(transcript: &Path) -> PathBuf {
        transcript.parent().unwrap_or(Path::new(".")).join(RUN_FILE)
    }

    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec(self).expect("run data serialises"))
    }

    pub fn load(path: &Path) -> Result<RunData, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is not an aksflow run record: {e}", path.display()))
    }
}
