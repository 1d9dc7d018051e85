//! Request bodies of Graph, ARM, kube and the token service, sent to the simulator as a
//! client would, with a valid token: whatever the body, the answer is the service's own
//! 2xx or 4xx, never a 5xx or a panic. The first byte picks the route; the rest is the body.
//!
//! The simulator is set up once (an app, a service principal, a group, a resource group and
//! a cluster with its admin credential) and rebuilt from that snapshot every few hundred
//! inputs, so what the fuzzer creates does not pile up.

use std::sync::{Mutex, OnceLock};

use aksflow_sdk::kube::config::Kubeconfig;
use aksflow_simulator::{SimConfig, Simulator, Snapshot, VirtualClock};
use axum::body::Body;
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SEED: u64 = 1;
const REBUILD_EVERY: u32 = 500;

struct World {
    sim: Simulator,
    snapshot: Snapshot,
    since_rebuild: u32,
    graph: String,
    arm: String,
    kube: String,
    /// The cluster's API path on the simulator (`/k8s/<fqdn>`).
    kube_base: String,
    tenant: String,
    sub: String,
    app_object: String,
    sp_object: String,
    group: String,
}

fn config() -> SimConfig {
    SimConfig { key_cache: Some(std::env::temp_dir().join("aksflow-fuzz-keys")), ..SimConfig::in_process(SEED) }
}

async fn send(sim: &Simulator, method: &str, uri: &str, token: Option<&str>, content_type: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
    let mut b = http::Request::builder().method(method).uri(uri).header("content-type", content_type);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let Ok(req) = b.body(Body::from(body)) else { return (400, Vec::new()) };
    let resp = sim.router().oneshot(req).await.expect("the router is infallible");
    let status = resp.status().as_u16();
    (status, resp.into_body().collect().await.expect("an in-memory body").to_bytes().to_vec())
}

