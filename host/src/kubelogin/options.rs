//! Which settings `get-token` uses, by kubelogin's rules (its `Options.UpdateFromEnv`): the
//! flags are read first, then every environment variable that is set overrides its flag,
//! even an empty one. Where two variables name the same setting, the Azure SDK's name is read
//! last and wins:
//!
//! | setting | variables, in the order read |
//! |---|---|
//! | client id | `AAD_SERVICE_PRINCIPAL_CLIENT_ID`, `AZURE_CLIENT_ID` |
//! | client secret | `AAD_SERVICE_PRINCIPAL_CLIENT_SECRET`, `AZURE_CLIENT_SECRET` |
//! | tenant | `AZURE_TENANT_ID` |
//! | user name | `AAD_USER_PRINCIPAL_NAME`, `AZURE_USERNAME` |
//! | password | `AAD_USER_PRINCIPAL_PASSWORD`, `AZURE_PASSWORD` |
//! | login method | `AAD_LOGIN_METHOD` |
//!
//! With `--use-azurerm-env-vars`, Terraform's `ARM_CLIENT_ID`, `ARM_CLIENT_SECRET` and
//! `ARM_TENANT_ID` are read instead of the client and tenant variables above.
//!
//! One difference, to reach a served simulator: kubelogin reads `AZURE_AUTHORITY_HOST` only
//! for workload identity; here it applies to every login method (over `--authority-host`).

/// What the command line said (`None`: the flag was not given).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub login: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub tenant_id: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub authority_host: Option<String>,
    pub use_azurerm_env_vars: bool,
}

/// The settings after the environment has had its say, defaults filled in.
#[derive(Clone, PartialEq)]
pub struct Settings {
    pub login: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub tenant_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub authority_host: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("login", &self.login)
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("tenant_id", &self.tenant_id)
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("authority_host", &self.authority_host)
            .finish()
    }
}

/// The AKS AAD client application: the client id az writes into user kubeconfigs.
pub const AKS_CLIENT_ID: &str = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";
pub const DEFAULT_TENANT: &str = "organizations";
pub const DEFAULT_LOGIN: &str = "devicecode";

