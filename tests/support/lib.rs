//! Helpers for the end-to-end tests: the test plugins, one shared engine, and running a
//! flow written inline.

pub mod outside_tools;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aksflow::engine::StepEngine;
use aksflow::flow;
use aksflow::runner::{self, RunOptions, RunReport};

/// A test plugin's component (`tests/plugins/NAME`).
pub fn test_wasm(name: &str) -> PathBuf {
    Path::new(env!("AKSFLOW_TEST_WASM_DIR")).join(format!("{}.wasm", name.replace('-', "_")))
}

/// The repository's `flows/` directory.
pub fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("flows")
}

/// One engine for the whole test binary, compiling into a cache under target/.
pub fn engine() -> Arc<StepEngine> {
    static ENGINE: OnceLock<Arc<StepEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let cache = Path::new(env!("AKSFLOW_TEST_WASM_DIR")).join("../../../aksflow-test-cache");
            StepEngine::new(Some(cache)).expect("engine")
        })
        .clone()
}

/// A flow file written into `dir`, with `{wasm:NAME}` replaced by the test plugin's path.
pub fn write_flow(dir: &Path, name: &str, text: &str) -> PathBuf {
    let mut text = text.to_string();
    while let Some(start) = text.find("{wasm:") {
        let end = start + text[start..].find('}').expect("closing brace");
        let plugin = &text[start + 6..end];
        let path = test_wasm(plugin).display().to_string();
        text.replace_range(start..=end, &path);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// One `test-hoarder` step that makes `calls` ARM calls, then any further lines of its own
/// (`needs = [...]`): the flow text for `write_flow`.
pub fn hoarder_step(id: &str, calls: u32, more: &str) -> String {
    format!("[[step]]\nid = \"{id}\"\nuses = \"{{wasm:test-hoarder}}\"\nwith = {{ calls = {calls} }}\ngrant = [\"arm\"]\n{more}\n")
}

/// Loads and runs a flow on the simulator with `seed`, writing under `out`.
pub async fn run_flow(path: &Path, seed: u64, out: &Path) -> RunReport {
    run_with(path, RunOptions::sim(seed, out)).await
}

pub async fn run_with(path: &Path, opts: RunOptions) -> RunReport {
    let engine = engine();
    let plan = flow::load(path, &engine).await.unwrap_or_else(|e| panic!("flow should load:\n{e}"));
    runner::run(Arc::new(plan), engine, opts).await.expect("run")
}

/// The flow-file errors for `text`, as one string.
pub async fn flow_errors(dir: &Path, text: &str) -> String {
    let path = write_flow(dir, "bad.toml", text);
    match flow::load(&path, &engine()).await {
        Ok(_) => panic!("the flow should have been refused:\n{text}"),
        Err(e) => e.to_string(),
    }
}

pub fn step<'a>(report: &'a RunReport, id: &str) -> &'a aksflow::runner::StepReport {
    report.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id} in report"))
}

/// The live settings for a served simulator, as its aksflow.env would give them.
pub fn served_live(served: &aksflow::serve::Served, seed: u64) -> aksflow::runner::Live {
    let op = served.simulator.operator();
    aksflow::runner::Live {
        operator: aksflow::cloud::auth::OperatorCredential::ClientSecret {
            tenant_id: op.tenant_id.clone(),
            client_id: op.client_id.clone(),
            client_secret: op.client_secret.clone(),
        },
        tenant_id: op.tenant_id,
        subscription_id: op.subscription_id,
        endpoints: aksflow::cloud::Endpoints::single(&served.base_url),
        ca_pem: Some(std::fs::read(&served.ca_path).expect("the served CA")),
        sim_seed: Some(seed),
        sim_era: Some(served.simulator.config().era),
    }
}

/// What the transcript keeps of credentials: every call to each of `services` is recorded as
/// having carried a token, as exactly `authorization: Bearer <redacted>`, and no recorded
/// authorization header anywhere holds anything else. (A transcript that dropped the header
/// would leak nothing, and would hide that the call was authenticated.)
pub fn assert_bearer_redacted(transcript: &str, services: &[&str]) {
    let records: Vec<aksflow::transcript::Record> =
        transcript.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("a transcript record ({e}): {line}"))).collect();
    for service in services {
        let calls: Vec<_> = records.iter().filter(|r| r.service == *service).collect();
        assert!(!calls.is_empty(), "no {service} call in the transcript:\n{transcript}");
        for r in calls {
            let authorization = r.request.headers.get("authorization").map(String::as_str);
            assert_eq!(authorization, Some("Bearer <redacted>"), "{} {} {}", r.service, r.request.method, r.request.url);
        }
    }
    for r in &records {
        if let Some(authorization) = r.request.headers.get("authorization") {
            assert_eq!(authorization, "Bearer <redacted>", "{} {} {}", r.service, r.request.method, r.request.url);
        }
    }
}

/// `aksflow sim serve` in process for real clients: seed `seed`, state under `dir/sim`, the
/// given exec command in its kubeconfigs (`None`: `kubelogin`, as AKS writes them).
pub async fn serve_for_clients(dir: &Path, seed: u64, exec_command: Option<String>) -> aksflow::serve::Served {
    aksflow::serve::Served::start(aksflow::serve::ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        seed,
        state_dir: dir.join("sim"),
        key_cache: None,
        exec_command,
        limits: Default::default(),
        era: Default::default(),
        faults: None,
    })
    .await
    .expect("the served simulator starts")
}

/// A served simulator's aksflow.env, as KEY=VALUE pairs (what `set -a; . aksflow.env` gives).
pub fn env_file(served: &aksflow::serve::Served) -> Vec<(String, String)> {
    std::fs::read_to_string(&served.env_path).unwrap().lines().filter(|l| !l.trim_start().starts_with('#')).filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect()
}
