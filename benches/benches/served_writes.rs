//! What durability costs a served simulator: Graph requests over HTTPS, 8 in flight, that
//! only read, beside requests that change the directory and so are committed to
//! `state.redb` (fsynced) before they are answered. Both touch one application, so the world,
//! and with it the snapshot each commit writes, stays the same size through the run.

use std::sync::Arc;

#[path = "common/served.rs"]
mod served_common;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const BATCH: usize = 64;
const IN_FLIGHT: usize = 8;

/// One request to the application, with a JSON body or none.
fn request(http: &reqwest::Client, method: &reqwest::Method, url: &str, token: &str, body: Option<&'static str>) -> reqwest::RequestBuilder {
    let req = http.request(method.clone(), url).bearer_auth(token);
    match body {
        Some(b) => req.header("content-type", "application/json").body(b),
        None => req,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let served_common::Bench { served, http, dir: _dir } = served_common::start(&rt, IN_FLIGHT);
    let base = served.base_url.clone();
    let (token, app) = rt.block_on(async {
        let token = served_common::graph_token(&served, &http).await;
        let app: serde_json::Value =
            http.post(format!("{base}/v1.0/applications")).bearer_auth(&token).json(&serde_json::json!({"displayName": "bench"})).send().await.unwrap().json().await.unwrap();
        (Arc::new(token), app["id"].as_str().unwrap().to_string())
    });
    let url = format!("{base}/v1.0/applications/{app}");
    let mut g = c.benchmark_group("served Graph over HTTPS");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    g.bench_function("read (GET application)", |b| b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || request(&http, &reqwest::Method::GET, &url, &token, None))));
    g.bench_function("write, committed before the answer (PATCH application)", |b| {
        b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || request(&http, &reqwest::Method::PATCH, &url, &token, Some(r#"{"displayName":"bench"}"#))))
    });
    g.finish();
    rt.block_on(served.stop()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