async fn ok_json(sim: &Simulator, method: &str, uri: &str, token: &str, body: Value) -> Value {
    let (status, bytes) = send(sim, method, uri, Some(token), "application/json", serde_json::to_vec(&body).unwrap()).await;
    assert!(status < 300, "setup: {method} {uri} answered {status}: {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

async fn operator_token(sim: &Simulator, scope: &str) -> String {
    let op = sim.operator();
    let form = format!("grant_type=client_credentials&client_id={}&client_secret={}&scope={scope}", op.client_id, op.client_secret);
    let (status, bytes) = send(sim, "POST", &format!("/{}/oauth2/v2.0/token", op.tenant_id), None, "application/x-www-form-urlencoded", form.into_bytes()).await;
    assert_eq!(status, 200, "setup: the operator's sign-in failed");
    serde_json::from_slice::<Value>(&bytes).unwrap()["access_token"].as_str().unwrap().to_string()
}

async fn setup() -> World {
    let clock = VirtualClock::default();
    let sim = Simulator::new(config(), clock.clone());
    let op = sim.operator();
    let graph = operator_token(&sim, "https://graph.microsoft.com/.default").await;
    let arm = operator_token(&sim, "https://management.azure.com/.default").await;
    let app = ok_json(&sim, "POST", "/v1.0/applications", &graph, json!({"displayName": "fuzz"})).await;
    let app_id = app["appId"].as_str().unwrap().to_string();
    let sp = ok_json(&sim, "POST", "/v1.0/servicePrincipals", &graph, json!({"appId": app_id})).await;
    let group = ok_json(&sim, "POST", "/v1.0/groups", &graph, json!({"displayName": "fuzz", "mailEnabled": false, "mailNickname": "fuzz", "securityEnabled": true})).await;
    let sub = op.subscription_id.clone();
    ok_json(&sim, "PUT", &format!("/subscriptions/{sub}/resourcegroups/fuzz?api-version=2024-11-01"), &arm, json!({"location": "eastus"})).await;
    let cluster = format!("/subscriptions/{sub}/resourceGroups/fuzz/providers/Microsoft.ContainerService/managedClusters/fuzz");
    let props = json!({"dnsPrefix": "fuzz", "enableRBAC": true, "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}]});
    ok_json(&sim, "PUT", &format!("{cluster}?api-version=2024-09-01"), &arm, json!({"location": "eastus", "properties": props})).await;
    clock.advance(std::time::Duration::from_secs(900)); // the create finishes; the tokens (1 h) stay valid
    let creds = ok_json(&sim, "POST", &format!("{cluster}/listClusterAdminCredential?api-version=2024-09-01"), &arm, json!({})).await;
    let yaml = base64::engine::general_purpose::STANDARD.decode(creds["kubeconfigs"][0]["value"].as_str().unwrap()).unwrap();
    let kc = Kubeconfig::parse(&String::from_utf8(yaml).unwrap()).unwrap();
    let current = kc.current().unwrap();
    let kube_base = url_path(current.server());
    let kube = current.user.token.clone().expect("the admin credential carries a token");
    World {
        snapshot: sim.snapshot(),
        sim,
        since_rebuild: 0,
        graph,
        arm,
        kube,
        kube_base,
        tenant: op.tenant_id,
        sub,
        app_object: app["id"].as_str().unwrap().to_string(),
        sp_object: sp["id"].as_str().unwrap().to_string(),
        group: group["id"].as_str().unwrap().to_string(),
    }
}

/// The path part of an absolute URL.
fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or(String::new(), |i| after_scheme[i..].trim_end_matches('/').to_string())
}

fn world() -> &'static Mutex<World> {
    static WORLD: OnceLock<Mutex<World>> = OnceLock::new();
    WORLD.get_or_init(|| Mutex::new(crate::runtime().block_on(setup())))
}

/// (method, path, which token, content type) for each route the fuzzer can pick.
fn route(w: &World, pick: u8) -> (&'static str, String, Option<&str>, &'static str) {
    const JSON: &str = "application/json";
    const FORM: &str = "application/x-www-form-urlencoded";
    let (sub, k) = (&w.sub, &w.kube_base);
    let cluster = format!("/subscriptions/{sub}/resourceGroups/fuzz/providers/Microsoft.ContainerService/managedClusters");
    let graph = Some(w.graph.as_str());
    let arm = Some(w.arm.as_str());
    let kube = Some(w.kube.as_str());
    match pick % 20 {
        0 => ("POST", "/v1.0/applications".into(), graph, JSON),
        1 => ("PATCH", format!("/v1.0/applications/{}", w.app_object), graph, JSON),
        2 => ("POST", "/v1.0/servicePrincipals".into(), graph, JSON),
        3 => ("POST", format!("/v1.0/servicePrincipals/{}/addPassword", w.sp_object), graph, JSON),
        4 => ("POST", "/v1.0/groups".into(), graph, JSON),
        5 => ("POST", format!("/v1.0/groups/{}/members/$ref", w.group), graph, JSON),
        6 => ("POST", "/v1.0/oauth2PermissionGrants".into(), graph, JSON),
        7 => ("POST", format!("/v1.0/servicePrincipals/{}/appRoleAssignedTo", w.sp_object), graph, JSON),
        8 => ("POST", "/v1.0/directoryObjects/getByIds".into(), graph, JSON),
        9 => ("PUT", format!("/subscriptions/{sub}/resourcegroups/fuzz2?api-version=2024-11-01"), arm, JSON),
        10 => ("PUT", format!("{cluster}/fuzz2?api-version=2024-09-01"), arm, JSON),
        11 => ("PATCH", format!("{cluster}/fuzz?api-version=2024-09-01"), arm, JSON),
        12 => ("PUT", format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/11111111-2222-3333-4444-555555555555?api-version=2022-04-01"), arm, JSON),
        13 => ("POST", format!("{k}/api/v1/namespaces"), kube, JSON),
        14 => ("POST", format!("{k}/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"), kube, JSON),
        15 => ("POST", format!("{k}/api/v1/namespaces/default/configmaps"), kube, JSON),
        16 => ("POST", format!("{k}/api/v1/namespaces/default/pods"), kube, JSON),
        17 => ("POST", format!("/{}/oauth2/v2.0/token", w.tenant), None, FORM),
        18 => ("POST", format!("/{}/oauth2/token", w.tenant), None, FORM),
        _ => ("POST", format!("/{}/oauth2/v2.0/devicecode", w.tenant), None, FORM),
    }
}

pub fn run(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else { return };
    let mut w = world().lock().unwrap_or_else(|p| p.into_inner());
    w.since_rebuild += 1;
    if w.since_rebuild > REBUILD_EVERY {
        let clock = VirtualClock::default();
        w.sim = Simulator::restore(config(), clock, w.snapshot.clone()).expect("the setup's own snapshot");
        w.since_rebuild = 0;
    }
    let (method, path, token, content_type) = route(&w, pick);
    let (status, answer) = crate::runtime().block_on(send(&w.sim, method, &path, token, content_type, body.to_vec()));
    assert!(status < 500, "{method} {path} answered {status} to a bad body: {}", String::from_utf8_lossy(&answer));
}
