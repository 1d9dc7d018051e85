//! What kubelogin (or kubectl's old `azure` auth-provider) needs to get an Entra ID token
//! for a cluster, read from a kubeconfig user.

use serde_yaml::Value as Yaml;

use super::{AuthProvider, ExecConfig, User};

impl User {
    /// How to get an Entra ID token for this user, if it is an Azure user (a kubelogin exec
    /// or an `azure` auth-provider).
    pub fn azure_login(&self) -> Option<AzureLogin> {
        if let Some(exec) = self.exec.as_ref().filter(|e| e.speaks_kubelogin()) {
            return Some(AzureLogin::from_exec(exec));
        }
        self.auth_provider.as_ref().filter(|a| a.name == "azure").map(AzureLogin::from_auth_provider)
    }
}

/// Which token endpoint a login talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProtocol {
    /// `/oauth2/v2.0/*` with `scope=<server-id>/.default` (kubelogin's default, MSAL).
    V2,
    /// `/oauth2/*?api-version=1.0` with `resource=<server-id>` (ADAL: `kubelogin --legacy`,
    /// the `azure` auth-provider with `config-mode` "" or "0"); the token's audience is
    /// `spn:<server-id>`.
    V1Adal,
    /// `/oauth2/*` without `api-version` (`azure` auth-provider with `config-mode: "1"`).
    V1,
}

/// What kubelogin (or the `azure` auth-provider) needs to get a token for a cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct AzureLogin {
    pub server_id: String,
    pub client_id: String,
    pub tenant_id: String,
    /// `devicecode`, `spn`, `ropc`, `azurecli`, …
    pub login: String,
    pub environment: Option<String>,
    pub protocol: TokenProtocol,
    pub username: Option<String>,
}

impl AzureLogin {
    pub fn from_exec(exec: &ExecConfig) -> Self {
        let get = |f: &str| exec.arg(f).unwrap_or_default().to_string();
        let env_login = exec
            .env
            .as_ref()
            .and_then(|e| e.as_sequence())
            .and_then(|vars| vars.iter().find(|v| v.get("name").and_then(Yaml::as_str) == Some("AAD_LOGIN_METHOD")))
            .and_then(|v| v.get("value").and_then(Yaml::as_str))
            .map(String::from);
        AzureLogin {
            server_id: get("--server-id"),
            client_id: get("--client-id"),
            tenant_id: get("--tenant-id"),
            login: exec.arg("--login").or(exec.arg("-l")).map(String::from).or(env_login).unwrap_or_else(|| "devicecode".into()),
            environment: exec.arg("--environment").or(exec.arg("-e")).map(String::from),
            protocol: if exec.flag("--legacy") { TokenProtocol::V1Adal } else { TokenProtocol::V2 },
            username: exec.arg("--username").map(String::from),
        }
    }

    pub fn from_auth_provider(ap: &AuthProvider) -> Self {
        let get = |k: &str| ap.config.get(k).cloned().unwrap_or_default();
        let mode = get("config-mode");
        AzureLogin {
            server_id: get("apiserver-id"),
            client_id: get("client-id"),
            tenant_id: get("tenant-id"),
            login: "devicecode".into(),
            environment: ap.config.get("environment").cloned().filter(|e| !e.is_empty()),
            protocol: if mode == "1" { TokenProtocol::V1 } else { TokenProtocol::V1Adal },
            username: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::kube::samples::AZURE_USER;
    use crate::kube::{Credential, Kubeconfig, TokenProtocol};

    #[test]
    fn parses_the_current_context() {
        let kc = Kubeconfig::parse(AZURE_USER).unwrap();
        let cur = kc.current().unwrap();
        assert_eq!(cur.server(), "https://myaks-dns-3c1b2f4a.hcp.eastus.azmk8s.io:443");
        assert_eq!(cur.context_name, "myAKSCluster");
        assert_eq!(cur.cluster.certificate_authority_data.as_deref(), Some("Q0EK"));
        let login = cur.user.azure_login().unwrap();
        assert_eq!(login.server_id, "11111111-1111-1111-1111-111111111111");
        assert_eq!(login.client_id, "22222222-2222-2222-2222-222222222222");
        assert_eq!(login.tenant_id, "33333333-3333-3333-3333-333333333333");
        assert_eq!(login.protocol, TokenProtocol::V1Adal, "no config-mode = legacy ADAL (spn: audience)");
        assert!(matches!(cur.user.credential().unwrap(), Credential::AuthProvider(_)));
    }

    #[test]
    fn config_mode_one_is_v1_without_api_version() {
        let kc = Kubeconfig::parse(&AZURE_USER.replace("environment: AzurePublicCloud", "environment: AzurePublicCloud\n        config-mode: '1'")).unwrap();
        assert_eq!(kc.current().unwrap().user.azure_login().unwrap().protocol, TokenProtocol::V1);
        let kc = Kubeconfig::parse(&AZURE_USER.replace("environment: AzurePublicCloud", "environment: AzurePublicCloud\n        config-mode: 1")).unwrap();
        assert_eq!(kc.current().unwrap().user.azure_login().unwrap().protocol, TokenProtocol::V1, "unquoted YAML numbers too");
    }
}
