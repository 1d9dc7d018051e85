//! Kubernetes: kubeconfigs (clusters, users, contexts, the `azure` auth-provider and kubelogin
//! exec users, `kubelogin convert-kubeconfig`), calls to a cluster's API server, `Status`
//! error bodies, manifests and their REST paths, and `kubectl get`'s table printing.
//!
//! Everything except [`Client::call`] is plain data work, so it is unit-tested natively.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use crate::{Call, Response, Service, StepError};

// ---------------------------------------------------------------------------------------------
// Kubeconfig
// ---------------------------------------------------------------------------------------------

/// `kind: Config`, as kubectl and `az aks get-credentials` write it. Fields this crate does not
/// model are kept (`extra`) and written back, so a converted kubeconfig loses nothing.
/// Serialisation follows clientcmd's key order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion", default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub clusters: Vec<NamedCluster>,
    #[serde(default, deserialize_with = "null_default")]
    pub contexts: Vec<NamedContext>,
    #[serde(rename = "current-context", default, deserialize_with = "null_default")]
    pub current_context: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Yaml>,
    #[serde(default, deserialize_with = "null_default")]
    pub users: Vec<NamedUser>,
    #[serde(flatten)]
    pub extra: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedCluster {
    pub cluster: Cluster,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    #[serde(rename = "certificate-authority", default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority: Option<String>,
    /// Base64 of the PEM CA bundle.
    #[serde(rename = "certificate-authority-data", default, skip_serializing_if = "Option::is_none")]
    pub certificate_authority_data: Option<String>,
    #[serde(rename = "insecure-skip-tls-verify", default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_tls_verify: Option<bool>,
    #[serde(default, deserialize_with = "null_default")]
    pub server: String,
    #[serde(flatten)]
    pub extra: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedContext {
    pub context: Context,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(default, deserialize_with = "null_default")]
    pub cluster: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub user: String,
    #[serde(flatten)]
    pub extra: Mapping,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: User,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    #[serde(rename = "auth-provider", default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<AuthProvider>,
    /// Base64 of the PEM client certificate.
    #[serde(rename = "client-certificate-data", default, skip_serializing_if = "Option::is_none")]
    pub client_certificate_data: Option<String>,
    /// Base64 of the PEM client key.
    #[serde(rename = "client-key-data", default, skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(flatten)]
    pub extra: Mapping,
}

/// `auth-provider: {name: azure, config: {...}}` — kubectl's removed Azure plugin. [D.1]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthProvider {
    pub name: String,
    #[serde(default, deserialize_with = "string_map")]
    pub config: BTreeMap<String, String>,
}

/// A client-go credential plugin (`exec`), e.g. kubelogin. [D.2]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ExecConfig {
    #[serde(rename = "apiVersion", default, deserialize_with = "null_default")]
    pub api_version: String,
    #[serde(default, deserialize_with = "null_default")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub command: String,
    /// Written as `env: null` when absent, as clientcmd does.
    #[serde(default)]
    pub env: Option<Yaml>,
    #[serde(rename = "installHint", default, skip_serializing_if = "Option::is_none")]
    pub install_hint: Option<String>,
    #[serde(rename = "interactiveMode", default, skip_serializing_if = "Option::is_none")]
    pub interactive_mode: Option<String>,
    #[serde(rename = "provideClusterInfo", default, deserialize_with = "null_default")]
    pub provide_cluster_info: bool,
    #[serde(flatten)]
    pub extra: Mapping,
}

fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `config:` values are strings in practice, but YAML may hand us `config-mode: 1` unquoted.
fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let m = Option::<BTreeMap<String, Yaml>>::deserialize(d)?.unwrap_or_default();
    Ok(m.into_iter()
        .filter_map(|(k, v)| {
            let s = match v {
                Yaml::String(s) => s,
                Yaml::Number(n) => n.to_string(),
                Yaml::Bool(b) => b.to_string(),
                Yaml::Null => return None,
                other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_string(),
            };
            Some((k, s))
        })
        .collect())
}

fn invalid(message: impl Into<String>) -> StepError {
    StepError::new("InvalidKubeconfig", message)
}

/// The user, cluster and context a kubeconfig's current context names.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub context_name: &'a str,
    pub context: &'a Context,
    pub cluster_name: &'a str,
    pub cluster: &'a Cluster,
    pub user_name: &'a str,
    pub user: &'a User,
}

impl Current<'_> {
    pub fn server(&self) -> &str {
        &self.cluster.server
    }

    /// The context's namespace, if it names one.
    pub fn namespace(&self) -> Option<&str> {
        self.context.namespace.as_deref().filter(|n| !n.is_empty())
    }
}

impl Kubeconfig {
    /// Parses kubeconfig YAML (or JSON, which is YAML).
    pub fn parse(text: &str) -> Result<Self, StepError> {
        if text.trim().is_empty() {
            return Err(invalid("the kubeconfig is empty"));
        }
        let kc: Kubeconfig = serde_yaml::from_str(text).map_err(|e| invalid(format!("the kubeconfig is not valid: {e}")))?;
        if let Some(kind) = kc.kind.as_deref() {
            if !kind.is_empty() && kind != "Config" {
                return Err(invalid(format!("the kubeconfig has kind `{kind}`, expected `Config`")));
            }
        }
        Ok(kc)
    }

