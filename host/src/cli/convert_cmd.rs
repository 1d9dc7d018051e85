//! `aksflow convert-kubeconfig`: kubelogin's `convert-kubeconfig`, so the seed's
//! `kubelogin convert-kubeconfig -l azurecli` works through a `kubelogin` symlink to aksflow.

use std::path::{Path, PathBuf};

use aksflow_sdk::kube::Kubeconfig;
use aksflow_sdk::kube::convert::{self, ConvertOptions};
use clap::Args;

use crate::atomic_file;

#[derive(Args, Debug)]
#[command(after_long_help = "\
Rewrites, in place, every user of the kubeconfig that is kubectl's removed `azure`
auth-provider or a kubelogin exec (or only the --context's user) as a kubelogin exec user for
the login method, with the arguments kubelogin writes. Other users are left alone.

The kubeconfig is --kubeconfig, else $KUBECONFIG (one file), else ~/.kube/config.

Examples:
  aksflow convert-kubeconfig -l azurecli                     # use az login's token
  aksflow convert-kubeconfig -l spn --kubeconfig ci.yaml     # then AAD_SERVICE_PRINCIPAL_* at get-token
  ln -s \"$(command -v aksflow)\" ~/bin/kubelogin && kubelogin convert-kubeconfig -l devicecode")]
pub struct ConvertArgs {
    /// The kubeconfig file to convert
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// devicecode (default), interactive, spn, ropc, msi, azurecli, azd or workloadidentity
    #[arg(short = 'l', long)]
    pub login: Option<String>,
    /// AAD server application id [default: from the kubeconfig]
    #[arg(long)]
    pub server_id: Option<String>,
    /// AAD client application id [default: from the kubeconfig]
    #[arg(long)]
    pub client_id: Option<String>,
    /// AAD tenant id [default: from the kubeconfig]
    #[arg(short = 't', long)]
    pub tenant_id: Option<String>,
    /// Azure environment [default: from the kubeconfig]
    #[arg(short = 'e', long)]
    pub environment: Option<String>,
    /// Tokens with the `spn:` audience (v1), as the legacy auth-provider got them
    #[arg(long)]
    pub legacy: bool,
    /// Convert only this context's user
    #[arg(long)]
    pub context: Option<String>,
    /// Written into the exec args for --login spn (kubelogin does the same; prefer the environment)
    #[arg(long)]
    pub client_secret: Option<String>,
    /// Written into the exec args for --login ropc
    #[arg(long)]
    pub username: Option<String>,
    /// Written into the exec args for --login ropc
    #[arg(long)]
    pub password: Option<String>,
}

/// The file to convert: the flag, else $KUBECONFIG (one path), else ~/.kube/config.
fn kubeconfig_path(flag: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = flag {
        return Ok(p);
    }
    if let Some(v) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let paths: Vec<PathBuf> = std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()).collect();
        return match paths.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err("KUBECONFIG names several files; say which one to convert with --kubeconfig FILE".into()),
        };
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set; pass --kubeconfig FILE")?;
    Ok(PathBuf::from(home).join(".kube").join("config"))
}

/// Replaces the file atomically, keeping its mode (kubeconfigs hold credentials).
fn write_back(path: &Path, text: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(atomic_file::PRIVATE)
    };
    #[cfg(not(unix))]
    let mode = atomic_file::PRIVATE;
    atomic_file::write(path, text.as_bytes(), mode)
}

pub fn run(args: ConvertArgs) -> i32 {
    match convert_file(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn convert_file(args: ConvertArgs) -> Result<(), String> {
    let path = kubeconfig_path(args.kubeconfig.clone())?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read the kubeconfig {}: {e}", path.display()))?;
    let mut kc = Kubeconfig::parse(&text).map_err(|e| format!("{}: {}", path.display(), e.message))?;
    let opts = ConvertOptions {
        login: args.login,
        server_id: args.server_id,
        client_id: args.client_id,
        tenant_id: args.tenant_id,
        environment: args.environment,
        legacy: args.legacy.then_some(true),
        context: args.context,
        username: args.username,
        password: args.password,
        client_secret: args.client_secret,
    };
    convert::convert_kubeconfig(&mut kc, &opts).map_err(|e| e.message)?;
    write_back(&path, &kc.to_yaml()).map_err(|e| format!("cannot write the kubeconfig {}: {e}", path.display()))
}
