//! The flows in `flows/`: both seed walkthroughs and every failure case, run as the suite
//! `aksflow test flows/` runs them; and the files and repeatability the walkthroughs promise.

use aksflow::cloud::Target;
use aksflow::suite::{self, SuiteOptions};
use aksflow_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flow_in_the_repository_passes() {
    let dir = tempfile::tempdir().unwrap();
    let flows = suite::collect(&[flows_dir()], None).unwrap();
    assert!(flows.len() >= 7, "{flows:?}");
    let opts = SuiteOptions { seed: 1, target: Target::Sim, live: None, out_dir: dir.path().to_path_buf(), jobs: 2, cache_dir: None, report_dir: None, faults: None, seeds: None };
    let results = suite::run(engine(), flows, opts, |_| {}).await;
    let failed: Vec<String> = results.iter().filter(|r| !r.passed).map(|r| format!("{}:\n{}", r.path.display(), r.failure.as_deref().unwrap_or(""))).collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    let junit = suite::junit(&results, 1.0);
    assert!(junit.contains(&format!("tests=\"{}\" failures=\"0\"", results.len())));
}

#[tokio::test(flavor = "multi_thread")]
async fn legacy_aad_writes_both_kubeconfigs_and_repeats_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let flow = flows_dir().join("legacy-aad.toml");
    let a = run_flow(&flow, 7, &dir.path().join("a")).await;
    assert!(a.passed, "{a:?}");
    for f in ["admin.kubeconfig", "user.kubeconfig"] {
        let text = std::fs::read_to_string(dir.path().join("a").join(f)).unwrap();
        assert!(text.contains("certificate-authority-data"), "{f}");
    }
    // ARM names the admin context after the cluster; az's merge appends `-admin`, so the
    // user and admin contexts of one cluster do not collide (and never `-admin-admin`).
    let admin = step(&a, "admin");
    assert_eq!(admin.outputs["context"], "myakscluster-admin");
    let user = std::fs::read_to_string(dir.path().join("a/user.kubeconfig")).unwrap();
    assert!(user.contains("name: azure"), "seed 000's user kubeconfig uses the azure auth-provider");
    let pods = step(&a, "pods");
    assert!(pods.outputs["table"].contains("kube-system   coredns-"), "{}", pods.outputs["table"]);
    let b = run_flow(&flow, 7, &dir.path().join("b")).await;
    assert!(b.passed);
    let ta = std::fs::read(dir.path().join("a/transcript.jsonl")).unwrap();
    let tb = std::fs::read(dir.path().join("b/transcript.jsonl")).unwrap();
    assert!(ta == tb, "same flow and seed, same transcript");
    let text = String::from_utf8(ta).unwrap();
    assert!(!text.contains("eyJ0"), "no token in the transcript");
    assert_bearer_redacted(&text, &["graph", "arm", "kube"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flow_fails_when_a_step_does_not_fail_as_expected() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[step]]
id = "rg"
uses = "resource-group"
with = { name = "fine" }
grant = ["arm"]
expect = { failure = "ResourceGroupNotFound" }
"#;
    let path = write_flow(dir.path(), "f.toml", text);
    let r = run_flow(&path, 1, &dir.path().join("o")).await;
    assert!(!r.passed);
    assert_eq!(step(&r, "rg").code.as_deref(), Some("UnexpectedSuccess"));
}
