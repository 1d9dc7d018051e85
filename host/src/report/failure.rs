//! The panel a failed run opens with: the failing step, its error code, the service's own
//! message, the hint, and the call that caused it.

use serde::Serialize;
use serde_json::Value;

use super::model::{Diagram, Outcome};
use crate::runner::{RunReport, StepStatus};
use crate::transcript::Record;

#[derive(Debug, Serialize)]
pub struct Failure {
    pub step: String,
    pub expected: bool,
    pub code: Option<String>,
    pub message: Option<String>,
    pub hint: Option<String>,
    /// The arrow of the call that caused it: the step's last refused or unanswered call.
    pub arrow: Option<usize>,
    pub call: Option<String>,
    /// The service's own error code and message, from that call's answer.
    pub service_code: Option<String>,
    pub service_message: Option<String>,
}

/// The first step that failed, else the first that failed as the flow expected.
pub fn find(report: &RunReport, diagram: &Diagram, records: &[Record]) -> Option<Failure> {
    let step = report
        .steps
        .iter()
        .find(|s| s.status == StepStatus::Failed)
        .or_else(|| report.steps.iter().find(|s| s.status == StepStatus::ExpectedFailure))?;
    let mine: Vec<usize> = (0..diagram.arrows.len()).filter(|&i| records[diagram.arrows[i].records[0]].step == step.id).collect();
    let arrow = mine.iter().rev().find(|&&i| diagram.arrows[i].outcome != Outcome::Ok).copied();
    let (call, service_code, service_message) = match arrow {
        Some(i) => {
            let a = &diagram.arrows[i];
            let last = &records[*a.records.last().expect("arrows have records")];
            let status = last.response.as_ref().map_or_else(|| "no answer".to_string(), |r| r.status.to_string());
            let (code, message) = service_error(last);
            (Some(format!("#{} {} {} → {status}", last.seq, last.request.method, last.request.url)), code, message)
        }
        None => (None, None, None),
    };
    Some(Failure {
        step: step.id.clone(),
        expected: step.status == StepStatus::ExpectedFailure,
        code: step.code.clone(),
        message: step.message.clone(),
        hint: step.hint.clone(),
        arrow,
        call,
        service_code,
        service_message,
    })
}

/// The error as the service wrote it: Graph's and ARM's `error.code`/`error.message`, Entra
/// ID's `error`/`error_description`, a Kubernetes `Status`'s `reason`/`message`, or the
/// gateway's reason for not sending.
pub fn service_error(r: &Record) -> (Option<String>, Option<String>) {
    let text = |v: &Value| v.as_str().map(str::to_string);
    let Some(resp) = &r.response else { return (None, r.error.clone()) };
    let b = &resp.body;
    match b.get("error") {
        Some(e @ Value::Object(_)) => (e.get("code").and_then(text), e.get("message").and_then(text)),
        Some(Value::String(code)) => (Some(code.clone()), b.get("error_description").and_then(text)),
        _ if b.get("kind").and_then(Value::as_str) == Some("Status") => (b.get("reason").and_then(text), b.get("message").and_then(text)),
        _ => (None, b.as_str().filter(|s| !s.is_empty()).map(str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::transcript::{RecordedRequest, RecordedResponse};

    fn answer(status: u16, body: Value) -> Record {
        Record {
            seq: 1,
            time: "t".into(),
            step: "s".into(),
            service: "arm".into(),
            request: RecordedRequest { method: "GET".into(), url: "/x".into(), headers: BTreeMap::new(), body: Value::Null },
            response: Some(RecordedResponse { status, headers: BTreeMap::new(), body, retries: 0 }),
            error: None,
        }
    }

    fn step(id: &str, status: StepStatus, code: &str) -> crate::runner::StepReport {
        crate::runner::StepReport {
            code: Some(code.into()),
            message: Some("step message".into()),
            hint: Some("add the user to the admin group".into()),
            ..crate::runner::StepReport::new(id, "kube-get", status)
        }
    }

    #[test]
    fn the_failed_step_comes_before_an_expected_failure_with_its_last_refused_call() {
        let mut records = vec![answer(403, json!({"kind": "Status", "reason": "Forbidden", "message": "early"})), answer(200, json!({})), answer(403, json!({"kind": "Status", "reason": "Forbidden", "message": "nodes is forbidden"})), answer(200, json!({}))];
        for (i, r) in records.iter_mut().enumerate() {
            r.seq = i as u64 + 1;
            r.request.url = format!("/k8s/c.hcp.eastus.azmk8s.io/api/v1/x{i}");
            r.step = if i == 0 { "expected".into() } else { "nodes".into() };
        }
        let report = RunReport {
            flow: "f".into(),
            path: "f.toml".into(),
            seed: 1,
            target: "sim".into(),
            passed: false,
            steps: vec![step("expected", StepStatus::ExpectedFailure, "Forbidden"), step("nodes", StepStatus::Failed, "Forbidden")],
            transcript: None,
            check_mismatch: None,
            elapsed_ms: 0.0,
            tokens: BTreeMap::new(),
        };
        let diagram = super::super::model::build(&records);
        let f = find(&report, &diagram, &records).unwrap();
        assert_eq!((f.step.as_str(), f.expected), ("nodes", false));
        assert_eq!(f.arrow, Some(2));
        assert_eq!(f.call.as_deref(), Some("#3 GET /k8s/c.hcp.eastus.azmk8s.io/api/v1/x2 → 403"));
        assert_eq!((f.service_code.as_deref(), f.service_message.as_deref()), (Some("Forbidden"), Some("nodes is forbidden")));
        assert_eq!(f.hint.as_deref(), Some("add the user to the admin group"));
    }

    #[test]
    fn each_service_error_shape_gives_its_code_and_message() {
        let arm = answer(400, json!({"error": {"code": "BadRequest", "message": "RBAC must be enabled"}}));
        let aad = answer(400, json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}));
        let kube = answer(403, json!({"kind": "Status", "reason": "Forbidden", "message": "nodes is forbidden"}));
        assert_eq!(service_error(&arm), (Some("BadRequest".into()), Some("RBAC must be enabled".into())));
        assert_eq!(service_error(&aad).0.as_deref(), Some("invalid_client"));
        assert_eq!(service_error(&kube), (Some("Forbidden".into()), Some("nodes is forbidden".into())));
    }
}