    /// The kubeconfig as YAML, in clientcmd's layout.
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a kubeconfig always serialises")
    }

    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name).map(|c| &c.context)
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name == name).map(|c| &c.cluster)
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name).map(|u| &u.user)
    }

    /// The current context, its cluster and its user.
    pub fn current(&self) -> Result<Current<'_>, StepError> {
        if self.current_context.is_empty() {
            return Err(invalid("the kubeconfig has no current-context"));
        }
        self.resolve(&self.current_context)
    }

    /// A named context, its cluster and its user.
    pub fn resolve(&self, context_name: &str) -> Result<Current<'_>, StepError> {
        let nc = self
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .ok_or_else(|| invalid(format!("context was not found for specified context: {context_name}")))?;
        let nc_cluster = self
            .clusters
            .iter()
            .find(|c| c.name == nc.context.cluster)
            .ok_or_else(|| invalid(format!("cluster \"{}\" of context \"{context_name}\" is not in the kubeconfig", nc.context.cluster)))?;
        if nc_cluster.cluster.server.is_empty() {
            return Err(invalid(format!("cluster \"{}\" has no server defined", nc_cluster.name)));
        }
        let nu = self
            .users
            .iter()
            .find(|u| u.name == nc.context.user)
            .ok_or_else(|| invalid(format!("user \"{}\" of context \"{context_name}\" is not in the kubeconfig", nc.context.user)))?;
        Ok(Current {
            context_name: &nc.name,
            context: &nc.context,
            cluster_name: &nc_cluster.name,
            cluster: &nc_cluster.cluster,
            user_name: &nu.name,
            user: &nu.user,
        })
    }
}

