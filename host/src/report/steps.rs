//! The step view: the flow's DAG (steps in columns by depth, an edge for each `needs`), and
//! for each step its status, time on the run's clock, inputs, outputs and log lines.

use std::collections::BTreeMap;

use serde::Serialize;

use super::capture::LogLine;
use super::model::Diagram;
use super::run_data::RunData;
use crate::runner::{StepReport, StepStatus};
use crate::transcript::Record;

const COLUMN: f64 = 176.0;
const ROW: f64 = 44.0;
pub const BOX_WIDTH: f64 = 150.0;
pub const BOX_HEIGHT: f64 = 30.0;

#[derive(Debug, Serialize)]
pub struct StepView<'a> {
    pub report: &'a StepReport,
    pub status: &'static str,
    /// The id, cut to fit its box.
    pub short: String,
    /// Time on the run's clock (virtual against the simulator), e.g. `5 min 0 s`.
    pub duration: Option<String>,
    pub needs: &'a [String],
    pub logs: &'a [LogLine],
    /// The step's calls: its arrows in the diagram, each by its first transcript record.
    pub calls: Vec<StepCall>,
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Serialize)]
pub struct StepCall {
    pub arrow: usize,
    pub seq: u64,
}

#[derive(Debug, Serialize)]
pub struct Edge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
}

#[derive(Debug, Serialize)]
pub struct StepGraph<'a> {
    pub steps: Vec<StepView<'a>>,
    pub edges: Vec<Edge>,
    pub width: f64,
    pub height: f64,
}

pub fn status_name(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Succeeded => "succeeded",
        StepStatus::ExpectedFailure => "failed as expected",
        StepStatus::Failed => "failed",
        StepStatus::Skipped => "skipped",
        StepStatus::Resumed => "resumed",
    }
}

pub fn graph<'a>(run: &'a RunData, diagram: &Diagram, records: &[Record]) -> StepGraph<'a> {
    const NONE: &[String] = &[];
    let reports = &run.report.steps;
    let needs = |id: &str| run.needs.get(id).map(Vec::as_slice).unwrap_or(NONE);
    // Steps come in flow order and need only earlier steps (the flow is checked acyclic), so
    // one pass finds each step's depth.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    for s in reports {
        let d = needs(&s.id).iter().filter_map(|n| depth.get(n.as_str())).map(|d| d + 1).max().unwrap_or(0);
        depth.insert(&s.id, d);
    }
    let mut per_column: BTreeMap<usize, usize> = BTreeMap::new();
    let mut at: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    let steps: Vec<StepView> = reports
        .iter()
        .map(|s| {
            let col = depth[s.id.as_str()];
            let row = per_column.entry(col).or_default();
            let (x, y) = (8.0 + COLUMN * col as f64, 8.0 + ROW * *row as f64);
            *row += 1;
            at.insert(&s.id, (x, y));
            StepView {
                report: s,
                status: status_name(s.status),
                short: super::diagram::shorten_right(&s.id, 17),
                duration: s.started_ms.zip(s.finished_ms).map(|(a, b)| duration(b - a)),
                needs: needs(&s.id),
                logs: run.logs.get(&s.id).map(Vec::as_slice).unwrap_or(&[]),
                calls: diagram
                    .arrows
                    .iter()
                    .enumerate()
                    .map(|(arrow, a)| (arrow, &records[a.records[0]]))
                    .filter(|(_, first)| first.step == s.id)
                    .map(|(arrow, first)| StepCall { arrow, seq: first.seq })
                    .collect(),
                x,
                y,
            }
        })
        .collect();
    let edges = steps
        .iter()
        .flat_map(|s| s.needs.iter().filter_map(|n| at.get(n.as_str())).map(|&(x, y)| Edge { x1: x + BOX_WIDTH, y1: y + BOX_HEIGHT / 2.0, x2: s.x, y2: s.y + BOX_HEIGHT / 2.0 }))
        .collect();
    let columns = depth.values().max().map_or(0, |d| d + 1);
    let rows = per_column.values().max().copied().unwrap_or(0);
    StepGraph { steps, edges, width: 16.0 + COLUMN * columns as f64, height: 16.0 + ROW * rows as f64 }
}

/// `0 s`, `5 s`, `5 min 0 s`, `1 h 2 min`; milliseconds only under a second.
pub fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    let s = ms / 1000;
    match s {
        0 if ms > 0 => format!("{ms} ms"),
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::RunReport;

    fn step(id: &str, status: StepStatus) -> StepReport {
        StepReport { started_ms: Some(0), finished_ms: Some(300_000), ..StepReport::new(id, "app", status) }
    }

    #[test]
    fn steps_stand_in_columns_by_depth_with_an_edge_for_each_need() {
        let steps = vec![step("server", StepStatus::Succeeded), step("client", StepStatus::Succeeded), step("grant", StepStatus::Failed), step("login", StepStatus::Skipped)];
        let report = RunReport { flow: "f".into(), path: "f.toml".into(), seed: 1, target: "sim".into(), passed: false, steps, transcript: None, check_mismatch: None, elapsed_ms: 0.0, tokens: BTreeMap::new() };
        let needs = BTreeMap::from([
            ("grant".to_string(), vec!["server".to_string(), "client".to_string()]),
            ("login".to_string(), vec!["grant".to_string()]),
        ]);
        let run = RunData { report, needs, logs: BTreeMap::new(), tokens: BTreeMap::new() };
        let g = graph(&run, &Diagram { lanes: Vec::new(), arrows: Vec::new() }, &[]);
        let at: Vec<(f64, f64)> = g.steps.iter().map(|s| (s.x, s.y)).collect();
        assert_eq!(at, [(8.0, 8.0), (8.0, 8.0 + ROW), (8.0 + COLUMN, 8.0), (8.0 + 2.0 * COLUMN, 8.0)]);
        assert_eq!(g.edges.len(), 3);
        assert_eq!((g.steps[2].status, g.steps[3].status), ("failed", "skipped"));
        assert_eq!(g.steps[0].duration.as_deref(), Some("5 min 0 s"));
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(250), "250 ms");
        assert_eq!(duration(5_000), "5 s");
        assert_eq!(duration(300_000), "5 min 0 s");
        assert_eq!(duration(3_720_000), "1 h 2 min");
    }
}
