//! `aksflow sim serve`: the simulator's Router over HTTPS on one address, for real clients
//! (az, MSAL, azure-identity, kubectl, the kubernetes client) and for `aksflow run --target
//! https://…`. Its certificate is issued by the simulator's CA (`DIR/ca.pem`); its state is
//! kept in `DIR/state.redb`: every change is committed before its answer, and the ids reads
//! and tokens draw are reserved ahead (`store.rs`), across restarts and kills.
//! `connections.rs` holds the accept loop and its limits.
//!
//! Real clients live on the wall clock, so a served simulator's clock starts at the real
//! time and follows it, and long-running operations finish at once (`Retry-After: 1`).

mod client_certificate;
mod connections;
pub mod hints;
mod private;
pub mod proxy;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aksflow_simulator::{ServedCertificates, SimConfig, Simulator, Snapshot, VirtualClock};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;

pub use connections::Limits;
use store::Store;

pub struct ServeOptions {
    pub addr: SocketAddr,
    pub seed: u64,
    pub state_dir: PathBuf,
    pub key_cache: Option<PathBuf>,
    /// The `command` exec kubeconfigs name (default `kubelogin`); `sim serve` puts itself.
    pub exec_command: Option<String>,
    /// Which Azure it simulates (`--era`).
    pub era: aksflow_simulator::Era,
    /// Faults to inject (`--faults`), resolved.
    pub faults: Option<aksflow_simulator::faults::FaultProfile>,
    /// Connection deadlines and cap (`Limits::default()` follows RLIMIT_NOFILE).
    pub limits: Limits,
}

