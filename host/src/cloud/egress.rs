//! Where a run's kube calls may go. A step names the API server it calls (from a kubeconfig),
//! so without a rule a `kube` grant would be HTTPS egress to anywhere. The rule: only servers
//! the run has learned from a trusted source — the kubeconfigs ARM handed out
//! (`listCluster*Credential`), and kubeconfigs written into the flow file itself. Deny by
//! default; compared as normalised URLs (scheme, host, port, path).

use std::collections::HashSet;
use std::sync::RwLock;

use base64::Engine as _;

/// The part of a kubeconfig that names servers; serde skips the rest without building it.
/// A kubeconfig of another shape (a `server` that is not a string, say) teaches nothing, as
/// kubectl would not read it either.
#[derive(serde::Deserialize)]
struct KubeconfigServers {
    #[serde(default)]
    clusters: Vec<NamedCluster>,
}

#[derive(serde::Deserialize)]
struct NamedCluster {
    cluster: Option<ClusterServer>,
}

#[derive(serde::Deserialize)]
struct ClusterServer {
    server: Option<String>,
}

#[derive(Default)]
pub struct Egress {
    servers: RwLock<HashSet<String>>,
}

/// `https://Host:443/k8s/x/` and `https://host/k8s/x` are one server.
fn normalise(server: &str) -> Option<String> {
    let u = url::Url::parse(server).ok()?;
    if u.scheme() != "https" || u.host_str().is_none() || u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() {
        return None;
    }
    Some(u.as_str().trim_end_matches('/').to_string())
}

impl Egress {
    /// Allows one server URL (ignored if it is not an https URL).
    pub fn allow(&self, server: &str) {
        if let Some(s) = normalise(server) {
            self.servers.write().unwrap_or_else(|p| p.into_inner()).insert(s);
        }
    }

