//! The token endpoint over HTTPS: client-credentials tokens from a served simulator, 8
//! requests in flight over kept-alive connections. Set AKSFLOW_BENCH_PEER to another
//! token endpoint (e.g. oauth2-mock-server's http://127.0.0.1:8080/token) to measure it
//! the same way in the same run. Compare with `openssl speed -multi 2 rsa2048`: each token
//! is one RSA-2048 signature.

use std::sync::Arc;

#[path = "common/served.rs"]
mod served_common;
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
    let mut g = c.benchmark_group("client-credentials tokens");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    g.bench_function("aksflow simulator over HTTPS", |b| b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || http.post(&url).form(form.as_slice()))));
    if let Ok(peer) = std::env::var("AKSFLOW_BENCH_PEER") {
        let plain = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap();
        g.bench_function("peer (AKSFLOW_BENCH_PEER)", |b| b.iter(|| served_common::fire(&rt, IN_FLIGHT, BATCH, || plain.post(&peer).form(form.as_slice()))));
    }
    g.finish();
    rt.block_on(served.stop()).unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
