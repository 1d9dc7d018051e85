//! `--resume` continues a failed or killed run without redoing finished steps.

use aksflow::runner::{RunOptions, StepStatus};
use aksflow_e2e::*;

const FLOW: &str = r#"
[[step]]
id = "first"
uses = "resource-group"
with = { name = "first", location = "eastus" }
grant = ["arm"]

[[step]]
id = "second"
uses = "resource-group"
with = { name = "${{ steps.first.outputs.name }}-second", location = "LOCATION" }
grant = ["arm"]
"#;

fn puts_of(transcript: &str, group: &str) -> usize {
    transcript.lines().filter(|l| l.contains("\"method\":\"PUT\"") && l.contains(&format!("/resourcegroups/{group}?"))).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_resumes_after_the_fix_without_redoing_finished_steps() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "atlantis"));
    let r = run_flow(&path, 3, &out).await;
    assert_eq!(step(&r, "first").status, StepStatus::Succeeded);
    assert_eq!(step(&r, "second").code.as_deref(), Some("LocationNotAvailableForResourceGroup"));

    // The person fixes the second step and resumes.
    let path = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "westus"));
    let mut opts = RunOptions::sim(3, &out);
    opts.resume = true;
    let r = run_with(&path, opts).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(step(&r, "first").status, StepStatus::Resumed);
    assert_eq!(step(&r, "second").status, StepStatus::Succeeded);
    let t = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    assert_eq!(puts_of(&t, "first"), 1, "the finished step was not redone");
    assert_eq!(puts_of(&t, "first-second"), 2, "the failed one ran again");
    // The simulator came back as it was: the first group still exists in it.
    assert!(t.lines().last().unwrap().contains("\"status\":201"));
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_refuses_another_seed_and_a_missing_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "westus"));
    let engine = engine();
    let plan = std::sync::Arc::new(aksflow::flow::load(&path, &engine).await.unwrap());
    let mut opts = RunOptions::sim(3, dir.path().join("nothing"));
    opts.resume = true;
    let e = aksflow::runner::run(plan.clone(), engine.clone(), opts).await.unwrap_err().to_string();
    assert!(e.contains("there is no saved run"), "{e}");

    let out = dir.path().join("out");
    assert!(run_flow(&path, 3, &out).await.passed);
    let mut opts = RunOptions::sim(4, &out);
    opts.resume = true;
    let e = aksflow::runner::run(plan, engine, opts).await.unwrap_err().to_string();
    assert!(e.contains("--seed 3"), "{e}");
}

/// A fresh run forgets the earlier run's saved state at once: if it fails before saving its
/// own, `--resume` finds nothing, rather than the earlier run's steps and transcript mark.
#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_run_leaves_no_earlier_state_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let passing = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "westus"));
    assert!(run_flow(&passing, 3, &out).await.passed);
    assert!(out.join(".aksflow/state.json").exists());
    // The first step fails, so this run saves nothing.
    let failing = write_flow(dir.path(), "failing.toml", &FLOW.replace("name = \"first\", location = \"eastus\"", "name = \"first\", location = \"nowhere\""));
    let report = run_flow(&failing, 3, &out).await;
    assert_eq!(step(&report, "first").status, StepStatus::Failed);
    let engine = engine();
    let plan = std::sync::Arc::new(aksflow::flow::load(&failing, &engine).await.unwrap());
    let mut opts = RunOptions::sim(3, &out);
    opts.resume = true;
    let e = aksflow::runner::run(plan, engine, opts).await.unwrap_err().to_string();
    assert!(e.contains("there is no saved run"), "{e}");
}

/// Files a run replaces keep a second name in `OUT/.aksflow/retired/` until a background
/// thread deletes it (see `retired_files`). None of those names outlives the run, and the ones
/// a killed process left are removed by the next run in the same directory.
#[tokio::test(flavor = "multi_thread")]
async fn no_old_version_of_a_replaced_file_outlives_the_run() {
    fn hidden(dir: &std::path::Path) -> Vec<String> {
        let mut found = Vec::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                found.extend(hidden(&e.path()));
            } else if e.file_name().to_string_lossy().ends_with(".aksflow-retired") {
                found.push(e.path().display().to_string());
            }
        }
        found
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let path = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "westus"));
    assert!(run_flow(&path, 3, &out).await.passed);
    let left_by_a_kill = out.join(".aksflow/retired/state.json.99999.0.aksflow-retired");
    std::fs::create_dir_all(left_by_a_kill.parent().unwrap()).unwrap();
    std::fs::write(&left_by_a_kill, b"{}").unwrap();
    let first = std::fs::read(out.join("transcript.jsonl")).unwrap();
    // The second run replaces the transcript and the state, after every step.
    assert!(run_flow(&path, 3, &out).await.passed);
    assert_eq!(hidden(&out), Vec::<String>::new());
    assert_eq!(std::fs::read(out.join("transcript.jsonl")).unwrap(), first, "the same run, written again");
}

