//! What a run talks to: the in-process simulator (seeded, virtual clock, the operator it
//! seeded) or a live endpoint set reached over HTTPS with the operator from the environment.

use std::sync::Arc;

use aksflow_simulator::{Era, SimConfig, Simulator, Snapshot, VirtualClock};

use crate::bindings::CloudContext;
use crate::clock::RunClock;
use crate::cloud::auth::OperatorCredential;
use crate::cloud::resolver::AddressPolicy;
use crate::cloud::transport::{Https, InProcess};
use crate::cloud::{Endpoints, Gateway, Target};
use crate::redact::Redactor;
use crate::transcript::Transcript;

/// The default region when a flow names none.
pub const DEFAULT_LOCATION: &str = "eastus";

/// Settings for a live target, read from the environment azure-identity uses.
#[derive(Debug, Clone)]
pub struct Live {
    pub operator: OperatorCredential,
    pub tenant_id: String,
    pub subscription_id: String,
    pub endpoints: Endpoints,
    pub ca_pem: Option<Vec<u8>>,
    /// A served simulator's seed (`AKSFLOW_SIM_SEED`): its personas' passwords follow from it.
    pub sim_seed: Option<u64>,
    /// The era a served simulator simulates (`AKSFLOW_SIM_ERA`).
    pub sim_era: Option<Era>,
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

impl Live {
    pub fn from_env(target: &Target) -> Result<Live, String> {
        let mut endpoints = match target {
            Target::Url(u) => Endpoints::single(u),
            _ => Endpoints::azure(),
        };
        // Azure's host names, reached through the served simulator's proxy: the HTTPS client
        // takes HTTPS_PROXY from the environment, as every client of the proxy does.
        if *target == Target::Proxy && var("HTTPS_PROXY").or_else(|| var("https_proxy")).is_none() {
            return Err("--target proxy reaches a served simulator through HTTPS_PROXY, which is not set.\n  Load the aksflow.env that `aksflow sim serve` wrote (set -a; . DIR/aksflow.env; set +a), or use --target https://HOST:PORT.".into());
        }
        // Through the proxy, the services are Azure's own names whatever else the
        // environment names.
        if *target != Target::Proxy {
            if let Some(h) = var("AZURE_AUTHORITY_HOST") {
                endpoints.login = h.trim_end_matches('/').to_string();
            }
            if let Some(g) = var("AKSFLOW_GRAPH_URL") {
                endpoints.graph = g.trim_end_matches('/').to_string();
            }
            if let Some(a) = var("AKSFLOW_ARM_URL") {
                endpoints.arm = a.trim_end_matches('/').to_string();
            }
        }
        let operator = OperatorCredential::from_env();
        let (tenant_id, subscription_id) = match (var("AZURE_TENANT_ID"), var("AZURE_SUBSCRIPTION_ID")) {
            (Some(t), Some(s)) => (t, s),
            (t, s) => {
                let account = az_account_show().map_err(|e| {
                    format!("{e}\n  Set AZURE_TENANT_ID and AZURE_SUBSCRIPTION_ID (for a served simulator: load the aksflow.env it wrote), or sign in with `az login`.")
                })?;
                (t.unwrap_or(account.0), s.unwrap_or(account.1))
            }
        };
        let ca_pem = match var("REQUESTS_CA_BUNDLE").or_else(|| var("SSL_CERT_FILE")) {
            Some(path) => Some(std::fs::read(&path).map_err(|e| format!("cannot read the CA bundle {path}: {e}"))?),
            None => None,
        };
        let sim_seed = var("AKSFLOW_SIM_SEED").and_then(|s| s.parse().ok());
        let sim_era = match var("AKSFLOW_SIM_ERA") {
            Some(e) => Some(Era::parse(&e).map_err(|m| format!("AKSFLOW_SIM_ERA: {m}"))?),
            None => None,
        };
        Ok(Live { operator, tenant_id, subscription_id, endpoints, ca_pem, sim_seed, sim_era })
    }
}

/// `az account show`: (tenant, subscription).
fn az_account_show() -> Result<(String, String), String> {
    let out = std::process::Command::new("az")
        .args(["account", "show", "--output", "json"])
        .output()
        .map_err(|e| format!("no subscription given and `az` could not be run: {e}"))?;
    if !out.status.success() {
        return Err(format!("`az account show` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok((v["tenantId"].as_str().unwrap_or_default().to_string(), v["id"].as_str().unwrap_or_default().to_string()))
}

pub struct Backend {
    pub gateway: Arc<Gateway>,
    pub simulator: Option<Simulator>,
    pub context: CloudContext,
}

pub fn simulated(seed: u64, era: Era, faults: Option<aksflow_simulator::faults::FaultProfile>, key_cache: Option<std::path::PathBuf>, snapshot: Option<Snapshot>, transcript: Arc<Transcript>, redactor: Arc<Redactor>) -> Result<Backend, String> {
    let clock = VirtualClock::default();
    let config = SimConfig { key_cache, era, faults, ..SimConfig::in_process(seed) };
    let sim = match snapshot {
        Some(s) => Simulator::restore(config, clock.clone(), s).map_err(|e| e.to_string())?,
        None => Simulator::new(config, clock.clone()),
    };
    let op = sim.operator();
    let gateway = Gateway::new(
        Endpoints::single(&sim.config().base_url),
        Box::new(InProcess::new(&sim)),
        OperatorCredential::ClientSecret { tenant_id: op.tenant_id.clone(), client_id: op.client_id.clone(), client_secret: op.client_secret.clone() },
        RunClock::Virtual(clock),
        transcript,
        redactor,
    )
    .seeded(seed);
    let context = CloudContext {
        tenant_id: op.tenant_id,
        subscription_id: op.subscription_id,
        target: "sim".into(),
        default_location: DEFAULT_LOCATION.into(),
    };
    Ok(Backend { gateway: Arc::new(gateway), simulator: Some(sim), context })
}

pub fn live(target: &Target, live: Live, transcript: Arc<Transcript>, redactor: Arc<Redactor>) -> Result<Backend, String> {
    let target_host = url::Url::parse(&live.endpoints.arm).ok().and_then(|u| u.host_str().map(String::from)).unwrap_or_default();
    let mut policy = AddressPolicy::for_target_host(&target_host);
    // A private AKS cluster's API server has a private address: the person says so.
    policy.private |= var("AKSFLOW_ALLOW_PRIVATE_NETWORK").is_some_and(|v| v == "1");
    let transport = Https::for_run(live.ca_pem.as_deref(), policy)?;
    let context = CloudContext {
        tenant_id: live.tenant_id.clone(),
        subscription_id: live.subscription_id.clone(),
        target: target.to_string(),
        default_location: DEFAULT_LOCATION.into(),
    };
    let gateway = Gateway::new(live.endpoints, Box::new(transport), live.operator, RunClock::Real, transcript, redactor);
    Ok(Backend { gateway: Arc::new(gateway), simulator: None, context })
}
