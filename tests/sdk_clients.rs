//! The Azure SDKs with their default settings against a served simulator: only aksflow.env
//! in the environment (its proxy, its CA, the operator's AZURE_* variables), no endpoint,
//! instance-discovery or custom-host setting in the code. `.ci/run` installs them.

use std::process::Command;

use aksflow_e2e::*;

/// Python: azure-identity's DefaultAzureCredential, azure-mgmt-resource, -containerservice
/// (a managed-AAD cluster through the SDK's poller, which sees it in progress, and both
/// credentials), msgraph-sdk (an application, its service principal and a password), and
/// azure-mgmt-authorization (a role assignment made, listed with atScope() and deleted at
/// the cluster's scope). The script is tests/sdk/python_sdks.py.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdks_run_with_their_default_settings() {
    outside_tools::require_python_modules(&["azure.identity", "azure.mgmt.resource", "azure.mgmt.containerservice", "azure.mgmt.authorization", "msgraph"]);
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 8, None).await;
    let env = env_file(&served);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/python_sdks.py");
    let r = tokio::task::spawn_blocking(move || {
        Command::new("python3").arg(&script).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", std::env::temp_dir()).envs(env).output().expect("python3 runs")
    })
    .await
    .unwrap();
    let (out, err) = (String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    assert!(r.status.success(), "{out}{err}");
    assert!(out.contains("states seen {'InProgress'} -> Succeeded"), "the poller saw the operation in progress: {out}");
    assert!(out.trim_end().ends_with("ok"), "{out}");
    served.stop().await.unwrap();
}

/// JavaScript: @azure/identity's DefaultAzureCredential, @azure/arm-resources and
/// @azure/arm-containerservice (a managed-AAD cluster through the SDK's poller, and both
/// credentials). The script is tests/sdk/node_sdks.mjs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_sdks_run_with_their_default_settings() {
    let modules = std::path::PathBuf::from(std::env::var("AKSFLOW_NODE_MODULES").unwrap_or_else(|_| "/var/tmp/aksflow-node/node_modules".into()));
    assert!(modules.join("@azure/arm-containerservice/package.json").is_file(), "missing outside tool: the Azure SDKs for JavaScript in {}; .ci/run installs them with npm", modules.display());
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 9, None).await;
    let env = env_file(&served);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/node_sdks.mjs");
    let r = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(&script).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", std::env::temp_dir()).env("AKSFLOW_NODE_MODULES", &modules).envs(env).output().expect("node runs")
    })
    .await
    .unwrap();
    let (out, err) = (String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    assert!(r.status.success(), "{out}{err}");
    // core-lro's names: `running` while ARM says InProgress.
    assert!(out.contains("states seen running,succeeded -> Succeeded"), "the poller saw the operation in progress: {out}");
    assert!(out.trim_end().ends_with("ok"), "{out}");
    served.stop().await.unwrap();
}
