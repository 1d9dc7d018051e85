//! Two ways to deliver one `http::Request`: to the simulator's Router in process (tower
//! `oneshot`, no socket), or over HTTPS with reqwest and rustls. A cluster call carries its
//! kubeconfig's TLS settings ([`KubeTls`]): over HTTPS a client that trusts exactly that CA
//! and presents that certificate; in process the same checks, without a handshake.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::error::TransportError;
use super::kube_tls::{InProcessHandshake, KubeTls};
use super::resolver::{AddressPolicy, PinnedResolver};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub trait Transport: Send + Sync {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>>;
}

/// The simulator's Router, called directly.
pub struct InProcess {
    router: axum::Router,
    simulator: aksflow_simulator::Simulator,
    handshake: InProcessHandshake,
}

impl InProcess {
    pub fn new(simulator: &aksflow_simulator::Simulator) -> Self {
        InProcess { router: simulator.router(), simulator: simulator.clone(), handshake: InProcessHandshake::default() }
    }

    /// A cluster call's handshake checks; the client certificate goes to the simulator as
    /// a served simulator's TLS layer hands it on.
    fn handshake(&self, req: &mut http::Request<Bytes>, url: &str) -> Result<(), TransportError> {
        let Some(tls) = req.extensions().get::<KubeTls>().cloned() else {
            return Ok(());
        };
        let host = req.uri().host().unwrap_or_default().to_string();
        let fail = |detail: String| TransportError::Send { url: url.to_string(), detail };
        let issuer = self.simulator.certificate_issuer(&host).ok_or_else(|| fail(format!("dns error: no cluster has the name `{host}` (was it deleted, or is the kubeconfig from another run? get the credentials again)")))?;
        if let Some(der) = self.handshake.check(&tls, &issuer).map_err(|e| fail(e.to_string()))? {
            req.extensions_mut().insert(aksflow_simulator::kube::x509::PeerCertificate(der.to_vec()));
        }
        Ok(())
    }
}

impl Transport for InProcess {
    fn send(&self, mut req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        let router = self.router.clone();
        let url = req.uri().to_string();
        let checked = self.handshake(&mut req, &url);
        Box::pin(async move {
            checked?;
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
    /// The CAs the run trusts besides the system's (a served simulator's), also trusted by a
    /// cluster call whose kubeconfig names no CA.
    extra_roots: Vec<reqwest::Certificate>,
    /// How to build another client (for a cluster's own CA and client certificate).
    timeout: Duration,
    policy: Option<AddressPolicy>,
    /// A client per kubeconfig TLS setting, made on first use.
    per_cluster: std::sync::Mutex<std::collections::HashMap<KubeTls, reqwest::Client>>,
}

/// Cluster clients kept at once.
const MAX_CLUSTER_CLIENTS: usize = 64;

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
        let mut builder = Self::builder(timeout, policy);
        let extra_roots = match extra_ca {
            Some(pem) => reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("the CA bundle is not PEM certificates: {e}"))?,
            None => Vec::new(),
        };
        for c in &extra_roots {
            builder = builder.add_root_certificate(c.clone());
        }
        let client = builder.build().map_err(|e| format!("cannot build the HTTPS client: {e}"))?;
        Ok(Https { client, extra_roots, timeout, policy, per_cluster: Default::default() })
    }

    fn builder(timeout: Duration, policy: Option<AddressPolicy>) -> reqwest::ClientBuilder {
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("aksflow/", env!("CARGO_PKG_VERSION")));
        if let Some(policy) = policy {
            builder = builder.dns_resolver(std::sync::Arc::new(PinnedResolver { policy }));
        }
        builder
    }

    /// The client for a cluster call: with a CA, that CA alone is trusted (as kubectl
    /// does with `certificate-authority-data`); with a client certificate, it is presented.
    fn for_cluster(&self, tls: &KubeTls) -> Result<reqwest::Client, String> {
        if let Some(c) = self.per_cluster.lock().unwrap_or_else(|p| p.into_inner()).get(tls) {
            return Ok(c.clone());
        }
        let mut builder = Self::builder(self.timeout, self.policy);
        match &tls.certificate_authority {
            Some(pem) => {
                super::kube_tls::certificates(pem).map_err(|e| e.to_string())?;
                builder = builder.tls_built_in_root_certs(false);
                for c in reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| format!("the kubeconfig's certificate-authority-data: {e}"))? {
                    builder = builder.add_root_certificate(c);
                }
            }
            // No CA in the kubeconfig: what the run trusts anyway.
            None => {
                for c in &self.extra_roots {
                    builder = builder.add_root_certificate(c.clone());
                }
            }
        }
        if let Some(identity) = &tls.client_identity {
            super::kube_tls::client_certificate(identity).map_err(|e| e.to_string())?;
            let id = reqwest::Identity::from_pem(identity.as_bytes()).map_err(|e| format!("the kubeconfig's client certificate and key are not usable: {e}"))?;
            builder = builder.identity(id);
        }
        let client = builder.build().map_err(|e| format!("cannot build the HTTPS client for the cluster: {e}"))?;
        let mut kept = self.per_cluster.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() >= MAX_CLUSTER_CLIENTS {
            kept.clear();
        }
        kept.insert(tls.clone(), client.clone());
        Ok(client)
    }
}

impl Transport for Https {
    fn send(&self, req: http::Request<Bytes>) -> BoxFuture<'_, Result<http::Response<Bytes>, TransportError>> {
        Box::pin(async move {
            let (parts, body) = req.into_parts();
            let url = parts.uri.to_string();
            let kube = parts.extensions.get::<KubeTls>();
            let client = match kube {
                Some(tls) => self.for_cluster(tls).map_err(|detail| TransportError::Send { url: url.clone(), detail })?,
                None => self.client.clone(),
            };
            let resp = client
                .request(parts.method, &url)
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| TransportError::Send { detail: describe_reqwest_error(&e, kube), url: url.clone() })?;
            let mut builder = http::Response::builder().status(resp.status());
            for (k, v) in resp.headers() {
                builder = builder.header(k, v);
            }
            let body = resp.bytes().await.map_err(|e| TransportError::Read { url: url.clone(), detail: e.to_string() })?;
            builder.body(body).map_err(|e| TransportError::Read { url, detail: e.to_string() })
        })
    }
}

/// The error and its causes, with a hint when TLS did not trust the server: for a cluster
/// call, what its kubeconfig's CA (or the lack of one) means, as the in-process check says it;
/// for the cloud's services, how to trust a served simulator's CA.
fn describe_reqwest_error(e: &reqwest::Error, kube: Option<&KubeTls>) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(&format!(": {s}"));
        source = s.source();
    }
    if msg.contains("certificate") || msg.contains("UnknownIssuer") {
        match kube {
            Some(tls) if tls.certificate_authority.is_some() => msg.push_str(&format!(": {}", super::kube_tls::NOT_THIS_CLUSTERS_CA)),
            Some(_) => msg.push_str(&format!(": {}", super::kube_tls::NO_AUTHORITY)),
            None => msg.push_str(" (is the simulator's CA trusted? set SSL_CERT_FILE or REQUESTS_CA_BUNDLE to its ca.pem, e.g. by loading aksflow.env)"),
        }
    }
    msg
}
