//! The served simulator as an HTTPS proxy at Azure's own host names, as LocalStack does for
//! AWS: a client that sets `HTTPS_PROXY=http://127.0.0.1:PORT` (the same port as the direct
//! endpoint) and trusts the simulator's CA reaches it as `login.microsoftonline.com`,
//! `graph.microsoft.com`, `management.azure.com` and each cluster's
//! `*.azmk8s.io` API server, with no other setting. A `CONNECT` to any other host is refused
//! with an answer naming it: nothing is ever tunnelled out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aksflow_simulator::Simulator;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;

/// The Azure hosts answered here (the simulator's own list: it names them in the links it
/// hands back), each with its own certificate from the simulator's CA.
pub use aksflow_simulator::origin::AZURE_HOSTS as HOSTS;

pub use aksflow_simulator::origin::CLUSTER_DOMAIN;

/// What a host is, to the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intercepted {
    /// One of [`HOSTS`]: the simulator's routes as they are.
    Service(String),
    /// A cluster's API server (the simulator routes its requests by their `Host`).
    Cluster(String),
}

impl Intercepted {
    /// `authority` is a CONNECT target, `host:port`. Only port 443 is answered.
    pub fn of(authority: &str) -> Option<Intercepted> {
        let (host, port) = authority.rsplit_once(':')?;
        if port != "443" {
            return None;
        }
        let host = host.to_ascii_lowercase();
        if HOSTS.contains(&host.as_str()) {
            return Some(Intercepted::Service(host));
        }
        aksflow_simulator::origin::is_cluster_host(&host).then_some(Intercepted::Cluster(host))
    }

    pub fn host(&self) -> &str {
        match self {
            Intercepted::Service(h) | Intercepted::Cluster(h) => h,
        }
    }

}

/// The refusal of a CONNECT the simulator does not answer: 403, naming the host.
pub fn refusal(authority: &str) -> hyper::Response<Full<Bytes>> {
    let text = format!(
        "aksflow sim serve is offline: it answers only {}, and AKS API servers (*.{CLUSTER_DOMAIN}), on port 443. \
         {authority} is none of them, and nothing is sent to the internet. Add the host to NO_PROXY if it should be reached directly.\n",
        HOSTS.join(", ")
    );
    hyper::Response::builder()
        .status(http::StatusCode::FORBIDDEN)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text)))
        .expect("a valid response")
}

/// The answer to a CONNECT to a cluster name no cluster has: 502, as a proxy whose DNS
/// lookup failed gives, naming the host.
pub fn no_such_cluster(fqdn: &str) -> hyper::Response<Full<Bytes>> {
    let text = format!("aksflow sim serve: no cluster has the name {fqdn} (was it deleted, or is the kubeconfig from another simulator?); DNS would not resolve it either\n");
    hyper::Response::builder()
        .status(http::StatusCode::BAD_GATEWAY)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text)))
        .expect("a valid response")
}

/// Certificates kept at once (a served simulator has a handful of clusters).
const MAX_CACHED_CERTIFICATES: usize = 256;

/// TLS settings per intercepted host, made on first use and kept: an Azure name gets a
/// certificate for that name alone from the simulator's CA; a cluster's FQDN gets its API
/// server's certificate from the cluster's own CA (kept until its certificates are rotated).
pub struct Certificates {
    simulator: Simulator,
    by_host: Mutex<HashMap<String, tokio_rustls::TlsAcceptor>>,
}

impl Certificates {
    pub fn new(simulator: Simulator) -> Self {
        Certificates { simulator, by_host: Mutex::new(HashMap::new()) }
    }

    /// Whether anything answers at `target`: an Azure name always, a cluster's FQDN while a
    /// cluster has it (otherwise DNS would not resolve it).
    pub fn answers(&self, target: &Intercepted) -> bool {
        match target {
            Intercepted::Service(_) => true,
            Intercepted::Cluster(fqdn) => self.simulator.cluster_ca_id(fqdn).is_some(),
        }
    }

