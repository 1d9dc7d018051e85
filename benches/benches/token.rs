//! The token endpoint over HTTPS: client-credentials tokens from a served simulator, 8
//! requests in flight over kept-alive connections; and the simulator's RS256 signer alone,
//! on every core. Both are printed beside `openssl speed -multi N rsa2048`, measured just
//! before and just after each figure: each new token is one RSA-2048 signature, so that is
//! the floor.
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
#[path = "common/wrk.rs"]
mod wrk;
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
    let form = Arc::new(client_form(op.client_id.clone(), op.client_secret.clone()));
    let url = format!("{}/{}/oauth2/v2.0/token", served.base_url, op.tenant_id);
    let lanes: Vec<_> = served_common::clients(&rt, &served, &http, IN_FLIGHT)
        .into_iter()
        .map(|(id, secret)| Arc::new(client_form(id, secret)))
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

    // The ratios, measured one after the other now, each between two measurements of the
    // floor: the signer on every core, the endpoint.
    let cores = floor::cores();
    let window = std::time::Duration::from_secs(3);
    let (signed_alone, alone_floor) = floor::around(cores, || -> usize {
        std::thread::scope(|s| {
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
        })
    });
    let (signed, signed_floor) = floor::around(cores, || {
        let (start, draws, mut requests) = (std::time::Instant::now(), served.simulator.id_draws(), 0u64);
        while start.elapsed() < window {
            fire_each_in_its_own_second(&rt, &clock, &http, &url, &lanes);
            requests += BATCH as u64;
        }
        let elapsed = start.elapsed().as_secs_f64();
        // Each signed token drew one id (its uti): every request must have been signed.
        assert_eq!(served.simulator.id_draws() - draws, requests, "a token was given again: this is not the signing figure");
        requests as f64 / elapsed
    });
    let (again, again_floor) = floor::around(cores, || {
        let start = std::time::Instant::now();
        let mut tokens = 0;
        while start.elapsed() < window {
            served_common::fire(&rt, IN_FLIGHT, BATCH, || http.post(&url).form(form.as_slice()));
            tokens += BATCH;
        }
        tokens as f64 / start.elapsed().as_secs_f64()
    });
    println!();
    floor::against(&format!("RS256 signer alone, {cores} threads"), signed_alone as f64 / window.as_secs_f64(), alone_floor);
    floor::against(&format!("token endpoint over HTTPS, {IN_FLIGHT} in flight, every token signed"), signed, signed_floor);
    floor::against(&format!("token endpoint over HTTPS, {IN_FLIGHT} in flight, the same claims asked again (given again within a second)"), again, again_floor);
    with_wrk(&rt, &served, &http, &url, &form);
    rt.block_on(served.stop()).unwrap();
}

/// The issue's own measurement, when `wrk` is installed: `wrk -t2 -c16` against the served
/// simulator (`common/wrk.rs`). Every token signed: 64 clients, each thread of wrk cycling
/// through 32 of its own, while the virtual clock moves a second every millisecond, so a
/// client's next request (32 requests later, about 10 ms) always falls in a later second; the
/// tokens signed are counted by the ids they drew. Then one client, the clock still: the same
/// claims again.
fn with_wrk(rt: &tokio::runtime::Runtime, served: &aksflow::serve::Served, http: &reqwest::Client, url: &str, form: &[(String, String)]) {
    if !wrk::installed() {
        println!("(wrk not found: the measurement with wrk -t2 -c16 is left out)");
        return;
    }
    let body = |pairs: &[(String, String)]| form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.iter().map(|(k, v)| (k, v))).finish();
    let clients: Vec<String> = served_common::clients(rt, served, http, 64).into_iter().map(|(id, secret)| body(&client_form(id, secret))).collect();
    let dir = tempfile::tempdir().unwrap();
    let cores = floor::cores();

    // The clock moves only while wrk runs, not while the floor is measured around it.
    let ((signed, drawn), floor) = floor::around(cores, || {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ticker = {
            let (clock, stop) = (served.simulator.clock().clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    clock.advance(std::time::Duration::from_secs(1));
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            })
        };
        let draws = served.simulator.id_draws();
        let signed = wrk::post(&dir.path().join("signed.lua"), &clients, url);
        let drawn = served.simulator.id_draws() - draws;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        ticker.join().unwrap();
        (signed, drawn)
    });
    match signed {
        Ok(f) => {
            floor::against("token endpoint, wrk -t2 -c16, every token signed (requests)", f.requests_per_sec, floor);
            floor::against("  of which signed (ids drawn)", drawn as f64 / f.window_secs, floor);
        }
        Err(why) => println!("(wrk gave no figure: {why})"),
    }
    match floor::around(cores, || wrk::post(&dir.path().join("again.lua"), &[body(form)], url)) {
        (Ok(f), floor) => floor::against("token endpoint, wrk -t2 -c16, the same claims asked again", f.requests_per_sec, floor),
        (Err(why), _) => println!("(wrk gave no figure: {why})"),
    }
}

/// A client-credentials token request for ARM, as form pairs.
fn client_form(client_id: String, secret: String) -> Vec<(String, String)> {
    vec![
        ("grant_type".to_string(), "client_credentials".to_string()),
        ("client_id".to_string(), client_id),
        ("client_secret".to_string(), secret),
        ("scope".to_string(), "https://management.azure.com/.default".to_string()),
    ]
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
