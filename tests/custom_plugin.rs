//! A plugin written outside this repository: scaffolded by `aksflow plugins new`, built with
//! plain cargo, run in a flow by path.

use std::path::PathBuf;
use std::process::Command;

fn target_dir() -> PathBuf {
    // target/<profile>/deps/<test> → target/
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().parent().unwrap().to_path_buf()
}

#[test]
fn a_scaffolded_plugin_builds_outside_the_workspace_and_runs_by_path() {
    let bin = target_dir().join("debug").join("aksflow");
    let bin = if bin.exists() { bin } else { std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("aksflow") };
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(&bin).args(["plugins", "new", "tag-reader", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let root = dir.path().join("tag-reader");
    let again = Command::new(&bin).args(["plugins", "new", "tag-reader", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let bad = Command::new(&bin).args(["plugins", "new", "Bad_Name", "--dir", dir.path().to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a plugin name"));

    let cargo_config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    assert!(cargo_config.contains("link-arg=-zstack-size=131072"), "the scaffold links a small stack, as the built-in plugins do:\n{cargo_config}");

    // Build it as its author would, sharing a target directory between test runs.
    let build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--target", "wasm32-wasip2", "--quiet"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", target_dir().join("scaffolded-plugins"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(build.status.success(), "the scaffold must build as it is:\n{}", String::from_utf8_lossy(&build.stderr));
    let wasm = target_dir().join("scaffolded-plugins/wasm32-wasip2/release/tag_reader.wasm");
    let flow = root.join("flow.toml");
    let text = std::fs::read_to_string(&flow).unwrap().replace("./target/wasm32-wasip2/release/tag_reader.wasm", wasm.to_str().unwrap());
    std::fs::write(&flow, text).unwrap();
    let run = Command::new(&bin)
        .args(["run", flow.to_str().unwrap(), "--json", "--out", dir.path().join("out").to_str().unwrap()])
        .env("AKSFLOW_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["steps"][0]["outputs"]["message"], "Hi, aksflow simulated subscription!");
}