    pub fn acceptor(&self, target: &Intercepted) -> Result<tokio_rustls::TlsAcceptor, String> {
        let no_cluster = |fqdn: &str| format!("no cluster has the name {fqdn}");
        let key = match target {
            Intercepted::Service(host) => host.clone(),
            Intercepted::Cluster(fqdn) => format!("{fqdn} {}", self.simulator.cluster_ca_id(fqdn).ok_or_else(|| no_cluster(fqdn))?),
        };
        if let Some(a) = self.by_host.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(a.clone());
        }
        // Azure's own hosts do not ask for a client certificate; an API server does.
        let acceptor = match target {
            Intercepted::Service(host) => {
                let (cert_pem, key_pem) = self.simulator.server_certificate(std::slice::from_ref(host));
                super::tls_acceptor(&cert_pem, &key_pem, false)?
            }
            Intercepted::Cluster(fqdn) => {
                let c = self.simulator.cluster_server_certificate(fqdn).ok_or_else(|| no_cluster(fqdn))?;
                super::tls_acceptor(&c.cert_pem, &c.key_pem, true)?
            }
        };
        let mut by_host = self.by_host.lock().unwrap_or_else(|p| p.into_inner());
        // Rotations and new clusters add entries: bounded all the same.
        if by_host.len() >= MAX_CACHED_CERTIFICATES {
            by_host.clear();
        }
        by_host.insert(key, acceptor.clone());
        Ok(acceptor)
    }
}