/// A running served simulator.
pub struct Served {
    pub addr: SocketAddr,
    pub base_url: String,
    pub simulator: Simulator,
    pub ca_path: PathBuf,
    pub env_path: PathBuf,
    store: Arc<Store>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// A socket bound to `addr` that does not listen yet (connections are refused until it does).
fn bound_socket(addr: SocketAddr) -> std::io::Result<tokio::net::TcpSocket> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl Served {
    pub async fn start(opts: ServeOptions) -> Result<Served, String> {
        private::create_dir(&opts.state_dir).map_err(|e| format!("cannot create {}: {e}", opts.state_dir.display()))?;
        // Bound now (the port goes into the certificate and aksflow.env) but listening only
        // once those files are written: a script that waits for the port can source
        // aksflow.env at once.
        let socket = bound_socket(opts.addr).map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
        let mut addr = socket.local_addr().map_err(|e| e.to_string())?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let base_url = format!("https://{addr}");
        let store = Arc::new(open_store(&opts.state_dir)?);
        let clock = VirtualClock::starting_at(wall_ms());
        // Exec kubeconfigs run this binary's `get-token`, which takes kubelogin's arguments.
        let exec_command = opts.exec_command.clone().unwrap_or_else(|| "kubelogin".into());
        let names: Vec<String> = vec!["localhost".into(), addr.ip().to_string()];
        // The CA may also certify the Azure hosts the proxy answers for, and nothing else.
        let ca_names: Vec<String> = names.iter().cloned().chain(proxy::HOSTS.iter().map(|h| h.to_string())).chain([proxy::CLUSTER_DOMAIN.to_string()]).collect();
        let config = SimConfig {
            seed: opts.seed,
            base_url: base_url.clone(),
            key_cache: opts.key_cache.clone(),
            served_certificates: Some(served_certificates(&ca_names, wall_ms())),
            exec_command,
            era: opts.era,
            faults: opts.faults.clone(),
        };
        let simulator = match load_state(&store, &opts.state_dir)? {
            Some(snap) => Simulator::restore(config, clock.clone(), snap).map_err(|e| format!("{e}; serve with that seed, or use another --state directory"))?,
            None => Simulator::new(config, clock.clone()),
        };
        // The first snapshot, before the first answer; a state.json it came from is now in the store.
        store.persist(&simulator).map_err(|e| e.to_string())?;
        let _ = std::fs::remove_file(opts.state_dir.join("state.json"));
        // The saved clock may be behind the wall clock: real clients judge tokens by it.
        clock.set_ms(wall_ms());

        let (cert_pem, key_pem) = simulator.server_certificate(&names);
        let ca_path = opts.state_dir.join("ca.pem");
        std::fs::write(&ca_path, simulator.ca_pem()).map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;
        // The direct endpoint serves every cluster's `/k8s/<fqdn>` too: it asks for a client
        // certificate.
        let acceptor = tls_acceptor(&cert_pem, &key_pem, true)?;
        let certificates = Arc::new(proxy::Certificates::new(simulator.clone()));

        let op = simulator.operator();
        let env_path = opts.state_dir.join("aksflow.env");
        let env = format!(
            // No AZURE_AUTHORITY_HOST: through HTTPS_PROXY, clients reach the simulator at
            // Azure's own login host, their default.
            "AZURE_TENANT_ID={}\nAZURE_CLIENT_ID={}\nAZURE_CLIENT_SECRET={}\nAZURE_SUBSCRIPTION_ID={}\nHTTPS_PROXY=http://{addr}\nNO_PROXY=127.0.0.1,localhost\nREQUESTS_CA_BUNDLE={ca}\nSSL_CERT_FILE={ca}\nNODE_EXTRA_CA_CERTS={ca}\nNODE_USE_ENV_PROXY=1\nAKSFLOW_GRAPH_URL={base_url}\nAKSFLOW_ARM_URL={base_url}\nAKSFLOW_SIM_SEED={}\nAKSFLOW_SIM_ERA={}\n# kubectl: kubeconfigs that `az aks get-credentials --file F` or `aksflow run --out D` write name each\n# cluster's own API server and CA; keep them apart from ~/.kube/config, e.g.\n#   export KUBECONFIG={kube}\n#   az aks get-credentials -g RG -n NAME --file \"$KUBECONFIG\"\n",
            op.tenant_id,
            op.client_id,
            op.client_secret,
            op.subscription_id,
            opts.seed,
            opts.era,
            ca = ca_path.display(),
            kube = opts.state_dir.join("kubeconfig").display()
        );
        private::write_file(&env_path, &env).map_err(|e| format!("cannot write {}: {e}", env_path.display()))?;

        let listener = socket.listen(1024).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let router = simulator.router().layer(axum::middleware::from_fn_with_state((simulator.clone(), store.clone()), persist_before_answering));
        tasks.push(tokio::spawn(connections::serve(listener, acceptor, certificates, router, opts.limits, stopped.clone())));
        // Follow the wall clock.
        let (c, mut rx) = (clock.clone(), stopped);
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = rx.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => c.set_ms(wall_ms()),
                }
            }
        }));
        Ok(Served { addr, base_url, simulator, ca_path, env_path, store, stop, tasks })
    }

    /// Stops serving and saves the state.
    pub async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let saved = self.store.persist_final(&self.simulator).map_err(|e| format!("cannot save the simulator: {e}"));
        self.store.close();
        saved
    }
}

/// TLS with this certificate (PEM) and key, HTTP/1.1; asking for a client certificate where
/// an API server is served (`ask_client_certificate`), as kube-apiserver does.
fn tls_acceptor(cert_pem: &str, key_pem: &str, ask_client_certificate: bool) -> Result<tokio_rustls::TlsAcceptor, String> {
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| e.to_string())?];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(if ask_client_certificate { client_certificate::RequestClientCertificate::new(&provider) } else { rustls::server::WebPkiClientVerifier::no_client_auth() })
        .with_single_cert(certs, key)
        .map_err(|e| format!("the simulator's TLS certificate: {e}"))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(tls)))
}

/// How long the served CA is valid. A restart makes it again (from the seed: the same key),
/// valid from the start of that day.
const CA_DAYS: i64 = 14;

/// The served CA: for `names` only, from the start of today (UTC) for [`CA_DAYS`], so
/// restarts on the same day give the same PEM.
fn served_certificates(names: &[String], now_ms: i64) -> ServedCertificates {
    let day_secs = 24 * 3600;
    ServedCertificates { names: names.to_vec(), start_secs: now_ms / 1000 / day_secs * day_secs, days: CA_DAYS }
}

