//! The gateway in plain Rust, with a fake transport: grants, request rules, the operator's
//! token, retries in virtual time, and what reaches the transcript.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aksflow_simulator::VirtualClock;
use bytes::Bytes;

use super::*;
use crate::bindings::{CallError, CloudRequest, Header, Service};
use crate::caps::{Grants, StepCaps};
use crate::cloud::transport::BoxFuture;
use crate::limits::Limits;
use crate::transcript::Record;

/// Answers from a script, in order, and keeps every request it was sent.
#[derive(Clone, Default)]
struct Fake {
    sent: Arc<Mutex<Vec<http::Request<Bytes>>>>,
    answers: Arc<Mutex<VecDeque<Result<http::Response<Bytes>, TransportError>>>>,
}

impl Fake {
    fn answer(&self, status: u16, headers: &[(&str, &str)], body: &str) -> &Self {
        let mut b = http::Response::builder().status(status);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.answers.lock().unwrap().push_back(Ok(b.body(Bytes::from(body.to_string())).unwrap()));
        self
    }

    fn token(&self, token: &str, expires_in: i64) -> &Self {
        self.answer(200, &[("content-type", "application/json")], &format!(r#"{{"token_type":"Bearer","expires_in":{expires_in},"access_token":"{token}"}}"#))
    }

    fn fail(&self, e: TransportError) -> &Self {
        self.answers.lock().unwrap().push_back(Err(e));
        self
    }

    fn sent(&self) -> Vec<http::Request<Bytes>> {
        self.sent.lock().unwrap().clone()
    }

    fn urls(&self) -> Vec<String> {
        self.sent().iter().map(|r| r.uri().to_string()).collect()
    }
}

impl Transport for Fake {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        self.sent.lock().unwrap().push(req);
        let next = self.answers.lock().unwrap().pop_front().expect("the test scripted an answer for every request");
        Box::pin(async move { next })
    }
}

struct Rig {
    gateway: Gateway,
    fake: Fake,
    clock: VirtualClock,
    transcript: Arc<Transcript>,
}

const SECRET: &str = "operator-secret-value";

fn rig() -> Rig {
    let fake = Fake::default();
    let clock = VirtualClock::default();
    let transcript = Arc::new(Transcript::in_memory());
    let gateway = Gateway::new(
        Endpoints::single("https://sim.test"),
        Box::new(fake.clone()),
        OperatorCredential::ClientSecret { tenant_id: "tenant-1".into(), client_id: "operator-app".into(), client_secret: SECRET.into() },
        RunClock::Virtual(clock.clone()),
        transcript.clone(),
        Arc::new(Redactor::new()),
    );
    Rig { gateway, fake, clock, transcript }
}

fn caps(grants: &[Service]) -> StepCaps {
    StepCaps::new("step-a", 0, Grants::of(grants), None, Limits::default())
}

fn request(service: Service, method: &str, path: &str) -> CloudRequest {
    CloudRequest {
        service,
        method: method.into(),
        path: path.into(),
        query: vec![],
        headers: vec![],
        body: vec![],
        server: None,
        certificate_authority: None,
        client_identity: None,
        anonymous: false,
    }
}

fn kube(server: &str, path: &str) -> CloudRequest {
    CloudRequest { server: Some(server.into()), anonymous: true, ..request(Service::Kube, "GET", path) }
}

fn records(r: &Rig) -> Vec<Record> {
    r.transcript.records()
}

fn auth_header(req: &http::Request<Bytes>) -> Option<String> {
    req.headers().get(http::header::AUTHORIZATION).map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn an_ungranted_service_is_refused_before_anything_is_sent() {
    let r = rig();
    let mut req = request(Service::Graph, "GET", "/v1.0/users");
    req.query = vec![("$top".into(), "5".into())];
    let err = r.gateway.call(&caps(&[Service::Arm, Service::Kube]), req).await.unwrap_err();
    let CallError::NotGranted(msg) = err else { panic!("{err:?}") };
    assert!(msg.contains("step `step-a` called graph (GET /v1.0/users) but was not granted it"), "{msg}");
    assert!(msg.contains("add \"graph\" to the step's `grant = [...]`"), "{msg}");
    assert!(r.fake.sent().is_empty(), "nothing may be sent, not even the operator's sign-in");
    let recs = records(&r);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].step, "step-a");
    assert_eq!(recs[0].request.url, "/v1.0/users?%24top=5", "a refusal keeps the query it was asked with");
    assert!(recs[0].response.is_none() && recs[0].error.as_deref() == Some(msg.as_str()));
}