/// Reads one request from a client that opened a plain (not TLS) connection: a CONNECT to
/// an intercepted host is answered `200` and the tunnel comes back, with the host; anything
/// else is answered (403 for another host, 405 for another method) and `None` comes back.
pub async fn accept_connect(tcp: tokio::net::TcpStream, certificates: &Certificates, header_read: std::time::Duration) -> Option<(TokioIo<hyper::upgrade::Upgraded>, Intercepted)> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = Arc::new(Mutex::new(Some(tx)));
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let tx = tx.clone();
        let authority = req.uri().authority().map(|a| a.as_str().to_string()).unwrap_or_default();
        let target = Intercepted::of(&authority);
        // Looked up before the answer: a cluster name no cluster has is refused, not tunnelled.
        let answered = target.as_ref().is_some_and(|t| certificates.answers(t));
        async move {
            if req.method() != http::Method::CONNECT {
                let text = "this is aksflow's simulator: send HTTPS here, or use it as an HTTPS proxy (CONNECT)\n";
                return Ok::<_, std::convert::Infallible>(hyper::Response::builder().status(http::StatusCode::METHOD_NOT_ALLOWED).header(http::header::ALLOW, "CONNECT").body(Full::new(Bytes::from(text))).expect("a valid response"));
            }
            let Some(target) = target else {
                return Ok(refusal(&authority));
            };
            if !answered {
                return Ok(no_such_cluster(target.host()));
            }
            tokio::spawn(async move {
                if let Ok(upgraded) = hyper::upgrade::on(req).await {
                    if let Some(tx) = tx.lock().unwrap_or_else(|p| p.into_inner()).take() {
                        let _ = tx.send((TokioIo::new(upgraded), target));
                    }
                }
            });
            Ok(hyper::Response::new(Full::new(Bytes::new())))
        }
    });
    let mut http1 = hyper::server::conn::http1::Builder::new();
    http1.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_read).keep_alive(false);
    let _ = http1.serve_connection(TokioIo::new(tcp), service).with_upgrades().await;
    rx.await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_azure_hosts_on_443_are_answered() {
        assert_eq!(Intercepted::of("login.microsoftonline.com:443"), Some(Intercepted::Service("login.microsoftonline.com".into())));
        assert_eq!(Intercepted::of("Management.Azure.com:443"), Some(Intercepted::Service("management.azure.com".into())));
        let fqdn = "myaks-rg-ded95f-3c7e39a7.hcp.eastus.azmk8s.io";
        assert_eq!(Intercepted::of(&format!("{fqdn}:443")), Some(Intercepted::Cluster(fqdn.into())));
        assert_eq!(Intercepted::of(&format!("{fqdn}:443")).unwrap().host(), fqdn);
        assert_eq!(Intercepted::of("graph.microsoft.com:443").unwrap().host(), "graph.microsoft.com");
        for refused in [".azmk8s.io:443", "graph.microsoft.com:80", "example.com:443", "azmk8s.io:443", "evilazmk8s.io:443", "login.microsoftonline.com.evil.example:443", "a/b.azmk8s.io:443", "127.0.0.1:443", "169.254.169.254:443", "nohost"] {
            assert_eq!(Intercepted::of(refused), None, "{refused}");
        }
    }

    #[test]
    fn a_refusal_names_the_host_and_says_nothing_leaves() {
        let r = refusal("example.com:443");
        assert_eq!(r.status(), 403);
        let body = futures_body(r);
        assert!(body.contains("example.com:443") && body.contains("offline") && body.contains("NO_PROXY"), "{body}");
    }

    /// A simulator with one cluster (made in its state, as ARM would); its FQDN.
    pub(crate) fn with_cluster() -> (Simulator, String) {
        use aksflow_simulator::arm::aks;
        let config = || aksflow_simulator::SimConfig::in_process(1);
        let sim = Simulator::new(config(), aksflow_simulator::VirtualClock::default());
        let mut snap = sim.snapshot();
        let (sid, tenant) = (snap.world.operator.subscription_id.clone(), snap.world.directory.home_tenant.clone());
        let spec = aks::ClusterSpec { location: Some("eastus".into()), ..Default::default() };
        let mut c = aks::create(&mut snap.world.ids, &sid, "rg", "aks", spec, &tenant, 0, aksflow_simulator::Era::Today).unwrap();
        c.provisioning_state = "Succeeded".into();
        let fqdn = c.fqdn.clone();
        snap.world.arm.clusters.push(c);
        (Simulator::restore(config(), aksflow_simulator::VirtualClock::default(), snap).unwrap(), fqdn)
    }

    #[test]
    fn a_cluster_is_served_with_its_own_ca_and_an_unknown_name_is_not() {
        let (sim, fqdn) = with_cluster();
        let certs = Certificates::new(sim.clone());
        let cluster = Intercepted::Cluster(fqdn.clone());
        assert!(certs.answers(&cluster) && certs.answers(&Intercepted::Service("graph.microsoft.com".into())));
        let unknown = Intercepted::Cluster("nobody.hcp.eastus.azmk8s.io".into());
        assert!(!certs.answers(&unknown) && certs.acceptor(&unknown).is_err());
        let a = certs.acceptor(&cluster).unwrap();
        assert!(Arc::ptr_eq(a.config(), certs.acceptor(&cluster).unwrap().config()), "kept");
        assert_eq!(sim.cluster_server_certificate(&fqdn).unwrap().ca_id, sim.cluster_ca_id(&fqdn).unwrap());
        assert_ne!(sim.certificate_issuer(&fqdn).unwrap(), sim.ca_pem(), "the cluster's own CA, not the simulator's");
    }

    #[test]
    fn the_certificate_cache_is_bounded() {
        let (sim, fqdn) = with_cluster();
        let certs = Certificates::new(sim);
        let some = certs.acceptor(&Intercepted::Service("graph.microsoft.com".into())).unwrap();
        for i in 0..MAX_CACHED_CERTIFICATES {
            certs.by_host.lock().unwrap().insert(format!("old{i}"), some.clone());
        }
        certs.acceptor(&Intercepted::Cluster(fqdn)).unwrap();
        assert_eq!(certs.by_host.lock().unwrap().len(), 1, "at the cap, the cache starts again");
        certs.acceptor(&Intercepted::Service("login.microsoftonline.com".into())).unwrap();
        assert_eq!(certs.by_host.lock().unwrap().len(), 2, "below the cap, certificates accumulate");
    }

    /// One request on a fresh connection, answered by `accept_connect`: what the client read,
    /// and what came back for the tunnel.
    async fn connect(request: &str) -> (String, Option<Intercepted>) {
        let (sim, _) = with_cluster();
        let certs = Certificates::new(sim);
        let request = request.to_string();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut c = tokio::net::TcpStream::connect(addr).await.unwrap();
            c.write_all(request.as_bytes()).await.unwrap();
            let mut answer = vec![0u8; 1024];
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), c.read(&mut answer)).await.unwrap().unwrap();
            String::from_utf8_lossy(&answer[..n]).into_owned()
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let accepted = tokio::time::timeout(std::time::Duration::from_secs(5), accept_connect(tcp, &certs, std::time::Duration::from_secs(5))).await.unwrap_or(None);
        (client.await.unwrap(), accepted.map(|(_, target)| target))
    }

    #[tokio::test]
    async fn a_connect_to_an_azure_host_opens_the_tunnel_and_anything_else_is_answered() {
        let (answer, target) = connect("CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(target, Some(Intercepted::Service("login.microsoftonline.com".into())));
        let (answer, target) = connect("GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 405") && answer.contains("CONNECT"), "{answer}");
        assert_eq!(target, None);
        let (answer, target) = connect("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 403") && answer.contains("example.com:443"), "{answer}");
        assert_eq!(target, None);
        let (_, fqdn) = with_cluster();
        let (answer, target) = connect(&format!("CONNECT {fqdn}:443 HTTP/1.1\r\nHost: {fqdn}:443\r\n\r\n")).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert_eq!(target, Some(Intercepted::Cluster(fqdn)));
        let (answer, target) = connect("CONNECT gone.hcp.eastus.azmk8s.io:443 HTTP/1.1\r\nHost: gone.hcp.eastus.azmk8s.io:443\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 502") && answer.contains("gone.hcp.eastus.azmk8s.io"), "{answer}");
        assert_eq!(target, None);
    }

    fn futures_body(r: hyper::Response<Full<Bytes>>) -> String {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        String::from_utf8(rt.block_on(r.into_body().collect()).unwrap().to_bytes().to_vec()).unwrap()
    }
}
