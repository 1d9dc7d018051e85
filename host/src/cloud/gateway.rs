//! The one path every cloud call takes: the step's grant first, then the request's shape,
//! the operator's token, the transport with retries in run time, and a transcript record.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method};

use super::auth::{CachedToken, Identity, OperatorCredential, TokenCache, azure_cli_token};
use super::egress::Egress;
use super::error::{AuthError, RequestError, TransportError};
use super::recorder::Recorder;
use super::retry::RetryPolicy;
use super::target::Endpoints;
use super::token_client::{Grant, TokenClient, TokenError, read_token};
use super::transport::Transport;
use crate::bindings::{CallError, CloudRequest, CloudResponse, Header, Service};
use crate::caps::StepCaps;
use crate::clock::RunClock;
use crate::redact::Redactor;
use crate::transcript::Transcript;

/// The Azure CLI's public client: a user a step acts as signs in through it, as `az login -u`.
const AZURE_CLI_APP_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// The step name operator sign-ins are recorded under.
pub const OPERATOR_STEP: &str = "(operator)";

pub struct Gateway {
    pub endpoints: Endpoints,
    transport: Box<dyn Transport>,
    operator: OperatorCredential,
    tokens: TokenCache,
    retry: RetryPolicy,
    pub clock: RunClock,
    recorder: Recorder,
    pub redactor: Arc<Redactor>,
    /// The cluster API servers this run may call.
    pub egress: Egress,
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
        let recorder = Recorder { transcript, redactor: redactor.clone(), clock: clock.clone() };
        Gateway { endpoints, transport, operator, tokens: TokenCache::default(), retry: RetryPolicy::default(), clock, recorder, redactor, egress: Egress::default() }
    }

    /// The run's seed, for the jitter of retries without `Retry-After`.
    pub fn seeded(mut self, seed: u64) -> Self {
        self.retry.seed = seed;
        self
    }

    /// A step's call: checked against its grants before anything else happens.
    pub async fn call(&self, caps: &StepCaps, req: CloudRequest) -> Result<CloudResponse, CallError> {
        if !caps.grants().allows(req.service) {
            let msg = format!(
                "step `{}` called {} ({} {}) but was not granted it; add \"{}\" to the step's `grant = [...]` if it should",
                caps.step(),
                req.service,
                req.method,
                req.path,
                req.service
            );
            self.recorder.refusal(caps.step(), &req, &msg);
            return Err(CallError::NotGranted(msg));
        }
        let http_req = match self.build(&req) {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                self.recorder.refusal(caps.step(), &req, &msg);
                return Err(CallError::InvalidRequest(msg));
            }
        };
        if let (Service::Kube, Some(server)) = (req.service, &req.server) {
            if !self.egress.allows(server) {
                let msg = format!(
                    "step `{}` called the kube server `{server}`, which is not a cluster this run knows: a step reaches the target's services and the API servers in kubeconfigs that ARM returned or the flow file gives",
                    caps.step()
                );
                self.recorder.refusal(caps.step(), &req, &msg);
                return Err(CallError::NotGranted(msg));
            }
        }
        let http_req = match self.authorize(caps, &req, http_req).await {
            Ok(r) => r,
            Err(e) => {
                let msg = e.to_string();
                self.recorder.refusal(caps.step(), &req, &msg);
                return Err(CallError::Auth(msg));
            }
        };
        let (result, retries) = self.send_with_retries(http_req.clone(), caps.step(), req.service).await;
        self.recorder.exchange(caps.step(), req.service, &http_req, &result, retries);
        let resp = result.map_err(|e| CallError::Transport(e.to_string()))?;
        if self.retry.retryable(&resp) {
            // Still throttled or unavailable after every retry: the step gets why, not a 429.
            return Err(CallError::Transport(self.redactor.text(&give_up_message(req.service, &http_req, &resp, retries + 1))));
        }
        if req.service == Service::Arm {
            self.egress.learn_from_arm(&req.path, resp.status().as_u16(), resp.body());
        }
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

    fn build(&self, req: &CloudRequest) -> Result<http::Request<Bytes>, RequestError> {
        let method = Method::from_bytes(req.method.as_bytes()).map_err(|_| RequestError::Method(req.method.clone()))?;
        if !req.path.starts_with('/') || req.path.contains("..") || req.path.contains("://") || req.path.contains(['?', '#']) {
            return Err(RequestError::Path(req.path.clone()));
        }
        let base = match (req.service, &req.server) {
            (Service::Kube, Some(server)) => {
                let u = url::Url::parse(server).map_err(|e| RequestError::ServerUrl { server: server.clone(), reason: e.to_string() })?;
                if u.scheme() != "https" {
                    return Err(RequestError::ServerScheme(server.clone()));
                }
                server.trim_end_matches('/').to_string()
            }
            (Service::Kube, None) => return Err(RequestError::NoServer),
            (s, _) => self.endpoints.base(s).expect("every non-kube service has a base").to_string(),
        };
        let mut url = format!("{base}{}", req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&query_string(&req.query));
        }
        let mut builder = http::Request::builder().method(method).uri(&url);
        for h in &req.headers {
            let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| RequestError::HeaderName(h.name.clone()))?;
            let value = HeaderValue::from_str(&h.value).map_err(|_| RequestError::HeaderValue(h.name.clone()))?;
            builder = builder.header(name, value);
        }
        if let Some(host) = builder.uri_ref().and_then(host_header) {
            builder = builder.header(http::header::HOST, host);
        }
        if req.service == Service::Kube {
            let identity = req.client_identity.as_ref().map(|v| v.as_str().to_string());
            if let Some(pem) = &identity {
                // The whole identity, and each PEM block alone (a key may turn up by itself).
                self.redactor.learn(pem);
                for block in super::kube_tls::pem_blocks(pem) {
                    self.redactor.learn(block);
                }
            }
            builder = builder.extension(super::kube_tls::KubeTls { certificate_authority: req.certificate_authority.clone(), client_identity: identity });
        }
        builder.body(Bytes::from(req.body.clone())).map_err(|e| RequestError::Build(format!("cannot build the request: {e}")))
    }

    /// Attaches a bearer token to Graph and ARM calls that do not bring their own: the
    /// operator's, or that of the identity the step acts as.
    async fn authorize(&self, caps: &StepCaps, req: &CloudRequest, mut http_req: http::Request<Bytes>) -> Result<http::Request<Bytes>, AuthError> {
        if req.anonymous || http_req.headers().contains_key(http::header::AUTHORIZATION) {
            return Ok(http_req);
        }
        let Some(resource) = Endpoints::resource(req.service) else {
            return Ok(http_req);
        };
        let token = match caps.identity() {
            Some(identity) => self.identity_token(identity, resource).await?,
            None => self.operator_token(resource).await?,
        };
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| AuthError::BadToken)?;
        http_req.headers_mut().insert(http::header::AUTHORIZATION, value);
        Ok(http_req)
    }

    /// The operator's tokens held now (saved with the run's state).
    pub fn operator_tokens(&self) -> Vec<CachedToken> {
        self.tokens.all()
    }

    /// Takes back a saved run's operator tokens: a resumed run goes on with them until they
    /// expire instead of signing in again, as the uninterrupted run would have.
    pub fn keep_operator_tokens(&self, saved: &[CachedToken]) {
        for t in saved {
            self.redactor.learn(&t.token);
            self.tokens.put(&t.resource, t.token.clone(), t.expires_ms);
        }
    }

    async fn operator_token(&self, resource: &str) -> Result<String, AuthError> {
        if let Some(t) = self.tokens.get(resource, self.clock.now_ms()) {
            return Ok(t);
        }
        let (token, expires_ms) = match &self.operator {
            OperatorCredential::AzureCli => azure_cli_token(resource).await?,
            OperatorCredential::ClientSecret { tenant_id, client_id, client_secret } => {
                let refused = |e| AuthError::from_token(client_id, e, |s| self.redactor.text(s));
                self.sign_in(OPERATOR_STEP, tenant_id, client_id, Grant::ClientCredentials { client_secret }, resource, refused).await?
            }
        };
        self.redactor.learn(&token);
        self.tokens.put(resource, token.clone(), expires_ms);
        Ok(token)
    }

    /// A token for the identity a step acts as, signed in as `az login` would: a user with
    /// their password through the Azure CLI's public client, a service principal with its
    /// secret. Kept beside the operator's tokens, so a resumed run keeps them too.
    async fn identity_token(&self, identity: &Identity, resource: &str) -> Result<String, AuthError> {
        let key = identity.cache_key(resource);
        if let Some(t) = self.tokens.get(&key, self.clock.now_ms()) {
            return Ok(t);
        }
        self.redactor.learn(identity.secret());
        let (tenant, client_id, grant) = match identity {
            Identity::User { tenant_id, name, password } => (tenant_id, AZURE_CLI_APP_ID, Grant::Password { username: name, password }),
            Identity::ServicePrincipal { tenant_id, client_id, client_secret } => (tenant_id, client_id.as_str(), Grant::ClientCredentials { client_secret }),
        };
        let refused = |e| match e {
            TokenError::Refused(error) => AuthError::IdentityRefused { who: identity.name().to_string(), detail: self.redactor.text(&error.description), error },
            TokenError::Missing(what) => AuthError::Missing(what),
        };
        let (token, expires_ms) = self.sign_in(&format!("(as {})", identity.name()), tenant, client_id, grant, resource, refused).await?;
        self.redactor.learn(&token);
        self.tokens.put(&key, token.clone(), expires_ms);
        Ok(token)
    }

    /// One sign-in at the token endpoint (v2, `RESOURCE/.default`), retried like any call
    /// and recorded under `who`: the token and when it expires, or `refused`'s error.
    async fn sign_in(
        &self,
        who: &str,
        tenant: &str,
        client_id: &str,
        grant: Grant<'_>,
        resource: &str,
        refused: impl FnOnce(TokenError) -> AuthError,
    ) -> Result<(String, i64), AuthError> {
        let client = TokenClient { authority: self.endpoints.login.clone(), tenant: tenant.to_string(), client_id: client_id.to_string(), resource: resource.to_string(), v1: false };
        let req = client.token_request(grant);
        let (result, retries) = self.send_with_retries(req.clone(), who, Service::Login).await;
        self.recorder.exchange(who, Service::Login, &req, &result, retries);
        let resp = result.map_err(AuthError::Transport)?;
        let t = read_token(resp.status().as_u16(), resp.body(), self.clock.now_ms()).map_err(refused)?;
        Ok((t.access_token, t.expires_at_ms))
    }

    /// Sends, and on a retryable answer waits as the policy says (in run time) and sends
    /// again. Each answer that is retried is recorded too, so the transcript shows it (and
    /// the fault a simulator marked it with); the caller records the last.
    async fn send_with_retries(&self, req: http::Request<Bytes>, step: &str, service: Service) -> (Result<http::Response<Bytes>, TransportError>, u32) {
        let mut retries = 0;
        loop {
            let result = self.transport.send(req.clone()).await;
            let wait = match &result {
                Ok(r) => self.retry.wait_before_retry(r, retries, req.uri().path()),
                Err(_) => None,
            };
            match wait {
                Some(wait) => {
                    self.recorder.exchange(step, service, &req, &result, retries);
                    self.clock.sleep(wait).await;
                    retries += 1;
                }
                None => return (result, retries),
            }
        }
    }
}

