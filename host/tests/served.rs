//! A served simulator as its users run it: `aksflow sim serve` in a process of its own, and
//! `aksflow run … --target https://127.0.0.1:PORT` with the settings from DIR/aksflow.env.
//! Killed with SIGKILL at seeded moments during a flow, it loses nothing it acknowledged and
//! the flow completes with `--resume`; idle connections that use up its descriptors cannot
//! keep a new client out.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 7;

/// Compiled plugins and the simulator's keys, shared with the other CLI tests.
fn cache() -> PathBuf {
    std::env::temp_dir().join("aksflow-cli-test-cache")
}

fn aksflow(cache: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aksflow"));
    c.env("AKSFLOW_CACHE_DIR", cache);
    c
}

fn flows() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("flows")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A served simulator child; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `aksflow sim serve` on `port` with its state in `dir`; returns once it accepts.
fn serve(cache: &Path, dir: &Path, port: u16, configure: impl FnOnce(&mut Command)) -> Server {
    let env = dir.join("aksflow.env");
    let _ = std::fs::remove_file(&env);
    let mut c = aksflow(cache);
    c.args(["sim", "serve", "--addr", &format!("127.0.0.1:{port}"), "--seed", &SEED.to_string(), "--state", dir.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::null());
    configure(&mut c);
    let server = Server { child: c.spawn().unwrap() };
    let deadline = Instant::now() + Duration::from_secs(120);
    while !(env.exists() && TcpStream::connect(("127.0.0.1", port)).is_ok()) {
        assert!(Instant::now() < deadline, "the served simulator did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// DIR/aksflow.env as KEY=VALUE pairs.
fn settings(dir: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(dir.join("aksflow.env")).unwrap().lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A tiny seeded generator for the kill moments (xorshift64*).
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (hi - lo)
    }
}

/// A client that keeps creating Graph groups and remembers every one the simulator answered 201.
struct Writer {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Writer {
    async fn new(dir: &Path, base: &str) -> Writer {
        let pem = std::fs::read(dir.join("ca.pem")).unwrap();
        let client = reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).no_proxy().build().unwrap();
        let s: std::collections::HashMap<String, String> = settings(dir).into_iter().collect();
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &s["AZURE_CLIENT_ID"])
            .append_pair("client_secret", &s["AZURE_CLIENT_SECRET"])
            .append_pair("scope", "https://graph.microsoft.com/.default")
            .finish();
        let r = client.post(format!("{base}/{}/oauth2/v2.0/token", s["AZURE_TENANT_ID"])).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        Writer { client, base: base.to_string(), token: v["access_token"].as_str().expect("a token").to_string() }
    }

    /// Creates groups until the server goes away; the ids it acknowledged.
    async fn write_until_gone(&self, round: usize) -> Vec<String> {
        let mut acknowledged = Vec::new();
        for i in 0.. {
            let body = serde_json::json!({"displayName": format!("durable-{round}-{i}"), "mailEnabled": false, "mailNickname": format!("durable{round}x{i}"), "securityEnabled": true});
            let sent = self.client.post(format!("{}/v1.0/groups", self.base)).bearer_auth(&self.token).header("content-type", "application/json").body(body.to_string()).send().await;
            let Ok(r) = sent else { break };
            let status = r.status().as_u16();
            let Ok(bytes) = r.bytes().await else { break };
            if status == 201 {
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                acknowledged.push(v["id"].as_str().unwrap().to_string());
            }
        }
        acknowledged
    }

    async fn exists(&self, id: &str) -> bool {
        let r = self.client.get(format!("{}/v1.0/groups/{id}", self.base)).bearer_auth(&self.token).send().await.unwrap();
        r.status().as_u16() == 200
    }
}

fn run_flow(cache: &Path, dir: &Path, out: &Path, port: u16, resume: bool) -> Child {
    let mut c = aksflow(cache);
    c.args(["run", flows().join("legacy-aad.toml").to_str().unwrap(), "--target", &format!("https://127.0.0.1:{port}"), "--out", out.to_str().unwrap()]);
    if resume {
        c.arg("--resume");
    }
    c.envs(settings(dir)).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_flow_loses_nothing_acknowledged_and_resume_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, state, out) = (cache(), tmp.path().join("sim"), tmp.path().join("out"));
    let port = free_port();
    let base = format!("https://127.0.0.1:{port}");
    let mut moments = Moments(0x5eed_0012);
    let mut acknowledged: Vec<String> = Vec::new();
    let (mut kills, mut interrupted) = (0, 0);
    for round in 0..4 {
        let server = serve(&cache, &state, port, |c| {
            c.args(["--era", "2019"]);
        });
        let writer = Writer::new(&state, &base).await;
        for id in &acknowledged {
            assert!(writer.exists(id).await, "group {id} was acknowledged before kill {kills} and is gone");
        }
        // Resume what an earlier round saved; a round killed before its first step finished
        // saved nothing, and a person would simply run again.
        let saved = out.join(".aksflow/state.json").exists();
        let run = run_flow(&cache, &state, &out, port, round > 0 && saved);
        if round == 3 {
            // The last round is left alone: the flow must finish.
            let done = tokio::task::spawn_blocking(move || run.wait_with_output().unwrap()).await.unwrap();
            let text = format!("{}{}", String::from_utf8_lossy(&done.stdout), String::from_utf8_lossy(&done.stderr));
            assert!(done.status.success(), "the resumed flow failed after {kills} kills:\n{text}");
            assert!(text.contains("passed"), "{text}");
            drop(server);
            break;
        }
        // Write while the flow runs, and kill the server at a seeded moment.
        let writing = tokio::spawn(async move { writer.write_until_gone(round).await });
        tokio::time::sleep(Duration::from_millis(moments.next_ms(300, 5000))).await;
        drop(server);
        kills += 1;
        acknowledged.extend(writing.await.unwrap());
        let ended = tokio::task::spawn_blocking(move || run.wait_with_output().unwrap()).await.unwrap();
        interrupted += usize::from(!ended.status.success());
    }
    assert_eq!(kills, 3);
    assert!(interrupted >= 1, "no kill landed inside the flow");
    assert!(acknowledged.len() > 10, "the writer made too few groups to prove anything: {}", acknowledged.len());
    // The state files are the owner's alone.
    use std::os::unix::fs::PermissionsExt;
    for f in ["state.redb", "aksflow.env"] {
        assert_eq!(std::fs::metadata(state.join(f)).unwrap().permissions().mode() & 0o777, 0o600, "{f}");
    }
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_at_the_descriptor_limit_cannot_keep_a_request_out() {
    let tmp = tempfile::tempdir().unwrap();
    let (cache, state) = (cache(), tmp.path().join("sim"));
    let port = free_port();
    // 160 descriptors: a cap of 96 connections, well under what the test opens.
    let server = serve(&cache, &state, port, |c| {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            c.pre_exec(|| {
                let r = libc::rlimit { rlim_cur: 160, rlim_max: 160 };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    });
    // Idle connections: some never start TLS, some start it and stop mid-way.
    let mut idle = Vec::new();
    for i in 0..300 {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { break };
        if i % 2 == 0 {
            let _ = s.write_all(&[0x16, 0x03, 0x01]);
        }
        idle.push(s);
    }
    assert!(idle.len() >= 200, "opened only {} connections", idle.len());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pem = std::fs::read(state.join("ca.pem")).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap()).no_proxy().build().unwrap();
    let tenant = settings(&state).into_iter().find(|(k, _)| k == "AZURE_TENANT_ID").unwrap().1;
    for _ in 0..3 {
        let started = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(1), client.get(format!("https://127.0.0.1:{port}/{tenant}/v2.0/.well-known/openid-configuration")).send()).await;
        let r = r.expect("the health request waited more than a second").expect("the health request failed");
        assert_eq!(r.status().as_u16(), 200);
        assert!(started.elapsed() < Duration::from_secs(1));
    }
    drop(idle);
    drop(server);
}

/// Reads until the server closes the connection; how long that took.
async fn until_closed<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Duration {
    use tokio::io::AsyncReadExt;
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.expect("the server never closed the connection") {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_a_slow_and_an_idle_connection_are_each_closed_at_their_deadline() {
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::tempdir().unwrap();
    let limits = aksflow::serve::Limits { handshake: Duration::from_millis(300), header_read: Duration::from_millis(300), request: Duration::from_millis(300), idle: Duration::from_secs(30), ..Default::default() };
    let opts = aksflow::serve::ServeOptions { addr: "127.0.0.1:0".parse().unwrap(), seed: SEED, state_dir: tmp.path().join("sim"), key_cache: Some(cache()), exec_command: None, limits, era: Default::default(), faults: None };
    let served = aksflow::serve::Served::start(opts).await.unwrap();
    let tls = || async {
        let mut roots = rustls::RootCertStore::empty();
        use rustls::pki_types::pem::PemObject;
        roots.add(rustls::pki_types::CertificateDer::from_pem_slice(served.simulator.ca_pem().as_bytes()).unwrap()).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions().unwrap().with_root_certificates(roots).with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(served.addr).await.unwrap();
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap(), tcp).await.unwrap()
    };
    // Never starts TLS: closed at the handshake deadline.
    let mut silent = tokio::net::TcpStream::connect(served.addr).await.unwrap();
    let t = until_closed(&mut silent).await;
    assert!(t >= Duration::from_millis(250) && t < Duration::from_secs(2), "silent: {t:?}");
    // Starts a request and never finishes its headers: closed at the header deadline.
    let mut slow = tls().await;
    slow.write_all(b"GET /common/discovery/instance HTTP/1.1\r\nhost: 127.0.0.1\r\n").await.unwrap();
    let t = until_closed(&mut slow).await;
    assert!(t < Duration::from_secs(2), "slow headers: {t:?}");
    // Headers, then a body that never comes: 408 at the request deadline, and closed.
    let mut trickle = tls().await;
    trickle.write_all(b"POST /v1.0/groups HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{").await.unwrap();
    let t = until_closed(&mut trickle).await;
    assert!(t < Duration::from_secs(2), "trickled body: {t:?}");
    // One request, answered, then nothing: the wait for the next request's headers is bounded
    // by the header deadline too.
    let mut idle = tls().await;
    idle.write_all(b"GET /common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/common/oauth2/authorize HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
    let t = until_closed(&mut idle).await;
    assert!(t < Duration::from_secs(2), "idle: {t:?}");
    served.stop().await.unwrap();
}

/// Every flow under flows/ (failures included) run over TLS against a served simulator of
/// its own, as `aksflow run FLOW --target https://127.0.0.1:PORT` with only aksflow.env's
/// settings: each ends as it does in process. Four at a time (they mostly wait).
#[test]
fn every_flow_passes_over_tls_against_a_served_simulator() {
    every_flow_passes_against_a_served_simulator("over TLS", |port| format!("https://127.0.0.1:{port}"));
}

/// The same flows at Azure's own host names, through the served simulator's proxy
/// (`--target proxy` with its aksflow.env): kubeconfigs then name each cluster's FQDN.
#[test]
fn every_flow_passes_through_the_proxy_at_azure_s_host_names() {
    every_flow_passes_against_a_served_simulator("through the proxy", |_| "proxy".to_string());
}

fn every_flow_passes_against_a_served_simulator(how: &str, target: impl Fn(u16) -> String + Sync) {
    let cache = cache();
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in [flows(), flows().join("failures"), flows().join("time")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            // `wait` is real waiting against a served simulator (its clock is the wall
            // clock), and a served simulator takes its faults from `sim serve --faults`, not
            // from a flow: flows that let hours pass or carry [faults] run in process only.
            let text = if p.extension().is_some_and(|x| x == "toml") { std::fs::read_to_string(&p).unwrap() } else { String::new() };
            if !text.is_empty() && !text.contains("\nwait = ") && !text.contains("[faults") {
                paths.push(p);
            }
        }
    }
    paths.sort();
    assert!(paths.len() >= 27, "{} flows", paths.len());
    let queue = std::sync::Mutex::new(paths.clone());
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                while let Some(flow) = queue.lock().unwrap().pop() {
                    let dir = tempfile::tempdir().unwrap();
                    let port = free_port();
                    // A served simulator of the flow's own era (seed 000's flows need 2019's).
                    let era = toml::from_str::<toml::Value>(&std::fs::read_to_string(&flow).unwrap()).unwrap().get("era").and_then(|e| e.as_str().map(String::from)).unwrap_or_else(|| "today".into());
                    let _server = serve(&cache, &dir.path().join("sim"), port, |c| {
                        c.args(["--era", &era]);
                    });
                    let out = aksflow(&cache)
                        .args(["run", flow.to_str().unwrap(), "--quiet", "--target", &target(port), "--out", dir.path().join("out").to_str().unwrap()])
                        .envs(settings(&dir.path().join("sim")))
                        .output()
                        .unwrap();
                    if !out.status.success() {
                        failed.lock().unwrap().push(format!("{}: {}{}", flow.display(), String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "{} of {} flows failed {how}:\n{}", failed.len(), paths.len(), failed.join("\n"));
}

/// Readiness: once the port takes connections, aksflow.env and the CA are already written,
/// so a script that waits for the port can source the file at once.
#[test]
fn the_settings_are_written_before_the_port_takes_connections() {
    let cache = cache();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("sim");
    let port = free_port();
    let mut c = aksflow(&cache);
    c.args(["sim", "serve", "--addr", &format!("127.0.0.1:{port}"), "--seed", "3", "--state", state.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::null());
    let _server = Server { child: c.spawn().unwrap() };
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the served simulator did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    let env = std::fs::read_to_string(state.join("aksflow.env")).expect("aksflow.env exists as soon as the port answers");
    assert!(env.contains("HTTPS_PROXY=") && env.contains("REQUESTS_CA_BUNDLE="), "{env}");
    assert!(std::fs::read_to_string(state.join("ca.pem")).unwrap().contains("BEGIN CERTIFICATE"));
}

/// A client that only sets HTTPS_PROXY to the simulator and trusts its CA reaches the token
/// service, ARM and a cluster's API server at their real host names; a CONNECT to any other
/// host is refused with an answer that names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_host_names_answer_through_the_proxy_and_nothing_else_does() {
    let (cache, dir) = (cache(), tempfile::tempdir().unwrap());
    let port = free_port();
    let _server = serve(&cache, dir.path(), port, |_| {});
    let s: std::collections::HashMap<String, String> = settings(dir.path()).into_iter().collect();
    assert_eq!(s["HTTPS_PROXY"], format!("http://127.0.0.1:{port}"));
    let pem = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .proxy(reqwest::Proxy::https(&s["HTTPS_PROXY"]).unwrap())
        .build()
        .unwrap();
    let tenant = &s["AZURE_TENANT_ID"];
    let discovery = client.get(format!("https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize")).send().await.unwrap();
    assert_eq!(discovery.status(), 200);
    let discovery: serde_json::Value = serde_json::from_slice(&discovery.bytes().await.unwrap()).unwrap();
    assert_eq!(discovery["tenant_discovery_endpoint"], format!("https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"), "the documents name the host the client addressed");
    let oidc: serde_json::Value = client.get(discovery["tenant_discovery_endpoint"].as_str().unwrap()).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
    assert_eq!(oidc["token_endpoint"], format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"));
    assert_eq!(oidc["issuer"], format!("https://login.microsoftonline.com/{tenant}/v2.0"));
    let form = [("grant_type", "client_credentials"), ("client_id", &s["AZURE_CLIENT_ID"]), ("client_secret", &s["AZURE_CLIENT_SECRET"]), ("scope", "https://management.azure.com/.default")];
    let token: serde_json::Value = client.post(format!("https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token")).form(&form).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
    let token = token["access_token"].as_str().expect("a token through the proxy").to_string();

    // ARM at management.azure.com: a resource group and a cluster.
    let sub = &s["AZURE_SUBSCRIPTION_ID"];
    let arm = |method: reqwest::Method, path: String| client.request(method, format!("https://management.azure.com{path}")).bearer_auth(&token);
    let rg = arm(reqwest::Method::PUT, format!("/subscriptions/{sub}/resourcegroups/proxied?api-version=2024-11-01")).header("content-type", "application/json").body(serde_json::json!({"location": "eastus"}).to_string()).send().await.unwrap();
    assert_eq!(rg.status(), 201);
    let cluster = format!("/subscriptions/{sub}/resourceGroups/proxied/providers/Microsoft.ContainerService/managedClusters/viaproxy");
    let body = serde_json::json!({"location": "eastus", "properties": {"dnsPrefix": "viaproxy", "agentPoolProfiles": [{"name": "nodepool1", "count": 1, "vmSize": "Standard_DS2_v2", "mode": "System"}]}});
    let put = arm(reqwest::Method::PUT, format!("{cluster}?api-version=2025-07-01")).header("content-type", "application/json").body(body.to_string()).send().await.unwrap();
    assert!(put.status().is_success(), "{}", put.text().await.unwrap());
    let operation = put.headers()["azure-asyncoperation"].to_str().unwrap().to_string();
    assert!(operation.starts_with("https://management.azure.com/subscriptions/"), "the operation is polled where the client asked: {operation}");
    let status = client.get(&operation).bearer_auth(&token).send().await.unwrap();
    assert_eq!(status.status(), 200);
    let mut fqdn = String::new();
    for _ in 0..200 {
        let c: serde_json::Value = arm(reqwest::Method::GET, format!("{cluster}?api-version=2025-07-01")).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
        if c["properties"]["provisioningState"] == "Succeeded" {
            fqdn = c["properties"]["fqdn"].as_str().unwrap().to_string();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(fqdn.ends_with(".azmk8s.io"), "the cluster was created: {fqdn}");
    let creds: serde_json::Value = arm(reqwest::Method::POST, format!("{cluster}/listClusterAdminCredential?api-version=2025-07-01")).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
    let kubeconfig = base64_decode(creds["kubeconfigs"][0]["value"].as_str().unwrap());
    let kubeconfig: serde_yaml::Value = serde_yaml::from_slice(&kubeconfig).unwrap();
    assert_eq!(kubeconfig["clusters"][0]["cluster"]["server"], format!("https://{fqdn}:443"), "asked of management.azure.com, the kubeconfig names the cluster's own API server");
    let admin_token = kubeconfig["users"][0]["user"]["token"].as_str().expect("the admin kubeconfig's token").to_string();

    // The cluster's own API server, at its FQDN, with a certificate for that name from the
    // cluster's own CA: the simulator's CA does not vouch for it.
    let pods_url = format!("https://{fqdn}/api/v1/namespaces/kube-system/pods");
    assert_untrusted(client.get(&pods_url).bearer_auth(&admin_token).send().await, "only the kubeconfig's CA is the cluster's");
    let as_admin = cluster_client(&kubeconfig, &s["HTTPS_PROXY"], true);
    // The client certificate alone (no token) is the local admin, `O=system:masters`.
    let pods = as_admin.get(&pods_url).send().await.unwrap();
    assert_eq!(pods.status(), 200);
    let pods: serde_json::Value = serde_json::from_slice(&pods.bytes().await.unwrap()).unwrap();
    assert_eq!(pods["kind"], "PodList");
    let review = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let me: serde_json::Value = as_admin.post(format!("https://{fqdn}/apis/authentication.k8s.io/v1/selfsubjectreviews")).header("content-type", "application/json").body(review.to_string()).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
    assert_eq!(me["status"]["userInfo"]["username"], "masterclient", "{me}");
    assert!(me["status"]["userInfo"]["groups"].as_array().unwrap().contains(&"system:masters".into()), "{me}");
    let anonymous = cluster_client(&kubeconfig, &s["HTTPS_PROXY"], false);
    assert_eq!(anonymous.get(&pods_url).send().await.unwrap().status(), 401, "the cluster's CA, no credentials");
    assert_eq!(anonymous.get(&pods_url).bearer_auth(&admin_token).send().await.unwrap().status(), 200, "the static token");

    // Rotating the cluster's certificates gives it a new CA: the old kubeconfig no longer
    // trusts the API server, and new credentials work.
    let rotate = arm(reqwest::Method::POST, format!("{cluster}/rotateClusterCertificates?api-version=2025-07-01")).send().await.unwrap();
    assert_eq!(rotate.status(), 202);
    assert!(rotate.headers()["location"].to_str().unwrap().starts_with("https://management.azure.com/"));
    let mut state = serde_json::Value::Null;
    for _ in 0..200 {
        let c: serde_json::Value = arm(reqwest::Method::GET, format!("{cluster}?api-version=2025-07-01")).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
        state = c["properties"]["provisioningState"].clone();
        if state == "Succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "Succeeded", "the rotation finished");
    // (A new connection: the API server's certificate is checked at the handshake.)
    assert_untrusted(cluster_client(&kubeconfig, &s["HTTPS_PROXY"], true).get(&pods_url).send().await, "the old CA is not the cluster's any more");
    // On a connection made before, the old client certificate names nobody; if that
    // connection was closed meanwhile, a new one fails at the handshake instead.
    match as_admin.get(&pods_url).send().await {
        Ok(r) => assert_eq!(r.status(), 401),
        Err(e) => assert_untrusted(Err(e), "the old CA, on a new connection"),
    }
    let creds: serde_json::Value = arm(reqwest::Method::POST, format!("{cluster}/listClusterAdminCredential?api-version=2025-07-01")).send().await.unwrap().bytes().await.map(|b| serde_json::from_slice(&b).unwrap()).unwrap();
    let rotated: serde_yaml::Value = serde_yaml::from_slice(&base64_decode(creds["kubeconfigs"][0]["value"].as_str().unwrap())).unwrap();
    assert_ne!(rotated["clusters"][0]["cluster"]["certificate-authority-data"], kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]);
    assert_eq!(cluster_client(&rotated, &s["HTTPS_PROXY"], true).get(&pods_url).send().await.unwrap().status(), 200);

    // Any other host is refused by the proxy itself, naming it; nothing is tunnelled.
    for other in ["example.com:443", "169.254.169.254:443", "management.azure.com:80"] {
        let answer = raw_connect(port, other);
        assert!(answer.starts_with("HTTP/1.1 403"), "{other}: {answer}");
        assert!(answer.contains(other) && answer.contains("offline"), "{answer}");
    }
    let refused = reqwest::Client::builder().proxy(reqwest::Proxy::https(&s["HTTPS_PROXY"]).unwrap()).build().unwrap().get("https://example.com/").send().await;
    assert!(refused.is_err(), "a client sees the tunnel refused");
}

/// A request that failed because TLS did not trust the server's certificate (not a refusal
/// by the proxy or anything else).
fn assert_untrusted(r: reqwest::Result<reqwest::Response>, why: &str) {
    let e = match r {
        Ok(resp) => panic!("{why}: answered {}", resp.status()),
        Err(e) => e,
    };
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    // A CA of another name: UnknownIssuer; the cluster's CA before a rotation (also `CN=ca`):
    // the signature does not verify.
    assert!(chain.contains("UnknownIssuer") || chain.contains("BadSignature"), "{why}: {chain}");
}

/// A client as kubectl makes one from a kubeconfig: its CA alone trusted, and its client
/// certificate presented when `with_certificate`.
fn cluster_client(kubeconfig: &serde_yaml::Value, proxy: &str, with_certificate: bool) -> reqwest::Client {
    let field = |v: &serde_yaml::Value| base64_decode(v.as_str().expect("a base64 field"));
    let ca = field(&kubeconfig["clusters"][0]["cluster"]["certificate-authority-data"]);
    let mut builder = reqwest::Client::builder().tls_built_in_root_certs(false).add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap()).proxy(reqwest::Proxy::https(proxy).unwrap());
    if with_certificate {
        let user = &kubeconfig["users"][0]["user"];
        let mut identity = field(&user["client-certificate-data"]);
        identity.extend(field(&user["client-key-data"]));
        builder = builder.identity(reqwest::Identity::from_pem(&identity).unwrap());
    }
    builder.build().unwrap()
}

/// Sends `CONNECT target` to the proxy and returns what it answered.
fn raw_connect(port: u16, target: &str) -> String {
    use std::io::Read;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}
