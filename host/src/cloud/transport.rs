//! Two ways to deliver one `http::Request`: to the simulator's Router in process (tower
//! `oneshot`, no socket), or over HTTPS with reqwest and rustls.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::error::TransportError;
use super::resolver::{AddressPolicy, PinnedResolver};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Transport: Send + Sync {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>>;
}

/// The simulator's Router, called directly.
pub struct InProcess {
    router: axum::Router,
}

impl InProcess {
    pub fn new(router: axum::Router) -> Self {
        InProcess { router }
    }
}

impl Transport for InProcess {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let router = self.router.clone();
        let url = req.uri().to_string();
        Box::pin(async move {
            let req = req.map(axum::body::Body::from);
            let Ok(resp) = router.oneshot(req).await;
            if resp.extensions().get::<aksflow_simulator::faults::inject::Dropped>().is_some() {
                return Err(TransportError::Send { url, detail: "connection reset by peer (a fault the simulator injected)".into() });
            }
            let (parts, body) = resp.into_parts();
            let bytes = body.collect().await.map_err(|e| TransportError::InProcess(e.to_string()))?.to_bytes();
            Ok(http::Response::from_parts(parts, bytes))
        })
    }
}

/// Real sockets: Azure, or a served simulator whose CA is trusted.
pub struct Https {
    client: reqwest::Client,
}

impl Https {
    /// A client that also trusts the PEM certificates in `extra_ca` (e.g. a served
    /// simulator's `ca.pem`, named by `REQUESTS_CA_BUNDLE` / `SSL_CERT_FILE`).
    pub fn new(extra_ca: Option<&[u8]>) -> Result<Self, String> {
        Self::with_timeout(extra_ca, Duration::from_secs(120))
    }

    /// A run's client: names resolve only to addresses of the target's kind (see
    /// [`super::resolver`]).
    pub fn for_run(extra_ca: Option<&[u8]>, policy: AddressPolicy) -> Result<Self, String> {
        Self::build(extra_ca, Duration::from_secs(120), Some(policy))
    }

    /// The same, with a whole-request timeout of `timeout`.
    pub fn with_timeout(extra_ca: Option<&[u8]>, timeout: Duration) -> Result<Self, String> {
        Self::build(extra_ca, timeout, None)
    }

    fn build(extra_ca: Option<&[u8]>, timeout: Duration, policy: Option<AddressPolicy>) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aksflow/", env!("CARGO_PKG_VERSION")));
        if let Some(policy) = policy {
            builder = builder.dns_resolver(std::sync::Arc::new(PinnedResolver { policy }));
        }
        if let Some(pem) = extra_ca {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("the CA bundle is not PEM certificates: {e}"))?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        Ok(Https { client: builder.build().map_err(|e| format!("cannot build the HTTPS client: {e}"))? })
    }
}

impl Transport for Https {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            let resp = self
                .client
                .request(parts.method, &url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| TransportError::Send { detail: describe_reqwest_error(&e), url: url.clone() })?;
            let mut builder = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let body = resp.bytes().await.map_err(|e| TransportError::Read { url: url.clone(), detail: e.to_string() })?;
            builder.body(body).map_err(|e| TransportError::Read { url, detail: e.to_string() })
        })
    }
}

/// The error and its causes, with a hint when TLS did not trust the server.
fn describe_reqwest_error(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    if msg.contains("certificate") || msg.contains("UnknownIssuer") {
        msg.push_str(" (is the simulator's CA trusted? set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to its ca.pem, e.g. by loading aksflow.env)");
    }
    msg
}
