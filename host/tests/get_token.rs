//! `aksflow get-token` reads its settings as kubelogin does: environment variables override
//! the flags. Seed 001's CI sign-in (`kubelogin convert-kubeconfig -l spn`, then
//! `AAD_SERVICE_PRINCIPAL_CLIENT_ID` / `_SECRET` in the environment) against a served
//! simulator.

use std::process::Command;

use aksflow::serve::{ServeOptions, Served};
use base64::Engine as _;
use serde_json::{Value, json};

const AKS_SERVER: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_overrides_the_flags_as_in_kubelogin() {
    let dir = tempfile::tempdir().unwrap();
    let served = Served::start(ServeOptions {
        addr: "127.0.0.1:0".parse().unwrap(),
        seed: 4,
        state_dir: dir.path().join("sim"),
        key_cache: None,
        exec_command: None,
        limits: Default::default(),
        era: Default::default(),
        faults: None,
    })
    .await
    .unwrap();
    let op = served.simulator.operator();
    let base = served.base_url.clone();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&served.ca_path).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).build().unwrap();
    // A CI service principal with a secret, made as the operator.
    let form = [("grant_type", "client_credentials"), ("client_id", op.client_id.as_str()), ("client_secret", op.client_secret.as_str()), ("scope", "https://graph.microsoft.com/.default")];
    let json = |r: reqwest::Response| async move { serde_json::from_slice::<Value>(&r.bytes().await.unwrap()).unwrap() };
    let t = json(http.post(format!("{base}/{}/oauth2/v2.0/token", op.tenant_id)).form(&form).send().await.unwrap()).await;
    let graph = t["access_token"].as_str().unwrap().to_string();
    let post = |path: &str, body: Value| http.post(format!("{base}{path}")).bearer_auth(&graph).header("content-type", "application/json").body(body.to_string()).send();
    let app = json(post("/v1.0/applications", json!({"displayName": "ci"})).await.unwrap()).await;
    let app_id = app["appId"].as_str().unwrap().to_string();
    let sp = json(post("/v1.0/servicePrincipals", json!({"appId": app_id})).await.unwrap()).await;
    let secret = json(post(&format!("/v1.0/servicePrincipals/{}/addPassword", sp["id"].as_str().unwrap()), json!({"passwordCredential": {}})).await.unwrap()).await;
    let secret = secret["secretText"].as_str().unwrap().to_string();

    let get_token = |flags: &[&str], env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_aksflow"));
        c.arg("get-token").arg("--server-id").arg(AKS_SERVER).args(flags);
        c.env_clear().env("HOME", dir.path()).env("SSL_CERT_FILE", &served.ca_path).env("AZURE_AUTHORITY_HOST", format!("{base}/")).env("AZURE_TENANT_ID", &op.tenant_id);
        c.envs(env.iter().copied());
        c.output().unwrap()
    };
    // The kubeconfig says devicecode and the AKS client app; the environment says spn.
    let out = get_token(
        &["--login", "devicecode", "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--token-cache-dir", dir.path().join("c1").to_str().unwrap()],
        &[("AAD_LOGIN_METHOD", "spn"), ("AAD_SERVICE_PRINCIPAL_CLIENT_ID", &app_id), ("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", &secret)],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let cred: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cred["kind"], "ExecCredential");
    let c = claims(cred["status"]["token"].as_str().unwrap());
    assert_eq!(c["idtyp"], "app", "a service principal's token: {c}");
    assert_eq!(c["appid"].as_str().or(c["azp"].as_str()), Some(app_id.as_str()), "{c}");

    // AZURE_CLIENT_SECRET is read after AAD_SERVICE_PRINCIPAL_CLIENT_SECRET and wins: here it
    // is wrong, so the sign-in fails with Entra's answer, and the secret is not printed.
    let out = get_token(
        &["-l", "spn", "--client-secret", &secret, "--token-cache-dir", dir.path().join("c2").to_str().unwrap()],
        &[("AZURE_CLIENT_ID", &app_id), ("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", &secret), ("AZURE_CLIENT_SECRET", "not-the-secret")],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("AADSTS7000215"), "{err}");
    assert!(!err.contains(&secret) && !err.contains("not-the-secret"), "{err}");

    // An unknown login method is named, with the ones that work.
    let out = get_token(&[], &[("AAD_LOGIN_METHOD", "msi")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'msi' is not a supported login method") && err.contains("spn"), "{err}");
    served.stop().await.unwrap();
}