/// `aksflow test` writes each flow's state once, when it ends, not after every step. That
/// file is the one a run saving after every step ends with, byte for byte, so `--resume`
/// after a fix works the same.
#[tokio::test(flavor = "multi_thread")]
async fn state_written_only_at_the_end_is_the_state_every_step_ends_with() {
    let dir = tempfile::tempdir().unwrap();
    let failing = write_flow(dir.path(), "flow.toml", &FLOW.replace("LOCATION", "atlantis"));
    for flow in [failing.clone(), flows_dir().join("legacy-aad.toml")] {
        let (every, end) = (dir.path().join("every"), dir.path().join("end"));
        run_flow(&flow, 3, &every).await;
        let mut opts = RunOptions::sim(3, &end);
        opts.saves = aksflow::runner::Saves::AtEnd;
        run_with(&flow, opts).await;
        let state = |out: &std::path::Path| std::fs::read(out.join(".aksflow/state.json")).unwrap();
        assert!(state(&every) == state(&end), "{} wrote another state at its end", flow.display());
    }
    // A failed suite flow, resumed after the fix.
    let end = dir.path().join("suite-flow");
    let mut opts = RunOptions::sim(3, &end);
    opts.saves = aksflow::runner::Saves::AtEnd;
    assert!(!run_with(&failing, opts).await.passed);
    let fixed = write_flow(dir.path(), "fixed.toml", &FLOW.replace("LOCATION", "westus"));
    let mut opts = RunOptions::sim(3, &end);
    (opts.resume, opts.saves) = (true, aksflow::runner::Saves::AtEnd);
    let r = run_with(&fixed, opts).await;
    assert!(r.passed, "{r:?}");
    assert_eq!(step(&r, "first").status, StepStatus::Resumed);
    assert_eq!(step(&r, "second").status, StepStatus::Succeeded);
}

/// A run killed with SIGKILL mid-step resumes from the last finished step.
#[test]
fn a_killed_run_resumes_from_its_saved_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let text = r#"
[[step]]
id = "first"
uses = "resource-group"
with = { name = "first", location = "eastus" }
grant = ["arm"]

