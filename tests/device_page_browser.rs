//! The device-login page in a real browser: headless Chromium (Debian's, driven by
//! playwright-core) signs a persona in, and the waiting client gets its token.

use std::process::Command;

use aksflow::serve::{ServeOptions, Served};
use aksflow_e2e::outside_tools;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_on_the_device_page_in_chromium() {
    let node_modules = outside_tools::require_node_chromium_playwright();
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), seed: 9, state_dir: dir.path().join("sim"), key_cache: None, exec_command: None, limits: Default::default(), era: Default::default(), faults: None }).await.unwrap();
    let op = served.simulator.operator();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&served.ca_path).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    let flow: serde_json::Value = http
        .post(format!("{}/{}/oauth2/v2.0/devicecode", served.base_url, op.tenant_id))
        .form(&[("client_id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"), ("scope", "6dae42f8-4368-4678-94ff-3960e28e3630/.default openid offline_access")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let persona = served.simulator.personas().into_iter().find(|p| p.user_principal_name.starts_with("alice@")).unwrap();
    let shot = dir.path().join("signed-in.png");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("browser/device-login.js");
    let out = Command::new("node")
        .arg(&script)
        .args([flow["verification_uri"].as_str().unwrap(), flow["user_code"].as_str().unwrap(), &persona.user_principal_name, &persona.password, shot.to_str().unwrap()])
        .env("AKSFLOW_NODE_MODULES", node_modules)
        .output()
        .expect("node runs (CI installs Debian's chromium and playwright-core)");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "You have signed in");
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000, "a screenshot of the page");

    let token: serde_json::Value = http
        .post(format!("{}/{}/oauth2/v2.0/token", served.base_url, op.tenant_id))
        .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("client_id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a"), ("device_code", flow["device_code"].as_str().unwrap())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(token["access_token"].is_string(), "{token}");
    served.stop().await.unwrap();
}
