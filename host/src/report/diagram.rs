//! Where the sequence diagram's lanes and arrows go on the page: plain numbers and short
//! labels for the template, which writes the SVG.

use serde::Serialize;

use super::model::{Diagram, LaneKind, Outcome};
use crate::transcript::Record;

const TIME_COLUMN: f64 = 64.0;
const LANE_WIDTH: f64 = 132.0;
const HEADER: f64 = 58.0;
const ROW: f64 = 30.0;
/// Average width of a label character at the diagram's font size.
const CHAR_WIDTH: f64 = 6.4;

#[derive(Debug, Serialize)]
pub struct SvgLane {
    pub x: f64,
    pub label: String,
    /// A second, smaller line: a cluster's host under "API server".
    pub sub: Option<String>,
    pub full: String,
    pub kind: LaneKind,
}

#[derive(Debug, Serialize)]
pub struct SvgArrow {
    /// Index of the arrow, which is also the index of its call in the page's call data.
    pub id: usize,
    /// From the step's lane to the service's.
    pub x1: f64,
    pub x2: f64,
    /// The left end, where the label starts, and the length.
    pub left: f64,
    pub span: f64,
    pub y: f64,
    /// The virtual time of the first call, `HH:MM:SS`.
    pub time: String,
    pub label: String,
    /// Status, poll count and retries: `201`, `200 ×20`, `200 ↻2`, `no answer`.
    pub badge: String,
    /// `ok`, `refused`, `server-error` or `no-response`: the colour.
    pub outcome: &'static str,
    /// The outcome, plus `retried` and `polled` when they apply.
    pub class: String,
    pub title: String,
    /// The transcript record numbers the arrow stands for, space-separated.
    pub seqs: String,
}

#[derive(Debug, Serialize)]
pub struct Svg {
    pub width: f64,
    pub height: f64,
    pub header: f64,
    pub lanes: Vec<SvgLane>,
    pub arrows: Vec<SvgArrow>,
}

pub fn layout(d: &Diagram, records: &[Record]) -> Svg {
    let lane_x = |i: usize| TIME_COLUMN + LANE_WIDTH * (i as f64 + 0.5);
    let lanes = d
        .lanes
        .iter()
        .enumerate()
        .map(|(i, l)| {
            // Cluster lanes are named by host, too long for a lane: say what it is, then the host.
            let host = l.kind == LaneKind::Service && l.label.contains('.');
            let (label, sub) = if host { ("API server".to_string(), Some(shorten_right(&l.label, 22))) } else { (shorten_right(&l.label, 19), None) };
            SvgLane { x: lane_x(i), label, sub, full: l.label.clone(), kind: l.kind }
        })
        .collect();
    let arrows = d
        .arrows
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let (x1, x2) = (lane_x(a.from), lane_x(a.to));
            let first = &records[a.records[0]];
            let room = ((x2 - x1).abs() / CHAR_WIDTH) as usize;
            let mut badge = a.status.map_or_else(|| "no answer".to_string(), |s| s.to_string());
            if a.polls() > 1 {
                badge.push_str(&format!(" ×{}", a.polls()));
            }
            if a.retries > 0 {
                badge.push_str(&format!(" ↻{}", a.retries));
            }
            let label = shorten_left(&format!("{} {}", a.method, a.path), room.saturating_sub(badge.chars().count() + 3).max(8));
            let outcome = match a.outcome {
                Outcome::Ok => "ok",
                Outcome::Refused => "refused",
                Outcome::ServerError => "server-error",
                Outcome::NoResponse => "no-response",
            };
            let mut class = outcome.to_string();
            if a.retries > 0 {
                class.push_str(" retried");
            }
            if a.polls() > 1 {
                class.push_str(" polled");
            }
            let seqs: Vec<String> = a.records.iter().map(|&r| records[r].seq.to_string()).collect();
            let title = format!("#{} {} {} → {} ({})", first.seq, a.method, first.request.url, badge, first.step);
            SvgArrow {
                id: i,
                x1,
                x2,
                left: x1.min(x2),
                span: (x2 - x1).abs(),
                y: HEADER + ROW * (i as f64 + 0.8),
                time: first.time.get(11..19).unwrap_or("").to_string(),
                label,
                badge,
                outcome,
                class,
                title,
                seqs: seqs.join(" "),
            }
        })
        .collect();
    Svg {
        width: TIME_COLUMN + LANE_WIDTH * d.lanes.len() as f64 + 8.0,
        height: HEADER + ROW * (d.arrows.len() as f64 + 0.8),
        header: HEADER,
        lanes,
        arrows,
    }
}

/// Keeps the end of a path (where the resource's name is), marking the cut with `…`.
fn shorten_left(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let (method, path) = s.split_once(' ').unwrap_or(("", s));
    let keep = max.saturating_sub(method.chars().count() + 2);
    let tail: String = path.chars().skip(path.chars().count().saturating_sub(keep)).collect();
    format!("{method} …{tail}")
}

pub(super) fn shorten_right(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max.saturating_sub(1)).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_keep_their_method_and_their_end() {
        assert_eq!(shorten_left("GET /api/v1/pods", 40), "GET /api/v1/pods");
        let s = shorten_left("PUT /subscriptions/ded95fbf/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c", 30);
        assert_eq!(s, "PUT …Service/managedClusters/c");
        assert!(s.chars().count() <= 30);
        assert_eq!(shorten_right("myaksclust-myresourcegroup.hcp.eastus.azmk8s.io", 10), "myaksclus…");
    }
}