/// How a kubeconfig user authenticates.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential<'a> {
    /// A static bearer token and/or a client certificate (PEM cert + key, concatenated).
    Static { token: Option<&'a str>, identity: Option<String> },
    /// A credential plugin (kubelogin): the token comes from running it.
    Exec(&'a ExecConfig),
    /// kubectl's removed `azure` auth-provider.
    AuthProvider(&'a AuthProvider),
    /// Nothing: requests go out anonymous.
    None,
}

fn decode_b64(field: &str, data: &str) -> Result<String, StepError> {
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| invalid(format!("`{field}` is not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid(format!("`{field}` is not PEM text")))
}

impl User {
    pub fn credential(&self) -> Result<Credential<'_>, StepError> {
        let token = self.token.as_deref().filter(|t| !t.is_empty());
        let identity = match (&self.client_certificate_data, &self.client_key_data) {
            (Some(c), Some(k)) if !c.is_empty() && !k.is_empty() => {
                let mut pem = decode_b64("client-certificate-data", c)?;
                if !pem.ends_with('\n') {
                    pem.push('\n');
                }
                pem.push_str(&decode_b64("client-key-data", k)?);
                Some(pem)
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(invalid("the user has only one of client-certificate-data and client-key-data"));
            }
            _ => None,
        };
        if token.is_some() || identity.is_some() {
            return Ok(Credential::Static { token, identity });
        }
        if let Some(exec) = &self.exec {
            return Ok(Credential::Exec(exec));
        }
        if let Some(ap) = &self.auth_provider {
            return Ok(Credential::AuthProvider(ap));
        }
        Ok(Credential::None)
    }

    /// How to get an Entra ID token for this user, if it is an Azure user (a kubelogin exec
    /// or an `azure` auth-provider).
    pub fn azure_login(&self) -> Option<AzureLogin> {
        if let Some(exec) = self.exec.as_ref().filter(|e| e.is_kubelogin()) {
            return Some(AzureLogin::from_exec(exec));
        }
        self.auth_provider.as_ref().filter(|a| a.name == "azure").map(AzureLogin::from_auth_provider)
    }
}

impl ExecConfig {
    /// The value after `--name` (or in `--name=value`).
    pub fn arg(&self, flag: &str) -> Option<&str> {
        let mut it = self.args.iter();
        while let Some(a) = it.next() {
            if a == flag {
                return it.next().map(String::as_str);
            }
            if let Some(v) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
        None
    }

    /// Whether a boolean flag is set (`--legacy`, `--legacy=true`).
    pub fn flag(&self, flag: &str) -> bool {
        self.args.iter().any(|a| a == flag || a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')).is_some_and(|v| v == "true"))
    }

    /// kubelogin's own test: the command contains "kubelogin", case-insensitively. [D.3]
    pub fn is_kubelogin(&self) -> bool {
        self.command.to_ascii_lowercase().contains("kubelogin")
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

// ---------------------------------------------------------------------------------------------
// kubelogin convert-kubeconfig [D.3]
// ---------------------------------------------------------------------------------------------

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
                if login == "spn" {
                    if let Some(s) = &opts.client_secret {
                        push("--client-secret", s);
                    }
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

// ---------------------------------------------------------------------------------------------
// Calls to the API server
// ---------------------------------------------------------------------------------------------

/// A bare request to a cluster's API server at `server` (a kubeconfig's
/// `clusters[].cluster.server`); add credentials with `.bearer(token)` or
/// `.client_identity(pem)`, or use a [`Client`], which does.
pub fn call(method: &str, server: &str, path: &str) -> Call {
    Call::new(Service::Kube, method, path).server(server).anonymous()
}

/// Where and as whom to call a cluster's API server.
#[derive(Clone)]
pub struct Client {
    pub server: String,
    token: Option<String>,
    identity: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Client {
    /// A client for `server` with a bearer token of the step's own.
    pub fn with_token(server: &str, token: &str) -> Self {
        Client { server: server.into(), token: Some(token.into()), identity: None }
    }

    /// The current context's server and credentials. `token` (e.g. a `kube-login` output)
    /// replaces the user's token, as `kubectl --token` does; without it the user must carry
    /// a static token or a client certificate.
    pub fn from_kubeconfig(kc: &Kubeconfig, token: Option<&str>) -> Result<Self, StepError> {
        let cur = kc.current()?;
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        match cur.user.credential()? {
            Credential::Static { token: static_token, identity } => Ok(Client {
                server: cur.server().into(),
                token: token.or(static_token).map(String::from),
                identity,
            }),
            Credential::None => Ok(Client { server: cur.server().into(), token: token.map(String::from), identity: None }),
            Credential::Exec(_) | Credential::AuthProvider(_) if token.is_some() => {
                Ok(Client { server: cur.server().into(), token: token.map(String::from), identity: None })
            }
            Credential::Exec(e) => Err(StepError::new(
                "NoCredentials",
                format!("the kubeconfig's user `{}` gets its token by running `{}`, which a step cannot run", cur.user_name, e.command),
            )
            .with_hint("run a `kube-login` step on this kubeconfig and pass its `token` output as this step's `token` input")),
            Credential::AuthProvider(a) => Err(StepError::new(
                "NoCredentials",
                format!("the kubeconfig's user `{}` uses the `{}` auth-provider, which a step cannot run", cur.user_name, a.name),
            )
            .with_hint("run a `kube-login` step on this kubeconfig and pass its `token` output as this step's `token` input")),
        }
    }

    pub fn has_credentials(&self) -> bool {
        self.token.is_some() || self.identity.is_some()
    }

    /// A request to `path` below the server, carrying this client's credentials (never the
    /// operator's).
    pub fn call(&self, method: &str, path: &str) -> Call {
        let mut call = call(method, &self.server, path);
        if let Some(t) = &self.token {
            call = call.bearer(t);
        }
        if let Some(id) = &self.identity {
            call = call.client_identity(id);
        }
        call
    }
}

// ---------------------------------------------------------------------------------------------
// Status errors [E.3]
// ---------------------------------------------------------------------------------------------

/// A Kubernetes `Status` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub code: u16,
}

/// The `reason` the apiserver gives a status code when a body names none.
pub fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// The failure an error response carries: `(reason, message)`.
pub fn status_of(resp: &Response) -> (String, String) {
    let parsed = serde_json::from_slice::<Status>(&resp.body).ok().filter(|s| s.kind == "Status" || !s.reason.is_empty() || !s.message.is_empty());
    match parsed {
        Some(s) => {
            let reason = if s.reason.is_empty() { reason_for_code(resp.status).to_string() } else { s.reason };
            let message = if s.message.is_empty() { format!("the server answered {}", resp.status) } else { s.message };
            (reason, message)
        }
        None => {
            let text = resp.text();
            let text = text.trim();
            let message = if text.is_empty() { format!("the server answered {}", resp.status) } else { text.chars().take(500).collect() };
            (reason_for_code(resp.status).to_string(), message)
        }
    }
}

/// A `Status` error body as a step error: code = `reason` (`Unauthorized`, `Forbidden`,
/// `NotFound`, `AlreadyExists`, …), message = `message`.
pub fn status_error(resp: &Response) -> StepError {
    let (reason, message) = status_of(resp);
    StepError::new(reason, message)
}

/// The same, with the message as kubectl prints it: `Error from server (Forbidden): …`, or
/// `You must be logged in to the server (Unauthorized)` for a 401.
pub fn kubectl_error(resp: &Response) -> StepError {
    let (reason, message) = status_of(resp);
    StepError::new(reason.clone(), kubectl_message(resp.status, &reason, &message))
}

pub fn kubectl_message(status: u16, reason: &str, message: &str) -> String {
    if status == 401 {
        return format!("You must be logged in to the server ({message})");
    }
    format!("Error from server ({reason}): {message}")
}

// ---------------------------------------------------------------------------------------------
// Resource types and manifests
// ---------------------------------------------------------------------------------------------

/// A built-in resource type: how `kubectl` names it and where it lives.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
}

macro_rules! rt {
    ($kind:literal, $plural:literal, $singular:literal, [$($s:literal),*], $group:literal, $version:literal, $ns:literal) => {
        ResourceType { kind: $kind, plural: $plural, singular: $singular, short_names: &[$($s),*], group: $group, version: $version, namespaced: $ns }
    };
}

/// The resource types the kube steps know without discovery.
pub const RESOURCES: &[ResourceType] = &[
    rt!("Namespace", "namespaces", "namespace", ["ns"], "", "v1", false),
    rt!("Node", "nodes", "node", ["no"], "", "v1", false),
    rt!("Pod", "pods", "pod", ["po"], "", "v1", true),
    rt!("Service", "services", "service", ["svc"], "", "v1", true),
    rt!("ServiceAccount", "serviceaccounts", "serviceaccount", ["sa"], "", "v1", true),
    rt!("ConfigMap", "configmaps", "configmap", ["cm"], "", "v1", true),
    rt!("Secret", "secrets", "secret", [], "", "v1", true),
    rt!("Event", "events", "event", ["ev"], "", "v1", true),
    rt!("Endpoints", "endpoints", "endpoints", ["ep"], "", "v1", true),
    rt!("PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", ["pvc"], "", "v1", true),
    rt!("PersistentVolume", "persistentvolumes", "persistentvolume", ["pv"], "", "v1", false),
    rt!("Deployment", "deployments", "deployment", ["deploy"], "apps", "v1", true),
    rt!("ReplicaSet", "replicasets", "replicaset", ["rs"], "apps", "v1", true),
    rt!("DaemonSet", "daemonsets", "daemonset", ["ds"], "apps", "v1", true),
    rt!("StatefulSet", "statefulsets", "statefulset", ["sts"], "apps", "v1", true),
    rt!("Job", "jobs", "job", [], "batch", "v1", true),
    rt!("CronJob", "cronjobs", "cronjob", ["cj"], "batch", "v1", true),
    rt!("Role", "roles", "role", [], "rbac.authorization.k8s.io", "v1", true),
    rt!("RoleBinding", "rolebindings", "rolebinding", [], "rbac.authorization.k8s.io", "v1", true),
    rt!("ClusterRole", "clusterroles", "clusterrole", [], "rbac.authorization.k8s.io", "v1", false),
    rt!("ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", [], "rbac.authorization.k8s.io", "v1", false),
];

impl ResourceType {
    /// `/api/v1` or `/apis/{group}/{version}`.
    pub fn api_prefix(&self, version: Option<&str>) -> String {
        let v = version.unwrap_or(self.version);
        if self.group.is_empty() { format!("/api/{v}") } else { format!("/apis/{}/{v}", self.group) }
    }

    /// The collection path, in `namespace` when the type is namespaced (`None` = all
    /// namespaces).
    pub fn collection_path(&self, version: Option<&str>, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}/namespaces/{ns}/{}", self.api_prefix(version), self.plural),
            _ => format!("{}/{}", self.api_prefix(version), self.plural),
        }
    }

    /// `pods`, `clusterrolebindings.rbac.authorization.k8s.io` (a Forbidden message's form).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// `pod`, `clusterrolebinding.rbac.authorization.k8s.io` (what `kubectl apply` prints).
    pub fn qualified_singular(&self) -> String {
        if self.group.is_empty() { self.singular.to_string() } else { format!("{}.{}", self.singular, self.group) }
    }
}

/// A resource type by what a person types after `kubectl get`: plural, singular, short
/// name or kind, optionally `.group`-qualified, case-insensitively.
pub fn resource_by_name(name: &str) -> Option<&'static ResourceType> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, group) = match lower.split_once('.') {
        Some((b, g)) => (b.to_string(), Some(g.to_string())),
        None => (lower.clone(), None),
    };
    RESOURCES.iter().find(|r| {
        let names = base == r.plural || base == r.singular || base == r.kind.to_ascii_lowercase() || r.short_names.contains(&base.as_str());
        names && group.as_deref().is_none_or(|g| g == r.group || r.group.starts_with(&format!("{g}.")))
    })
}

/// A resource type by a manifest's `apiVersion` and `kind`.
pub fn resource_by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    RESOURCES.iter().find(|r| r.kind == kind && r.group == group)
}

/// Splits multi-document YAML (or JSON) into objects; `kind: List` documents are expanded
/// into their items and empty documents skipped.
pub fn parse_manifests(text: &str) -> Result<Vec<Json>, StepError> {
    let mut out = vec![];
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Json::deserialize(doc)
            .map_err(|e| StepError::new("InvalidManifest", format!("document {} of the manifest is not valid YAML: {e}", i + 1)))?;
        match value {
            Json::Null => continue,
            Json::Object(ref o) => {
                let is_list = o.get("kind").and_then(Json::as_str).is_some_and(|k| k.ends_with("List")) && o.get("items").is_some_and(Json::is_array);
                if is_list {
                    for item in o["items"].as_array().into_iter().flatten() {
                        out.push(item.clone());
                    }
                } else {
                    out.push(value);
                }
            }
            _ => return Err(StepError::new("InvalidManifest", format!("document {} of the manifest is not an object", i + 1))),
        }
    }
    Ok(out)
}

/// One object of a manifest, located.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub resource: &'static ResourceType,
    pub api_version: String,
    pub name: String,
    /// `Some` for namespaced types.
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// Where a manifest object lives: its type from `apiVersion`/`kind`, its namespace from
    /// `metadata.namespace` or `default_namespace`. Errors read like kubectl's.
    pub fn from_manifest(obj: &Json, default_namespace: &str) -> Result<Self, StepError> {
        let api_version = obj.get("apiVersion").and_then(Json::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
        let mut missing = vec![];
        if api_version.is_empty() {
            missing.push("apiVersion not set");
        }
        if kind.is_empty() {
            missing.push("kind not set");
        }
        if !missing.is_empty() {
            return Err(StepError::new("InvalidManifest", format!("error validating data: [{}]", missing.join(", "))));
        }
        let name = obj.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
        if name.is_empty() {
            return Err(StepError::new("InvalidManifest", format!("error when retrieving current configuration of a {kind}: resource name may not be empty")));
        }
        let resource = resource_by_kind(api_version, kind).ok_or_else(|| {
            let ns = obj.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("");
            StepError::new(
                "ResourceMappingNotFound",
                format!("resource mapping not found for name: {name:?} namespace: {ns:?} from \"manifest\": no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first"),
            )
        })?;
        let namespace = resource.namespaced.then(|| {
            obj.pointer("/metadata/namespace").and_then(Json::as_str).filter(|n| !n.is_empty()).unwrap_or(default_namespace).to_string()
        });
        Ok(ObjectRef { resource, api_version: api_version.to_string(), name: name.to_string(), namespace })
    }

    fn version(&self) -> &str {
        self.api_version.rsplit('/').next().unwrap_or(self.resource.version)
    }

    pub fn collection_path(&self) -> String {
        self.resource.collection_path(Some(self.version()), self.namespace.as_deref())
    }

    pub fn item_path(&self) -> String {
        format!("{}/{}", self.collection_path(), self.name)
    }

    /// `clusterrolebinding.rbac.authorization.k8s.io/contoso-cluster-admins`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.resource.qualified_singular(), self.name)
    }
}

