//! The one path every cloud call takes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use super::auth::{OperatorCredential, TokenCache, azure_cli_token};
use super::target::Endpoints;
use super::transport::Transport;
use crate::bindings::{CallError, CloudRequest, CloudResponse, Header, Service};
use crate::clock::RunClock;
use crate::redact::Redactor;
use crate::transcript::{Record, RecordedRequest, RecordedResponse, Transcript};

/// The step name operator sign-ins are recorded under.
pub const OPERATOR_STEP: &str = "(operator)";

/// Retries on 429 and 503, honouring Retry-After in run time.
const MAX_RETRIES: u32 = 4;

pub struct Gateway {
    pub endpoints: Endpoints,
    transport: Box<dyn Transport>,
    operator: OperatorCredential,
    tokens: TokenCache,
    pub clock: RunClock,
    pub transcript: Arc<Transcript>,
    pub redactor: Arc<Redactor>,
}

impl Gateway {
    pub fn new(
        endpoints: Endpoints,
        transport: Box<dyn Transport>,
        operator: OperatorCredential,
        clock: RunClock,
        transcript: Arc<Transcript>,
        redactor: Arc<Redactor>,
    ) -> Self {
        if let Some(s) = operator.secret() {
            redactor.learn(s);
        }
        Gateway { endpoints, transport, operator, tokens: TokenCache::default(), clock, transcript, redactor }
    }

    /// A step's call: checked against its grants before anything else happens.
    pub async fn call(&self, step: &str, granted: &[Service], req: CloudRequest) -> Result<CloudResponse, CallError> {
        if !granted.contains(&req.service) {
            let msg = format!(
                "step `{step}` called {} ({} {}) but was not granted it; add \"{}\" to the step's `grant = [...]` if it should",
                req.service, req.method, req.path, req.service
            );
            self.record_refusal(step, &req, &msg);
            return Err(CallError::NotGranted(msg));
        }
        let http_req = match self.build(&req) {
            Ok(r) => r,
            Err(msg) => {
                self.record_refusal(step, &req, &msg);
                return Err(CallError::InvalidRequest(msg));
            }
        };
        let http_req = match self.authorize(&req, http_req).await {
            Ok(r) => r,
            Err(msg) => {
                self.record_refusal(step, &req, &msg);
                return Err(CallError::Auth(msg));
            }
        };
        let (result, retries) = self.send_with_retries(http_req.clone()).await;
        self.record(step, req.service, &http_req, &result, retries);
        let resp = result.map_err(CallError::Transport)?;
        Ok(CloudResponse {
            status: resp.status().as_u16(),
            headers: resp
                .headers()
                .iter()
                .map(|(k, v)| Header { name: k.as_str().to_string(), value: String::from_utf8_lossy(v.as_bytes()).into_owned() })
                .collect(),
            body: resp.body().to_vec(),
        })
    }

