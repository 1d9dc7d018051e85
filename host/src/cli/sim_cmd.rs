//! `aksflow sim serve`

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Subcommand;

use crate::serve::{ServeOptions, Served};
use super::out::out;

#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Serve the simulator over HTTPS for real clients (az, MSAL, kubectl, …) and `--target https://…`
    #[command(after_long_help = "\
Serves Entra ID, Microsoft Graph, ARM and every cluster's Kubernetes API on one address, two
ways:
  - as an HTTPS proxy (HTTPS_PROXY=http://ADDR): a CONNECT to login.microsoftonline.com,
    graph.microsoft.com, management.azure.com or a cluster's *.azmk8s.io API server is
    answered by the simulator, with a certificate for that name from its CA (DIR/ca.pem).
    Any other host is refused, naming it: nothing leaves the machine. Clients keep their
    default settings (az, MSAL, azure-identity, the Azure SDKs, kubectl).
  - directly at https://ADDR, for tools that take an endpoint (aksflow run --target).
DIR/aksflow.env holds what a shell needs: the operator service principal (AZURE_*),
HTTPS_PROXY / NO_PROXY, and the CA bundle for Python, OpenSSL and Node. The state is kept in
DIR/state.redb, each change committed before its answer, and restored on the next start.

Example:
  aksflow sim serve --addr 127.0.0.1:8443 --state .sim
  set -a; . .sim/aksflow.env; set +a
  az login --service-principal -u $AZURE_CLIENT_ID -p $AZURE_CLIENT_SECRET --tenant $AZURE_TENANT_ID
  aksflow run flows/legacy-aad.toml --target https://127.0.0.1:8443")]
    Serve {
        /// Address to listen on (port 0 picks a free port)
        #[arg(long, default_value = "127.0.0.1:8443")]
        addr: SocketAddr,
        /// Seed for everything the simulator invents
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for the CA, the env file and the saved state
        #[arg(long, value_name = "DIR", default_value = ".aksflow-sim")]
        state: PathBuf,
        /// Which Azure to simulate: `today` (no new legacy-AAD clusters) or `2019` (seed 000's, with the legacy Azure AD integration)
        #[arg(long, default_value = "today", value_parser = parse_era)]
        era: aksflow_simulator::Era,
        /// Faults to inject: preset names (flaky, slow, replication; comma-separated) or a fault
        /// profile file (docs/faults.md). The schedule follows the seed.
        #[arg(long, value_name = "PRESETS|FILE", value_parser = crate::faults::load)]
        faults: Option<aksflow_simulator::faults::FaultProfile>,
    },
}

fn parse_era(s: &str) -> Result<aksflow_simulator::Era, String> {
    aksflow_simulator::Era::parse(s)
}

pub async fn run(cmd: SimCommand) -> i32 {
    let SimCommand::Serve { addr, seed, state, era, faults } = cmd;
    let exec_command = std::env::current_exe().ok().map(|p| p.display().to_string());
    let served = match Served::start(ServeOptions { addr, seed, state_dir: state.clone(), key_cache: super::cache_dir(), exec_command, limits: Default::default(), era, faults: faults.clone() }).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let base = &served.base_url;
    let op = served.simulator.operator();
    out!("aksflow simulator (seed {seed}, era {era}) serving on {base}");
    if let Some(f) = &faults {
        out!("  faults             {} rule{}, replication {:?}, operations {:?} (answers carry x-aksflow-fault)", f.rules.len(), if f.rules.len() == 1 { "" } else { "s" }, f.replication, f.operations);
    }
    out!("  HTTPS proxy        http://{}   (login.microsoftonline.com, graph.microsoft.com, management.azure.com, *.azmk8s.io; nothing else)", served.addr);
    out!("  login (Entra ID)   {base}/{}/v2.0/.well-known/openid-configuration", op.tenant_id);
    out!("  Microsoft Graph    {base}/v1.0");
    out!("  ARM                {base}/subscriptions/{}", op.subscription_id);
    out!("  clusters           {base}/k8s/<fqdn>   (kubeconfigs fetched at this address point here; through the proxy, https://<fqdn>:443)");
    out!("  device sign-in     {base}/devicelogin");
    out!("  CA certificate     {}", served.ca_path.display());
    out!("  settings           {}   (load with: set -a; . {}; set +a)", served.env_path.display(), served.env_path.display());
    out!();
    out!("az CLI:  with the settings loaded (HTTPS_PROXY, REQUESTS_CA_BUNDLE), az needs no cloud or config change:");
    out!("         az login --service-principal -u \"$AZURE_CLIENT_ID\" -p \"$AZURE_CLIENT_SECRET\" --tenant \"$AZURE_TENANT_ID\"");
    out!("         without the proxy (unset HTTPS_PROXY), az reaches {base} once told, in its own config:");
    for argv in crate::serve::hints::az_direct_mode(base) {
        out!("           {}", crate::serve::hints::shell_line(&argv));
    }
    out!("kubectl: export KUBECONFIG={}   (az aks get-credentials --file \"$KUBECONFIG\"; each cluster has its own CA)", served.env_path.with_file_name("kubeconfig").display());
    out!("flows:   aksflow run flows/legacy-aad.toml --target {base}   (with the settings loaded)");
    out!("\nCtrl-C stops it and saves the state.");
    wait_for_signal().await;
    eprintln!("stopping; saving the state in {}", state.display());
    match served.stop().await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
