//! Hostile plugins fail only their own step, each with a reason that names the limit; the
//! rest of the flow runs and the run reports it.

use aksflow::runner::StepStatus;
use aksflow_e2e::*;

/// A flow with one hostile step beside an ordinary resource-group step.
fn flow(hostile: &str, extra: &str) -> String {
    format!(
        r#"
[[step]]
id = "rg"
uses = "resource-group"
with = {{ name = "beside-the-hostile-one", location = "westeurope" }}
grant = ["arm"]

[[step]]
id = "hostile"
uses = "{{wasm:{hostile}}}"
grant = ["arm"]
{extra}
"#
    )
}

async fn run_hostile(hostile: &str, extra: &str) -> aksflow::runner::RunReport {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &flow(hostile, extra));
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    assert!(!report.passed, "a hostile step must fail the run");
    assert_eq!(step(&report, "rg").status, StepStatus::Succeeded, "the other step is unharmed");
    report
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_runs_out_of_fuel() {
    let r = run_hostile("test-spin", "limits = { fuel = 50_000_000 }").await;
    let s = step(&r, "hostile");
    assert_eq!(s.status, StepStatus::Failed);
    assert_eq!(s.code.as_deref(), Some("FuelExhausted"));
    assert!(s.message.as_ref().unwrap().contains("50000000 units"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_with_unlimited_fuel_hits_the_wall_clock_backstop() {
    let r = run_hostile("test-spin", "limits = { fuel = 18_000_000_000_000_000_000, timeout = \"300ms\" }").await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("Timeout"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("0.3s"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_1_gib_allocation_hits_the_memory_cap() {
    let r = run_hostile("test-hog", "").await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("MemoryLimitExceeded"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("limit of 128 MiB"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_fails_with_the_panic_message() {
    let r = run_hostile("test-crash", "").await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("Trap"));
    let m = s.message.as_ref().unwrap();
    assert!(m.contains("unreachable") && m.contains("the crash plugin crashed on purpose"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_to_an_ungranted_service_is_refused_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &flow("test-sneaky", ""));
    let out = dir.path().join("out");
    let r = run_flow(&path, 1, &out).await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("NotGranted"));
    assert!(s.message.as_ref().unwrap().contains("step `hostile` called graph (GET /v1.0/users) but was not granted it"), "{s:?}");
    assert!(s.hint.as_ref().unwrap().contains("grant"), "{s:?}");
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let refused: Vec<&str> = transcript.lines().filter(|l| l.contains("\"step\":\"hostile\"")).collect();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].contains("\"error\":") && refused[0].contains("/v1.0/users") && !refused[0].contains("\"response\""), "{}", refused[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_100_mib_output_is_refused() {
    let r = run_hostile("test-flood", "").await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("OutputTooLarge"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("104857604 bytes"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_that_imports_sockets_is_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let errors = flow_errors(dir.path(), &flow("test-netcat", "")).await;
    assert!(errors.contains("imports `wasi:sockets/"), "{errors}");
    assert!(errors.contains("does not give to plugins"), "{errors}");
}

#[tokio::test(flavor = "multi_thread")]
async fn guest_sleeps_move_the_virtual_clock_and_randomness_follows_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[step]]
id = "nap"
uses = "{wasm:test-napper}"
with = { seconds = 3600 }
"#;
    let path = write_flow(dir.path(), "flow.toml", text);
    let started = std::time::Instant::now();
    let a = run_flow(&path, 1, &dir.path().join("a")).await;
    assert!(a.passed, "{a:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "an hour's sleep is virtual");
    let out = &step(&a, "nap").outputs;
    let before: i64 = out["before"].parse().unwrap();
    let after: i64 = out["after"].parse().unwrap();
    assert_eq!(after - before, 3_600_000);
    assert_eq!(out["slept"], "3600000");
    assert_eq!(before, aksflow_simulator::clock::EPOCH_MS, "the guest sees the run's clock");

    let b = run_flow(&path, 1, &dir.path().join("b")).await;
    let c = run_flow(&path, 2, &dir.path().join("c")).await;
    assert_eq!(step(&b, "nap").outputs["random"], out["random"], "same seed, same randomness");
    assert_ne!(step(&c, "nap").outputs["random"], out["random"], "another seed, other randomness");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_overflow_in_linear_memory_is_named_as_such() {
    let r = run_hostile("test-deep", "").await;
    let s = step(&r, "hostile");
    assert_eq!(s.code.as_deref(), Some("Trap"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("stack overflow"), "{s:?}");
}

/// The threads of this process named `aksflow flow` that are running or ready to run.
fn busy_flow_threads() -> usize {
    let mut busy = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised name: "1234 (aksflow flow) R ...".
        let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
        if comm.trim() == "aksflow flow" && state == Some('R') {
            busy += 1;
        }
    }
    busy
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_run_stops_a_step_that_is_busy_in_wasm() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &flow("test-spin", "limits = { fuel = 18_000_000_000_000_000_000, timeout = \"60s\" }"));
    // The run is dropped while the spinning step has a minute left of its timeout.
    let stopped = tokio::time::timeout(std::time::Duration::from_millis(500), run_flow(&path, 1, &dir.path().join("out"))).await;
    assert!(stopped.is_err(), "the spinning step cannot have finished");
    // The flow's thread gives up the step at its next epoch tick (10 ms); allow ample time on
    // a busy machine, far less than the step's timeout.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while busy_flow_threads() > 0 {
        assert!(std::time::Instant::now() < deadline, "the flow thread still runs the spinning step 15 s after its run was dropped");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
