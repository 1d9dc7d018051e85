//! The sequence diagram's model, from transcript records: one lane per step and one per
//! service (Entra ID, Graph, ARM, each cluster's API server by host), and one arrow per
//! call, where the polls of a long-running operation or of a device-code sign-in fold into
//! the call they repeat.

use std::collections::HashMap;

use serde::Serialize;

use crate::transcript::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LaneKind {
    Step,
    Service,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lane {
    pub label: String,
    pub kind: LaneKind,
}

/// How a call ended, for its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    /// 4xx: the service refused (the usual way an OAuth or RBAC mistake shows).
    Refused,
    /// 5xx after the host's retries.
    ServerError,
    /// No answer: the gateway refused to send it, or the transport failed.
    NoResponse,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arrow {
    pub from: usize,
    pub to: usize,
    /// Indices into the records, in order: one, or the call and its polls.
    pub records: Vec<usize>,
    pub method: String,
    pub path: String,
    /// The last answer's status (the one the step acted on).
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// Retries the host made (429/5xx, injected faults included) across the folded calls.
    pub retries: u32,
}

impl Arrow {
    pub fn polls(&self) -> usize {
        self.records.len()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagram {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
}

/// The lanes and arrows for `records`. Service lanes come first, where a reader's eye
/// starts: Entra ID, Graph, ARM, then the clusters as they appear; then a lane per step, in
/// the order the steps first called.
pub fn build(records: &[Record]) -> Diagram {
    let mut steps: Vec<String> = Vec::new();
    let mut services: Vec<String> = vec![service_lane(SERVICE_LOGIN), service_lane("graph"), service_lane("arm")];
    for r in records {
        if !steps.contains(&r.step) {
            steps.push(r.step.clone());
        }
        let s = lane_of_service(r);
        if !services.contains(&s) {
            services.push(s);
        }
    }
    let used: Vec<String> = services.into_iter().filter(|s| records.iter().any(|r| lane_of_service(r) == *s)).collect();
    let lanes: Vec<Lane> = used
        .iter()
        .map(|s| Lane { label: s.clone(), kind: LaneKind::Service })
        .chain(steps.iter().map(|s| Lane { label: s.clone(), kind: LaneKind::Step }))
        .collect();
    let index = |label: &str, kind: LaneKind| lanes.iter().position(|l| l.label == label && l.kind == kind).expect("every record has its lanes");

    let mut arrows: Vec<Arrow> = Vec::new();
    // Each step's latest arrow: a poll folds into it.
    let mut latest: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if let Some(&a) = latest.get(r.step.as_str()) {
            let prev = &records[*arrows[a].records.last().expect("arrows have records")];
            if repeats(prev, r) && pending(prev) {
                let arrow = &mut arrows[a];
                arrow.records.push(i);
                arrow.status = r.response.as_ref().map(|x| x.status);
                arrow.outcome = outcome(r);
                arrow.retries += retries(r);
                continue;
            }
        }
        latest.insert(&r.step, arrows.len());
        arrows.push(Arrow {
            from: index(&r.step, LaneKind::Step),
            to: index(&lane_of_service(r), LaneKind::Service),
            records: vec![i],
            method: r.request.method.clone(),
            path: display_path(r),
            status: r.response.as_ref().map(|x| x.status),
            outcome: outcome(r),
            retries: retries(r),
        });
    }
    Diagram { lanes, arrows }
}

const SERVICE_LOGIN: &str = "login";

/// The lane a service's calls go to; a cluster's API server is named by its host.
fn service_lane(service: &str) -> String {
    match service {
        SERVICE_LOGIN => "Entra ID".into(),
        "graph" => "Microsoft Graph".into(),
        "arm" => "ARM".into(),
        "kube" => "Kubernetes API".into(),
        other => other.into(),
    }
}

/// In-process and served runs record cluster calls as `/k8s/HOST/...`.
fn cluster_host(r: &Record) -> Option<&str> {
    let rest = r.request.url.strip_prefix("/k8s/")?;
    rest.split(['/', '?']).next().filter(|h| !h.is_empty())
}

pub fn lane_of_service(r: &Record) -> String {
    match (r.service.as_str(), cluster_host(r)) {
        ("kube", Some(host)) => host.to_string(),
        (s, _) => service_lane(s),
    }
}

/// The request path as the diagram shows it: the cluster prefix and the query dropped.
pub fn display_path(r: &Record) -> String {
    let url = match cluster_host(r) {
        Some(host) => &r.request.url[("/k8s/".len() + host.len())..],
        None => r.request.url.as_str(),
    };
    url.split('?').next().unwrap_or(url).to_string()
}

/// The same request again from the same step.
fn repeats(a: &Record, b: &Record) -> bool {
    a.step == b.step && a.service == b.service && a.request.method == b.request.method && a.request.url == b.request.url && a.request.body == b.request.body
}

/// An answer that says "not yet, ask again": an operation still running (202, `Retry-After`,
/// a `status` of InProgress) or a device-code sign-in still pending.
fn pending(r: &Record) -> bool {
    let Some(resp) = &r.response else { return false };
    let body_status = resp.body.get("status").and_then(|s| s.as_str()).unwrap_or("");
    let error = resp.body.get("error").and_then(|s| s.as_str()).unwrap_or("");
    match resp.status {
        202 => true,
        200..=299 => resp.headers.contains_key("retry-after") || matches!(body_status, "InProgress" | "Running" | "Accepted" | "NotStarted"),
        400 => matches!(error, "authorization_pending" | "slow_down"),
        _ => false,
    }
}

fn outcome(r: &Record) -> Outcome {
    match r.response.as_ref().map(|x| x.status) {
        None => Outcome::NoResponse,
        Some(s) if s >= 500 => Outcome::ServerError,
        Some(s) if s >= 400 => Outcome::Refused,
        Some(_) => Outcome::Ok,
    }
}

fn retries(r: &Record) -> u32 {
    r.response.as_ref().map_or(0, |x| x.retries)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::transcript::{RecordedRequest, RecordedResponse};

    fn rec(step: &str, service: &str, method: &str, url: &str, status: Option<u16>, body: serde_json::Value) -> Record {
        Record {
            seq: 0,
            time: "2026-01-01T00:00:00.000Z".into(),
            step: step.into(),
            service: service.into(),
            request: RecordedRequest { method: method.into(), url: url.into(), headers: BTreeMap::new(), body: serde_json::Value::Null },
            response: status.map(|status| RecordedResponse { status, headers: BTreeMap::new(), body, retries: 0 }),
            error: status.is_none().then(|| "not granted".into()),
        }
    }

    const OP: &str = "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/o?api-version=2016-03-30";

    #[test]
    fn lanes_are_services_then_steps_with_one_lane_per_cluster_host() {
        let records = vec![
            rec("(operator)", "login", "POST", "/t/oauth2/v2.0/token", Some(200), json!({})),
            rec("rg", "arm", "PUT", "/subscriptions/s/resourcegroups/g", Some(201), json!({})),
            rec("pods", "kube", "GET", "/k8s/a.hcp.eastus.azmk8s.io/api/v1/pods?limit=500", Some(200), json!({})),
            rec("nodes", "kube", "GET", "/k8s/b.hcp.eastus.azmk8s.io/api/v1/nodes", Some(403), json!({})),
        ];
        let d = build(&records);
        let labels: Vec<(&str, LaneKind)> = d.lanes.iter().map(|l| (l.label.as_str(), l.kind)).collect();
        assert_eq!(
            labels,
            [
                ("Entra ID", LaneKind::Service),
                ("ARM", LaneKind::Service),
                ("a.hcp.eastus.azmk8s.io", LaneKind::Service),
                ("b.hcp.eastus.azmk8s.io", LaneKind::Service),
                ("(operator)", LaneKind::Step),
                ("rg", LaneKind::Step),
                ("pods", LaneKind::Step),
                ("nodes", LaneKind::Step),
            ]
        );
        assert_eq!((d.arrows[2].from, d.arrows[2].to, d.arrows[2].path.as_str()), (6, 2, "/api/v1/pods"));
        assert_eq!(d.arrows[3].outcome, Outcome::Refused);
    }

    #[test]
    fn operation_polls_fold_into_one_arrow_even_when_other_steps_call_between_them() {
        let running = json!({"status": "InProgress"});
        let records = vec![
            rec("aks", "arm", "PUT", "/subscriptions/s/managedClusters/c", Some(201), json!({})),
            rec("aks", "arm", "GET", OP, Some(200), running.clone()),
            rec("app", "graph", "POST", "/v1.0/applications", Some(201), json!({})),
            rec("aks", "arm", "GET", OP, Some(200), running),
            rec("aks", "arm", "GET", OP, Some(200), json!({"status": "Succeeded"})),
            // A finished operation read again is a new call, not a poll.
            rec("aks", "arm", "GET", OP, Some(200), json!({"status": "Succeeded"})),
        ];
        let d = build(&records);
        let shape: Vec<Vec<usize>> = d.arrows.iter().map(|a| a.records.clone()).collect();
        assert_eq!(shape, [vec![0], vec![1, 3, 4], vec![2], vec![5]]);
        assert_eq!(d.arrows[1].polls(), 3);
        assert_eq!(d.arrows[1].status, Some(200));
    }

    #[test]
    fn device_code_polls_fold_and_end_with_the_answer_that_stopped_them() {
        let token = "/t/oauth2/token?api-version=1.0";
        let records = vec![
            rec("alice", "login", "POST", "/t/oauth2/devicecode?api-version=1.0", Some(200), json!({})),
            rec("alice", "login", "POST", token, Some(400), json!({"error": "authorization_pending"})),
            rec("alice", "login", "POST", token, Some(400), json!({"error": "authorization_pending"})),
            rec("alice", "login", "POST", token, Some(400), json!({"error": "authorization_declined"})),
            // Another step's identical request is its own call.
            rec("bob", "login", "POST", token, Some(400), json!({"error": "authorization_pending"})),
        ];
        let d = build(&records);
        assert_eq!(d.arrows.len(), 3);
        assert_eq!(d.arrows[1].records, [1, 2, 3]);
        assert_eq!((d.arrows[1].status, d.arrows[1].outcome), (Some(400), Outcome::Refused));
        assert_eq!(d.arrows[2].records, [4]);
    }

    #[test]
    fn retries_add_up_and_calls_without_answers_show_as_such() {
        let mut retried = rec("g", "graph", "GET", "/v1.0/me", Some(200), json!({}));
        retried.response.as_mut().unwrap().retries = 2;
        let refused = rec("g", "arm", "GET", "/subscriptions", None, json!(null));
        let d = build(&[retried, refused]);
        assert_eq!(d.arrows[0].retries, 2);
        assert_eq!((d.arrows[1].outcome, d.arrows[1].status), (Outcome::NoResponse, None));
        assert_eq!(d.lanes.iter().filter(|l| l.kind == LaneKind::Service).count(), 2, "only services that were called get a lane");
    }
}
