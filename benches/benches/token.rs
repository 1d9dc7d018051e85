//! The token endpoint over HTTPS: client-credentials tokens from a served simulator, 8
//! requests in flight over kept-alive connections; and the simulator's RS256 signer alone,
//! on every core. Both are printed beside `openssl speed -multi N rsa2048`, measured in the
//! same run: each new token is one RSA-2048 signature, so that is the floor.
//!
//! The endpoint is measured twice. With every token signed: the virtual clock moves a second
//! before each request, so no two requests share an instant, and the tokens signed are
//! counted by the ids they drew. And as a client asking again and again sees it: the same
//! claims in the same second get the same token, not signed again. Set
//! AKSFLOW_BENCH_PEER to another token endpoint (e.g. oauth2-mock-server's
//! http://127.0.0.1:8080/token) to measure it the same way in the same run.

use std::sync::Arc;

#[path = "common/served.rs"]
mod served_common;
#[path = "common/floor.rs"]
mod floor;
use aksflow_simulator::VirtualClock;
use aksflow_simulator::keys::SigningKey;
use aksflow_simulator::login::tokens::{AccessClaims, mint};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 256;
const IN_FLIGHT: usize = 8;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let served_common::Bench { served, http, dir: _dir } = served_common::start(&rt, IN_FLIGHT);
    let op = served.simulator.operator();
    let form = Arc::new(vec![
        ("grant_type".to_string(), "client_credentials".to_string()),
        ("client_id".to_string(), op.client_id.clone()),
        ("client_secret".to_string(), op.client_secret.clone()),
        ("scope".to_string(), "https://management.azure.com/.default".to_string()),
    ]);
    let url = format!("{}/{}/oauth2/v2.0/token", served.base_url, op.tenant_id);
    let lanes: Vec<_> = served_common::clients(&rt, &served, &http, IN_FLIGHT)
        .into_iter()
        .map(|(id, secret)| {
            Arc::new(vec![
                ("grant_type".to_string(), "client_credentials".to_string()),
                ("client_id".to_string(), id),
                ("client_secret".to_string(), secret),
                ("scope".to_string(), "https://management.azure.com/.default".to_string()),
            ])
        })
        .collect();
    let mut g = c.benchmark_group("client-credentials tokens");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    let clock = served.simulator.clock().clone();
    g.bench_function("aksflow simulator over HTTPS, every token signed", |b| b.iter(|| fire_each_in_its_own_second(&rt, &clock, &http, &url, &lanes)));
    g.bench_function("aksflow simulator over HTTPS, the same claims again", |b| b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || http.post(&url).form(form.as_slice()))));
    if let Ok(peer) = std::env::var("AKSFLOW_BENCH_PEER") {
        let plain = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap();
        g.bench_function("peer (AKSFLOW_BENCH_PEER)", |b| b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || plain.post(&peer).form(form.as_slice()))));
    }
    let key = SigningKey::for_seed(1);
    let claims = AccessClaims::app_only("https://management.azure.com/", &op.tenant_id, &op.client_id, &op.client_id, 1_767_225_600, 1_767_229_200, "bench".into());
    g.throughput(Throughput::Elements(1));
    g.bench_function("RS256 signer alone", |b| b.iter(|| mint(&key, &claims)));
    g.finish();

    // The ratios, measured one after the other now: the floor, the signer on every core,
    // the endpoint.
    let floor = floor::openssl_rsa2048_signs_per_sec();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let window = std::time::Duration::from_secs(3);
    let signed_alone: usize = std::thread::scope(|s| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                s.spawn(|| {
                    let (start, mut n) = (std::time::Instant::now(), 0);
                    while start.elapsed() < window {
                        std::hint::black_box(mint(&key, &claims));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let (start, draws, mut requests) = (std::time::Instant::now(), served.simulator.id_draws(), 0u64);
    while start.elapsed() < window {
        fire_each_in_its_own_second(&rt, &clock, &http, &url, &lanes);
        requests += BATCH as u64;
    }
    let elapsed = start.elapsed().as_secs_f64();
    // Each signed token drew one id (its uti): every request must have been signed.
    assert_eq!(served.simulator.id_draws() - draws, requests, "a token was given again: this is not the signing figure");
    let signed = requests as f64 / elapsed;
    let start = std::time::Instant::now();
    let mut tokens = 0;
    while start.elapsed() < window {
        served_common::fire(&rt, IN_FLIGHT, BATCH, || http.post(&url).form(form.as_slice()));
        tokens += BATCH;
    }
    let again = tokens as f64 / start.elapsed().as_secs_f64();
    println!();
    floor::against(&format!("RS256 signer alone, {cores} threads"), signed_alone as f64 / window.as_secs_f64(), floor);
    floor::against(&format!("token endpoint over HTTPS, {IN_FLIGHT} in flight, every token signed"), signed, floor);
    floor::against(&format!("token endpoint over HTTPS, {IN_FLIGHT} in flight, the same claims asked again (given again within a second)"), again, floor);
    with_wrk(&rt, &served, &http, &url, &form, floor);
    rt.block_on(served.stop()).unwrap();
}

/// The issue's own measurement, when `wrk` is installed: `wrk -t2 -c16` against the served
/// simulator, a client far lighter than this process's reqwest, in a process of its own on
/// the same cores. Every token signed: 64 clients, each thread of wrk cycling through 32 of
/// its own, while the virtual clock moves a second every millisecond, so a client's next
/// request (32 requests later, about 10 ms) always falls in a later second; the tokens signed
/// are counted by the ids they drew. Then one client, the clock still: the same claims again.
fn with_wrk(rt: &tokio::runtime::Runtime, served: &aksflow::serve::Served, http: &reqwest::Client, url: &str, form: &[(String, String)], floor: Option<f64>) {
    if std::process::Command::new("wrk").arg("--version").output().is_err() {
        println!("(wrk not found: the measurement with wrk -t2 -c16 is left out)");
        return;
    }
    let body = |pairs: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter().map(|(k, v)| (k, v))).finish();
    let clients: Vec<String> = served_common::clients(rt, served, http, 64)
        .into_iter()
        .map(|(id, secret)| {
            body(&[
                ("grant_type".into(), "client_credentials".into()),
                ("client_id".into(), id),
                ("client_secret".into(), secret),
                ("scope".into(), "https://management.azure.com/.default".into()),
            ])
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let script = |bodies: &[String]| {
        let list: Vec<String> = bodies.iter().map(|b| format!("{b:?}")).collect();
        format!(
            "local bodies = {{ {} }}\nlocal threads = 0\nfunction setup(thread) thread:set(\"offset\", threads * {per}); threads = threads + 1 end\nlocal n = 0\nwrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/x-www-form-urlencoded\"\nfunction request() n = n + 1; return wrk.format(nil, nil, nil, bodies[(offset + n % {per}) % #bodies + 1]) end\n",
            list.join(", "),
            per = bodies.len().div_ceil(2),
        )
    };
    let run = |name: &str, bodies: &[String], tick: bool| -> Option<(f64, f64)> {
        // The script holds client secrets: readable by this user alone.
        let path = dir.path().join(name);
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).unwrap().write_all(script(bodies).as_bytes()).unwrap();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = tick.then(|| {
            let (clock, stop) = (served.simulator.clock().clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    clock.advance(std::time::Duration::from_secs(1));
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
        });
        let draws = served.simulator.id_draws();
        let out = std::process::Command::new("wrk").args(["-t2", "-c16", "-d5s", "-s", path.to_str().unwrap(), url]).output().unwrap();
        let drawn = served.simulator.id_draws() - draws;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        ticker.map(|t| t.join().unwrap());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("Non-2xx") && !text.contains("Socket errors"), "wrk saw failed requests:\n{text}");
        // "123456 requests in 5.01s, ...": the window wrk measured over, for the ids drawn too.
        let parsed = (|| {
            let rate: f64 = text.lines().find_map(|l| l.strip_prefix("Requests/sec:"))?.trim().parse().ok()?;
            let window: f64 = text.lines().find_map(|l| l.split_once(" requests in ")?.1.split_once('s')?.0.parse().ok())?;
            Some((rate, drawn as f64 / window))
        })();
        if parsed.is_none() {
            // wrk's own complaint (a script error, a refused connection), never the script.
            println!("(wrk gave no figure: {})", String::from_utf8_lossy(&out.stderr).lines().next().unwrap_or("no message"));
        }
        parsed
    };
    if let Some((rate, signed)) = run("signed.lua", &clients, true) {
        floor::against("token endpoint, wrk -t2 -c16, every token signed (requests)", rate, floor);
        floor::against("  of which signed (ids drawn)", signed, floor);
    }
    if let Some((rate, _)) = run("again.lua", &[body(form)], false) {
        floor::against("token endpoint, wrk -t2 -c16, the same claims asked again", rate, floor);
    }
}

/// `BATCH` requests, `IN_FLIGHT` at a time, each in-flight lane a client of its own that
/// moves the virtual clock a second before each request: no two requests carry the same
/// claims in the same second, so each token is signed.
fn fire_each_in_its_own_second(rt: &tokio::runtime::Runtime, clock: &VirtualClock, http: &reqwest::Client, url: &str, lanes: &[Arc<Vec<(String, String)>>]) {
    rt.block_on(async {
        let tasks: Vec<_> = lanes
            .iter()
            .map(|form| {
                let (clock, http, url, form) = (clock.clone(), http.clone(), url.to_string(), form.clone());
                tokio::spawn(async move {
                    for _ in 0..BATCH / IN_FLIGHT {
                        clock.advance(std::time::Duration::from_secs(1));
                        let r = http.post(&url).form(form.as_slice()).send().await.expect("a response");
                        assert!(r.status().is_success(), "{}", r.status());
                        r.bytes().await.expect("a body");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    })
}

criterion_group!(benches, bench);
criterion_main!(benches);