/// Whether every field `desired` sets has that value in `actual` (objects recursively,
/// arrays element by element). What makes `kubectl apply` print `unchanged`.
pub fn is_subset(desired: &Json, actual: &Json) -> bool {
    match (desired, actual) {
        (Json::Object(d), Json::Object(a)) => d.iter().all(|(k, v)| match a.get(k) {
            Some(av) => is_subset(v, av),
            None => v.is_null(),
        }),
        (Json::Array(d), Json::Array(a)) => d.len() == a.len() && d.iter().zip(a).all(|(x, y)| is_subset(x, y)),
        (Json::Null, Json::Null) => true,
        (d, a) => d == a,
    }
}

/// `desired` merged over `base`: objects key by key, everything else replaced.
pub fn merge(base: &Json, desired: &Json) -> Json {
    match (base, desired) {
        (Json::Object(b), Json::Object(d)) => {
            let mut out = b.clone();
            for (k, v) in d {
                let merged = match b.get(k) {
                    Some(bv) => merge(bv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        (_, d) => d.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// kubectl get: tables
// ---------------------------------------------------------------------------------------------

/// The `Accept` header with which kubectl asks for server-side tables.
pub const ACCEPT_TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";

/// A table as kubectl prints it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// kubectl's tabwriter: every column but the last padded to its widest cell + 3
    /// (at least 6); the last column not padded.
    pub fn render(&self) -> String {
        let ncols = self.headers.len();
        let mut widths = vec![0usize; ncols];
        for line in std::iter::once(&self.headers).chain(self.rows.iter()) {
            for (i, cell) in line.iter().enumerate().take(ncols) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in std::iter::once(&self.headers).chain(self.rows.iter()) {
            let mut s = String::new();
            for (i, cell) in line.iter().enumerate().take(ncols) {
                s.push_str(cell);
                if i + 1 < ncols {
                    let width = (widths[i] + 3).max(6);
                    s.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
                }
            }
            out.push_str(&s);
            out.push('\n');
        }
        out
    }
}

fn cell_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => "<none>".into(),
        Json::Number(n) => n.to_string(),
        Json::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Builds what `kubectl get` prints from a response body: a `meta.k8s.io` `Table` (columns
/// of priority 0, headers upper-cased), or a plain `…List` (NAME and AGE, the columns kubectl
/// falls back to). `all_namespaces` puts NAMESPACE first. `now_secs` (Unix seconds) ages a
/// plain list's objects.
pub fn table_from_response(body: &Json, all_namespaces: bool, now_secs: i64) -> Result<Table, StepError> {
    let kind = body.get("kind").and_then(Json::as_str).unwrap_or("");
    let mut table = Table::default();
    if kind == "Table" {
        let cols = body.get("columnDefinitions").and_then(Json::as_array).cloned().unwrap_or_default();
        let shown: Vec<usize> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.get("priority").and_then(Json::as_i64).unwrap_or(0) == 0)
            .map(|(i, _)| i)
            .collect();
        if all_namespaces {
            table.headers.push("NAMESPACE".into());
        }
        for &i in &shown {
            table.headers.push(cols[i].get("name").and_then(Json::as_str).unwrap_or("").to_ascii_uppercase());
        }
        for row in body.get("rows").and_then(Json::as_array).into_iter().flatten() {
            let cells = row.get("cells").and_then(Json::as_array).cloned().unwrap_or_default();
            let mut line = vec![];
            if all_namespaces {
                line.push(row.pointer("/object/metadata/namespace").and_then(Json::as_str).unwrap_or("").to_string());
            }
            for &i in &shown {
                line.push(cells.get(i).map(cell_text).unwrap_or_default());
            }
            table.rows.push(line);
        }
        return Ok(table);
    }
    if let Some(items) = body.get("items").and_then(Json::as_array) {
        if all_namespaces {
            table.headers.push("NAMESPACE".into());
        }
        table.headers.extend(["NAME".to_string(), "AGE".to_string()]);
        for item in items {
            let mut line = vec![];
            if all_namespaces {
                line.push(item.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("").to_string());
            }
            line.push(item.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("").to_string());
            let age = item
                .pointer("/metadata/creationTimestamp")
                .and_then(Json::as_str)
                .and_then(parse_rfc3339)
                .map(|t| human_duration(now_secs - t))
                .unwrap_or_else(|| "<unknown>".into());
            line.push(age);
            table.rows.push(line);
        }
        return Ok(table);
    }
    Err(StepError::new("UnexpectedResponse", format!("the server answered with a `{kind}`, neither a Table nor a list")))
}

/// Unix seconds of an RFC 3339 timestamp (`2024-05-16T03:25:00Z`, fractions and offsets
/// allowed).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, rest) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, 0)
    } else {
        let i = rest.rfind(['+', '-'])?;
        let (t, off) = rest.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (t, sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60))
    };
    let time = time.split('.').next()?;
    let mut t = time.split(':');
    let (hh, mm, ss): (i64, i64, i64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, day) * 86_400 + hh * 3600 + mm * 60 + ss - offset_secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// kubectl's AGE: apimachinery `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

/// Seconds since the Unix epoch by the run's clock.
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AZURE_USER: &str = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EK
    server: https://myaks-dns-3c1b2f4a.hcp.eastus.azmk8s.io:443
  name: myAKSCluster
contexts:
- context:
    cluster: myAKSCluster
    user: clusterUser_myResourceGroup_myAKSCluster
  name: myAKSCluster
current-context: myAKSCluster
kind: Config
preferences: {}
users:
- name: clusterUser_myResourceGroup_myAKSCluster
  user:
    auth-provider:
      config:
        apiserver-id: 11111111-1111-1111-1111-111111111111
        client-id: 22222222-2222-2222-2222-222222222222
        environment: AzurePublicCloud
        tenant-id: 33333333-3333-3333-3333-333333333333
      name: azure
"#;

    const EXEC_USER: &str = r#"apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EK
    server: https://myaks.hcp.eastus.azmk8s.io:443
  name: myAKSCluster
contexts:
- context:
    cluster: myAKSCluster
    user: clusterUser_rg_myAKSCluster
  name: myAKSCluster
current-context: myAKSCluster
kind: Config
preferences: {}
users:
- name: clusterUser_rg_myAKSCluster
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - tid
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: |

        kubelogin is not installed which is required to connect to AAD enabled cluster.

        To learn more, please go to https://aka.ms/aks/kubelogin
      interactiveMode: IfAvailable
      provideClusterInfo: false
"#;

    fn admin() -> String {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        format!(
            "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: Q0EK\n    server: https://a.hcp.eastus.azmk8s.io:443\n  name: a\ncontexts:\n- context:\n    cluster: a\n    user: clusterAdmin_rg_a\n  name: a-admin\ncurrent-context: a-admin\nkind: Config\npreferences: {{}}\nusers:\n- name: clusterAdmin_rg_a\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n    token: abc123\n",
            b64("-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"),
            b64("-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n")
        )
    }

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

    #[test]
    fn parses_exec_args() {
        let kc = Kubeconfig::parse(EXEC_USER).unwrap();
        let user = kc.current().unwrap().user;
        let exec = user.exec.as_ref().unwrap();
        assert!(exec.is_kubelogin());
        assert_eq!(exec.arg("--server-id"), Some("6dae42f8-4368-4678-94ff-3960e28e3630"));
        assert!(!exec.flag("--legacy"));
        let login = user.azure_login().unwrap();
        assert_eq!(login.login, "devicecode");
        assert_eq!(login.tenant_id, "tid");
        assert_eq!(login.environment.as_deref(), Some("AzurePublicCloud"));
        assert_eq!(login.protocol, TokenProtocol::V2);
        assert_eq!(exec.interactive_mode.as_deref(), Some("IfAvailable"));
        let e = ExecConfig { args: vec!["get-token".into(), "--server-id=x".into(), "--legacy".into()], ..Default::default() };
        assert_eq!(e.arg("--server-id"), Some("x"));
        assert!(e.flag("--legacy"));
    }

    #[test]
    fn admin_users_carry_a_token_and_a_client_certificate() {
        let kc = Kubeconfig::parse(&admin()).unwrap();
        let cur = kc.current().unwrap();
        assert_eq!(cur.context_name, "a-admin");
        match cur.user.credential().unwrap() {
            Credential::Static { token, identity } => {
                assert_eq!(token, Some("abc123"));
                let pem = identity.unwrap();
                assert!(pem.starts_with("-----BEGIN CERTIFICATE-----") && pem.contains("-----BEGIN RSA PRIVATE KEY-----"));
            }
            other => panic!("{other:?}"),
        }
        let client = Client::from_kubeconfig(&kc, None).unwrap();
        assert!(client.has_credentials());
        assert!(!format!("{client:?}").contains("abc123"), "Debug never shows the token");
    }

    #[test]
    fn exec_users_need_a_token_input() {
        let kc = Kubeconfig::parse(EXEC_USER).unwrap();
        let e = Client::from_kubeconfig(&kc, None).unwrap_err();
        assert_eq!(e.code, "NoCredentials");
        assert!(e.hint.unwrap().contains("kube-login"));
        assert!(Client::from_kubeconfig(&kc, Some("tok")).is_ok());
    }

    #[test]
    fn bad_kubeconfigs_are_reported() {
        assert_eq!(Kubeconfig::parse("").unwrap_err().code, "InvalidKubeconfig");
        assert_eq!(Kubeconfig::parse("clusters: [").unwrap_err().code, "InvalidKubeconfig");
        let kc = Kubeconfig::parse(&AZURE_USER.replace("current-context: myAKSCluster", "current-context: other")).unwrap();
        assert!(kc.current().unwrap_err().message.contains("other"));
        let kc = Kubeconfig::parse("apiVersion: v1\nkind: Config\nusers: null\n").unwrap();
        assert!(kc.users.is_empty());
    }

    #[test]
    fn round_trips_unknown_fields() {
        let text = EXEC_USER.replace("preferences: {}", "preferences: {}\nextensions:\n- name: x\n  extension: {a: 1}");
        let kc = Kubeconfig::parse(&text).unwrap();
        let again = Kubeconfig::parse(&kc.to_yaml()).unwrap();
        assert_eq!(kc, again);
        assert!(kc.to_yaml().contains("extensions:"));
        assert!(kc.to_yaml().contains("env: null"));
    }

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
        let mut kc = Kubeconfig::parse(&admin()).unwrap();
        let before = kc.clone();
        assert!(convert_kubeconfig(&mut kc, &ConvertOptions::default()).unwrap().is_empty());
        assert_eq!(kc, before);
    }

    #[test]
    fn maps_manifests_to_rest_paths() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: contoso-cluster-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: alice@contoso.com
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: team
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: team}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: bot}}
"#;
        let objs = parse_manifests(yaml).unwrap();
        assert_eq!(objs.len(), 5);
        let refs: Vec<ObjectRef> = objs.iter().map(|o| ObjectRef::from_manifest(o, "default").unwrap()).collect();
        assert_eq!(refs[0].item_path(), "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/contoso-cluster-admins");
        assert_eq!(refs[0].collection_path(), "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings");
        assert_eq!(refs[0].display(), "clusterrolebinding.rbac.authorization.k8s.io/contoso-cluster-admins");
        assert_eq!(refs[0].namespace, None);
        assert_eq!(refs[1].item_path(), "/api/v1/namespaces/team/configmaps/c");
        assert_eq!(refs[1].display(), "configmap/c");
        assert_eq!(refs[2].item_path(), "/apis/apps/v1/namespaces/default/deployments/web");
        assert_eq!(refs[2].display(), "deployment.apps/web");
        assert_eq!(refs[3].item_path(), "/api/v1/namespaces/team");
        assert_eq!(refs[4].item_path(), "/api/v1/namespaces/default/serviceaccounts/bot");
    }

    #[test]
    fn manifest_errors_read_like_kubectl() {
        let e = ObjectRef::from_manifest(&serde_json::json!({"metadata": {"name": "x"}}), "default").unwrap_err();
        assert_eq!(e.message, "error validating data: [apiVersion not set, kind not set]");
        let e = ObjectRef::from_manifest(&serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}), "default").unwrap_err();
        assert_eq!(e.code, "ResourceMappingNotFound");
        assert!(e.message.contains("no matches for kind \"Widget\" in version \"example.com/v1\""));
        assert_eq!(parse_manifests("- a\n- b\n").unwrap_err().code, "InvalidManifest");
        assert_eq!(parse_manifests("a: [").unwrap_err().code, "InvalidManifest");
    }

    #[test]
    fn resource_names_resolve_like_kubectl() {
        for n in ["pods", "pod", "po", "Pod", "PODS"] {
            assert_eq!(resource_by_name(n).map(|r| r.plural), Some("pods"), "{n}");
        }
        assert_eq!(resource_by_name("deploy").unwrap().group, "apps");
        assert_eq!(resource_by_name("clusterrolebindings.rbac.authorization.k8s.io").unwrap().kind, "ClusterRoleBinding");
        assert_eq!(resource_by_name("clusterrolebindings.rbac").unwrap().kind, "ClusterRoleBinding");
        assert!(resource_by_name("widgets").is_none());
        let pods = resource_by_name("pods").unwrap();
        assert_eq!(pods.collection_path(None, Some("kube-system")), "/api/v1/namespaces/kube-system/pods");
        assert_eq!(pods.collection_path(None, None), "/api/v1/pods");
        assert_eq!(resource_by_name("nodes").unwrap().collection_path(None, Some("default")), "/api/v1/nodes");
    }

    #[test]
    fn subset_and_merge() {
        let actual = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "5", "uid": "u"}, "roleRef": {"kind": "ClusterRole"}, "subjects": [{"kind": "User", "name": "x"}]});
        assert!(is_subset(&serde_json::json!({"metadata": {"name": "a"}, "subjects": [{"kind": "User", "name": "x"}]}), &actual));
        assert!(!is_subset(&serde_json::json!({"subjects": [{"kind": "User", "name": "y"}]}), &actual));
        assert!(!is_subset(&serde_json::json!({"subjects": []}), &actual));
        let merged = merge(&actual, &serde_json::json!({"metadata": {"labels": {"a": "b"}}, "subjects": []}));
        assert_eq!(merged["metadata"]["resourceVersion"], "5");
        assert_eq!(merged["metadata"]["labels"]["a"], "b");
        assert_eq!(merged["subjects"], serde_json::json!([]));
    }

    #[test]
    fn prints_tables_like_kubectl() {
        let body = serde_json::json!({
            "kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "columnDefinitions": [
                {"name": "Name", "type": "string", "priority": 0},
                {"name": "Ready", "type": "string", "priority": 0},
                {"name": "Status", "type": "string", "priority": 0},
                {"name": "Restarts", "type": "integer", "priority": 0},
                {"name": "Age", "type": "string", "priority": 0},
                {"name": "IP", "type": "string", "priority": 1}
            ],
            "rows": [
                {"cells": ["coredns-754f947b4-2v75r", "1/1", "Running", 0, "23h", "10.244.0.5"], "object": {"metadata": {"namespace": "kube-system"}}},
                {"cells": ["kubernetes-dashboard-847bb4ddc6-trt7m", "1/1", "Running", 0, "23h", "10.244.0.6"], "object": {"metadata": {"namespace": "kube-system"}}}
            ]
        });
        let t = table_from_response(&body, true, 0).unwrap();
        assert_eq!(
            t.render(),
            "NAMESPACE     NAME                                    READY   STATUS    RESTARTS   AGE\n\
             kube-system   coredns-754f947b4-2v75r                 1/1     Running   0          23h\n\
             kube-system   kubernetes-dashboard-847bb4ddc6-trt7m   1/1     Running   0          23h\n"
        );
        let t = table_from_response(&body, false, 0).unwrap();
        assert_eq!(t.headers, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    }

    #[test]
    fn short_columns_are_at_least_six_wide() {
        let t = Table { headers: vec!["A".into(), "B".into()], rows: vec![vec!["x".into(), "y".into()]] };
        assert_eq!(t.render(), "A     B\nx     y\n");
    }

    #[test]
    fn plain_lists_print_name_and_age() {
        let now = parse_rfc3339("2024-05-17T03:25:00Z").unwrap();
        let body = serde_json::json!({"kind": "NamespaceList", "items": [
            {"metadata": {"name": "default", "creationTimestamp": "2024-05-16T03:25:00Z"}},
            {"metadata": {"name": "kube-system", "creationTimestamp": "2024-05-17T03:20:30Z"}}
        ]});
        let t = table_from_response(&body, false, now).unwrap();
        assert_eq!(t.render(), "NAME          AGE\ndefault       24h\nkube-system   4m30s\n");
        assert!(table_from_response(&serde_json::json!({"kind": "Status"}), false, 0).is_err());
    }

    #[test]
    fn timestamps_and_ages() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(parse_rfc3339("2024-05-16T03:18:25.2366666Z"), parse_rfc3339("2024-05-16T03:18:25Z"));
        assert_eq!(parse_rfc3339("2024-05-16T05:18:25+02:00"), parse_rfc3339("2024-05-16T03:18:25Z"));
        assert_eq!(parse_rfc3339("yesterday"), None);
        for (secs, want) in [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (150, "2m30s"), (600, "10m"), (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"), (23 * 3600, "23h"), (50 * 3600, "2d2h"), (30 * 86400, "30d"), (800 * 86400, "2y70d"), (3000 * 86400, "8y")] {
            assert_eq!(human_duration(secs), want, "{secs}");
        }
    }

    fn resp(status: u16, body: &str) -> Response {
        Response { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn status_bodies_become_step_errors() {
        let e = status_error(&resp(
            403,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"bob\" cannot list resource \"pods\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#,
        ));
        assert_eq!(e.code, "Forbidden");
        assert_eq!(e.message, "pods is forbidden: User \"bob\" cannot list resource \"pods\"");
        let e = kubectl_error(&resp(404, r#"{"kind":"Status","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","code":404}"#));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("NotFound", "Error from server (NotFound): configmaps \"x\" not found"));
        let e = kubectl_error(&resp(401, r#"{"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#));
        assert_eq!(e.message, "You must be logged in to the server (Unauthorized)");
        let e = status_error(&resp(409, r#"{"kind":"Status","message":"clusterrolebindings.rbac.authorization.k8s.io \"x\" already exists","reason":"AlreadyExists","code":409}"#));
        assert_eq!(e.code, "AlreadyExists");
        let e = status_error(&resp(502, "bad gateway"));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("Unknown", "bad gateway"));
        assert_eq!(status_error(&resp(500, "")).code, "InternalError");
    }

    #[test]
    fn kubectl_error_text() {
        assert_eq!(
            kubectl_message(403, "Forbidden", "pods is forbidden: User \"x\" cannot list resource \"pods\""),
            "Error from server (Forbidden): pods is forbidden: User \"x\" cannot list resource \"pods\""
        );
        assert_eq!(kubectl_message(401, "Unauthorized", "Unauthorized"), "You must be logged in to the server (Unauthorized)");
    }
}
