//! Same flow + same seed ⇒ byte-identical transcript, even with steps running concurrently;
//! another seed ⇒ other ids; `--check` catches the first difference.

use aksflow::runner::RunOptions;
use aksflow_e2e::*;

/// Four independent resource groups (they run concurrently) and one that uses them all.
const FAN_OUT: &str = r#"
[vars]
location = "northeurope"

[[step]]
id = "a"
uses = "resource-group"
with = { name = "rg-a", location = "${{ vars.location }}" }
grant = ["arm"]

[[step]]
id = "b"
uses = "resource-group"
with = { name = "rg-b", location = "${{ vars.location }}" }
grant = ["arm"]

[[step]]
id = "c"
uses = "resource-group"
with = { name = "rg-c", location = "${{ vars.location }}" }
grant = ["arm"]

[[step]]
id = "d"
uses = "resource-group"
with = { name = "rg-d", location = "${{ vars.location }}" }
grant = ["arm"]

[[step]]
id = "join"
uses = "resource-group"
with = { name = "${{ steps.a.outputs.name }}-${{ steps.b.outputs.name }}-${{ steps.c.outputs.name }}-${{ steps.d.outputs.name }}" }
grant = ["arm"]
"#;

async fn transcript(path: &std::path::Path, seed: u64, out: &std::path::Path) -> String {
    let r = run_flow(path, seed, out).await;
    assert!(r.passed, "{r:?}");
    std::fs::read_to_string(out.join("transcript.jsonl")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_seed_gives_byte_identical_transcripts_under_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_flow(dir.path(), "fan.toml", FAN_OUT);
    let first = transcript(&path, 9, &dir.path().join("run0")).await;
    assert_eq!(first.lines().count(), 6, "one operator sign-in and five PUTs:\n{first}");
    for i in 1..6 {
        let again = transcript(&path, 9, &dir.path().join(format!("run{i}"))).await;
        assert_eq!(first, again, "run {i} differs");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn another_seed_gives_other_ids() {
    let dir = tempfile::tempdir().unwrap();
    let hello = flows_dir().join("hello.toml");
    let one = transcript(&hello, 1, &dir.path().join("one")).await;
    let two = transcript(&hello, 2, &dir.path().join("two")).await;
    let sub = |t: &str| t.split("/subscriptions/").nth(1).unwrap()[..36].to_string();
    assert_ne!(sub(&one), sub(&two), "the subscription id comes from the seed");
    assert_ne!(one, two);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_on_the_golden_transcript_and_fails_at_the_first_difference() {
    let dir = tempfile::tempdir().unwrap();
    let hello = flows_dir().join("hello.toml");
    let golden = dir.path().join("golden.jsonl");
    let mut opts = RunOptions::sim(4, dir.path().join("g"));
    opts.transcript = Some(golden.clone());
    assert!(run_with(&hello, opts).await.passed);

    let mut opts = RunOptions::sim(4, dir.path().join("same"));
    opts.check = Some(golden.clone());
    let r = run_with(&hello, opts).await;
    assert!(r.passed && r.check_mismatch.is_none(), "{:?}", r.check_mismatch);

    let mut opts = RunOptions::sim(5, dir.path().join("other"));
    opts.check = Some(golden.clone());
    let r = run_with(&hello, opts).await;
    assert!(!r.passed);
    let m = r.check_mismatch.unwrap();
    assert!(m.starts_with("transcript record 1 differs") && m.contains("--- expected") && m.contains("+++ actual"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_the_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let hello = flows_dir().join("hello.toml");
    let t = transcript(&hello, 1, &dir.path().join("o")).await;
    let sim = aksflow_simulator::Simulator::new(aksflow_simulator::SimConfig::in_process(1), Default::default());
    let secret = sim.operator().client_secret;
    assert!(!t.contains(&secret), "the operator's secret leaked");
    assert!(!t.contains("eyJ"), "a token leaked:\n{t}");
    assert!(t.contains("client_secret=%3Credacted%3E"));
    assert_bearer_redacted(&t, &["arm"]);
}
