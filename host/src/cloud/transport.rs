//! Two ways to deliver one `http::Request`: to the simulator's Router in process (tower
//! `oneshot`, no socket), or over HTTPS with reqwest and rustls.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Transport: Send + Sync {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, String>>;
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
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, String>> {
        let router = self.router.clone();
        Box::pin(async move {
            let req = req.map(axum::body::Body::from);
            let Ok(resp) = router.oneshot(req).await;
            let (parts, body) = resp.into_parts();
            let bytes = body.collect().await.map_err(|e| format!("reading the simulator's response: {e}"))?.to_bytes();
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
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aksflow/", env!("CARGO_PKG_VERSION")));
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
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, String>> {
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
                .map_err(|e| describe_reqwest_error(&url, &e))?;
            let mut builder = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let body = resp.bytes().await.map_err(|e| format!("reading the response from {url}: {e}"))?;
            builder.body(body).map_err(|e| e.to_string())
        })
    }
}

fn describe_reqwest_error(url: &str, e: &reqwest::Error) -> String {
    let mut msg = format!("{url}: {e}");
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
