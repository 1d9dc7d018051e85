//! A hostile plugin spends only its own budget: calls, bytes on the wire, log lines and wall
//! time (host calls included) are charged to the step, the transcript stays bounded, and the
//! output directory is the host's. Each test fails on a host without the rule it names.

use std::sync::Arc;

use aksflow::cloud::Target;
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

/// More steps at once than the engine has sandboxes: the steps past the pool fail with an
/// error that says why and what to do, and the others finish. Each step makes two calls, so
/// it holds its sandbox while it waits for its turn at the second.
#[tokio::test(flavor = "multi_thread")]
async fn steps_past_the_instance_pool_fail_naming_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let flow: String = (0..aksflow::engine::MAX_INSTANCES + 6)
        .map(|i| format!("[[step]]\nid = \"calls-{i}\"\nuses = \"{{wasm:test-hoarder}}\"\nwith = {{ calls = 2 }}\ngrant = [\"arm\"]\n\n"))
        .collect();
    let path = write_flow(dir.path(), "flow.toml", &flow);
    let report = run_flow(&path, 1, &dir.path().join("out")).await;
    let failed: Vec<_> = report.steps.iter().filter(|s| s.status != StepStatus::Succeeded).collect();
    assert!(!failed.is_empty() && failed.len() <= 6, "{} failed", failed.len());
    for s in failed {
        assert_eq!(s.code.as_deref(), Some("InstantiateFailed"), "{s:?}");
        let message = s.message.as_deref().unwrap_or_default();
        assert!(message.contains("more steps were running at once") && message.contains("--jobs") && message.contains("`needs`"), "{message}");
    }
}
