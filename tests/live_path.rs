//! The live path on real sockets: a served simulator over TLS, and `aksflow run … --target
//! https://HOST:PORT` through the same HTTPS transport, operator sign-in and retries as a
//! run against Azure; the served state survives a restart.

use std::sync::Arc;

use aksflow::cloud::Target;
use aksflow::runner::{self, RunOptions};
use aksflow::serve::{ServeOptions, Served};
use aksflow_e2e::*;

/// A served simulator of seed 000's era (legacy-aad needs it).
async fn serve(dir: &std::path::Path, seed: u64) -> Served {
    Served::start(ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), seed, state_dir: dir.to_path_buf(), key_cache: None, exec_command: None, limits: Default::default(), era: aksflow_simulator::Era::Y2019, faults: None }).await.expect("serving")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_aad_runs_end_to_end_over_tls_and_the_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sim");
    let served = serve(&state, 5).await;
    let env = std::fs::read_to_string(&served.env_path).unwrap();
    for key in ["AZURE_TENANT_ID=", "AZURE_CLIENT_ID=", "AZURE_CLIENT_SECRET=", "AZURE_SUBSCRIPTION_ID=", "HTTPS_PROXY=http://127.0.0.1:", "NO_PROXY=127.0.0.1,localhost", "REQUESTS_CA_BUNDLE=", "SSL_CERT_FILE=", "NODE_EXTRA_CA_CERTS=", "AKSFLOW_GRAPH_URL=", "AKSFLOW_ARM_URL="] {
        assert!(env.contains(key), "aksflow.env lacks {key}:\n{env}");
    }
    // Clients keep their default authority and reach it through the proxy.
    assert!(!env.contains("AZURE_AUTHORITY_HOST"), "{env}");
    let live = served_live(&served, 5);
    let mut opts = RunOptions::sim(5, dir.path().join("out"));
    opts.target = Target::Url(served.base_url.clone());
    opts.live = Some(live);
    let plan = Arc::new(aksflow::flow::load(&flows_dir().join("legacy-aad.toml"), &engine()).await.unwrap());
    let report = runner::run(plan, engine(), opts).await.unwrap();
    assert!(report.passed, "{:#?}", report.steps.iter().filter(|s| !s.status.passed()).collect::<Vec<_>>());
    assert!(step(&report, "pods").outputs["table"].contains("coredns-"));
    let user = std::fs::read_to_string(dir.path().join("out/user.kubeconfig")).unwrap();
    assert!(user.contains(&format!("server: {}/k8s/", served.base_url)), "kubeconfigs point at the served address");

    // Stop (saving the state) and serve again from the same directory.
    served.stop().await.unwrap();
    let again = serve(&state, 5).await;
    let snap = again.simulator.snapshot();
    assert!(snap.world.arm.clusters.iter().any(|c| c.name == "myakscluster"), "the cluster survived the restart");
    again.stop().await.unwrap();
    let refused = Served::start(ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), seed: 6, state_dir: state.clone(), key_cache: None, exec_command: None, limits: Default::default(), era: Default::default(), faults: None }).await;
    assert!(refused.err().unwrap().contains("seed"), "another seed cannot take over the state");
}
