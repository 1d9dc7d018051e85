//! Injected faults on the wire: each service's own error body, the mark, `Retry-After`,
//! dropped connections, and replication lag as ARM, the token service and Graph show it.

mod support;

use aksflow_simulator::faults::FaultProfile;
use aksflow_simulator::{SimConfig, Simulator, VirtualClock};
use serde_json::json;
use support::*;

fn sim_with(seed: u64, profile: &str) -> Sim {
    let faults = toml::from_str::<FaultProfile>(profile).unwrap().resolved().unwrap();
    let clock = VirtualClock::default();
    let sim = Simulator::new(SimConfig { faults: Some(faults), ..SimConfig::in_process(seed) }, clock.clone());
    let tenant = sim.operator().tenant_id;
    Sim { sim, clock, tenant }
}

#[tokio::test]
async fn each_service_answers_an_injected_fault_in_its_own_words() {
    let s = sim_with(5, "[[rule]]\nservice = \"arm\"\nmethod = \"GET\"\nstatus = 429\nretry-after = \"9s\"\nnth = 1\n[[rule]]\nname = \"graph-503\"\nservice = \"graph\"\nstatus = 503\nretry-after = \"2s\"\nnth = 1\n");
    let arm = s.operator_token("https://management.azure.com/.default").await;
    let sub = s.sim.operator().subscription_id;
    let r = s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &arm).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.json()["error"]["code"], "SubscriptionRequestsThrottled");
    assert_eq!(r.headers["retry-after"], "9");
    assert_eq!(r.headers["x-aksflow-fault"], "rule-1 #1");
    assert_eq!(r.headers["x-ms-ratelimit-remaining-subscription-reads"], "0");
    assert!(r.headers.contains_key("x-ms-request-id"), "ARM's own headers are still there");
    assert_eq!(s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &arm).await.status, 200, "only the first");
    let graph = s.operator_token("https://graph.microsoft.com/.default").await;
    let r = s.get("/v1.0/users", &graph).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"]["code"], "serviceNotAvailable");
    assert!(r.json()["error"]["innerError"]["request-id"].is_string(), "Graph's own innerError: {}", r.text());
    assert_eq!(r.headers["x-aksflow-fault"], "graph-503 #1");
}

#[tokio::test]
async fn a_dropped_connection_is_marked_for_the_transport() {
    let s = sim_with(5, "[[rule]]\nservice = \"login\"\ndrop = true\nnth = 1\n");
    let r = s.sim.router();
    let req = http::Request::builder().uri(format!("/{}/v2.0/.well-known/openid-configuration", s.tenant)).body(axum::body::Body::empty()).unwrap();
    let resp = tower::ServiceExt::oneshot(r, req).await.unwrap();
    assert!(resp.extensions().get::<aksflow_simulator::faults::inject::Dropped>().is_some());
}

#[tokio::test]
async fn a_new_principal_is_not_found_by_arm_until_it_replicates_unless_its_type_is_given() {
    let s = sim_with(6, "[replication]\nprincipal = \"30s\"\n");
    let graph = s.operator_token("https://graph.microsoft.com/.default").await;
    let group = s.json("POST", "/v1.0/groups", &graph, json!({"displayName": "new", "mailNickname": "new", "securityEnabled": true, "mailEnabled": false})).await.json()["id"].as_str().unwrap().to_string();
    let arm = s.operator_token("https://management.azure.com/.default").await;
    let sub = s.sim.operator().subscription_id;
    let put = |name: &str, with_type: bool| {
        let mut props = json!({"roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"), "principalId": group});
        if with_type {
            props["principalType"] = json!("Group");
        }
        (format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"), json!({"properties": props}))
    };
    let (path, body) = put("11111111-1111-1111-1111-111111111111", false);
    let r = s.json("PUT", &path, &arm, body.clone()).await;
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["error"]["code"], "PrincipalNotFound");
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("set the role assignment principalType property"));
    let (typed, typed_body) = put("22222222-2222-2222-2222-222222222222", true);
    assert_eq!(s.json("PUT", &typed, &arm, typed_body).await.status, 201, "principalType skips the lookup");
    s.clock.advance(std::time::Duration::from_secs(30));
    let (path, body) = put("33333333-3333-3333-3333-333333333333", false);
    let r = s.json("PUT", &path, &arm, body).await;
    assert_eq!(r.status, 409, "replicated now; the assignment exists already: {}", r.text());
}

#[tokio::test]
async fn a_new_secret_is_unknown_to_the_token_service_and_a_new_app_to_graphs_other_replica() {
    let s = sim_with(7, "[replication]\ntoken = \"20s\"\ngraph = \"10s\"\n");
    let graph = s.operator_token("https://graph.microsoft.com/.default").await;
    let app = s.json("POST", "/v1.0/applications", &graph, json!({"displayName": "ci"})).await.json();
    let (app_id, object_id) = (app["appId"].as_str().unwrap().to_string(), app["id"].as_str().unwrap().to_string());
    assert_eq!(s.get(&format!("/v1.0/applications/{object_id}"), &graph).await.status, 404, "another replica");
    let sp = s.json("POST", "/v1.0/servicePrincipals", &graph, json!({"appId": app_id})).await.json()["id"].as_str().unwrap().to_string();
    let secret = s.json("POST", &format!("/v1.0/servicePrincipals/{sp}/addPassword"), &graph, json!({"passwordCredential": {}})).await.json()["secretText"].as_str().unwrap().to_string();
    let url = format!("/{}/oauth2/v2.0/token", s.tenant);
    let form = [("grant_type", "client_credentials"), ("client_id", app_id.as_str()), ("client_secret", secret.as_str()), ("scope", "https://graph.microsoft.com/.default")];
    let r = s.form(&url, &form).await;
    assert_eq!((r.status, r.aadsts()), (400, 700016));
    s.clock.advance(std::time::Duration::from_secs(20));
    assert_eq!(s.form(&url, &form).await.status, 200);
    assert_eq!(s.get(&format!("/v1.0/applications/{object_id}"), &graph).await.status, 200);
}

/// Latency passes in virtual time in process, and the answer itself is the service's own.
#[tokio::test]
async fn latency_passes_in_virtual_time_and_the_answer_is_unchanged() {
    let s = sim_with(8, "[[rule]]\nservice = \"arm\"\nlatency = \"30s\"\nnth = 1\n");
    let arm = s.operator_token("https://management.azure.com/.default").await;
    let sub = s.sim.operator().subscription_id;
    let before = s.clock.now_ms();
    let r = s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &arm).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-aksflow-fault"], "rule-1 #1");
    assert_eq!(s.clock.now_ms() - before, 30_000);
    s.get(&format!("/subscriptions/{sub}?api-version=2022-12-01"), &arm).await;
    assert_eq!(s.clock.now_ms() - before, 30_000, "only the first");
}
