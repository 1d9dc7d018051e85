//! How a simulator is set up: its seed, the URL it names itself by, and how it serves.

/// The base URL a simulator names itself by when it is called in process. `.invalid` never
/// resolves, so nothing can leak to a real host by mistake.
pub const IN_PROCESS_BASE_URL: &str = "https://sim.aksflow.invalid";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// The URL clients reach the simulator at (issuer, discovery documents, `Location`).
    pub base_url: String,
    /// Where the seed's signing key may be cached between processes (it is slow to make).
    pub key_cache: Option<std::path::PathBuf>,
    /// Served to real clients: how the CA is made (see [`ServedCertificates`]). `None` in
    /// process: an Ed25519 CA from the fixed epoch for ten years, so transcripts repeat.
    pub served_certificates: Option<ServedCertificates>,
    /// The `command` of exec kubeconfigs (`kubelogin`, as AKS writes it).
    pub exec_command: String,
    /// Which Azure is simulated: today's, or seed 000's with the legacy AAD integration.
    pub era: crate::Era,
    /// Faults to inject, resolved (presets folded in); `None`: none.
    pub faults: Option<crate::faults::FaultProfile>,
}

impl SimConfig {
    /// How far each reader lags behind the directory (`[faults.replication]`).
    pub fn replication_lag(&self) -> crate::faults::replication::Lag {
        crate::faults::replication::Lag::of(self.faults.as_ref())
    }

    /// Served to real clients over TLS (its certificates are made for them).
    pub fn is_served(&self) -> bool {
        self.served_certificates.is_some()
    }

    pub fn in_process(seed: u64) -> Self {
        SimConfig { seed, base_url: IN_PROCESS_BASE_URL.into(), key_cache: None, served_certificates: None, exec_command: "kubelogin".into(), era: crate::Era::Today, faults: None }
    }
}

/// The CA of a served simulator, which real clients are told to trust: RSA keys (browsers
/// refuse Ed25519), valid only for the host names it serves (name constraints) and only for
/// some days. It comes from the seed, so making it again costs nothing.
#[derive(Debug, Clone)]
pub struct ServedCertificates {
    /// DNS names and IP addresses the CA may certify.
    pub names: Vec<String>,
    /// Start of validity (seconds since the Unix epoch).
    pub start_secs: i64,
    pub days: i64,
}
