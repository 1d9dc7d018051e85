//! `aksflow sim serve`: the simulator's Router over HTTPS on one address, for real clients
//! (az, MSAL, azure-identity, kubectl, the kubernetes client) and for `aksflow run --target
//! https://…`. Its certificate is issued by the simulator's CA (`DIR/ca.pem`); its state is
//! kept in `DIR/state.json` across restarts.
//!
//! Real clients live on the wall clock, so a served simulator's clock starts at the real
//! time and follows it, and long-running operations finish at once (`Retry-After: 1`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aksflow_simulator::{SimConfig, Simulator, Snapshot, VirtualClock};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub struct ServeOptions {
    pub addr: SocketAddr,
    pub seed: u64,
    pub state_dir: PathBuf,
    pub key_cache: Option<PathBuf>,
    /// The `command` exec kubeconfigs name (default `kubelogin`); `sim serve` puts itself.
    pub exec_command: Option<String>,
}

/// A running served simulator.
pub struct Served {
    pub addr: SocketAddr,
    pub base_url: String,
    pub simulator: Simulator,
    pub ca_path: PathBuf,
    pub env_path: PathBuf,
    state_path: PathBuf,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    std::io::Write::write_all(&mut opts.open(&tmp)?, text.as_bytes())?;
    std::fs::rename(&tmp, path)
}

impl Served {
    pub async fn start(opts: ServeOptions) -> Result<Served, String> {
        std::fs::create_dir_all(&opts.state_dir).map_err(|e| format!("cannot create {}: {e}", opts.state_dir.display()))?;
        let listener = TcpListener::bind(opts.addr).await.map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
        let mut addr = listener.local_addr().map_err(|e| e.to_string())?;
        if addr.ip().is_unspecified() {
            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let base_url = format!("https://{addr}");
        let state_path = opts.state_dir.join("state.json");
        let clock = VirtualClock::starting_at(wall_ms());
        // Exec kubeconfigs run this binary's `get-token`, which takes kubelogin's arguments.
        let exec_command = opts.exec_command.clone().unwrap_or_else(|| "kubelogin".into());
        let config = SimConfig { seed: opts.seed, base_url: base_url.clone(), key_cache: opts.key_cache.clone(), instant_operations: true, rsa_certificates: true, exec_command };
        let simulator = match std::fs::read(&state_path) {
            Ok(bytes) => {
                let snap: Snapshot = serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a saved simulator ({e}); move it away to start fresh", state_path.display()))?;
                Simulator::restore(config, clock.clone(), snap).map_err(|e| format!("{e}; serve with that seed, or use another --state directory"))?
            }
            Err(_) => Simulator::new(config, clock.clone()),
        };
        // The saved clock may be behind the wall clock: real clients judge tokens by it.
        clock.set_ms(wall_ms());

        let names: Vec<String> = vec!["localhost".into(), addr.ip().to_string()];
        let (cert_pem, key_pem) = simulator.server_certificate(&names);
        let ca_path = opts.state_dir.join("ca.pem");
        std::fs::write(&ca_path, simulator.ca_pem()).map_err(|e| format!("cannot write {}: {e}", ca_path.display()))?;
        let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|e| e.to_string())?];
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("the simulator's TLS certificate: {e}"))?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let op = simulator.operator();
        let env_path = opts.state_dir.join("aksflow.env");
        let env = format!(
            "AZURE_TENANT_ID={}\nAZURE_CLIENT_ID={}\nAZURE_CLIENT_SECRET={}\nAZURE_AUTHORITY_HOST={base_url}/\nAZURE_SUBSCRIPTION_ID={}\nREQUESTS_CA_BUNDLE={ca}\nSSL_CERT_FILE={ca}\nAKSFLOW_GRAPH_URL={base_url}\nAKSFLOW_ARM_URL={base_url}\nAKSFLOW_SIM_SEED={}\n",
            op.tenant_id,
            op.client_id,
            op.client_secret,
            op.subscription_id,
            opts.seed,
            ca = ca_path.display()
        );
        write_private(&env_path, &env).map_err(|e| format!("cannot write {}: {e}", env_path.display()))?;

        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        let router = simulator.router();
        let mut rx = stopped.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = rx.changed() => return,
                    accepted = listener.accept() => {
                        let Ok((tcp, _)) = accepted else { continue };
                        let (acceptor, router) = (acceptor.clone(), router.clone());
                        tokio::spawn(async move {
                            let Ok(tls) = acceptor.accept(tcp).await else { return };
                            let io = hyper_util::rt::TokioIo::new(tls);
                            let svc = hyper_util::service::TowerToHyperService::new(router);
                            let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new()).serve_connection(io, svc).await;
                        });
                    }
                }
            }
        }));
        // Follow the wall clock.
        let (c, mut rx) = (clock.clone(), stopped.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = rx.changed() => return,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => c.set_ms(wall_ms()),
                }
            }
        }));
        // Save the state every few seconds, so even a kill loses little.
        let (sim, path, mut rx) = (simulator.clone(), state_path.clone(), stopped);
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = rx.changed() => return,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => {
                        let _ = save(&sim, &path);
                    }
                }
            }
        }));
        Ok(Served { addr, base_url, simulator, ca_path, env_path, state_path, stop, tasks })
    }

    /// Stops serving and saves the state.
    pub async fn stop(self) -> Result<(), String> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        save(&self.simulator, &self.state_path).map_err(|e| format!("cannot save the simulator to {}: {e}", self.state_path.display()))
    }
}

fn save(sim: &Simulator, path: &Path) -> std::io::Result<()> {
    write_private(path, &serde_json::to_string(&sim.snapshot()).expect("snapshots serialise"))
}
