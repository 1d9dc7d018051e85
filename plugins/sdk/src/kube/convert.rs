//! `kubelogin convert-kubeconfig`: Azure users rewritten as kubelogin `exec` users. [D.3]
//! The `kubeconfig-convert` step and the host's `aksflow convert-kubeconfig` (what a
//! `kubelogin` symlink to aksflow runs) share it.

use super::{ExecConfig, Kubeconfig};
use crate::StepError;
use serde_yaml::Mapping;

/// kubelogin's install hint, used when the user had none.
pub const KUBELOGIN_INSTALL_HINT: &str =
    "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/\n";
pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";

/// The login methods kubelogin knows.
pub const LOGIN_METHODS: &[&str] = &["devicecode", "interactive", "spn", "ropc", "msi", "azurecli", "azd", "workloadidentity"];

/// `kubelogin convert-kubeconfig` flags. `None` = flag not given (kubelogin tells "set" from
/// "empty" the same way).
#[derive(Debug, Clone, Default)]
pub struct ConvertOptions {
    /// `-l`; kubelogin's default is `devicecode`.
    pub login: Option<String>,
    pub server_id: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub environment: Option<String>,
    pub legacy: Option<bool>,
    /// `--context`: convert only this context's user.
    pub context: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_secret: Option<String>,
}

fn convert_error(message: impl Into<String>) -> StepError {
    StepError::new("InvalidArgument", message)
}