#[tokio::test]
async fn a_step_with_no_grants_reaches_nothing() {
    let r = rig();
    for service in [Service::Login, Service::Graph, Service::Arm] {
        let err = r.gateway.call(&caps(&[]), request(service, "GET", "/x")).await.unwrap_err();
        assert!(matches!(err, CallError::NotGranted(_)), "{service}: {err:?}");
    }
    let err = r.gateway.call(&caps(&[]), kube("https://cluster.test", "/api")).await.unwrap_err();
    assert!(matches!(err, CallError::NotGranted(_)), "{err:?}");
    assert!(r.fake.sent().is_empty());
}

#[tokio::test]
async fn paths_that_could_leave_the_service_are_refused() {
    for path in ["v1.0/users", "/v1.0/../admin", "/..", "/x/https://evil.test/", "/users?$top=1", "/users#frag", ""] {
        let r = rig();
        let err = r.gateway.call(&caps(&[Service::Graph]), request(Service::Graph, "GET", path)).await.unwrap_err();
        let CallError::InvalidRequest(msg) = &err else { panic!("{path:?}: {err:?}") };
        assert!(msg.contains("must start with `/`, without a query, `..` or a scheme"), "{path:?}: {msg}");
        assert!(r.fake.sent().is_empty(), "{path:?} was sent");
        assert_eq!(records(&r)[0].error.as_deref(), Some(msg.as_str()));
    }
}

#[tokio::test]
async fn a_plain_path_is_sent_below_the_service_base() {
    let r = rig();
    r.fake.token("graph-token", 3600).answer(200, &[], "{}");
    let mut req = request(Service::Graph, "GET", "/v1.0/users");
    req.query = vec![("$filter".into(), "startswith(displayName,'a b')".into())];
    r.gateway.call(&caps(&[Service::Graph]), req).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(sent[1].uri(), "https://sim.test/v1.0/users?%24filter=startswith%28displayName%2C%27a+b%27%29");
    assert_eq!(sent[1].headers()[http::header::HOST], "sim.test");
}

#[tokio::test]
async fn kube_calls_need_an_https_server() {
    let cases = [
        (CloudRequest { server: None, ..kube("https://x", "/api") }, "a kube call needs `server`"),
        (kube("http://cluster.test", "/api"), "must be https"),
        (kube("not a url", "/api"), "is not a URL"),
        (kube("file:///etc/passwd", "/api"), "must be https"),
    ];
    for (req, want) in cases {
        let r = rig();
        let err = r.gateway.call(&caps(&[Service::Kube]), req).await.unwrap_err();
        let CallError::InvalidRequest(msg) = &err else { panic!("{err:?}") };
        assert!(msg.contains(want), "{msg}");
        assert!(r.fake.sent().is_empty());
    }
    let r = rig();
    r.fake.answer(200, &[], "{}");
    r.gateway.egress.allow("https://cluster.test:443");
    r.gateway.call(&caps(&[Service::Kube]), kube("https://cluster.test:443/", "/api/v1/pods")).await.unwrap();
    assert_eq!(r.fake.urls(), ["https://cluster.test:443/api/v1/pods"]);
}

