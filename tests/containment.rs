//! A hostile plugin spends only its own budget: calls, bytes on the wire, log lines and wall
//! time (host calls included) are charged to the step, the transcript stays bounded, and the
//! output directory is the host's. Each test fails on a host without the rule it names.

use std::sync::Arc;

use aksflow::caps::StepCaps;
use aksflow::cloud::Target;
use aksflow::sandbox::BoxFuture;
use aksflow::runner::{self, RunOptions, StepStatus};
use aksflow::serve::{ServeOptions, Served};
use aksflow_e2e::*;

fn hoarder_flow(with: &str, limits: &str) -> String {
    format!(
        r#"
[[step]]
id = "rg"
uses = "resource-group"
with = {{ name = "beside-the-hoarder", location = "westeurope" }}
grant = ["arm"]

[[step]]
id = "hoarder"
uses = "{{wasm:test-hoarder}}"
with = {{ {with} }}
grant = ["arm"]
{limits}
"#
    )
}

/// Peak resident memory of this test process (nextest runs each test in its own process).
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap();
    kib * 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn thousands_of_one_mib_calls_stop_at_the_network_budget_with_a_small_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("calls = 4000, body-bytes = 1048576", ""));
    let out = dir.path().join("out");
    let report = run_flow(&path, 1, &out).await;
    let s = step(&report, "hoarder");
    assert_eq!(s.code.as_deref(), Some("NetworkLimitExceeded"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("raise `limits.network` on the step"), "{s:?}");
    assert_eq!(step(&report, "rg").status, StepStatus::Succeeded, "the other step is unharmed");
    let transcript = std::fs::metadata(out.join("transcript.jsonl")).unwrap().len();
    assert!(transcript < 16 << 20, "the transcript stays small: {transcript} bytes");
    assert!(peak_rss_bytes() < 512 << 20, "peak RSS {} MiB", peak_rss_bytes() >> 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn recorded_bodies_are_capped_with_a_marker() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("calls = 2, body-bytes = 300000", ""));
    let out = dir.path().join("out");
    let report = run_flow(&path, 1, &out).await;
    assert_eq!(step(&report, "hoarder").status, StepStatus::Succeeded);
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let hoard: Vec<&str> = transcript.lines().filter(|l| l.contains("\"step\":\"hoarder\"")).collect();
    assert_eq!(hoard.len(), 2);
    for line in hoard {
        assert!(line.len() < 100_000, "one record is {} bytes", line.len());
        assert!(line.contains("<truncated: the body was 300000 bytes>"), "{}", &line[..300]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn too_many_calls_stop_at_the_call_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("calls = 50", "limits = { calls = 20 }"));
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    let s = step(&report, "hoarder");
    assert_eq!(s.code.as_deref(), Some("CallLimitExceeded"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("budget of 20 cloud calls"), "{s:?}");
    let transcript = std::fs::read_to_string(dir.path().join("out/transcript.jsonl")).unwrap();
    assert_eq!(transcript.lines().filter(|l| l.contains("\"step\":\"hoarder\"")).count(), 20, "the 21st call never left");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flood_of_log_lines_stops_at_the_log_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("log-bytes = 2097152", ""));
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    let s = step(&report, "hoarder");
    assert_eq!(s.code.as_deref(), Some("LogLimitExceeded"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("1048576 bytes of log lines") && s.message.as_ref().unwrap().contains("limits.log"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_cannot_overwrite_the_transcript_or_another_steps_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("files = \"transcript.jsonl\"", ""));
    let out = dir.path().join("out");
    let report = run_flow(&path, 1, &out).await;
    let s = step(&report, "hoarder");
    assert_eq!(s.code.as_deref(), Some("FileClash"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("which the host (the run's transcript) writes"), "{s:?}");
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    assert!(transcript.starts_with("{\"seq\":1"), "the transcript is intact");

    let text = format!(
        "{}\n[[step]]\nid = \"second\"\nuses = \"{{wasm:test-hoarder}}\"\nwith = {{ files = \"shared.txt\" }}\ngrant = [\"arm\"]\nneeds = [\"hoarder\"]\n",
        hoarder_flow("files = \"shared.txt,.aksflow/state.json\"", "").replace(",.aksflow/state.json", "")
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &text);
    let out = dir.path().join("out");
    let report = run_flow(&path, 1, &out).await;
    assert_eq!(step(&report, "hoarder").status, StepStatus::Succeeded);
    let s = step(&report, "second");
    assert_eq!(s.code.as_deref(), Some("FileClash"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("`shared.txt`, which step `hoarder` writes"), "{s:?}");

    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "flow.toml", &hoarder_flow("files = \".aksflow/state.json\"", ""));
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    assert_eq!(step(&report, "hoarder").code.as_deref(), Some("FileClash"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_bounds_time_spent_in_host_calls() {
    // Against a served simulator the run's clock is real: a guest sleep really waits.
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), seed: 3, state_dir: dir.path().join("sim"), key_cache: None, exec_command: None, limits: Default::default(), era: Default::default(), faults: None }).await.unwrap();
    let text = "[[step]]\nid = \"nap\"\nuses = \"{wasm:test-napper}\"\nwith = { seconds = 20 }\nlimits = { timeout = \"1s\" }\n";
    let path = write_flow(dir.path(), "flow.toml", text);
    let mut opts = RunOptions::sim(3, dir.path().join("out"));
    opts.target = Target::Url(served.base_url.clone());
    opts.live = Some(served_live(&served, 3));
    let plan = Arc::new(aksflow::flow::load(&path, &engine()).await.unwrap());
    let started = std::time::Instant::now();
    let report = runner::run(plan, engine(), opts).await.unwrap();
    let took = started.elapsed();
    let s = step(&report, "nap");
    assert_eq!(s.code.as_deref(), Some("Timeout"), "{s:?}");
    assert!(took < std::time::Duration::from_secs(10), "the step stopped at its limit, not after its 20 s sleep: {took:?}");
    served.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kube_grant_reaches_only_clusters_the_run_knows() {
    let dir = tempfile::tempdir().unwrap();
    let text = "[[step]]\nid = \"exfil\"\nuses = \"{wasm:test-exfil}\"\ngrant = [\"kube\"]\n";
    let path = write_flow(dir.path(), "flow.toml", text);
    let out = dir.path().join("out");
    let report = run_flow(&path, 1, &out).await;
    let s = step(&report, "exfil");
    assert_eq!(s.code.as_deref(), Some("Refused"), "{s:?}");
    assert!(s.message.as_ref().unwrap().contains("NotGranted") && s.message.as_ref().unwrap().contains("not a cluster this run knows"), "{s:?}");
    let transcript = std::fs::read_to_string(out.join("transcript.jsonl")).unwrap();
    let line = transcript.lines().find(|l| l.contains("\"step\":\"exfil\"")).expect("the refusal is recorded");
    assert!(line.contains("\"error\":") && !line.contains("\"response\""), "{line}");
}

/// A step's linear memory starts fresh, whatever slot it is given: steps that fill memory
/// with a pattern are followed by steps of the same plugin (which the pooling allocator
/// places in the slots just freed) that grow their memory as far and scan all of it.
#[tokio::test(flavor = "multi_thread")]
async fn a_step_never_sees_what_an_earlier_step_left_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let mut flow = String::new();
    let mut last = None::<String>;
    for round in 0..3 {
        for (kind, with) in [("plant", "plant = true, mebibytes = 3"), ("scan", "plant = false, mebibytes = 4")] {
            let id = format!("{kind}-{round}");
            let needs = last.as_ref().map(|l| format!("needs = [\"{l}\"]")).unwrap_or_default();
            flow.push_str(&format!("[[step]]\nid = \"{id}\"\nuses = \"{{wasm:test-residue}}\"\nwith = {{ key = \"{}\", {with} }}\n{needs}\n\n", 40 + round));
            last = Some(id);
        }
    }
    let path = write_flow(dir.path(), "flow.toml", &flow);
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    for round in 0..3 {
        let plant = step(&report, &format!("plant-{round}"));
        let scan = step(&report, &format!("scan-{round}"));
        assert_eq!(plant.status, StepStatus::Succeeded, "{plant:?}");
        let planted: usize = plant.outputs["found"].parse().unwrap();
        assert!(planted > 3 << 14, "the scan sees a planting step's own pattern: {planted}");
        assert_eq!(scan.outputs["found"], "0", "round {round}: a later step saw the earlier step's memory");
    }
}

/// More independent steps than the engine has sandboxes: the run starts as many as the pool
/// holds and the rest as sandboxes free, and every step succeeds. Each step makes two calls,
/// so it holds its sandbox while it waits for its turn at the second.
#[tokio::test(flavor = "multi_thread")]
async fn a_flow_wider_than_the_instance_pool_runs_its_steps_as_sandboxes_free() {
    let dir = tempfile::tempdir().unwrap();
    let flow: String = (0..aksflow::engine::MAX_INSTANCES + 6).map(|i| hoarder_step(&format!("calls-{i}"), 2, "")).collect();
    let path = write_flow(dir.path(), "flow.toml", &flow);
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    let failed: Vec<_> = report.steps.iter().filter(|s| s.status != StepStatus::Succeeded).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_past_the_instance_pool_wait_for_sandboxes_instead_of_failing() {
    // 40 runs of a flow four steps wide want 160 sandboxes of the pool's 64 at once.
    let dir = tempfile::tempdir().unwrap();
    let flow: String = (0..4).map(|i| hoarder_step(&format!("calls-{i}"), 3, "")).collect();
    let path = write_flow(dir.path(), "flow.toml", &flow);
    let engine = engine();
    let plan = Arc::new(aksflow::flow::load(&path, &engine).await.unwrap());
    assert_eq!(plan.width, 4);
    let runs: Vec<_> = (0..40)
        .map(|i| tokio::spawn(runner::run(plan.clone(), engine.clone(), RunOptions::sim(1, dir.path().join(format!("out-{i}"))))))
        .collect();
    for run in runs {
        let report = run.await.unwrap().unwrap();
        let failed: Vec<_> = report.steps.iter().filter(|s| s.status != StepStatus::Succeeded).collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}

/// A progress sink that panics at one hook for one step: a stand-in for any bug in aksflow's
/// own code while a step runs.
struct PanicsAt {
    hook: &'static str,
    step: &'static str,
}

impl runner::Progress for PanicsAt {
    fn step_started(&self, id: &str, _: &str) {
        assert!(!(self.hook == "started" && id == self.step), "the progress display broke at the start of {id}");
    }
    fn step_log(&self, id: &str, _: aksflow::sandbox::LogLevel, _: &str) {
        assert!(!(self.hook == "log" && id == self.step), "the progress display broke on a log line of {id}");
    }
    fn prompt(&self, _: &str, _: &str, _: Option<&aksflow::sandbox::DeviceLogin>) {}
    fn step_finished(&self, r: &runner::StepReport) {
        assert!(!(self.hook == "finished" && r.id == self.step), "the progress display broke at the end of {}", r.id);
    }
}

const PANIC_FLOW: &str = r#"
[[step]]
id = "rg"
uses = "resource-group"
with = { name = "beside-the-panic", location = "westeurope" }
grant = ["arm"]

[[step]]
id = "account"
uses = "account-show"
grant = ["arm"]

[[step]]
id = "after-account"
uses = "resource-group"
with = { name = "after-${{ steps.account.outputs.tenant-id }}", location = "westeurope" }
grant = ["arm"]

[[step]]
id = "after-rg"
uses = "resource-group"
with = { name = "${{ steps.rg.outputs.name }}", location = "westeurope" }
grant = ["arm"]
"#;

/// Runs `flow` with a progress sink that panics at `hook` for `step`, saving as `saves` says:
/// the report, and the steps the run's saved state holds (none when it saved nothing). A run
/// that never ends fails the test after a minute instead of hanging it.
async fn run_saving(flow: &str, hook: &'static str, step: &'static str, saves: runner::Saves) -> (runner::RunReport, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "panic.toml", flow);
    let mut opts = RunOptions::sim(1, dir.path().join("out"));
    opts.progress = Arc::new(PanicsAt { hook, step });
    opts.saves = saves;
    let report = tokio::time::timeout(std::time::Duration::from_secs(60), run_with(&path, opts)).await.expect("the run ends even though a step's host code panicked");
    let saved: Vec<String> = match std::fs::read(dir.path().join("out/.aksflow/state.json")) {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["steps"].as_object().unwrap().keys().cloned().collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{e}"),
    };
    (report, saved)
}

/// Runs PANIC_FLOW with a progress sink that panics at `hook` for `step`, twice: saving after
/// every step, and saving at the end only (as `aksflow test` does), which must leave the same
/// steps saved.
async fn run_with_a_panic(hook: &'static str, step: &'static str) -> (runner::RunReport, Vec<String>) {
    let every_step = run_saving(PANIC_FLOW, hook, step, runner::Saves::AfterEachStep).await;
    let end_only = run_saving(PANIC_FLOW, hook, step, runner::Saves::AtEnd).await;
    assert_eq!(end_only.1, every_step.1, "saving only at the end keeps what saving after every step kept");
    every_step
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_the_host_during_a_host_call_fails_that_step_and_the_run_goes_on() {
    // account-show logs its subscription: the log host call, made from inside the guest, panics.
    let (report, saved) = run_with_a_panic("log", "account").await;
    let account = step(&report, "account");
    assert_eq!(account.status, StepStatus::Failed);
    assert_eq!(account.code.as_deref(), Some("HostPanic"));
    let message = account.message.as_deref().unwrap();
    assert!(message.contains("the progress display broke on a log line of account"), "{message}");
    assert!(message.contains("bug in aksflow"), "{message}");
    assert_eq!(step(&report, "after-account").status, StepStatus::Skipped);
    assert_eq!(step(&report, "rg").status, StepStatus::Succeeded);
    assert_eq!(step(&report, "after-rg").status, StepStatus::Succeeded, "steps beside the failed one finish");
    assert!(!report.passed);
    // The log line comes before any step has finished: the simulator may have been left part
    // way through a change, so nothing is saved from then on, though three steps succeed.
    assert!(saved.is_empty(), "{saved:?}");
}

/// Two steps after PANIC_FLOW's. rg and account finish (and are saved, holding the turn)
/// before `between` can make its call, and `later` starts only when `between` has finished;
/// so when `later`'s first log line panics, rg and account are saved, whichever way the run
/// saves. (`between`'s own save and `later`'s panic are not ordered: `later` is started as
/// `between` finishes; nor are after-rg's and after-account's saves.)
const LATER_STEPS: &str = r#"
[[step]]
id = "between"
uses = "resource-group"
with = { name = "${{ steps.rg.outputs.name }}-${{ steps.account.outputs.tenant-id }}", location = "westeurope" }
grant = ["arm"]

[[step]]
id = "later"
uses = "resource-group"
with = { name = "${{ steps.between.outputs.name }}", location = "westeurope" }
grant = ["arm"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_in_a_later_step_keeps_what_was_saved_before_it() {
    for saves in [runner::Saves::AfterEachStep, runner::Saves::AtEnd] {
        let (report, saved) = run_saving(&format!("{PANIC_FLOW}{LATER_STEPS}"), "log", "later", saves).await;
        assert_eq!(step(&report, "later").code.as_deref(), Some("HostPanic"), "{saves:?}");
        assert_eq!(step(&report, "between").status, StepStatus::Succeeded, "{saves:?}");
        // Saving at the end only still writes, after the panic, the last state a step left.
        for kept in ["rg", "account"] {
            assert!(saved.contains(&kept.to_string()), "{saves:?}: {saved:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_before_the_plugin_starts_fails_that_step() {
    let (report, _) = run_with_a_panic("started", "rg").await;
    assert_eq!(step(&report, "rg").code.as_deref(), Some("HostPanic"));
    assert_eq!(step(&report, "after-rg").status, StepStatus::Skipped);
    assert_eq!(step(&report, "account").status, StepStatus::Succeeded);
    assert_eq!(step(&report, "after-account").status, StepStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_while_a_finished_step_is_shown_does_not_stop_the_run() {
    let (report, saved) = run_with_a_panic("finished", "rg").await;
    assert!(report.passed, "the steps' results stand: only their display failed");
    assert_eq!(step(&report, "after-rg").status, StepStatus::Succeeded);
    // Showing a step leaves the simulator as it was, so saving goes on; `rg`'s own save
    // was missed, and `--resume` would run it again.
    assert!(saved.contains(&"after-rg".to_string()) && !saved.contains(&"rg".to_string()), "{saved:?}");
}

/// `describe`'s services (none), except that a sleep never ends: a step that sleeps keeps
/// its sandbox until it is dropped.
struct SleepsForever;

static NO_SERVICES: aksflow::sandbox::NullIo = aksflow::sandbox::NullIo;

impl aksflow::sandbox::StepIo for SleepsForever {
    fn call<'a>(&'a self, caps: &'a StepCaps, req: aksflow::bindings::CloudRequest) -> BoxFuture<'a, Result<aksflow::bindings::CloudResponse, aksflow::bindings::CallError>> {
        NO_SERVICES.call(caps, req)
    }
    fn context(&self) -> aksflow::bindings::CloudContext {
        NO_SERVICES.context()
    }
    fn log(&self, caps: &StepCaps, level: aksflow::sandbox::LogLevel, message: &str) {
        NO_SERVICES.log(caps, level, message)
    }
    fn show<'a>(&'a self, caps: &'a StepCaps, message: &'a str, device: Option<aksflow::sandbox::DeviceLogin>) -> BoxFuture<'a, Result<(), String>> {
        NO_SERVICES.show(caps, message, device)
    }
    fn now_ms(&self, caps: &StepCaps) -> i64 {
        NO_SERVICES.now_ms(caps)
    }
    fn sleep<'a>(&'a self, _: &'a StepCaps, _: std::time::Duration) -> BoxFuture<'a, ()> {
        Box::pin(std::future::pending())
    }
    fn seed_for(&self, caps: &StepCaps, stream: &str) -> u64 {
        NO_SERVICES.seed_for(caps, stream)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn steps_run_straight_on_the_engine_past_its_pool_fail_naming_the_fix() {
    let engine = engine();
    let wasm = std::fs::read(test_wasm("test-napper")).unwrap();
    let plugin = engine.load(&wasm, "test-napper").await.unwrap();
    let mut steps = tokio::task::JoinSet::new();
    for i in 0..aksflow::engine::MAX_INSTANCES as usize + 1 {
        let (engine, plugin) = (engine.clone(), plugin.clone());
        let caps = StepCaps::new(&format!("nap-{i}"), i, aksflow::caps::Grants::NONE, None, aksflow::engine::Limits::default());
        steps.spawn(async move { engine.run(&plugin, Arc::new(SleepsForever), Arc::new(caps), &[]).await });
    }
    // Every sandbox is held by a sleeping step: the one past the pool fails, and first.
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), steps.join_next()).await.expect("a step past the pool fails at once");
    let failure = first.unwrap().unwrap().expect_err("no step can finish: each sleeps forever");
    assert_eq!(failure.code(), "InstantiateFailed");
    let message = failure.message();
    assert!(message.contains("pool of 64 sandboxes ran out") && message.contains("StepEngine::reserve") && message.contains("`needs`"), "{message}");
    steps.abort_all();
}