/// Why a call failed after every retry: the service, how many attempts, the last answer.
fn give_up_message(service: Service, req: &http::Request<Bytes>, last: &http::Response<Bytes>, attempts: u32) -> String {
    let body = String::from_utf8_lossy(last.body());
    let body: String = body.chars().take(300).collect();
    format!(
        "{service} answered {} to {} {} {attempts} times in a row; the host gave up retrying (the last answer: {})",
        last.status().as_u16(),
        req.method(),
        req.uri().path(),
        if body.trim().is_empty() { "no body".to_string() } else { body.trim().to_string() }
    )
}

/// The `Host` header for a URI, as a URL parser names a DNS host: lower case, and the port
/// only when it is not the scheme's own. (An IP literal is kept as written: a URL parser would
/// also rewrite `127.1` as `127.0.0.1`.)
fn host_header(uri: &http::Uri) -> Option<String> {
    let host = uri.host()?.to_ascii_lowercase();
    let default_port = match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    };
    Some(match uri.port_u16() {
        Some(p) if Some(p) != default_port => format!("{host}:{p}"),
        _ => host,
    })
}

/// Query parameters, form-encoded in the order given.
pub(crate) fn query_string(query: &[(String, String)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in query {
        q.append_pair(k, v);
    }
    q.finish()
}

#[cfg(test)]
#[path = "gateway_tests.rs"]
mod tests;