#[tokio::test]
async fn a_kube_call_carries_its_kubeconfigs_tls_to_the_transport_and_its_key_is_a_secret() {
    let r = rig();
    r.fake.answer(200, &[], "{}").answer(200, &[], "{}").token("arm-token", 3600).answer(200, &[], "{}");
    r.gateway.egress.allow("https://cluster.test:443");
    let (cert, key) = ("-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n", "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n");
    let with_tls = CloudRequest {
        certificate_authority: Some("CA PEM".into()),
        client_identity: Some(crate::bindings::Value::Secret(format!("{cert}{key}"))),
        ..kube("https://cluster.test:443/", "/api/v1/pods")
    };
    r.gateway.call(&caps(&[Service::Kube, Service::Arm]), with_tls).await.unwrap();
    r.gateway.call(&caps(&[Service::Kube, Service::Arm]), kube("https://cluster.test:443/", "/api/v1/nodes")).await.unwrap();
    r.gateway.call(&caps(&[Service::Kube, Service::Arm]), request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    let tls = |i: usize| r.fake.sent()[i].extensions().get::<crate::cloud::kube_tls::KubeTls>().cloned();
    let first = tls(0).expect("a kube call carries its TLS settings");
    assert_eq!(first.certificate_authority.as_deref(), Some("CA PEM"));
    assert_eq!(first.client_identity.as_deref(), Some(format!("{cert}{key}").as_str()));
    assert_eq!(tls(1), Some(crate::cloud::kube_tls::KubeTls::default()), "a kube call without them still says so");
    assert_eq!(tls(3), None, "other services have none");
    // The key block alone is a secret too.
    assert!(!r.gateway.redactor.text(&format!("leaked {}", key.trim_end())).contains("S0VZ"));
}

#[tokio::test]
async fn a_kube_server_the_run_has_not_learnt_is_refused_and_recorded() {
    let r = rig();
    let err = r.gateway.call(&caps(&[Service::Kube]), kube("https://attacker.test/", "/upload")).await.unwrap_err();
    let CallError::NotGranted(msg) = &err else { panic!("{err:?}") };
    assert!(msg.contains("`https://attacker.test/`, which is not a cluster this run knows"), "{msg}");
    assert!(r.fake.sent().is_empty());
    assert_eq!(records(&r)[0].error.as_deref(), Some(msg.as_str()));
}

#[tokio::test]
async fn arm_credentials_teach_the_gateway_their_cluster() {
    use base64::Engine as _;
    let r = rig();
    let yaml = "clusters:\n- name: c\n  cluster:\n    server: https://aks-1.hcp.eastus.azmk8s.io:443\n";
    let body = serde_json::json!({"kubeconfigs": [{"name": "clusterUser", "value": base64::engine::general_purpose::STANDARD.encode(yaml)}]}).to_string();
    r.fake.token("t", 3600).answer(200, &[("content-type", "application/json")], &body).answer(200, &[], "{}");
    let c = caps(&[Service::Arm, Service::Kube]);
    let path = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/listClusterUserCredential";
    r.gateway.call(&c, request(Service::Arm, "POST", path)).await.unwrap();
    r.gateway.call(&c, kube("https://aks-1.hcp.eastus.azmk8s.io:443", "/api")).await.unwrap();
    assert_eq!(r.fake.urls().last().unwrap(), "https://aks-1.hcp.eastus.azmk8s.io:443/api");
}

#[tokio::test]
async fn bad_methods_and_headers_are_refused() {
    let r = rig();
    let err = r.gateway.call(&caps(&[Service::Arm]), request(Service::Arm, "GE T", "/x")).await.unwrap_err();
    assert!(matches!(&err, CallError::InvalidRequest(m) if m.contains("is not an HTTP method")), "{err:?}");
    let mut req = request(Service::Arm, "GET", "/x");
    req.headers = vec![Header { name: "bad header".into(), value: "v".into() }];
    let err = r.gateway.call(&caps(&[Service::Arm]), req).await.unwrap_err();
    assert!(matches!(&err, CallError::InvalidRequest(m) if m.contains("not a valid header name")), "{err:?}");
    let mut req = request(Service::Arm, "GET", "/x");
    req.headers = vec![Header { name: "x-ok".into(), value: "line\nbreak".into() }];
    let err = r.gateway.call(&caps(&[Service::Arm]), req).await.unwrap_err();
    assert!(matches!(&err, CallError::InvalidRequest(m) if m.contains("header `x-ok` has an invalid value")), "{err:?}");
    assert!(r.fake.sent().is_empty());
}

#[tokio::test]
async fn the_operator_signs_in_once_per_resource_and_the_token_is_reused() {
    let r = rig();
    r.fake.token("arm-token", 3600).answer(200, &[], "{}").answer(200, &[], "{}").token("graph-token", 3600).answer(200, &[], "{}");
    let c = caps(&[Service::Arm, Service::Graph]);
    r.gateway.call(&c, request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    r.gateway.call(&c, request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    r.gateway.call(&c, request(Service::Graph, "GET", "/v1.0/me")).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(sent.len(), 5);
    assert_eq!(sent[0].uri(), "https://sim.test/tenant-1/oauth2/v2.0/token");
    let form = String::from_utf8(sent[0].body().to_vec()).unwrap();
    assert!(form.contains("grant_type=client_credentials") && form.contains("client_id=operator-app"), "{form}");
    assert!(form.ends_with("&scope=https%3A%2F%2Fmanagement.azure.com%2F.default"), "{form}");
    assert_eq!(auth_header(&sent[1]).as_deref(), Some("Bearer arm-token"));
    assert_eq!(auth_header(&sent[2]).as_deref(), Some("Bearer arm-token"));
    assert_eq!(sent[3].uri(), "https://sim.test/tenant-1/oauth2/v2.0/token");
    assert_eq!(auth_header(&sent[4]).as_deref(), Some("Bearer graph-token"));
}

/// What `--resume` saves and takes back: the operator's tokens. A gateway given them calls
/// with them at once, without signing in again, and redacts them.
#[tokio::test]
async fn the_operator_s_tokens_are_handed_to_a_resumed_gateway_which_does_not_sign_in_again() {
    let first = rig();
    first.fake.token("arm-token-value", 3600).answer(200, &[], "{}");
    let c = caps(&[Service::Arm]);
    first.gateway.call(&c, request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    let saved = first.gateway.operator_tokens();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!((saved[0].resource.as_str(), saved[0].token.as_str()), ("https://management.azure.com", "arm-token-value"));

    let resumed = rig();
    resumed.clock.set_ms(first.clock.now_ms());
    resumed.fake.answer(200, &[], "{}");
    resumed.gateway.keep_operator_tokens(&saved);
    resumed.gateway.call(&c, request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    let sent = resumed.fake.sent();
    assert_eq!(sent.len(), 1, "no sign-in: {:?}", resumed.fake.urls());
    assert_eq!(auth_header(&sent[0]).as_deref(), Some("Bearer arm-token-value"));
    assert_eq!(resumed.gateway.redactor.text("x arm-token-value y"), "x <redacted> y", "the kept token is redacted");
}

#[tokio::test]
async fn a_cached_token_is_renewed_a_minute_before_it_expires() {
    let r = rig();
    r.fake.token("first", 600).answer(200, &[], "{}").answer(200, &[], "{}").token("second", 600).answer(200, &[], "{}");
    let c = caps(&[Service::Arm]);
    r.gateway.call(&c, request(Service::Arm, "GET", "/a")).await.unwrap();
    r.clock.advance(Duration::from_secs(600 - 61));
    r.gateway.call(&c, request(Service::Arm, "GET", "/b")).await.unwrap();
    r.clock.advance(Duration::from_secs(2));
    r.gateway.call(&c, request(Service::Arm, "GET", "/c")).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(sent.len(), 5, "{:?}", r.fake.urls());
    assert_eq!(auth_header(&sent[2]).as_deref(), Some("Bearer first"));
    assert!(sent[3].uri().path().ends_with("/oauth2/v2.0/token"));
    assert_eq!(auth_header(&sent[4]).as_deref(), Some("Bearer second"));
}

#[tokio::test]
async fn anonymous_calls_and_calls_with_their_own_credentials_get_no_operator_token() {
    let r = rig();
    r.fake.answer(200, &[], "{}").answer(200, &[], "{}").answer(200, &[], "{}");
    let c = caps(&[Service::Arm, Service::Login, Service::Kube]);
    let mut anon = request(Service::Arm, "GET", "/x");
    anon.anonymous = true;
    r.gateway.call(&c, anon).await.unwrap();
    let mut own = request(Service::Arm, "GET", "/y");
    own.headers = vec![Header { name: "authorization".into(), value: "Bearer plugin-own".into() }];
    r.gateway.call(&c, own).await.unwrap();
    // The token service and cluster API servers never get the operator's token.
    r.gateway.call(&c, request(Service::Login, "GET", "/common/discovery/instance")).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(sent.len(), 3, "no operator sign-in happened: {:?}", r.fake.urls());
    assert_eq!(auth_header(&sent[0]), None);
    assert_eq!(auth_header(&sent[1]).as_deref(), Some("Bearer plugin-own"));
    assert_eq!(auth_header(&sent[2]), None);
}

#[tokio::test]
async fn a_refused_operator_sign_in_fails_the_call_with_the_token_services_words() {
    let r = rig();
    r.fake.answer(
        401,
        &[("content-type", "application/json")],
        &format!(r#"{{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided ({SECRET}).","error_codes":[7000215]}}"#),
    );
    let err = r.gateway.call(&caps(&[Service::Arm]), request(Service::Arm, "GET", "/x")).await.unwrap_err();
    let CallError::Auth(msg) = &err else { panic!("{err:?}") };
    assert!(msg.starts_with("signing in as the operator (operator-app) failed with 401: AADSTS7000215"), "{msg}");
    assert!(!msg.contains(SECRET), "the secret leaked: {msg}");
    assert_eq!(r.fake.sent().len(), 1, "the call itself is not sent");
    let recs = records(&r);
    assert_eq!(recs.len(), 2, "the sign-in and the refused call are both recorded");
    assert_eq!(recs[0].step, OPERATOR_STEP);
    assert!(!serde_json::to_string(&recs).unwrap().contains(SECRET));
}

#[tokio::test]
async fn throttling_is_retried_after_retry_after_in_virtual_time() {
    let r = rig();
    r.fake.token("t", 3600).answer(429, &[("retry-after", "7")], "").answer(503, &[("retry-after", "3")], "").answer(200, &[], "{\"ok\":true}");
    let before = r.clock.now_ms();
    let resp = r.gateway.call(&caps(&[Service::Arm]), request(Service::Arm, "PUT", "/rg")).await.unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(r.clock.now_ms() - before, 10_000, "waited exactly 7 s + 3 s of virtual time");
    assert_eq!(r.fake.sent().len(), 4);
    let recs = records(&r);
    let statuses: Vec<(u16, u32)> = recs[1..].iter().map(|x| x.response.as_ref().map(|x| (x.status, x.retries)).unwrap()).collect();
    assert_eq!(statuses, [(429, 0), (503, 1), (200, 2)], "every answer retried is in the transcript, then the last");
}

#[tokio::test]
async fn retries_give_up_after_five_with_an_error_naming_the_service_attempts_and_last_answer() {
    let r = rig();
    r.fake.token("t", 3600);
    for _ in 0..6 {
        r.fake.answer(503, &[], "busy");
    }
    let before = r.clock.now_ms();
    let err = r.gateway.call(&caps(&[Service::Arm]), request(Service::Arm, "GET", "/x")).await.unwrap_err();
    assert_eq!(err, CallError::Transport("arm answered 503 to GET /x 6 times in a row; the host gave up retrying (the last answer: busy)".into()));
    assert_eq!(r.fake.sent().len(), 1 + 6, "one sign-in, the first attempt and five retries");
    let waited = r.clock.now_ms() - before;
    assert!((15_500..=31_000).contains(&waited), "1, 2, 4, 8, 16 s, each jittered to between half and all of it: {waited}");
    assert_eq!(records(&r).pop().unwrap().response.unwrap().retries, 5);
}

#[tokio::test]
async fn other_failures_are_not_retried() {
    let r = rig();
    r.fake.token("t", 3600).answer(500, &[("retry-after", "1")], "").fail(TransportError::Send { url: "https://sim.test/y".into(), detail: "connection refused".into() });
    let c = caps(&[Service::Arm]);
    assert_eq!(r.gateway.call(&c, request(Service::Arm, "GET", "/x")).await.unwrap().status, 500);
    let err = r.gateway.call(&c, request(Service::Arm, "GET", "/y")).await.unwrap_err();
    assert_eq!(err, CallError::Transport("https://sim.test/y: connection refused".into()));
    assert_eq!(r.fake.sent().len(), 3);
    assert_eq!(records(&r).pop().unwrap().error.as_deref(), Some("https://sim.test/y: connection refused"));
}

#[tokio::test]
async fn the_transcript_keeps_headers_but_not_host_content_length_or_secrets() {
    let r = rig();
    r.fake.token("tok-123", 3600).answer(201, &[("content-type", "application/json"), ("x-ms-request-id", "abc"), ("content-length", "25")], r#"{"password":"tok-123","n":1}"#);
    let mut req = request(Service::Graph, "POST", "/v1.0/applications");
    req.headers = vec![Header { name: "content-type".into(), value: "application/json".into() }, Header { name: "x-custom".into(), value: "kept".into() }];
    req.body = br#"{"displayName":"app"}"#.to_vec();
    r.gateway.call(&caps(&[Service::Graph]), req).await.unwrap();
    let recs = records(&r);
    let call = &recs[1];
    let h = &call.request.headers;
    assert_eq!(h.get("authorization").map(String::as_str), Some("Bearer <redacted>"));
    assert_eq!(h.get("x-custom").map(String::as_str), Some("kept"));
    assert_eq!(h.get("content-type").map(String::as_str), Some("application/json"));
    assert!(!h.contains_key("host") && !h.contains_key("content-length"), "{h:?}");
    assert_eq!(call.request.body, serde_json::json!({"displayName": "app"}));
    let resp = call.response.as_ref().unwrap();
    assert_eq!(resp.headers.get("x-ms-request-id").map(String::as_str), Some("abc"));
    assert!(!resp.headers.contains_key("content-length"));
    assert_eq!(resp.body["n"], 1);
    assert!(!serde_json::to_string(&recs).unwrap().contains("tok-123"), "the minted token leaked");
    // The operator's sign-in form is recorded with its secret redacted.
    let form = recs[0].request.body.as_str().unwrap();
    assert!(form.contains("client_secret=") && !form.contains(SECRET), "{form}");
}

#[tokio::test]
async fn text_bodies_are_not_read_as_forms() {
    let r = rig();
    r.fake.answer(200, &[("content-type", "text/plain")], "a=1&client_secret=visible-because-not-a-form");
    let mut req = request(Service::Login, "POST", "/t/oauth2/v2.0/token");
    req.headers = vec![Header { name: "content-type".into(), value: "text/plain".into() }];
    req.body = b"client_secret=plain".to_vec();
    r.gateway.call(&caps(&[Service::Login]), req).await.unwrap();
    let rec = records(&r).pop().unwrap();
    assert_eq!(rec.request.body, serde_json::json!("client_secret=plain"));
    assert_eq!(rec.response.unwrap().body, serde_json::json!("a=1&client_secret=visible-because-not-a-form"));
}

#[tokio::test]
async fn tokens_the_token_service_issues_are_learnt_but_other_services_secrets_are_not() {
    let r = rig();
    let issued = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.issued-to-a-plugin.sig";
    let echoed = "value-a-plugin-made-up-123";
    r.fake
        .answer(200, &[("content-type", "application/json")], &format!(r#"{{"token_type":"Bearer","access_token":"{issued}"}}"#))
        .token("op", 3600)
        .answer(200, &[("content-type", "application/json")], &format!(r#"{{"password":"{echoed}"}}"#))
        .answer(200, &[("content-type", "text/plain")], &format!("{issued} {echoed}"));
    let c = caps(&[Service::Login, Service::Graph]);
    r.gateway.call(&c, request(Service::Login, "POST", "/t/oauth2/v2.0/token")).await.unwrap();
    r.gateway.call(&c, request(Service::Graph, "PATCH", "/v1.0/me")).await.unwrap();
    r.gateway.call(&c, request(Service::Graph, "GET", "/v1.0/echo")).await.unwrap();
    let last = records(&r).pop().unwrap().response.unwrap().body;
    assert_eq!(last, serde_json::json!(format!("<redacted> {echoed}")), "the issued token is known everywhere; a Graph field is redacted only where it stands");
}

fn bob() -> Identity {
    Identity::User { tenant_id: "tenant-1".into(), name: "bob@contoso.test".into(), password: "bobs-password".into() }
}

/// A step with `as = "bob@…"` calls Graph and ARM with bob's tokens: he signs in with his
/// password through the Azure CLI's public client, once per resource, recorded under his
/// name, the password redacted. Other steps keep the operator's tokens.
#[tokio::test]
async fn a_step_acting_as_a_user_calls_with_that_users_tokens_and_others_keep_the_operators() {
    let r = rig();
    r.fake.token("bob-graph-token", 3600).answer(200, &[], "{}").answer(200, &[], "{}").token("operator-graph-token", 3600).answer(200, &[], "{}");
    let as_bob = caps(&[Service::Graph]).acting_as(bob());
    r.gateway.call(&as_bob, request(Service::Graph, "GET", "/v1.0/me")).await.unwrap();
    r.gateway.call(&as_bob, request(Service::Graph, "GET", "/v1.0/me")).await.unwrap();
    r.gateway.call(&caps(&[Service::Graph]), request(Service::Graph, "GET", "/v1.0/me")).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(sent.len(), 5, "{:?}", r.fake.urls());
    let form = String::from_utf8(sent[0].body().to_vec()).unwrap();
    assert_eq!(form, "grant_type=password&client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&username=bob%40contoso.test&password=bobs-password&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default");
    assert_eq!(auth_header(&sent[1]).as_deref(), Some("Bearer bob-graph-token"));
    assert_eq!(auth_header(&sent[2]).as_deref(), Some("Bearer bob-graph-token"), "bob's token is reused");
    assert!(String::from_utf8(sent[3].body().to_vec()).unwrap().contains("grant_type=client_credentials"));
    assert_eq!(auth_header(&sent[4]).as_deref(), Some("Bearer operator-graph-token"));
    let recs = records(&r);
    assert_eq!(recs[0].step, "(as bob@contoso.test)");
    let text = serde_json::to_string(&recs).unwrap();
    assert!(!text.contains("bobs-password") && !text.contains("bob-graph-token"), "{text}");
    // A resumed run keeps bob's token with the operator's.
    assert!(r.gateway.operator_tokens().iter().any(|t| t.token == "bob-graph-token"));
}

#[tokio::test]
async fn a_service_principal_identity_signs_in_with_client_credentials() {
    let r = rig();
    r.fake.token("sp-arm-token", 3600).answer(200, &[], "{}");
    let sp = Identity::ServicePrincipal { tenant_id: "tenant-1".into(), client_id: "ci-app".into(), client_secret: "ci-secret".into() };
    r.gateway.call(&caps(&[Service::Arm]).acting_as(sp), request(Service::Arm, "GET", "/subscriptions")).await.unwrap();
    let sent = r.fake.sent();
    assert_eq!(String::from_utf8(sent[0].body().to_vec()).unwrap(), "grant_type=client_credentials&client_id=ci-app&client_secret=ci-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default");
    assert_eq!(auth_header(&sent[1]).as_deref(), Some("Bearer sp-arm-token"));
}

#[tokio::test]
async fn a_refused_identity_sign_in_names_the_identity_and_not_the_operator() {
    let r = rig();
    r.fake.answer(400, &[("content-type", "application/json")], r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password (bobs-password).","error_codes":[50126]}"#);
    let err = r.gateway.call(&caps(&[Service::Arm]).acting_as(bob()), request(Service::Arm, "GET", "/x")).await.unwrap_err();
    let CallError::Auth(msg) = &err else { panic!("{err:?}") };
    assert!(msg.starts_with("signing in as bob@contoso.test (the step's `as`) failed with 400: AADSTS50126"), "{msg}");
    assert!(!msg.contains("bobs-password"), "{msg}");
}

/// The same user with another password signs in again (as `az login` would), and fails.
#[tokio::test]
async fn the_same_identity_with_another_secret_signs_in_again() {
    let r = rig();
    r.fake.token("bob-token", 3600).answer(200, &[], "{}").answer(400, &[("content-type", "application/json")], r#"{"error":"invalid_grant","error_description":"AADSTS50126: Error validating credentials due to invalid username or password.","error_codes":[50126]}"#);
    r.gateway.call(&caps(&[Service::Arm]).acting_as(bob()), request(Service::Arm, "GET", "/x")).await.unwrap();
    let wrong = Identity::User { tenant_id: "tenant-1".into(), name: "bob@contoso.test".into(), password: "not-bobs".into() };
    let err = r.gateway.call(&caps(&[Service::Arm]).acting_as(wrong), request(Service::Arm, "GET", "/x")).await.unwrap_err();
    assert!(matches!(err, CallError::Auth(_)), "{err:?}");
}

/// The `Host` header as the URL parser named it before: lower case, default ports left out.
#[test]
fn the_host_header_names_the_host_as_a_url_parser_would() {
    for url in [
        "https://management.azure.com/subscriptions?x=1",
        "https://MyAKS-dns-1a2b.HCP.eastus.azmk8s.io:443/api",
        "https://127.0.0.1:8443/k8s/x/api",
        "http://localhost:80/x",
        "http://localhost:8080/x",
        "https://[::1]:9443/x",
        "https://[::1]/x",
    ] {
        let parsed = url::Url::parse(url).unwrap();
        let expected = parsed.host_str().map(|h| match parsed.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_string(),
        });
        assert_eq!(super::host_header(&url.parse().unwrap()), expected, "{url}");
    }
}
