//! The HTML report of a long run: 5,000 calls from 40 steps (graph, ARM with operation
//! polls, two clusters, some refused), with the steps' results and a token per sign-in.
//! Prints the page's size; target: well under a second to render.

use std::collections::BTreeMap;

use aksflow::report::{self, RunData};
use aksflow::runner::{RunReport, StepReport, StepStatus};
use aksflow::transcript::{Record, RecordedRequest, RecordedResponse};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const CALLS: usize = 5_000;
const STEPS: usize = 40;

fn record(i: usize) -> Record {
    let step = format!("step-{:02}", i % STEPS);
    let (service, method, url, status, body) = match i % 10 {
        0 => ("login", "POST", "/tenant/oauth2/v2.0/token".to_string(), 200, json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "<redacted>"})),
        1..=3 => ("graph", "GET", format!("/v1.0/servicePrincipals?$filter=appId+eq+'{i:08}'"), 200, json!({"value": [{"id": format!("{i:08}-0000-0000-0000-000000000000"), "displayName": "app"}]})),
        // The same operation read again while it runs: folds into one arrow per step.
        4..=6 => ("arm", "GET", format!("/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/{}", i % STEPS), 200, json!({"status": "InProgress"})),
        7 => ("kube", "GET", format!("/k8s/c{}.hcp.eastus.azmk8s.io/api/v1/pods?limit=500", i % 2), 200, json!({"kind": "Table", "rows": [{"cells": ["pod", "1/1", "Running"]}]})),
        8 => ("kube", "GET", "/k8s/c0.hcp.eastus.azmk8s.io/api/v1/nodes".to_string(), 403, json!({"kind": "Status", "reason": "Forbidden", "message": "nodes is forbidden"})),
        _ => ("arm", "PUT", format!("/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/c{i}"), 201, json!({"properties": {"provisioningState": "Creating"}})),
    };
    Record {
        seq: i as u64 + 1,
        time: format!("2026-01-01T{:02}:{:02}:{:02}.000Z", i / 3600 % 24, i / 60 % 60, i % 60),
        step,
        service: service.into(),
        request: RecordedRequest { method: method.into(), url, headers: BTreeMap::from([("authorization".into(), "Bearer <redacted>".into())]), body: serde_json::Value::Null },
        response: Some(RecordedResponse { status, headers: BTreeMap::from([("content-type".into(), "application/json".into())]), body, retries: i.is_multiple_of(97) as u32 }),
        error: None,
    }
}

fn run_data(records: &[Record]) -> RunData {
    let steps = (0..STEPS)
        .map(|s| StepReport {
            code: (s == 8).then(|| "Forbidden".into()),
            message: (s == 8).then(|| "nodes is forbidden".into()),
            inputs: BTreeMap::from([("name".into(), "c".into()), ("secret".into(), "<redacted>".into())]),
            outputs: BTreeMap::from([("id".into(), format!("{s:08}"))]),
            started_ms: Some(0),
            finished_ms: Some(300_000),
            ..StepReport::new(&format!("step-{s:02}"), "kube-get", if s == 8 { StepStatus::Failed } else { StepStatus::Succeeded })
        })
        .collect();
    let report = RunReport { flow: "long".into(), path: "flows/long.toml".into(), seed: 1, target: "sim".into(), passed: false, steps, transcript: None, check_mismatch: None, elapsed_ms: 1.0, tokens: BTreeMap::new() };
    let claims = json!({"aud": "6dae42f8-4368-4678-94ff-3960e28e3630", "iss": "https://sts.windows.net/t/", "upn": "alice@contoso.onmicrosoft.com", "oid": "o", "groups": ["g1", "g2"], "exp": 1767229200});
    let token = report::tokens::DecodedToken { place: "response body access_token".into(), header: json!({"alg": "RS256", "typ": "JWT"}), claims };
    let tokens = records.iter().filter(|r| r.service == "login").map(|r| (r.seq, vec![token.clone()])).collect();
    let needs = (0..STEPS).map(|s| (format!("step-{s:02}"), if s == 0 { vec![] } else { vec![format!("step-{:02}", s - 1)] })).collect();
    RunData { report, needs, logs: BTreeMap::new(), tokens }
}

fn bench(c: &mut Criterion) {
    let records: Vec<Record> = (0..CALLS).map(record).collect();
    let run = run_data(&records);
    let page = report::render(&records, Some(&run)).unwrap();
    let arrows = page.matches("<g class=\"call ").count();
    eprintln!("report of {CALLS} calls: {arrows} arrows, {:.1} MB", page.len() as f64 / 1e6);
    let mut g = c.benchmark_group("HTML report");
    g.sample_size(10);
    g.bench_function("5,000 calls with steps and tokens", |b| b.iter(|| report::render(&records, Some(&run)).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
