//! Drives the simulator's Router in process, as a client would over the wire.

#![allow(dead_code)]

#[path = "../../../tests/support/outside_tools.rs"]
pub mod outside_tools;

use aksflow_simulator::{Era, SimConfig, Simulator, VirtualClock};
use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
pub const GRAPH: &str = "https://graph.microsoft.com";
pub const AKS_SERVER: &str = "6dae42f8-4368-4678-94ff-3960e28e3630";
pub const AKS_CLIENT: &str = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";

pub struct Sim {
    pub sim: Simulator,
    pub clock: VirtualClock,
    pub tenant: String,
}

pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The AADSTS number of a token-service error.
    pub fn aadsts(&self) -> u64 {
        self.json()["error_codes"][0].as_u64().unwrap_or_else(|| panic!("no error_codes: {}", self.text()))
    }
    pub fn graph_code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or_default().to_string()
    }
}

impl Sim {
    pub fn new(seed: u64) -> Self {
        Sim::in_era(seed, Era::Today)
    }

    /// Seed 000's Azure, where legacy-AAD clusters can still be created.
    pub fn in_2019(seed: u64) -> Self {
        Sim::in_era(seed, Era::Y2019)
    }

    pub fn in_era(seed: u64, era: Era) -> Self {
        let clock = VirtualClock::default();
        let sim = Simulator::new(SimConfig { era, ..SimConfig::in_process(seed) }, clock.clone());
        let tenant = sim.operator().tenant_id;
        Sim { sim, clock, tenant }
    }

    pub async fn send(&self, method: &str, uri: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Resp {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let resp = self.sim.router().oneshot(b.body(Body::from(body)).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        Resp { status: parts.status.as_u16(), headers: parts.headers, body: body.collect().await.unwrap().to_bytes().to_vec() }
    }

    pub async fn form(&self, uri: &str, pairs: &[(&str, &str)]) -> Resp {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        self.send("POST", uri, &[("content-type", "application/x-www-form-urlencoded")], body.into_bytes()).await
    }

    pub async fn get(&self, uri: &str, token: &str) -> Resp {
        self.send("GET", uri, &[("authorization", &format!("Bearer {token}"))], vec![]).await
    }

    pub async fn json(&self, method: &str, uri: &str, token: &str, body: Value) -> Resp {
        self.send(method, uri, &[("authorization", &format!("Bearer {token}")), ("content-type", "application/json")], serde_json::to_vec(&body).unwrap()).await
    }

    pub fn password(&self, upn: &str) -> String {
        self.sim.personas().into_iter().find(|p| p.user_principal_name == upn).unwrap_or_else(|| panic!("no persona {upn}")).password
    }

    /// A user token by ROPC through the Azure CLI public client.
    pub async fn user_token(&self, upn: &str, scope: &str) -> String {
        let pw = self.password(upn);
        let r = self
            .form(&format!("/{}/oauth2/v2.0/token", self.tenant), &[("grant_type", "password"), ("client_id", CLI), ("username", upn), ("password", &pw), ("scope", scope)])
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_string()
    }

    /// The operator's (tenant admin service principal's) token.
    pub async fn operator_token(&self, scope: &str) -> String {
        let op = self.sim.operator();
        let r = self
            .form(&format!("/{}/oauth2/v2.0/token", self.tenant), &[("grant_type", "client_credentials"), ("client_id", &op.client_id), ("client_secret", &op.client_secret), ("scope", scope)])
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().unwrap().to_string()
    }
}

/// The claims of a JWT, unverified (the tests verify separately).
pub fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
