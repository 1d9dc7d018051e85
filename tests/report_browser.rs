//! The HTML run report in a real browser: headless Chromium (Debian's, driven by
//! playwright-core) opens the reports of legacy-aad, of a failure flow and of a run that
//! failed, and sees what a person would: no console errors, nothing fetched, one arrow group
//! per call covering every transcript record once, a token call's decoded claims on click,
//! the failure panel naming the step, and a screenshot with something on it.
//!
//! `AKSFLOW_UPDATE_SCREENSHOTS=1` also copies the screenshots to docs/.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use aksflow::flow;
use aksflow::report::{self, Capture};
use aksflow::runner::{self, RunOptions, Silent};

/// Runs a flow as `aksflow run --report` does; returns the page and the transcript's length.
async fn report_of(flow_path: &Path, out: &Path) -> (PathBuf, usize) {
    let engine = aksflow_e2e::engine();
    let plan = Arc::new(flow::load(flow_path, &engine).await.unwrap());
    let capture = Arc::new(Capture::new(Arc::new(Silent)));
    let mut opts = RunOptions::sim(1, out);
    opts.progress = capture.clone();
    opts.keep_tokens = true;
    let run = runner::run(plan.clone(), engine, opts).await.unwrap();
    let page = out.join("report.html");
    report::keep(&plan, &run, capture.logs(), out, Some(&page)).unwrap();
    let records = aksflow::transcript::read(&out.join("transcript.jsonl")).unwrap();
    (page, records.len())
}

/// What Chromium saw (tests/browser/report.js).
fn look_at(page: &Path, shot: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/report.js");
    let out = Command::new("node")
        .arg(&script)
        .args([page, shot])
        .env("AKSFLOW_NODE_MODULES", std::env::var("AKSFLOW_NODE_MODULES").unwrap_or_else(|_| "/var/tmp/aksflow-node/node_modules".into()))
        .output()
        .expect("node runs (CI installs Debian's chromium and playwright-core)");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The checks every report passes; `records` is the transcript's length.
fn assert_sound(seen: &serde_json::Value, records: usize, shot: &Path) {
    assert_eq!(seen["consoleErrors"], serde_json::json!([]), "{seen}");
    assert_eq!(seen["requests"], serde_json::json!([]), "the page fetches nothing: {seen}");
    let arrows = seen["arrows"].as_u64().unwrap();
    assert_eq!(arrows, seen["callData"].as_u64().unwrap(), "one arrow group per call");
    let seqs: Vec<u64> = seen["seqs"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(sorted, (1..=records as u64).collect::<Vec<_>>(), "every transcript record is in exactly one arrow");
    assert!(seen["screenshotColours"].as_u64().unwrap() > 50, "the screenshot is not blank: {seen}");
    assert!(std::fs::metadata(shot).unwrap().len() > 20_000);
}

fn keep_screenshot(shot: &Path, name: &str) {
    if std::env::var_os("AKSFLOW_UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs").join(name);
        std::fs::copy(shot, docs).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_aad_report_shows_every_call_and_a_sign_in_token_s_claims() {
    let dir = tempfile::tempdir().unwrap();
    let (page, records) = report_of(&aksflow_e2e::flows_dir().join("legacy-aad.toml"), dir.path()).await;
    let shot = dir.path().join("legacy-aad.png");
    let seen = look_at(&page, &shot);
    assert_sound(&seen, records, &shot);
    assert!(seen["arrows"].as_u64().unwrap() < records as u64, "the operation's polls fold: {seen}");
    assert_eq!(seen["stepsShown"], 18);
    assert_eq!(seen["verdict"], "passed");
    assert!(seen["failureStep"].is_null());
    // alice's device-code sign-in: the token the cluster's webhook will judge.
    let claims: Vec<&str> = seen["decisiveClaims"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for c in ["aud", "iss", "upn", "oid", "exp", "groups"] {
        assert!(claims.contains(&c), "{c} is shown and marked: {seen}");
    }
    assert!(seen["detailsTitle"].as_str().unwrap().contains("oauth2/token"), "{seen}");
    keep_screenshot(&shot, "report-legacy-aad.png");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_flow_s_report_opens_with_the_step_that_failed_and_its_call() {
    let dir = tempfile::tempdir().unwrap();
    let (page, records) = report_of(&aksflow_e2e::flows_dir().join("failures/user-not-in-admin-group.toml"), dir.path()).await;
    let shot = dir.path().join("failure.png");
    let seen = look_at(&page, &shot);
    assert_sound(&seen, records, &shot);
    assert_eq!(seen["failureStep"], "nodes", "{seen}");
    assert_eq!(seen["causeTitle"], "GET /api/v1/nodes", "{seen}");
    keep_screenshot(&shot, "report-failure.png");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_failed_is_marked_failed_and_names_its_step() {
    let dir = tempfile::tempdir().unwrap();
    // The failure flow without its expectation: the Forbidden is now a real failure.
    let text = std::fs::read_to_string(aksflow_e2e::flows_dir().join("failures/user-not-in-admin-group.toml")).unwrap();
    let text: String = text.lines().filter(|l| !l.starts_with("expect")).map(|l| format!("{l}\n")).collect();
    let flow_path = dir.path().join("unexpected.toml");
    std::fs::write(&flow_path, text).unwrap();
    let (page, records) = report_of(&flow_path, &dir.path().join("out")).await;
    let shot = dir.path().join("failed.png");
    let seen = look_at(&page, &shot);
    assert_sound(&seen, records, &shot);
    assert_eq!(seen["verdict"], "FAILED");
    assert_eq!(seen["failureStep"], "nodes", "{seen}");
}
