//! The az CLI (from PyPI, `.ci/run` installs it) running both seed documents' commands in
//! today's syntax against a served simulator, through its proxy: with aksflow.env loaded and
//! nothing else (no `az cloud register`, no `az config`). docs/az-seed-commands.md maps the
//! seeds' old flags to these.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aksflow_e2e::*;

fn aksflow_binary() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().join("aksflow")
}

/// az (and kubectl, kubelogin) with aksflow.env, its own config directory, and nothing else
/// of this process's environment.
struct Shell {
    az: PathBuf,
    env: Vec<(String, String)>,
    home: PathBuf,
    path: String,
}

impl Shell {
    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear().env("PATH", &self.path).env("HOME", &self.home).env("AZURE_CONFIG_DIR", self.home.join(".azure")).env("AZURE_CORE_COLLECT_TELEMETRY", "no").envs(self.env.iter().cloned());
        c
    }

    /// `az ARGS`: its stdout, trimmed, or what it said when it failed.
    fn az(&self, args: &[&str]) -> Result<String, String> {
        let out = self.command(&self.az).args(args).output().expect("az runs");
        if out.status.success() { Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
    }

    fn kubectl(&self, kubeconfig: &Path, args: &[&str]) -> Result<String, String> {
        let out = self.command(Path::new("kubectl")).arg("--kubeconfig").arg(kubeconfig).args(args).output().expect("kubectl runs");
        if out.status.success() { Ok(String::from_utf8_lossy(&out.stdout).trim().to_string()) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
    }
}

/// Each command's outcome, for the closing count.
#[derive(Default)]
struct Tally {
    passed: Vec<String>,
    failed: Vec<String>,
}

impl Tally {
    fn check(&mut self, name: &str, r: Result<String, String>) -> String {
        match r {
            Ok(out) => {
                self.passed.push(name.into());
                out
            }
            Err(e) => {
                self.failed.push(format!("{name}: {e}"));
                String::new()
            }
        }
    }

    /// A command real Azure refuses: it must fail, with Azure's words.
    fn refused(&mut self, name: &str, r: Result<String, String>, words: &str) {
        match r {
            Err(e) if e.contains(words) => self.passed.push(name.into()),
            Err(e) => self.failed.push(format!("{name}: refused, but not with \"{words}\": {e}")),
            Ok(out) => self.failed.push(format!("{name}: Azure refuses this, but it passed: {out}")),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_seeds_az_commands_run_against_the_simulator_through_its_proxy() {
    let az = outside_tools::require_az();
    outside_tools::require_kubectl();
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 6, None).await;
    let env = env_file(&served);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    // kubelogin is aksflow, through a symlink, as the seeds install it.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(aksflow_binary(), bin.join("kubelogin")).unwrap();
    // kubelogin's azurecli mode runs `az`: the venv's, on PATH as a user would have it.
    let path = format!("{}:{}:{}", bin.display(), az.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let sh = Shell { az, env: env.clone(), home, path };
    let mut t = Tally::default();
    let kube = |name: &str| dir.path().join(name);

    t.check("az login --service-principal", sh.az(&["login", "--service-principal", "-u", &get("AZURE_CLIENT_ID"), "-p", &get("AZURE_CLIENT_SECRET"), "--tenant", &get("AZURE_TENANT_ID"), "-o", "none"]));

    // Seed 000: the server and client applications, their permissions and consent.
    let aks = "myakscluster";
    let server = t.check("ad app create (server)", sh.az(&["ad", "app", "create", "--display-name", &format!("{aks}Server"), "--identifier-uris", &format!("api://{aks}Server"), "--sign-in-audience", "AzureADMyOrg", "--query", "appId", "-o", "tsv"]));
    t.check("ad app update --set groupMembershipClaims=All", sh.az(&["ad", "app", "update", "--id", &server, "--set", "groupMembershipClaims=All"]));
    t.check("ad sp create (server)", sh.az(&["ad", "sp", "create", "--id", &server, "-o", "none"]));
    let secret = t.check("ad app credential reset", sh.az(&["ad", "app", "credential", "reset", "--id", &server, "--query", "password", "-o", "tsv"]));
    t.check("ad app permission add (Graph)", sh.az(&["ad", "app", "permission", "add", "--id", &server, "--api", "00000003-0000-0000-c000-000000000000", "--api-permissions", "e1fe6dd8-ba31-4d61-89e7-88639da4683d=Scope", "06da0dbc-49e2-44d2-8312-53f166ab848a=Scope", "7ab1d382-f21e-4acd-a863-ba3e13f7da61=Role"]));
    t.check("ad app permission grant (Graph)", sh.az(&["ad", "app", "permission", "grant", "--id", &server, "--api", "00000003-0000-0000-c000-000000000000", "--scope", "User.Read", "-o", "none"]));
    t.check("ad app permission admin-consent", sh.az(&["ad", "app", "permission", "admin-consent", "--id", &server]));
    let client = t.check("ad app create (client)", sh.az(&["ad", "app", "create", "--display-name", &format!("{aks}Client"), "--public-client-redirect-uris", &format!("https://{aks}Client"), "--query", "appId", "-o", "tsv"]));
    t.check("ad sp create (client)", sh.az(&["ad", "sp", "create", "--id", &client, "-o", "none"]));
    let scope = t.check("ad app show (scope id)", sh.az(&["ad", "app", "show", "--id", &server, "--query", "api.oauth2PermissionScopes[0].id", "-o", "tsv"]));
    t.check("ad app permission add (server API)", sh.az(&["ad", "app", "permission", "add", "--id", &client, "--api", &server, "--api-permissions", &format!("{scope}=Scope")]));
    t.check("ad app permission grant (server API)", sh.az(&["ad", "app", "permission", "grant", "--id", &client, "--api", &server, "--scope", "user_impersonation", "-o", "none"]));
    t.check("group create", sh.az(&["group", "create", "--name", "myResourceGroup", "--location", "EastUS", "-o", "none"]));
    let tenant = t.check("account show --query tenantId", sh.az(&["account", "show", "--query", "tenantId", "-o", "tsv"]));
    // az removed --aad-server-app-id and friends, and today's AKS refuses new legacy clusters:
    // sent as the seed's body with az rest, it gets AKS's own refusal.
    let sub = get("AZURE_SUBSCRIPTION_ID");
    let legacy = serde_json::json!({"location": "eastus", "properties": {"dnsPrefix": aks, "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}], "aadProfile": {"serverAppID": server, "serverAppSecret": secret, "clientAppID": client, "tenantID": tenant}}});
    t.refused(
        "aks create (legacy AAD, az rest)",
        sh.az(&["rest", "--method", "put", "--url", &format!("https://management.azure.com/subscriptions/{sub}/resourceGroups/myResourceGroup/providers/Microsoft.ContainerService/managedClusters/{aks}?api-version=2025-07-01"), "--body", &legacy.to_string()]),
        "No new clusters can be created with Azure AD Integration (legacy)",
    );

    // Seed 001: AKS-managed Azure AD.
    let group = t.check("ad group create (admins)", sh.az(&["ad", "group", "create", "--display-name", "myAKSAdminGroup", "--mail-nickname", "myAKSAdminGroup", "--query", "id", "-o", "tsv"]));
    t.check("aks create --enable-aad", sh.az(&["aks", "create", "-g", "myResourceGroup", "-n", "myManagedCluster", "--enable-aad", "--aad-admin-group-object-ids", &group, "--aad-tenant-id", &tenant, "--node-count", "1", "--generate-ssh-keys", "-o", "none"]));
    t.check("aks get-credentials", sh.az(&["aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--file", kube("user.kubeconfig").to_str().unwrap()]));
    t.check("aks get-credentials --admin", sh.az(&["aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--admin", "--file", kube("admin.kubeconfig").to_str().unwrap()]));
    t.check("aks get-credentials --format azure", sh.az(&["aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--format", "azure", "--file", kube("azure.kubeconfig").to_str().unwrap()]));
    t.check("kubectl get nodes (admin)", sh.kubectl(&kube("admin.kubeconfig"), &["get", "nodes"]));
    t.check("aks create (no AAD)", sh.az(&["aks", "create", "-g", "myResourceGroup", "-n", "myExistingCluster", "--node-count", "1", "--generate-ssh-keys", "-o", "none"]));
    t.check("aks update --enable-aad (existing)", sh.az(&["aks", "update", "-g", "myResourceGroup", "-n", "myExistingCluster", "--enable-aad", "--aad-admin-group-object-ids", &group, "--aad-tenant-id", &tenant, "-o", "none"]));

    // The service principal in the admin group signs in the CI way: kubelogin's spn mode,
    // from AAD_SERVICE_PRINCIPAL_*, through the proxy.
    let op_sp = t.check("ad sp show (operator)", sh.az(&["ad", "sp", "show", "--id", &get("AZURE_CLIENT_ID"), "--query", "id", "-o", "tsv"]));
    t.check("ad group member add", sh.az(&["ad", "group", "member", "add", "--group", &group, "--member-id", &op_sp]));
    std::fs::copy(kube("user.kubeconfig"), kube("spn.kubeconfig")).unwrap();
    let convert = sh.command(Path::new("kubelogin")).args(["convert-kubeconfig", "-l", "spn", "--kubeconfig", kube("spn.kubeconfig").to_str().unwrap()]).output().unwrap();
    t.check("kubelogin convert-kubeconfig -l spn", if convert.status.success() { Ok(String::new()) } else { Err(String::from_utf8_lossy(&convert.stderr).into()) });
    let spn = |args: &[&str]| {
        let out = sh.command(Path::new("kubectl")).arg("--kubeconfig").arg(kube("spn.kubeconfig")).args(args).env("AAD_SERVICE_PRINCIPAL_CLIENT_ID", get("AZURE_CLIENT_ID")).env("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", get("AZURE_CLIENT_SECRET")).output().unwrap();
        if out.status.success() { Ok(String::from_utf8_lossy(&out.stdout).to_string()) } else { Err(String::from_utf8_lossy(&out.stderr).to_string()) }
    };
    t.check("kubectl get pods -A (spn, admin group)", spn(&["get", "pods", "-A"]));

    // A person: az login with a device code, answered on the sign-in page as alice.
    let alice = served.simulator.personas().into_iter().find(|p| p.user_principal_name.starts_with("alice@")).unwrap();
    t.check("az login --use-device-code (alice)", device_code_login(&sh, &tenant, &alice.user_principal_name, &alice.password, &get("HTTPS_PROXY"), &get("REQUESTS_CA_BUNDLE")).await);
    let upn = t.check("ad signed-in-user show", sh.az(&["ad", "signed-in-user", "show", "--query", "userPrincipalName", "-o", "tsv"]));
    assert_eq!(upn, alice.user_principal_name);
    // Her kubeconfig, converted to use az's sign-in: forbidden until bound, then allowed.
    std::fs::copy(kube("user.kubeconfig"), kube("alice.kubeconfig")).unwrap();
    let convert = sh.command(Path::new("kubelogin")).args(["convert-kubeconfig", "-l", "azurecli", "--kubeconfig", kube("alice.kubeconfig").to_str().unwrap()]).output().unwrap();
    t.check("kubelogin convert-kubeconfig -l azurecli", if convert.status.success() { Ok(String::new()) } else { Err(String::from_utf8_lossy(&convert.stderr).into()) });
    t.refused("kubectl get pods (alice, unbound)", sh.kubectl(&kube("alice.kubeconfig"), &["get", "pods"]), "Forbidden");
    let binding = dir.path().join("basic-azure-ad-binding.yaml");
    std::fs::write(&binding, format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: contoso-cluster-admins\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: User\n  name: {}\n", alice.user_principal_name)).unwrap();
    t.check("kubectl apply basic-azure-ad-binding.yaml (admin)", sh.kubectl(&kube("admin.kubeconfig"), &["apply", "-f", binding.to_str().unwrap()]));
    t.check("kubectl get pods --all-namespaces (alice)", sh.kubectl(&kube("alice.kubeconfig"), &["get", "pods", "--all-namespaces"]));

    // Break glass, then no more: local accounts disabled.
    t.check("az login --service-principal (again)", sh.az(&["login", "--service-principal", "-u", &get("AZURE_CLIENT_ID"), "-p", &get("AZURE_CLIENT_SECRET"), "--tenant", &get("AZURE_TENANT_ID"), "-o", "none"]));
    t.check("aks update --disable-local-accounts", sh.az(&["aks", "update", "-g", "myResourceGroup", "-n", "myManagedCluster", "--disable-local-accounts", "-o", "none"]));
    t.refused("aks get-credentials --admin (local accounts disabled)", sh.az(&["aks", "get-credentials", "-g", "myResourceGroup", "-n", "myManagedCluster", "--admin", "--file", kube("x.kubeconfig").to_str().unwrap()]), "Getting static credential is not allowed because this cluster is set to disable local accounts.");
    t.check("aks get-versions", sh.az(&["aks", "get-versions", "-l", "eastus", "-o", "none"]));

    let total = t.passed.len() + t.failed.len();
    println!("{} of {total} az seed commands passed", t.passed.len());
    assert!(t.failed.is_empty(), "{} of {total} az seed commands passed; these did not:\n{}", t.passed.len(), t.failed.join("\n"));
    served.stop().await.unwrap();
}

/// Without the proxy, at the simulator's own address: az told so by the commands `sim serve`
/// prints (a cloud whose Graph is named by that address, instance discovery off), with
/// aksflow.env's CA and credentials and no HTTPS_PROXY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_reaches_the_direct_endpoint_with_the_printed_cloud_registration() {
    let az = outside_tools::require_az();
    let dir = tempfile::tempdir().unwrap();
    let served = serve_for_clients(dir.path(), 7, None).await;
    let env: Vec<(String, String)> = env_file(&served).into_iter().filter(|(k, _)| k != "HTTPS_PROXY" && k != "NO_PROXY").collect();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let path = format!("{}:{}", az.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let sh = Shell { az, env: env.clone(), home, path };
    let mut t = Tally::default();
    for argv in aksflow::serve::hints::az_direct_mode(&served.base_url) {
        let args: Vec<&str> = argv[1..].iter().map(String::as_str).collect();
        t.check(&aksflow::serve::hints::shell_line(&argv), sh.az(&args));
    }
    t.check("az login --service-principal", sh.az(&["login", "--service-principal", "-u", &get("AZURE_CLIENT_ID"), "-p", &get("AZURE_CLIENT_SECRET"), "--tenant", &get("AZURE_TENANT_ID"), "-o", "none"]));
    let app = t.check("ad app create", sh.az(&["ad", "app", "create", "--display-name", "directApp", "--sign-in-audience", "AzureADMyOrg", "--query", "appId", "-o", "tsv"]));
    t.check("ad sp create", sh.az(&["ad", "sp", "create", "--id", &app, "-o", "none"]));
    let listed = t.check("ad app list --display-name", sh.az(&["ad", "app", "list", "--display-name", "directApp", "--query", "[0].appId", "-o", "tsv"]));
    t.check("group create", sh.az(&["group", "create", "--name", "directRG", "--location", "eastus", "-o", "none"]));
    t.check("role assignment list", sh.az(&["role", "assignment", "list", "--all", "-o", "none"]));
    let total = t.passed.len() + t.failed.len();
    assert!(t.failed.is_empty(), "{} of {total} passed at the direct endpoint; these did not:\n{}", t.passed.len(), t.failed.join("\n"));
    assert_eq!(listed, app, "Graph at the simulator's address lists what it made");
    served.stop().await.unwrap();
}

/// `az login --use-device-code`, with the code it prints answered on the simulator's
/// sign-in page (through the proxy) as a person would.
async fn device_code_login(sh: &Shell, tenant: &str, upn: &str, password: &str, proxy: &str, ca: &str) -> Result<String, String> {
    let mut child = sh.command(&sh.az).args(["login", "--use-device-code", "--tenant", tenant, "--allow-no-subscriptions", "-o", "none"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // "To sign in, use a web browser to open the page URL and enter the code CODE to authenticate."
    let line = rx.recv_timeout(std::time::Duration::from_secs(60)).map_err(|e| format!("az printed no device code: {e}"))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let page = words.iter().find(|w| w.starts_with("https://")).ok_or(format!("no page in: {line}"))?.to_string();
    let code = words.iter().position(|w| *w == "code").and_then(|i| words.get(i + 1)).ok_or(format!("no code in: {line}"))?.to_string();
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::https(proxy).unwrap())
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let answered = http.post(&page).form(&[("otc", code.as_str()), ("login", upn), ("passwd", password), ("action", "signin")]).send().await.map_err(|e| e.to_string())?;
    if !answered.status().is_success() {
        return Err(format!("the sign-in page answered {}", answered.status()));
    }
    let status = tokio::task::spawn_blocking(move || child.wait()).await.unwrap().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    if status.success() { Ok(String::new()) } else { Err(rest.join("\n")) }
}