/// Opens `DIR/state.redb`.
fn open_store(dir: &Path) -> Result<Store, String> {
    Store::open(&dir.join("state.redb")).map_err(|e| e.to_string())
}

/// The saved simulator: from the store, or from a `state.json` an older version saved (moved
/// into the store, then removed: it kept its secrets in a file of its own).
fn load_state(store: &Store, dir: &Path) -> Result<Option<Snapshot>, String> {
    if let Some(snap) = store.load().map_err(|e| e.to_string())? {
        return Ok(Some(snap));
    }
    let legacy = dir.join("state.json");
    let Ok(bytes) = std::fs::read(&legacy) else { return Ok(None) };
    let snap: Snapshot = serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a saved simulator ({e}); move it away to start fresh", legacy.display()))?;
    Ok(Some(snap))
}

/// Answers only once every change the request made is in the store. A store that cannot
/// save turns the answer into a 503: the client must not take as done what may be lost.
async fn persist_before_answering(
    axum::extract::State((sim, store)): axum::extract::State<(Simulator, Arc<Store>)>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let resp = next.run(req).await;
    if !store.behind(&sim) {
        return resp;
    }
    match tokio::task::spawn_blocking(move || store.persist(&sim)).await {
        Ok(Ok(())) => resp,
        Ok(Err(e)) => {
            tracing::error!("the simulator could not save its state: {e}");
            unavailable()
        }
        Err(_) => unavailable(),
    }
}

fn unavailable() -> axum::response::Response {
    use axum::response::IntoResponse;
    (http::StatusCode::SERVICE_UNAVAILABLE, [(http::header::RETRY_AFTER, "1")], "the simulator could not save its state\n").into_response()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    use super::*;

    #[test]
    fn the_served_ca_certifies_only_its_names_and_for_days() {
        let now_ms = wall_ms();
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let config = SimConfig {
            key_cache: Some(std::env::temp_dir().join("aksflow-cli-test-cache")),
            served_certificates: Some(served_certificates(&names, now_ms)),
            ..SimConfig::in_process(7)
        };
        let sim = Simulator::new(config, VirtualClock::starting_at(now_ms));
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(sim.ca_pem().as_bytes()).unwrap()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap();
        let verify = |leaf_names: &[&str], name: &str, at_secs: i64| {
            let leaf_names: Vec<String> = leaf_names.iter().map(|n| n.to_string()).collect();
            let (cert, _) = sim.server_certificate(&leaf_names);
            let leaf = CertificateDer::from_pem_slice(cert.as_bytes()).unwrap();
            let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(at_secs as u64));
            verifier.verify_server_cert(&leaf, &[], &ServerName::try_from(name.to_string()).unwrap(), &[], at).map(|_| ())
        };
        let now = now_ms / 1000;
        assert!(verify(&["localhost", "127.0.0.1"], "localhost", now).is_ok());
        assert!(verify(&["localhost", "127.0.0.1"], "127.0.0.1", now).is_ok());
        // A certificate the CA's key could sign for another name is refused by the CA's own
        // name constraints: a leaked key cannot vouch for the rest of the internet.
        assert!(verify(&["login.example.com"], "login.example.com", now).is_err());
        assert!(verify(&["localhost", "10.0.0.1"], "10.0.0.1", now).is_err());
        // Days, not years.
        assert!(verify(&["localhost"], "localhost", now + (CA_DAYS + 1) * 24 * 3600).is_err());
    }

    #[test]
    fn a_state_json_from_before_is_taken_into_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::new(SimConfig::in_process(9), VirtualClock::default());
        std::fs::write(dir.path().join("state.json"), serde_json::to_vec(&sim.snapshot()).unwrap()).unwrap();
        let store = open_store(dir.path()).unwrap();
        let snap = load_state(&store, dir.path()).unwrap().expect("the old state");
        assert_eq!(snap.seed, 9);
        assert_eq!(snap.world.operator.app_id, sim.operator().client_id);
    }
}