    /// The servers learnt so far, sorted (saved with the run, for `--resume`).
    pub fn servers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.servers.read().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
        v.sort();
        v
    }

    pub fn allows(&self, server: &str) -> bool {
        normalise(server).is_some_and(|s| self.servers.read().unwrap_or_else(|p| p.into_inner()).contains(&s))
    }

    /// Every cluster server in a kubeconfig (YAML or JSON); anything else teaches nothing.
    /// Every input of every step is offered at the start of a run, so text without a
    /// `clusters` key is passed over unparsed, and a kubeconfig is read only as far as its
    /// servers (fields it does not name are skipped, not built into a document).
    pub fn learn_kubeconfig(&self, text: &str) {
        if !text.contains("clusters") {
            return;
        }
        let Ok(config) = serde_yaml::from_str::<KubeconfigServers>(text) else { return };
        for server in config.clusters.iter().filter_map(|c| c.cluster.as_ref()?.server.as_deref()) {
            self.allow(server);
        }
    }

    /// The servers in an ARM answer to `listClusterAdminCredential`,
    /// `listClusterUserCredential` or `listClusterMonitoringUserCredential`.
    pub fn learn_from_arm(&self, path: &str, status: u16, body: &[u8]) {
        let lower = path.to_ascii_lowercase();
        if !(200..300).contains(&status) || !(lower.contains("/listclusteradmincredential") || lower.contains("/listclusterusercredential") || lower.contains("/listclustermonitoringusercredential")) {
            return;
        }
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return };
        for k in v["kubeconfigs"].as_array().into_iter().flatten() {
            if let Some(yaml) = k["value"].as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()) {
                self.learn_kubeconfig(&String::from_utf8_lossy(&yaml));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: aks\n  cluster:\n    server: https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443\n    certificate-authority-data: AAAA\ncontexts: []\nusers: []\n";

    #[test]
    fn nothing_is_allowed_until_learnt() {
        let e = Egress::default();
        assert!(!e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"));
        e.learn_kubeconfig(KUBECONFIG);
        assert!(e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"));
        assert!(e.allows("https://MYAKS-dns-1a2b.hcp.eastus.azmk8s.io/"), "the same server, normalised");
        assert!(!e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:8443"), "another port");
        assert!(!e.allows("https://evil.test"));
        assert!(!e.allows("http://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"), "plain http never");
    }

    #[test]
    fn a_path_prefixed_server_is_one_server() {
        let e = Egress::default();
        e.allow("https://127.0.0.1:8443/k8s/myaks.hcp.eastus.azmk8s.io");
        assert!(e.allows("https://127.0.0.1:8443/k8s/myaks.hcp.eastus.azmk8s.io/"));
        assert!(!e.allows("https://127.0.0.1:8443/k8s/other.hcp.eastus.azmk8s.io"));
        assert!(!e.allows("https://127.0.0.1:8443"));
    }

    #[test]
    fn arm_credentials_teach_their_servers_and_nothing_else_does() {
        let e = Egress::default();
        let body = serde_json::json!({"kubeconfigs":[{"name":"clusterUser","value": base64::engine::general_purpose::STANDARD.encode(KUBECONFIG)}]}).to_string();
        e.learn_from_arm("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/listClusterAdminCredential", 404, body.as_bytes());
        assert!(!e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"), "a failed answer teaches nothing");
        e.learn_from_arm("/subscriptions/s/resourceGroups/rg", 200, body.as_bytes());
        assert!(!e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"), "only the credential actions teach");
        e.learn_from_arm("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks/listClusterUserCredential", 200, body.as_bytes());
        assert!(e.allows("https://myaks-dns-1a2b.hcp.eastus.azmk8s.io:443"));
    }

    #[test]
    fn only_plain_https_server_urls_can_be_allowed() {
        let e = Egress::default();
        for bad in ["https://aks.test/?x=1", "https://aks.test/#f", "https://user@aks.test/", "https://user:pw@aks.test/", "http://aks.test", "aks.test:443", "unix:///var/run/x", ""] {
            e.allow(bad);
            assert!(!e.allows(bad), "{bad}");
        }
        assert!(e.servers().is_empty(), "{:?}", e.servers());
        assert!(!e.allows("https://aks.test"), "a refused form teaches nothing about its host either");
    }

    #[test]
    fn the_learnt_servers_are_listed_normalised_and_sorted_for_the_saved_run() {
        let e = Egress::default();
        e.allow("https://B.test:443/");
        e.allow("https://a.test:8443/k8s/x/");
        e.allow("https://b.test");
        assert_eq!(e.servers(), ["https://a.test:8443/k8s/x", "https://b.test"]);
        let resumed = Egress::default();
        for s in e.servers() {
            resumed.allow(&s);
        }
        assert!(resumed.allows("https://a.test:8443/k8s/x") && resumed.allows("https://b.test:443"));
    }

    #[test]
    fn garbage_teaches_nothing() {
        let e = Egress::default();
        e.learn_kubeconfig("not: [yaml");
        e.learn_kubeconfig("clusters: 3");
        e.learn_kubeconfig("clusters:\n- cluster:\n    server: ftp://x\n");
        e.learn_from_arm("/x/listClusterUserCredential", 200, b"{\"kubeconfigs\":[{\"value\":\"!!notbase64\"}]}");
        e.learn_kubeconfig("clusters:\n- cluster:\n    server: [443]\n- cluster:\n    server: https://typed.test\n");
        assert!(e.servers.read().unwrap().is_empty(), "a kubeconfig kubectl could not read teaches nothing");
    }

    #[test]
    fn json_kubeconfigs_and_entries_without_a_server_are_read_as_kubectl_reads_them() {
        let e = Egress::default();
        e.learn_kubeconfig(r#"{"apiVersion":"v1","clusters":[{"name":"a","cluster":{"server":"https://json.test","insecure-skip-tls-verify":true}},{"name":"b"},{"name":"c","cluster":{}}],"users":[{"name":"u","user":{"token":"t"}}]}"#);
        assert_eq!(e.servers(), ["https://json.test"]);
        e.learn_kubeconfig("server: https://not-under-clusters.test\nkind: Config\n");
        e.learn_kubeconfig("https://a-bare-url.test");
        assert_eq!(e.servers(), ["https://json.test"], "only servers under clusters[].cluster count");
    }
}
