//! A served simulator for the benches that measure it over HTTPS, and a client that trusts it.

use aksflow::serve::{ServeOptions, Served};

pub struct Bench {
    pub served: Served,
    pub http: reqwest::Client,
    /// The simulator's state directory: bind it (`dir: _dir`) to keep it until the bench ends.
    pub dir: tempfile::TempDir,
}

/// `aksflow sim serve` in process (seed 1) and a client keeping `in_flight` connections.
pub fn start(rt: &tokio::runtime::Runtime, in_flight: usize) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let served = rt
        .block_on(Served::start(ServeOptions {
            addr: "127.0.0.1:0".parse().unwrap(),
            seed: 1,
            state_dir: dir.path().join("sim"),
            key_cache: Some(std::env::temp_dir().join("aksflow-bench-cache")),
            exec_command: None,
            limits: Default::default(),
            era: Default::default(),
        faults: None,
        }))
        .unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&served.ca_path).unwrap()).unwrap();
    let http = reqwest::Client::builder().add_root_certificate(ca).pool_max_idle_per_host(in_flight).build().unwrap();
    Bench { served, http, dir }
}

/// Sends `batch` requests, `in_flight` at a time: each of `in_flight` tasks sends its share
/// one after another, each answer read whole and required to be a success.
pub fn fire(rt: &tokio::runtime::Runtime, in_flight: usize, batch: usize, request: impl Fn() -> reqwest::RequestBuilder) {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..in_flight {
            let requests: Vec<reqwest::RequestBuilder> = (0..batch / in_flight).map(|_| request()).collect();
            tasks.push(tokio::spawn(async move {
                for req in requests {
                    let r = req.send().await.expect("a response");
                    assert!(r.status().is_success(), "{}", r.status());
                    r.bytes().await.expect("a body");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    })
}

/// `n` confidential clients (an app, its service principal and a secret each), made through
/// Graph as the operator: requests from different clients carry different claims.
#[allow(dead_code)] // the token bench's; other benches share this file
pub fn clients(rt: &tokio::runtime::Runtime, served: &Served, http: &reqwest::Client, n: usize) -> Vec<(String, String)> {
    let base = served.base_url.clone();
    rt.block_on(async {
        let bearer = format!("Bearer {}", graph_token(served, http).await);
        let post = |path: String, body: serde_json::Value| {
            let req = http.post(format!("{base}{path}")).header("authorization", &bearer).json(&body);
            async move {
                let r = req.send().await.unwrap();
                assert!(r.status().is_success(), "{path}: {}", r.status());
                r.json::<serde_json::Value>().await.unwrap()
            }
        };
        let mut out = Vec::new();
        for i in 0..n {
            let app = post("/v1.0/applications".into(), serde_json::json!({ "displayName": format!("bench-client-{i}") })).await;
            let app_id = app["appId"].as_str().unwrap().to_string();
            post("/v1.0/servicePrincipals".into(), serde_json::json!({ "appId": app_id })).await;
            let secret = post(format!("/v1.0/applications/{}/addPassword", app["id"].as_str().unwrap()), serde_json::json!({ "passwordCredential": {} })).await;
            out.push((app_id, secret["secretText"].as_str().unwrap().to_string()));
        }
        out
    })
}

/// A Graph token for the operator, from the served simulator's token endpoint.
pub async fn graph_token(served: &Served, http: &reqwest::Client) -> String {
    let op = served.simulator.operator();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", op.client_id.as_str()),
        ("client_secret", op.client_secret.as_str()),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let answer: serde_json::Value = http.post(format!("{}/{}/oauth2/v2.0/token", served.base_url, op.tenant_id)).form(&form).send().await.unwrap().json().await.unwrap();
    answer["access_token"].as_str().expect("a Graph token").to_string()
}
