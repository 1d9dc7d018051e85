//! The kubeconfigs `listClusterAdminCredential` and `listClusterUserCredential` return:
//! admin (client certificate + static token, `O=system:masters`), user for AAD clusters as
//! kubelogin `exec` or the legacy `azure` auth-provider, user for non-AAD clusters
//! (certificate). Client certificates come from the cluster's own CA. [protocols.md §D.1,
//! §D.2, §D.4]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::aks::ManagedCluster;
use crate::directory::well_known::{AKS_AAD_CLIENT, AKS_AAD_SERVER};
use crate::pki::Issued;

/// `format=` on listClusterUserCredential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Azure,
    Exec,
}

const INSTALL_HINT: &str = "\nkubelogin is not installed which is required to connect to AAD enabled cluster.\n\nTo learn more, please go to https://aka.ms/aks/kubelogin\n";

/// The CAs a kubeconfig may name: the cluster's own, which issues its API server's
/// certificate at `https://<fqdn>:443`, and the simulator's, which issues the certificate of
/// the simulator's own address (where `/k8s/<fqdn>` is served).
pub struct Authorities<'a> {
    pub cluster: &'a str,
    pub simulator: &'a str,
}

/// The API server a kubeconfig names, and the CA that issued its certificate (what kubectl
/// must trust). Asked of `management.azure.com` (through the proxy), the cluster's own API
/// server, as AKS writes it; otherwise its routes on the simulator's own address.
fn server<'a>(base_url: &str, c: &ManagedCluster, cas: &Authorities<'a>) -> (String, &'a str) {
    if crate::origin::is_azure(base_url) { (format!("https://{}:443", c.fqdn), cas.cluster) } else { (format!("{base_url}/k8s/{}", c.fqdn), cas.simulator) }
}

fn config(c: &ManagedCluster, base_url: &str, cas: &Authorities, context: &str, user_name: &str, user: Value) -> String {
    let (server, ca) = server(base_url, c, cas);
    let doc = json!({
        "apiVersion": "v1",
        "clusters": [{ "cluster": { "certificate-authority-data": STANDARD.encode(ca), "server": server }, "name": c.name }],
        "contexts": [{ "context": { "cluster": c.name, "user": user_name }, "name": context }],
        "current-context": context,
        "kind": "Config",
        "preferences": {},
        "users": [{ "name": user_name, "user": user }],
    });
    serde_yaml::to_string(&doc).expect("a kubeconfig serialises as YAML")
}

/// The local-account kubeconfig: client certificate and static token.
pub fn admin(c: &ManagedCluster, base_url: &str, cas: &Authorities, cert: &Issued) -> String {
    let user = json!({
        "client-certificate-data": STANDARD.encode(&cert.cert_pem),
        "client-key-data": STANDARD.encode(&cert.key_pem),
        "token": c.admin_token,
    });
    // The context is the cluster's name, as for user credentials: az appends `-admin` itself
    // when it merges (protocols.md §D.4).
    config(c, base_url, cas, &c.name, &format!("clusterAdmin_{}_{}", c.resource_group, c.name), user)
}

/// The user kubeconfig. AAD clusters get `exec` (the default for Kubernetes ≥ 1.24) or the
/// legacy `azure` auth-provider; non-AAD clusters the local account.
/// `exec_command` is what the exec user runs: `kubelogin`, as AKS writes it, or a served
/// simulator's own `aksflow` (whose `get-token` takes kubelogin's arguments).
pub fn user(c: &ManagedCluster, base_url: &str, cas: &Authorities, cert: &Issued, format: Option<Format>, exec_command: &str) -> String {
    let user_name = format!("clusterUser_{}_{}", c.resource_group, c.name);
    let Some(aad) = &c.aad else {
        let user = json!({
            "client-certificate-data": STANDARD.encode(&cert.cert_pem),
            "client-key-data": STANDARD.encode(&cert.key_pem),
            "token": c.admin_token,
        });
        return config(c, base_url, cas, &c.name, &user_name, user);
    };
    let (server_id, client_id) = if aad.managed {
        (AKS_AAD_SERVER.to_string(), AKS_AAD_CLIENT.to_string())
    } else {
        (aad.server_app_id.clone().unwrap_or_default(), aad.client_app_id.clone().unwrap_or_default())
    };
    let user = match format.unwrap_or(Format::Exec) {
        Format::Exec => json!({
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "args": ["get-token", "--environment", "AzurePublicCloud", "--server-id", server_id, "--client-id", client_id, "--tenant-id", aad.tenant_id, "--login", "devicecode"],
                "command": exec_command,
                "env": null,
                "installHint": INSTALL_HINT,
                "interactiveMode": "IfAvailable",
                "provideClusterInfo": false,
            }
        }),
        Format::Azure => {
            let mut cfg = json!({ "apiserver-id": server_id, "client-id": client_id, "tenant-id": aad.tenant_id, "environment": "AzurePublicCloud" });
            // Managed-AAD kubeconfigs omit the `spn:` prefix (config-mode 1); legacy ones did not set it.
            if aad.managed {
                cfg["config-mode"] = json!("1");
            }
            json!({ "auth-provider": { "name": "azure", "config": cfg } })
        }
    };
    config(c, base_url, cas, &c.name, &user_name, user)
}
