//! The operator's credentials: the host signs in, never the plugin. Against the simulator
//! the operator is a seeded tenant-admin service principal; against Azure it is the service
//! principal in `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` / `AZURE_TENANT_ID`, or whoever
//! `az login` signed in.

use std::collections::HashMap;
use std::sync::Mutex;

use super::error::AuthError;

/// How the operator gets tokens.
#[derive(Clone)]
pub enum OperatorCredential {
    /// Client credentials at the token endpoint (the simulator's seeded operator, or a
    /// service principal from the environment).
    ClientSecret { tenant_id: String, client_id: String, client_secret: String },
    /// `az account get-access-token --resource …`.
    AzureCli,
}

impl std::fmt::Debug for OperatorCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperatorCredential::ClientSecret { tenant_id, client_id, .. } => {
                write!(f, "ClientSecret {{ tenant_id: {tenant_id}, client_id: {client_id}, client_secret: <redacted> }}")
            }
            OperatorCredential::AzureCli => f.write_str("AzureCli"),
        }
    }
}

impl OperatorCredential {
    /// From azure-identity's environment variables, else the Azure CLI.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match (var("AZURE_TENANT_ID"), var("AZURE_CLIENT_ID"), var("AZURE_CLIENT_SECRET")) {
            (Some(tenant_id), Some(client_id), Some(client_secret)) => OperatorCredential::ClientSecret { tenant_id, client_id, client_secret },
            _ => OperatorCredential::AzureCli,
        }
    }

    pub fn secret(&self) -> Option<&str> {
        match self {
            OperatorCredential::ClientSecret { client_secret, .. } => Some(client_secret),
            OperatorCredential::AzureCli => None,
        }
    }
}

/// Whom a step acts as instead of the operator (`as = …` in the flow): a user, signed in
/// with their password through the Azure CLI's public client as `az login -u` does, or a
/// service principal with its secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Identity {
    User { tenant_id: String, name: String, password: String },
    ServicePrincipal { tenant_id: String, client_id: String, client_secret: String },
}

impl Identity {
    /// The name transcripts and errors give it: the UPN, or the client id.
    pub fn name(&self) -> &str {
        match self {
            Identity::User { name, .. } => name,
            Identity::ServicePrincipal { client_id, .. } => client_id,
        }
    }

    /// The secret to keep out of transcripts and logs.
    pub fn secret(&self) -> &str {
        match self {
            Identity::User { password, .. } => password,
            Identity::ServicePrincipal { client_secret, .. } => client_secret,
        }
    }

    /// Its tokens' key in the token cache, beside the operator's (keyed by resource alone):
    /// the same name with another secret signs in again, as `az login` would.
    pub fn cache_key(&self, resource: &str) -> String {
        use sha2::Digest;
        let secret = hex::encode(&sha2::Sha256::digest(self.secret().as_bytes())[..8]);
        format!("as {}#{secret}|{resource}", self.name().to_ascii_lowercase())
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::User { tenant_id, name, .. } => write!(f, "User {{ tenant_id: {tenant_id}, name: {name}, password: <redacted> }}"),
            Identity::ServicePrincipal { tenant_id, client_id, .. } => write!(f, "ServicePrincipal {{ tenant_id: {tenant_id}, client_id: {client_id}, client_secret: <redacted> }}"),
        }
    }
}

/// Tokens by resource, until a minute before they expire (run clock).
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, (String, i64)>>,
}

impl TokenCache {
    pub fn get(&self, resource: &str, now_ms: i64) -> Option<String> {
        let t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        t.get(resource).filter(|(_, exp)| now_ms < exp - 60_000).map(|(tok, _)| tok.clone())
    }

    pub fn put(&self, resource: &str, token: String, expires_ms: i64) {
        self.tokens.lock().unwrap_or_else(|p| p.into_inner()).insert(resource.to_string(), (token, expires_ms));
    }

    /// Every token held, by resource (what a saved run keeps, so a resumed one does not
    /// sign in again).
    pub fn all(&self) -> Vec<CachedToken> {
        let t = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<CachedToken> = t.iter().map(|(r, (token, exp))| CachedToken { resource: r.clone(), token: token.clone(), expires_ms: *exp }).collect();
        all.sort_by(|a, b| a.resource.cmp(&b.resource));
        all
    }
}

/// An operator token as the saved run state keeps it (the state file is owner-only).
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CachedToken {
    pub resource: String,
    pub token: String,
    pub expires_ms: i64,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken").field("resource", &self.resource).field("token", &"<redacted>").field("expires_ms", &self.expires_ms).finish()
    }
}

/// A token from the Azure CLI, with its expiry in Unix milliseconds.
pub async fn azure_cli_token(resource: &str) -> Result<(String, i64), AuthError> {
    let out = tokio::process::Command::new("az")
        .args(["account", "get-access-token", "--resource", resource, "--output", "json"])
        .output()
        .await
        .map_err(|e| AuthError::AzureCli(format!("no operator credentials: AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID are not set and running `az` failed ({e}). Set those variables, or run `az login`.")))?;
    if !out.status.success() {
        return Err(AuthError::AzureCli(format!(
            "`az account get-access-token` failed: {}. Run `az login`, or set AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID.",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| AuthError::AzureCli(format!("unexpected output from az: {e}")))?;
    let token = v["accessToken"].as_str().ok_or_else(|| AuthError::AzureCli("az printed no accessToken".into()))?.to_string();
    let expires_ms = v["expires_on"].as_i64().map(|s| s * 1000).unwrap_or(i64::MAX);
    Ok((token, expires_ms))
}