/// Applies the environment (`env` looks a variable up) over the flags, as kubelogin does.
pub fn resolve(flags: Flags, env: impl Fn(&str) -> Option<String>) -> Settings {
    let mut f = flags;
    let set = |slot: &mut Option<String>, var: &str| {
        if let Some(v) = env(var) {
            *slot = Some(v);
        }
    };
    if f.use_azurerm_env_vars {
        set(&mut f.client_id, "ARM_CLIENT_ID");
        set(&mut f.client_secret, "ARM_CLIENT_SECRET");
        set(&mut f.tenant_id, "ARM_TENANT_ID");
    } else {
        set(&mut f.client_id, "AAD_SERVICE_PRINCIPAL_CLIENT_ID");
        set(&mut f.client_id, "AZURE_CLIENT_ID");
        set(&mut f.client_secret, "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET");
        set(&mut f.client_secret, "AZURE_CLIENT_SECRET");
        set(&mut f.tenant_id, "AZURE_TENANT_ID");
    }
    set(&mut f.username, "AAD_USER_PRINCIPAL_NAME");
    set(&mut f.username, "AZURE_USERNAME");
    set(&mut f.password, "AAD_USER_PRINCIPAL_PASSWORD");
    set(&mut f.password, "AZURE_PASSWORD");
    set(&mut f.login, "AAD_LOGIN_METHOD");
    set(&mut f.authority_host, "AZURE_AUTHORITY_HOST");
    let or = |v: Option<String>, default: &str| v.filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string());
    Settings {
        login: or(f.login, DEFAULT_LOGIN),
        client_id: or(f.client_id, AKS_CLIENT_ID),
        client_secret: f.client_secret.filter(|s| !s.is_empty()),
        tenant_id: or(f.tenant_id, DEFAULT_TENANT),
        username: f.username.filter(|s| !s.is_empty()),
        password: f.password.filter(|s| !s.is_empty()),
        authority_host: or(f.authority_host, DEFAULT_AUTHORITY_HOST),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn flags() -> Flags {
        Flags {
            login: Some("devicecode".into()),
            client_id: Some("flag-client".into()),
            client_secret: Some("flag-secret".into()),
            tenant_id: Some("flag-tenant".into()),
            username: Some("flag-user".into()),
            password: Some("flag-password".into()),
            authority_host: None,
            use_azurerm_env_vars: false,
        }
    }

    #[test]
    fn with_no_environment_the_flags_hold_and_defaults_fill_the_rest() {
        let s = resolve(flags(), env(&[]));
        assert_eq!((s.client_id.as_str(), s.client_secret.as_deref(), s.tenant_id.as_str()), ("flag-client", Some("flag-secret"), "flag-tenant"));
        let s = resolve(Flags::default(), env(&[]));
        assert_eq!((s.login.as_str(), s.client_id.as_str(), s.tenant_id.as_str()), ("devicecode", AKS_CLIENT_ID, "organizations"));
        assert_eq!(s.authority_host, DEFAULT_AUTHORITY_HOST);
        assert_eq!((s.client_secret, s.username, s.password), (None, None, None));
    }

    #[test]
    fn the_environment_overrides_the_flags_as_in_kubelogin() {
        // Seed 001's CI sign-in: kubelogin convert-kubeconfig -l spn, then the secret from the environment.
        let s = resolve(
            flags(),
            env(&[("AAD_LOGIN_METHOD", "spn"), ("AAD_SERVICE_PRINCIPAL_CLIENT_ID", "sp-app"), ("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "sp-secret"), ("AZURE_TENANT_ID", "t2")]),
        );
        assert_eq!((s.login.as_str(), s.client_id.as_str(), s.client_secret.as_deref(), s.tenant_id.as_str()), ("spn", "sp-app", Some("sp-secret"), "t2"));
        let s = resolve(flags(), env(&[("AAD_USER_PRINCIPAL_NAME", "alice"), ("AAD_USER_PRINCIPAL_PASSWORD", "pw"), ("AZURE_AUTHORITY_HOST", "https://127.0.0.1:8443/")]));
        assert_eq!((s.username.as_deref(), s.password.as_deref()), (Some("alice"), Some("pw")));
        assert_eq!(s.authority_host, "https://127.0.0.1:8443/");
    }

    #[test]
    fn the_azure_sdk_names_are_read_last_and_win() {
        let s = resolve(
            Flags::default(),
            env(&[
                ("AAD_SERVICE_PRINCIPAL_CLIENT_ID", "aad-id"),
                ("AZURE_CLIENT_ID", "azure-id"),
                ("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "aad-secret"),
                ("AZURE_CLIENT_SECRET", "azure-secret"),
                ("AAD_USER_PRINCIPAL_NAME", "aad-user"),
                ("AZURE_USERNAME", "azure-user"),
                ("AAD_USER_PRINCIPAL_PASSWORD", "aad-pw"),
                ("AZURE_PASSWORD", "azure-pw"),
            ]),
        );
        assert_eq!((s.client_id.as_str(), s.client_secret.as_deref()), ("azure-id", Some("azure-secret")));
        assert_eq!((s.username.as_deref(), s.password.as_deref()), (Some("azure-user"), Some("azure-pw")));
    }

    #[test]
    fn terraform_names_replace_the_client_and_tenant_variables_when_asked() {
        let vars = [("ARM_CLIENT_ID", "arm-id"), ("ARM_CLIENT_SECRET", "arm-secret"), ("ARM_TENANT_ID", "arm-tenant"), ("AZURE_CLIENT_ID", "azure-id"), ("AZURE_TENANT_ID", "azure-tenant")];
        let s = resolve(Flags { use_azurerm_env_vars: true, ..Flags::default() }, env(&vars));
        assert_eq!((s.client_id.as_str(), s.client_secret.as_deref(), s.tenant_id.as_str()), ("arm-id", Some("arm-secret"), "arm-tenant"));
        let s = resolve(Flags::default(), env(&vars));
        assert_eq!((s.client_id.as_str(), s.tenant_id.as_str()), ("azure-id", "azure-tenant"), "without the flag, ARM_* are not read");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = resolve(flags(), env(&[]));
        let shown = format!("{s:?}");
        assert!(!shown.contains("flag-secret") && !shown.contains("flag-password"), "{shown}");
        assert!(shown.contains("flag-client") && shown.contains("client_secret: Some(\"<redacted>\")"), "the rest is shown: {shown}");
    }
}