[[step]]
id = "long"
uses = "{wasm:test-spin}"
needs = ["first"]
limits = { fuel = 18_000_000_000_000_000_000, timeout = "4s" }
expect = { failure = "Timeout" }
"#;
    let path = write_flow(dir.path(), "flow.toml", text);
    let bin = aksflow_binary();
    let mut child = std::process::Command::new(&bin)
        .args(["run", path.to_str().unwrap(), "--seed", "5", "--quiet", "--out", out.to_str().unwrap()])
        .env("AKSFLOW_CACHE_DIR", dir.path().join("cache"))
        .spawn()
        .unwrap();
    let state = out.join(".aksflow/state.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&state).is_ok_and(|s| s.contains("\"first\"")) {
        assert!(std::time::Instant::now() < deadline, "the first step never finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let status = std::process::Command::new(bin)
        .args(["run", path.to_str().unwrap(), "--seed", "5", "--quiet", "--resume", "--json", "--out", out.to_str().unwrap()])
        .env("AKSFLOW_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(report["steps"][0]["status"], "resumed");
    assert_eq!(report["steps"][1]["status"], "expected-failure");
}

/// The `aksflow` binary cargo built beside this test (host/tests makes cargo build it).
fn aksflow_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("aksflow");
    assert!(bin.exists(), "{} is missing: build it with `cargo build -p aksflow`", bin.display());
    bin
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_run_still_reaches_the_clusters_its_finished_steps_learned() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let flow = std::fs::read_to_string(flows_dir().join("legacy-aad.toml")).unwrap();
    let broken = flow.replace("resource = \"pods\", all-namespaces = \"true\" }", "resource = \"pods\", all-namespaces = \"true\" }\nexpect = { failure = \"Forbidden\" }");
    assert_ne!(broken, flow, "the pods step is where the test expects it");
    let path = write_flow(dir.path(), "legacy-aad.toml", &broken);
    let r = run_flow(&path, 1, &out).await;
    assert_eq!(step(&r, "pods").code.as_deref(), Some("UnexpectedSuccess"), "{:?}", step(&r, "pods"));

    // The kubeconfig came from ARM in the first run; the resumed run must still accept it.
    let path = write_flow(dir.path(), "legacy-aad.toml", &flow);
    let mut opts = RunOptions::sim(1, &out);
    opts.resume = true;
    let r = run_with(&path, opts).await;
    assert_eq!(step(&r, "user").status, StepStatus::Resumed);
    assert_eq!(step(&r, "pods").status, StepStatus::Succeeded, "{:?}", step(&r, "pods"));
}

/// Every file a run leaves in its output directory, by path, except the record of the last
/// process (`run.json` describes that process: its timings, and which steps it resumed).
fn outputs_of(out: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(dir: &std::path::Path, root: &std::path::Path, into: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, into);
            } else {
                into.insert(path.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = std::collections::BTreeMap::new();
    walk(out, out, &mut files);
    files.remove(".aksflow/run.json");
    files
}

/// Runs `flow` with `seed` once whole, then once killed (SIGKILL) after each save in `kills`
/// and resumed: every resumed run must leave the same files, byte for byte.
fn resumed_runs_match_the_uninterrupted_one(dir: &std::path::Path, flow: &std::path::Path, seed: u64, kills: impl IntoIterator<Item = usize>) {
    let bin = aksflow_binary();
    let cache = dir.join("cache");
    let run = |out: &std::path::Path, kill_after: Option<usize>, resume: bool| {
        let mut c = std::process::Command::new(&bin);
        c.args(["run", flow.to_str().unwrap(), "--seed", &seed.to_string(), "--quiet", "--out", out.to_str().unwrap()]).env("AKSFLOW_CACHE_DIR", &cache);
        if resume {
            c.arg("--resume");
        }
        if let Some(n) = kill_after {
            c.env("AKSFLOW_FAULT_KILL_AFTER_SAVES", n.to_string());
        }
        c.output().unwrap()
    };
    let whole = dir.join("whole");
    let uninterrupted = run(&whole, None, false);
    assert!(uninterrupted.status.success(), "{}", String::from_utf8_lossy(&uninterrupted.stderr));
    let expected = outputs_of(&whole);
    for n in kills {
        let out = dir.join(format!("killed-{n}"));
        let killed = run(&out, Some(n), false);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(killed.status.signal(), Some(9), "the run was not killed (SIGKILL) after save {n}");
        let resumed = run(&out, None, true);
        assert!(resumed.status.success(), "resuming after save {n} failed: {}", String::from_utf8_lossy(&resumed.stderr));
        let got = outputs_of(&out);
        assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>(), "after save {n}");
        for (path, bytes) in &expected {
            assert!(got[path] == *bytes, "killed after save {n}: {path} differs from the uninterrupted run's");
        }
    }
}

/// A run killed at any step boundary and resumed writes the same transcript and the same
/// files, byte for byte, as one never interrupted: the operator is not signed in again,
/// and steps that were in flight at the kill are told again what they were told before
/// (legacy-aad runs up to four steps at once), not sent again.
#[test]
fn resume_is_exact_at_every_step_boundary_of_legacy_aad() {
    let dir = tempfile::tempdir().unwrap();
    let flow = flows_dir().join("legacy-aad.toml");
    let steps = std::fs::read_to_string(&flow).unwrap().matches("[[step]]").count();
    resumed_runs_match_the_uninterrupted_one(dir.path(), &flow, 7, 1..steps);
}

/// A flow wider than the engine's 64 sandboxes runs 64 steps at a time. Resumed, the steps
/// the save found running start again first, so the run goes on as the killed one would
/// have: here `wide-1` started when `root` finished, and `wide-2` had to wait for a sandbox.
/// (Started in plain index order, `wide-2` took `alone-65`'s place after save 1.)
#[test]
fn resume_is_exact_for_a_flow_wider_than_the_sandbox_pool() {
    let dir = tempfile::tempdir().unwrap();
    // Two calls each: a step that had made one at the save still has one to make, in its turn.
    let mut text = hoarder_step("root", 2, "");
    text += &hoarder_step("wide-1", 2, "needs = [\"root\"]");
    text += &hoarder_step("wide-2", 2, "needs = [\"root\"]");
    for i in 3..66 {
        text += &hoarder_step(&format!("alone-{i}"), 2, "");
    }
    let flow = write_flow(dir.path(), "wide.toml", &text);
    resumed_runs_match_the_uninterrupted_one(dir.path(), &flow, 3, [1, 2, 5]);
}
