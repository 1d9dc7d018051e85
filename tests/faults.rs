//! Faults by seed, whole flows: every flow survives the presets, the schedule follows the
//! seed, and a sweep's failures come back with the command that reproduces them.

use std::sync::Arc;

use aksflow::cloud::Target;
use aksflow::runner::{self, RunOptions};
use aksflow::suite::{self, SuiteOptions};
use aksflow_e2e::*;

/// Every flow under flows/ passes under flaky, slow and replication together, for a few
/// schedules (CI sweeps more: `aksflow test flows/ --faults … --seeds 1..200`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_passes_under_all_presets_for_several_seeds() {
    let dir = tempfile::tempdir().unwrap();
    let flows = suite::collect(&[flows_dir()], None).unwrap();
    let faults = aksflow::faults::load("flaky,slow,replication").unwrap();
    let opts = SuiteOptions {
        seed: 1,
        target: Target::Sim,
        live: None,
        out_dir: dir.path().to_path_buf(),
        jobs: 2,
        cache_dir: None,
        report_dir: None,
        faults: Some((faults, "flaky,slow,replication".into())),
        seeds: Some(vec![1, 2, 3]),
    };
    let results = suite::run(engine(), flows.clone(), opts, |_| {}).await;
    assert_eq!(results.len(), flows.len() * 3);
    let failed: Vec<String> = results.iter().filter(|r| !r.passed).map(|r| format!("{}\n{}", r.repro, r.failure.as_deref().unwrap_or(""))).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

async fn transcript_under(flow: &str, seed: u64, faults: &str, out: &std::path::Path) -> String {
    let plan = Arc::new(aksflow::flow::load(&flows_dir().join(flow), &engine()).await.unwrap());
    let mut opts = RunOptions::sim(seed, out);
    opts.faults = Some(aksflow::faults::load(faults).unwrap());
    let report = runner::run(plan, engine(), opts).await.unwrap();
    assert!(report.passed, "{report:?}");
    std::fs::read_to_string(out.join("transcript.jsonl")).unwrap()
}

/// The same seed, the same faults, byte for byte; another seed, another schedule. Injected
/// answers are marked, and retried answers are in the transcript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_schedule_is_a_function_of_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let a = transcript_under("legacy-aad.toml", 3, "flaky", &dir.path().join("a")).await;
    let b = transcript_under("legacy-aad.toml", 3, "flaky", &dir.path().join("b")).await;
    assert_eq!(a, b);
    let marks = |t: &str| t.lines().filter(|l| l.contains("x-aksflow-fault")).count();
    assert!(marks(&a) > 0, "seed 3 injects some faults into legacy-aad");
    let c = transcript_under("legacy-aad.toml", 4, "flaky", &dir.path().join("c")).await;
    let faults_of = |t: &str| t.lines().filter_map(|l| l.split("\"x-aksflow-fault\":\"").nth(1).map(|r| r.split('"').next().unwrap().to_string())).collect::<Vec<_>>();
    assert_ne!(faults_of(&a), faults_of(&c), "another seed, another schedule");
}