/// Converts, in place, every user that is an `azure` auth-provider or a kubelogin exec (or
/// only the `--context`'s user) into a kubelogin exec for `opts.login`, exactly as
/// kubelogin's converter builds the args. Returns the names of the users converted.
pub fn convert_kubeconfig(kc: &mut Kubeconfig, opts: &ConvertOptions) -> Result<Vec<String>, StepError> {
    let login = opts.login.clone().unwrap_or_else(|| "devicecode".into());
    if !LOGIN_METHODS.contains(&login.as_str()) {
        return Err(convert_error(format!("'{login}' is not a supported login method. Supported method is one of {}", LOGIN_METHODS.join(", "))));
    }
    let target_user = match &opts.context {
        Some(ctx) if !ctx.is_empty() => Some(
            kc.context(ctx)
                .ok_or_else(|| convert_error(format!("no context exists with the name: {ctx:?}")))?
                .user
                .clone(),
        ),
        _ => None,
    };
    let mut converted = vec![];
    for nu in &mut kc.users {
        if target_user.as_deref().is_some_and(|t| t != nu.name) {
            continue;
        }
        let user = &mut nu.user;
        let legacy_provider = user.auth_provider.as_ref().filter(|a| a.name == "azure");
        let kubelogin_exec = user.exec.as_ref().filter(|e| e.is_kubelogin());
        if legacy_provider.is_none() && kubelogin_exec.is_none() {
            continue;
        }
        // Flag, else the legacy config key, else the existing exec arg.
        let value = |flag: &Option<String>, cfg_key: &str, arg: &str| -> String {
            if let Some(v) = flag {
                return v.clone();
            }
            match legacy_provider {
                Some(ap) => ap.config.get(cfg_key).cloned().unwrap_or_default(),
                None => user.exec.as_ref().and_then(|e| e.arg(arg)).unwrap_or_default().to_string(),
            }
        };
        let environment = value(&opts.environment, "environment", "--environment");
        let tenant_id = value(&opts.tenant_id, "tenant-id", "--tenant-id");
        let client_id = value(&opts.client_id, "client-id", "--client-id");
        let server_id = value(&opts.server_id, "apiserver-id", "--server-id");
        let is_legacy = match (opts.legacy, legacy_provider) {
            (Some(true), _) => true,
            (_, Some(ap)) => matches!(ap.config.get("config-mode").map(String::as_str), None | Some("") | Some("0")),
            (_, None) => user.exec.as_ref().is_some_and(|e| e.args.iter().any(|a| a == "--legacy")),
        };
        let cache_dir = user.exec.as_ref().and_then(|e| e.arg("--cache-dir").or(e.arg("--token-cache-dir"))).map(String::from);
        let install_hint = user.exec.as_ref().and_then(|e| e.install_hint.clone()).filter(|h| !h.is_empty());

        let mut args: Vec<String> = vec!["get-token".into(), "--login".into(), login.clone()];
        if server_id.is_empty() {
            return Err(convert_error("--server-id is required"));
        }
        args.extend(["--server-id".into(), server_id]);
        if let Some(d) = cache_dir.filter(|d| !d.is_empty()) {
            args.extend(["--cache-dir".into(), d]);
        }
        let mut push = |a: &str, v: &str| args.extend([a.to_string(), v.to_string()]);
        let require = |name: &str, v: &str| if v.is_empty() { Err(convert_error(format!("{name} is required"))) } else { Ok(()) };
        match login.as_str() {
            "azd" | "azurecli" => {
                if let Some(t) = &opts.tenant_id {
                    push("--tenant-id", t);
                }
            }
            "devicecode" | "interactive" | "spn" | "ropc" => {
                require("--client-id", &client_id)?;
                push("--client-id", &client_id);
                require("--tenant-id", &tenant_id)?;
                push("--tenant-id", &tenant_id);
                if !environment.is_empty() {
                    push("--environment", &environment);
                }
                if login == "spn"
                    && let Some(s) = &opts.client_secret
                {
                    push("--client-secret", s);
                }
                if login == "ropc" {
                    if let Some(u) = &opts.username {
                        push("--username", u);
                    }
                    if let Some(p) = &opts.password {
                        push("--password", p);
                    }
                }
                if is_legacy && login != "interactive" {
                    args.push("--legacy".into());
                }
            }
            "msi" => {
                if let Some(c) = &opts.client_id {
                    push("--client-id", c);
                }
            }
            "workloadidentity" => {
                if let Some(c) = &opts.client_id {
                    push("--client-id", c);
                }
                if let Some(t) = &opts.tenant_id {
                    push("--tenant-id", t);
                }
            }
            _ => unreachable!("checked above"),
        }
        user.exec = Some(ExecConfig {
            api_version: EXEC_API_VERSION.into(),
            args,
            command: "kubelogin".into(),
            env: None,
            install_hint: Some(install_hint.unwrap_or_else(|| KUBELOGIN_INSTALL_HINT.into())),
            interactive_mode: None,
            provide_cluster_info: false,
            extra: Mapping::new(),
        });
        user.auth_provider = None;
        converted.push(nu.name.clone());
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The SDK's sample kubeconfigs.
    const AZURE_USER: &str = include_str!("../../testdata/azure-user.kubeconfig");
    const EXEC_USER: &str = include_str!("../../testdata/exec-user.kubeconfig");
    const ADMIN: &str = include_str!("../../testdata/admin.kubeconfig");

    #[test]
    fn converts_a_legacy_azure_user_to_kubelogin_devicecode() {
        let mut kc = Kubeconfig::parse(AZURE_USER).unwrap();
        let converted = convert_kubeconfig(&mut kc, &ConvertOptions::default()).unwrap();
        assert_eq!(converted, vec!["clusterUser_myResourceGroup_myAKSCluster"]);
        let user = &kc.users[0].user;
        assert!(user.auth_provider.is_none());
        let exec = user.exec.as_ref().unwrap();
        assert_eq!(exec.command, "kubelogin");
        assert_eq!(exec.api_version, "client.authentication.k8s.io/v1beta1");
        assert_eq!(
            exec.args,
            [
                "get-token",
                "--login",
                "devicecode",
                "--server-id",
                "11111111-1111-1111-1111-111111111111",
                "--client-id",
                "22222222-2222-2222-2222-222222222222",
                "--tenant-id",
                "33333333-3333-3333-3333-333333333333",
                "--environment",
                "AzurePublicCloud",
                "--legacy"
            ]
        );
        assert_eq!(exec.install_hint.as_deref(), Some(KUBELOGIN_INSTALL_HINT));
        // And what it writes parses back to the same.
        let again = Kubeconfig::parse(&kc.to_yaml()).unwrap();
        assert_eq!(again, kc);
    }

    #[test]
    fn config_mode_one_converts_without_legacy() {
        let mut kc = Kubeconfig::parse(&AZURE_USER.replace("environment: AzurePublicCloud", "environment: AzurePublicCloud\n        config-mode: '1'")).unwrap();
        convert_kubeconfig(&mut kc, &ConvertOptions::default()).unwrap();
        assert!(!kc.users[0].user.exec.as_ref().unwrap().args.contains(&"--legacy".to_string()));
    }

    #[test]
    fn converts_exec_users_per_login_mode_and_keeps_the_install_hint() {
        let mut kc = Kubeconfig::parse(EXEC_USER).unwrap();
        convert_kubeconfig(&mut kc, &ConvertOptions { login: Some("azurecli".into()), ..Default::default() }).unwrap();
        let exec = kc.users[0].user.exec.as_ref().unwrap();
        assert_eq!(exec.args, ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]);
        assert!(exec.install_hint.as_deref().unwrap().contains("aka.ms/aks/kubelogin"), "an existing hint is kept");

        let mut kc = Kubeconfig::parse(EXEC_USER).unwrap();
        convert_kubeconfig(&mut kc, &ConvertOptions { login: Some("spn".into()), client_id: Some("sp-app".into()), ..Default::default() }).unwrap();
        let exec = kc.users[0].user.exec.as_ref().unwrap();
        assert_eq!(
            exec.args,
            ["get-token", "--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--client-id", "sp-app", "--tenant-id", "tid", "--environment", "AzurePublicCloud"]
        );
    }

    #[test]
    fn convert_errors_are_kubelogins() {
        let mut kc = Kubeconfig::parse(&AZURE_USER.replace("        client-id: 22222222-2222-2222-2222-222222222222\n", "")).unwrap();
        assert_eq!(convert_kubeconfig(&mut kc, &ConvertOptions::default()).unwrap_err().message, "--client-id is required");
        let mut kc = Kubeconfig::parse(AZURE_USER).unwrap();
        let e = convert_kubeconfig(&mut kc, &ConvertOptions { server_id: Some(String::new()), ..Default::default() }).unwrap_err();
        assert_eq!(e.message, "--server-id is required");
        let e = convert_kubeconfig(&mut kc, &ConvertOptions { context: Some("nope".into()), ..Default::default() }).unwrap_err();
        assert_eq!(e.message, "no context exists with the name: \"nope\"");
        let e = convert_kubeconfig(&mut kc, &ConvertOptions { login: Some("magic".into()), ..Default::default() }).unwrap_err();
        assert!(e.message.starts_with("'magic' is not a supported login method."));
    }

    #[test]
    fn convert_leaves_other_users_alone() {
        let mut kc = Kubeconfig::parse(ADMIN).unwrap();
        let before = kc.clone();
        assert!(convert_kubeconfig(&mut kc, &ConvertOptions::default()).unwrap().is_empty());
        assert_eq!(kc, before);
    }
}
