//! The `aksflow` command line.

mod convert_cmd;
mod get_token_cmd;
mod out;
mod plugins_cmd;
mod report_cmd;
mod run_cmd;
mod sim_cmd;
mod test_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub use run_cmd::RunArgs;

const ABOUT: &str = "Run the Entra ID (Azure AD) + AKS integration workflow as sandboxed WebAssembly steps, against Azure or a built-in simulator.";

const LONG_ABOUT: &str = "\
Run the Entra ID (Azure AD) + AKS integration workflow as sandboxed WebAssembly steps, against
Azure or a built-in simulator of Entra ID, Microsoft Graph, ARM and the cluster's Kubernetes API.

A flow file lists steps; each step runs a plugin (a WebAssembly component) in its own sandbox,
which can reach only the cloud services the flow grants it. Against the simulator, everything
is offline and deterministic: the same flow and seed give the same transcript, byte for byte.

Start here:
  aksflow run flows/hello.toml           run a flow on the built-in simulator
  aksflow plugins list                   what each built-in step takes and gives
  aksflow run flows/hello.toml --json    the result as JSON, for scripts
  aksflow test flows/                    every flow as a test suite
  aksflow report out/transcript.jsonl    a run as one HTML page";

#[derive(Parser, Debug)]
#[command(name = "aksflow", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a flow file
    Run(RunArgs),
    /// Run flows as a test suite (one line per flow, JUnit XML, sharding)
    Test(test_cmd::TestArgs),
    /// Draw a run's transcript as one HTML page (sequence diagram, steps, failure first)
    Report(report_cmd::ReportArgs),
    /// List and inspect step plugins
    Plugins {
        #[command(subcommand)]
        command: plugins_cmd::PluginsCommand,
    },
    /// Get a token for a cluster, as kubelogin's get-token does (a client-go credential plugin)
    GetToken(get_token_cmd::GetTokenArgs),
    /// Rewrite a kubeconfig's Azure users as kubelogin exec users, as kubelogin's convert-kubeconfig does
    ConvertKubeconfig(convert_cmd::ConvertArgs),
    /// The simulator on its own
    Sim {
        #[command(subcommand)]
        command: sim_cmd::SimCommand,
    },
}

/// Where compiled components are cached: `$AKSFLOW_CACHE_DIR`, else the user's cache dir.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("AKSFLOW_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("aksflow"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("aksflow"))
}

/// Runs the CLI; returns the process exit code.
pub async fn main(cli: Cli) -> i32 {
    match cli.command {
        Command::Run(args) => run_cmd::run(args).await,
        Command::Test(args) => test_cmd::run(args).await,
        Command::Report(args) => report_cmd::run(args).await,
        Command::Plugins { command } => plugins_cmd::run(command).await,
        Command::Sim { command } => sim_cmd::run(command).await,
        Command::GetToken(args) => get_token_cmd::run(args).await,
        Command::ConvertKubeconfig(args) => convert_cmd::run(args),
    }
}

/// The engine, or the exit code after saying why it could not start.
pub(crate) fn start_engine() -> Result<std::sync::Arc<crate::engine::StepEngine>, i32> {
    crate::engine::StepEngine::new(cache_dir()).map_err(|e| {
        eprintln!("error: cannot start the WebAssembly engine: {e:#}");
        2
    })
}

/// Settings for a live target (none for the simulator), or the exit code after saying why.
pub(crate) fn live_settings(target: &crate::cloud::Target) -> Result<Option<crate::runner::Live>, i32> {
    match target {
        crate::cloud::Target::Sim => Ok(None),
        t => crate::runner::Live::from_env(t).map(Some).map_err(|e| {
            eprintln!("error: {e}");
            2
        }),
    }
}
