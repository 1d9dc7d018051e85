//! Kubeconfigs (`kind: Config`): their clusters, users and contexts, the current context, and
//! how its user authenticates.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_yaml::{Mapping, Value as Yaml};

use crate::StepError;

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

/// YAML with string keys only and no tags, all the way down.
fn plain(v: &Yaml) -> bool {
    match v {
        Yaml::Null | Yaml::Bool(_) | Yaml::Number(_) | Yaml::String(_) => true,
        Yaml::Sequence(items) => items.iter().all(plain),
        Yaml::Mapping(m) => plain_fields(m),
        Yaml::Tagged(_) => false,
    }
}

fn plain_fields(m: &Mapping) -> bool {
    m.iter().all(|(k, v)| matches!(k, Yaml::String(_)) && plain(v))
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

    /// The cluster's CA (PEM) from `certificate-authority-data`, if it has one. A CA given
    /// as a file (`certificate-authority`) is refused: a step reads no files.
    pub fn certificate_authority(&self) -> Result<Option<String>, StepError> {
        match (&self.cluster.certificate_authority_data, &self.cluster.certificate_authority) {
            (Some(data), _) if !data.trim().is_empty() => decode_b64("certificate-authority-data", data).map(Some),
            (_, Some(path)) if !path.is_empty() => Err(invalid(format!(
                "the cluster `{}` names its CA by the file `{path}`, which a step cannot read; embed it as `certificate-authority-data` (`kubectl config view --raw --flatten`)",
                self.cluster_name
            ))),
            _ => Ok(None),
        }
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
        if let Some(kind) = kc.kind.as_deref()
            && !kind.is_empty()
            && kind != "Config"
        {
            return Err(invalid(format!("the kubeconfig has kind `{kind}`, expected `Config`")));
        }
        // YAML allows what a kubeconfig cannot hold, such as a map key that is itself a map
        // (client-go refuses those too). Refused here, so that what was read can always be
        // written back. Found by the kubeconfig fuzz target. Writing it is the whole check and
        // costs as much as the parse, so it is left out when every free-form part is plain.
        if !kc.is_plain()
            && let Err(e) = serde_yaml::to_string(&kc)
        {
            return Err(invalid(format!("the kubeconfig is not valid: it holds YAML that a kubeconfig cannot (a key that is a list or a map?): {e}")));
        }
        Ok(kc)
    }

    /// Whether everything this crate does not model (the `extra` fields, `preferences`, an
    /// exec plugin's `env`) is plain YAML: string keys, no tags. Such a kubeconfig always
    /// writes back.
    fn is_plain(&self) -> bool {
        plain_fields(&self.extra)
            && self.preferences.as_ref().is_none_or(plain)
            && self.clusters.iter().all(|c| plain_fields(&c.cluster.extra))
            && self.contexts.iter().all(|c| plain_fields(&c.context.extra))
            && self.users.iter().all(|u| {
                plain_fields(&u.user.extra) && u.user.exec.as_ref().is_none_or(|e| plain_fields(&e.extra) && e.env.as_ref().is_none_or(plain))
            })
    }

    /// The kubeconfig as YAML, in clientcmd's layout.
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a kubeconfig always serialises")
    }

    /// The namespace a kubectl command works in: `explicit` (`-n`) when given, else the
    /// current context's, else `default`.
    pub fn working_namespace(&self, explicit: Option<&str>) -> String {
        explicit
            .map(String::from)
            .or_else(|| self.current().ok().and_then(|c| c.namespace().map(String::from)))
            .unwrap_or_else(|| "default".into())
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
    /// (Its converter uses it to pick the users it rewrites.)
    pub fn is_kubelogin(&self) -> bool {
        self.command.to_ascii_lowercase().contains("kubelogin")
    }

    /// Does this exec take kubelogin's `get-token` arguments? kubelogin does, and so does any
    /// compatible plugin under another name: `aksflow get-token`, which a served simulator's
    /// kubeconfigs run.
    pub fn speaks_kubelogin(&self) -> bool {
        self.is_kubelogin() || (self.args.first().is_some_and(|a| a == "get-token") && self.arg("--server-id").is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::{Client, TokenProtocol};
    use crate::kube::samples::{ADMIN, AZURE_USER, EXEC_USER};

    #[test]
    fn a_map_key_that_is_itself_a_map_is_refused_not_a_panic_when_written_back() {
        let text = r#"{"apiVersig","c..lusters":[{"nameter":{"server":"https://x:443"}}:],"crre-n|ext":"x"}"#;
        let e = Kubeconfig::parse(text).unwrap_err();
        assert!(e.message.contains("the kubeconfig is not valid"), "{}", e.message);
    }

    #[test]
    fn an_exec_with_kubelogin_s_arguments_speaks_kubelogin_whatever_its_command() {
        let exec = |command: &str, args: &[&str]| ExecConfig { command: command.into(), args: args.iter().map(|a| a.to_string()).collect(), ..Kubeconfig::parse(EXEC_USER).unwrap().users[0].user.exec.clone().unwrap() };
        assert!(exec("/usr/local/bin/aksflow", &["get-token", "--login", "devicecode", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]).speaks_kubelogin());
        assert!(!exec("/usr/local/bin/aksflow", &["get-token", "--login", "devicecode", "--server-id", "x"]).is_kubelogin(), "kubelogin's converter keeps its own rule");
        assert!(exec("kubelogin", &[]).speaks_kubelogin());
        assert!(!exec("gke-gcloud-auth-plugin", &[]).speaks_kubelogin());
        assert!(!exec("aws", &["eks", "get-token", "--cluster-name", "c"]).speaks_kubelogin());
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
        let kc = Kubeconfig::parse(ADMIN).unwrap();
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
    fn free_form_yaml_that_cannot_be_written_back_is_still_refused() {
        let base = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: ''\n";
        // Plain extras, nested: kept, and skipped by the write-back check.
        let kc = Kubeconfig::parse(&format!("{base}x-extra:\n  a: [1, {{b: c}}]\npreferences: {{colors: true}}\n")).unwrap();
        assert!(kc.is_plain());
        assert_eq!(Kubeconfig::parse(&kc.to_yaml()).unwrap(), kc);
        // A key that is a map, anywhere in the free-form parts: written back, or refused.
        for odd in ["x-extra:\n  ? {a: 1}\n  : v\n", "preferences:\n  ? [a]\n  : v\n", "preferences: !custom 1\n"] {
            let text = format!("{base}{odd}");
            let parsed: Kubeconfig = serde_yaml::from_str(&text).unwrap();
            assert!(!parsed.is_plain(), "{odd}");
            match Kubeconfig::parse(&text) {
                Ok(kc) => assert!(serde_yaml::to_string(&kc).is_ok(), "{odd}"),
                Err(e) => assert_eq!(e.code, "InvalidKubeconfig"),
            }
        }
    }
}
