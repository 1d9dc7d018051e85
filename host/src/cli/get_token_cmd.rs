//! `aksflow get-token`: kubelogin's `get-token`, flag for flag.

use clap::Args;

use crate::cloud::transport::Https;
use crate::kubelogin::options::{self, Flags, Settings};
use crate::kubelogin::{GetToken, Login, cache};
use super::out::out;

#[derive(Args, Debug)]
#[command(after_long_help = "\
A client-go credential plugin, compatible with kubelogin's get-token: use it as the `command`
of a kubeconfig's exec user (or symlink it as `kubelogin`). It prints an ExecCredential
(client.authentication.k8s.io/v1beta1, or v1 when KUBERNETES_EXEC_INFO asks for it) and keeps
the token on disk until it expires, so kubectl's next calls are answered from the cache.

Environment variables override the flags, as in kubelogin, and the Azure SDK's names win
over kubelogin's own:
  client id       AAD_SERVICE_PRINCIPAL_CLIENT_ID, then AZURE_CLIENT_ID
  client secret   AAD_SERVICE_PRINCIPAL_CLIENT_SECRET, then AZURE_CLIENT_SECRET
  tenant          AZURE_TENANT_ID
  user, password  AAD_USER_PRINCIPAL_NAME / AZURE_USERNAME, AAD_USER_PRINCIPAL_PASSWORD / AZURE_PASSWORD
  login method    AAD_LOGIN_METHOD
  authority host  AZURE_AUTHORITY_HOST (kubelogin reads it for workload identity only)
With --use-azurerm-env-vars, ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID are read
instead of the client and tenant variables.

Against a served simulator, load its aksflow.env (authority host and CA), and set
AKSFLOW_PERSONA=user@domain to have that seeded user answer the device-code prompt.")]
pub struct GetTokenArgs {
    /// Azure environment (only AzurePublicCloud endpoints; use --authority-host for others)
    #[arg(short = 'e', long, default_value = "AzurePublicCloud")]
    pub environment: String,
    /// The AAD server application id (the token's audience)
    #[arg(long)]
    pub server_id: String,
    /// The AAD client application id [default: AKS's client app, 80faf920-1908-4b52-b5ef-a8e7bedfc67a]
    #[arg(long)]
    pub client_id: Option<String>,
    /// The tenant [default: organizations]
    #[arg(short = 't', long)]
    pub tenant_id: Option<String>,
    /// devicecode, spn, ropc or azurecli [default: devicecode]
    #[arg(short = 'l', long)]
    pub login: Option<String>,
    /// v1 endpoints and the `spn:` audience, as the legacy azure auth-provider did
    #[arg(long)]
    pub legacy: bool,
    /// Entra ID authority host; must end with `/` [default: https://login.microsoftonline.com/]
    #[arg(long)]
    pub authority_host: Option<String>,
    /// Service principal secret (--login spn)
    #[arg(long)]
    pub client_secret: Option<String>,
    /// User name (--login ropc)
    #[arg(long)]
    pub username: Option<String>,
    /// Password (--login ropc)
    #[arg(long)]
    pub password: Option<String>,
    /// Read Terraform's ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID
    #[arg(long)]
    pub use_azurerm_env_vars: bool,
    /// Where tokens are cached [default: ~/.kube/cache/kubelogin]
    #[arg(long, visible_alias = "cache-dir")]
    pub token_cache_dir: Option<std::path::PathBuf>,
    /// Accepted for kubelogin compatibility (instance discovery is never done)
    #[arg(long)]
    pub disable_instance_discovery: bool,
}

impl GetTokenArgs {
    /// The settings after the environment has overridden the flags, as kubelogin does.
    pub fn settings(&self) -> Settings {
        let flags = Flags {
            login: self.login.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            tenant_id: self.tenant_id.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            authority_host: self.authority_host.clone(),
            use_azurerm_env_vars: self.use_azurerm_env_vars,
        };
        options::resolve(flags, |k| std::env::var(k).ok())
    }
}

fn exec_api_version() -> Result<String, String> {
    let info = std::env::var("KUBERNETES_EXEC_INFO").unwrap_or_default();
    if info.trim().is_empty() {
        return Ok("client.authentication.k8s.io/v1beta1".into());
    }
    let v: serde_json::Value = serde_json::from_str(&info).map_err(|e| format!("KUBERNETES_EXEC_INFO is not JSON: {e}"))?;
    match v["apiVersion"].as_str().unwrap_or("") {
        "" | "client.authentication.k8s.io/v1beta1" => Ok("client.authentication.k8s.io/v1beta1".into()),
        "client.authentication.k8s.io/v1" => Ok("client.authentication.k8s.io/v1".into()),
        other => Err(format!("api version: {other} is not supported")),
    }
}

pub async fn run(args: GetTokenArgs) -> i32 {
    match get(args).await {
        Ok(json) => {
            out!("{json}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

async fn get(args: GetTokenArgs) -> Result<String, String> {
    let api_version = exec_api_version()?;
    let settings = args.settings();
    if !settings.authority_host.ends_with('/') {
        return Err(format!("authority host {:?} should have a trailing slash", settings.authority_host));
    }
    let login: Login = settings.login.parse()?;
    let login_name = format!("{login:?}");
    let key = cache::key(&[&settings.authority_host, &settings.tenant_id, &args.server_id, &settings.client_id, &login_name, if args.legacy { "legacy" } else { "" }]);
    let dir = args.token_cache_dir.clone().unwrap_or_else(cache::default_dir);
    let now = crate::clock::wall_secs();
    let (token, expires_on) = match cache::read(&dir, &key, now) {
        Some(c) => (c.token, c.expires_on),
        None => {
            let mut extra_ca = Vec::new();
            for var in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"] {
                if let Ok(path) = std::env::var(var) {
                    extra_ca.extend(std::fs::read(&path).map_err(|e| format!("{var}={path}: {e}"))?);
                    extra_ca.push(b'\n');
                }
            }
            let http = Https::with_timeout((!extra_ca.is_empty()).then_some(extra_ca.as_slice()), std::time::Duration::from_secs(60))?;
            let persona = std::env::var("AKSFLOW_PERSONA").ok().filter(|p| !p.is_empty()).map(|user| {
                let seed = std::env::var("AKSFLOW_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
                let pw = std::env::var("AKSFLOW_PERSONA_PASSWORD").unwrap_or_else(|_| aksflow_simulator::directory::seed::persona_password(seed, &user));
                (user, pw)
            });
            let req = GetToken {
                authority_host: settings.authority_host.clone(),
                tenant_id: settings.tenant_id.clone(),
                server_id: args.server_id.clone(),
                client_id: settings.client_id.clone(),
                login,
                legacy: args.legacy,
                client_secret: settings.client_secret.clone(),
                username: settings.username.clone(),
                password: settings.password.clone(),
                persona,
            };
            let (token, expires_on) = req.run(&http).await.map_err(|e| e.to_string())?;
            if let Err(e) = cache::write(&dir, &key, &cache::Cached { token: token.clone(), expires_on }) {
                eprintln!("warning: could not cache the token in {}: {e}", dir.display());
            }
            (token, expires_on)
        }
    };
    let expiry = time::OffsetDateTime::from_unix_timestamp(expires_on).map_err(|e| e.to_string())?;
    let stamp = expiry.format(&time::format_description::well_known::Rfc3339).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": { "interactive": false },
        "status": { "expirationTimestamp": stamp, "token": token },
    })
    .to_string())
}
