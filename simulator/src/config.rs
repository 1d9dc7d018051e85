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
    /// Served to real clients on a real clock: long-running operations finish at once and
    /// pollers are told to come back after a second, instead of minutes of real waiting.
    pub instant_operations: bool,
    /// Certificates with RSA keys, which browsers accept (Chromium refuses Ed25519).
    pub rsa_certificates: bool,
    /// The `command` of exec kubeconfigs (`kubelogin`, as AKS writes it).
    pub exec_command: String,
}

impl SimConfig {
    pub fn in_process(seed: u64) -> Self {
        SimConfig { seed, base_url: IN_PROCESS_BASE_URL.into(), key_cache: None, instant_operations: false, rsa_certificates: false, exec_command: "kubelogin".into() }
    }
}