    fn build(&self, req: &CloudRequest) -> Result<http::Request<Bytes>, String> {
        let method = Method::from_bytes(req.method.as_bytes()).map_err(|_| format!("`{}` is not an HTTP method", req.method))?;
        if !req.path.starts_with('/') || req.path.contains("..") || req.path.contains("://") || req.path.contains(['?', '#']) {
            return Err(format!("path `{}` must start with `/`, without a query, `..` or a scheme (pass query parameters separately)", req.path));
        }
        let base = match (req.service, &req.server) {
            (Service::Kube, Some(server)) => {
                let u = url::Url::parse(server).map_err(|e| format!("kube server `{server}` is not a URL: {e}"))?;
                if u.scheme() != "https" {
                    return Err(format!("kube server `{server}` must be https"));
                }
                server.trim_end_matches('/').to_string()
            }
            (Service::Kube, None) => return Err("a kube call needs `server` (the kubeconfig's cluster server URL)".into()),
            (s, _) => self.endpoints.base(s).expect("every non-kube service has a base").to_string(),
        };
        let mut url = format!("{base}{}", req.path);
        if !req.query.is_empty() {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
            url.push('?');
            url.push_str(&q.finish());
        }
        let mut builder = http::Request::builder().method(method).uri(&url);
        for h in &req.headers {
            let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| format!("`{}` is not a valid header name", h.name))?;
            let value = HeaderValue::from_str(&h.value).map_err(|_| format!("header `{}` has an invalid value", h.name))?;
            builder = builder.header(name, value);
        }
        if let Ok(u) = url::Url::parse(&url) {
            if let Some(host) = u.host_str() {
                let host = match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host.to_string(),
                };
                builder = builder.header(http::header::HOST, host);
            }
        }
        builder.body(Bytes::from(req.body.clone())).map_err(|e| format!("cannot build the request: {e}"))
    }

    /// Attaches the operator's bearer token to Graph and ARM calls that do not bring their own.
    async fn authorize(&self, req: &CloudRequest, mut http_req: http::Request<Bytes>) -> Result<http::Request<Bytes>, String> {
        if req.anonymous || http_req.headers().contains_key(http::header::AUTHORIZATION) {
            return Ok(http_req);
        }
        let Some(resource) = Endpoints::resource(req.service) else {
            return Ok(http_req);
        };
        let token = self.operator_token(resource).await?;
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| "the operator token is not a valid header value".to_string())?;
        http_req.headers_mut().insert(http::header::AUTHORIZATION, value);
        Ok(http_req)
    }

    async fn operator_token(&self, resource: &str) -> Result<String, String> {
        if let Some(t) = self.tokens.get(resource, self.clock.now_ms()) {
            return Ok(t);
        }
        let (token, expires_ms) = match &self.operator {
            OperatorCredential::AzureCli => azure_cli_token(resource).await?,
            OperatorCredential::ClientSecret { tenant_id, client_id, client_secret } => {
                self.client_credentials(tenant_id, client_id, client_secret, resource).await?
            }
        };
        self.redactor.learn(&token);
        self.tokens.put(resource, token.clone(), expires_ms);
        Ok(token)
    }

    async fn client_credentials(&self, tenant: &str, client_id: &str, secret: &str, resource: &str) -> Result<(String, i64), String> {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret)
            .append_pair("scope", &format!("{resource}/.default"))
            .finish();
        let url = format!("{}/{tenant}/oauth2/v2.0/token", self.endpoints.login);
        let req = http::Request::builder()
            .method(Method::POST)
            .uri(&url)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Bytes::from(body))
            .map_err(|e| e.to_string())?;
        let (result, retries) = self.send_with_retries(req.clone()).await;
        self.record(OPERATOR_STEP, Service::Login, &req, &result, retries);
        let resp = result.map_err(|e| format!("signing in as the operator: {e}"))?;
        let v: serde_json::Value = serde_json::from_slice(resp.body()).unwrap_or_default();
        if !resp.status().is_success() {
            let detail = v["error_description"].as_str().map(String::from).unwrap_or_else(|| String::from_utf8_lossy(resp.body()).into_owned());
            return Err(format!(
                "signing in as the operator ({client_id}) failed with {}: {}",
                resp.status().as_u16(),
                self.redactor.text(&detail)
            ));
        }
        let token = v["access_token"].as_str().ok_or("the token endpoint returned no access_token")?.to_string();
        let expires_in = v["expires_in"].as_i64().or_else(|| v["expires_in"].as_str().and_then(|s| s.parse().ok())).unwrap_or(3599);
        Ok((token, self.clock.now_ms() + expires_in * 1000))
    }

    async fn send_with_retries(&self, req: http::Request<Bytes>) -> (Result<http::Response<Bytes>, String>, u32) {
        let mut retries = 0;
        loop {
            let result = self.transport.send(req.clone()).await;
            let retry = match &result {
                Ok(r) if retries < MAX_RETRIES && matches!(r.status().as_u16(), 429 | 503) => Some(retry_after(r, retries)),
                _ => None,
            };
            match retry {
                Some(wait) => {
                    self.clock.sleep(wait).await;
                    retries += 1;
                }
                None => return (result, retries),
            }
        }
    }

    fn record_refusal(&self, step: &str, req: &CloudRequest, why: &str) {
        let mut url = req.path.clone();
        if !req.query.is_empty() {
            let mut q = form_urlencoded::Serializer::new(String::new());
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
            url = format!("{url}?{}", q.finish());
        }
        self.transcript.push(Record {
            seq: 0,
            time: self.clock.stamp(),
            step: step.into(),
            service: req.service.to_string(),
            request: RecordedRequest { method: req.method.clone(), url, headers: BTreeMap::new(), body: serde_json::Value::Null },
            response: None,
            error: Some(self.redactor.text(why)),
        });
    }

    fn record(&self, step: &str, service: Service, req: &http::Request<Bytes>, result: &Result<http::Response<Bytes>, String>, retries: u32) {
        let r = &self.redactor;
        let url = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        let request = RecordedRequest {
            method: req.method().to_string(),
            url: r.text(&url),
            headers: self.headers(req.headers(), true),
            body: self.body(req.headers(), req.body()),
        };
        let (response, error) = match result {
            Ok(resp) => (
                Some(RecordedResponse {
                    status: resp.status().as_u16(),
                    headers: self.headers(resp.headers(), false),
                    body: self.body(resp.headers(), resp.body()),
                    retries,
                }),
                None,
            ),
            Err(e) => (None, Some(r.text(e))),
        };
        self.transcript.push(Record { seq: 0, time: self.clock.stamp(), step: step.into(), service: service.to_string(), request, response, error });
    }

    fn headers(&self, headers: &http::HeaderMap, request: bool) -> BTreeMap<String, String> {
        headers
            .iter()
            // The host header only restates the target; content-length restates the body.
            .filter(|(k, _)| !(request && *k == http::header::HOST) && *k != http::header::CONTENT_LENGTH)
            .map(|(k, v)| (k.as_str().to_string(), self.redactor.header(k.as_str(), &String::from_utf8_lossy(v.as_bytes()))))
            .collect()
    }

    fn body(&self, headers: &http::HeaderMap, body: &[u8]) -> serde_json::Value {
        if body.is_empty() {
            return serde_json::Value::Null;
        }
        let ct = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if ct.contains("json") {
            if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) {
                self.redactor.json(&mut v);
                return v;
            }
        }
        match std::str::from_utf8(body) {
            Ok(text) if ct.starts_with("application/x-www-form-urlencoded") => serde_json::Value::String(self.redactor.form(text)),
            Ok(text) => serde_json::Value::String(self.redactor.text(text)),
            Err(_) => serde_json::Value::String(format!("<{} bytes of binary>", body.len())),
        }
    }
}

/// `Retry-After` in seconds, or an exponential fallback (1, 2, 4, 8 s).
fn retry_after(resp: &http::Response<Bytes>, attempt: u32) -> Duration {
    resp.headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(300)))
        .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(6)))
}
