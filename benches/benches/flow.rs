//! Whole flows in process with a warm engine: the hello flow (two ARM calls and the
//! operator's sign-in) and the legacy-aad flow (seed 000 end to end, 16 steps), one at a
//! time and two at a time (this machine has two cores). Target: legacy-aad ≥ 300 flows/s.

use std::sync::Arc;

use aksflow::engine::StepEngine;
use aksflow::flow;
use aksflow::runner::{self, RunOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn run_once(rt: &tokio::runtime::Runtime, plan: &Arc<flow::Plan>, engine: &Arc<StepEngine>, out: &std::path::Path) {
    let mut opts = RunOptions::sim(1, out);
    opts.save_state = false;
    let r = rt.block_on(runner::run(plan.clone(), engine.clone(), opts)).unwrap();
    assert!(r.passed);
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    // Compiled components cached as `aksflow` caches them: setup stays out of profiles.
    let engine = StepEngine::new(Some(std::env::temp_dir().join("aksflow-bench-cache"))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["hello", "legacy-aad"] {
        let path = aksflow_e2e::flows_dir().join(format!("{name}.toml"));
        let plan = Arc::new(rt.block_on(flow::load(&path, &engine)).unwrap());
        // The seed's signing key is generated once per process; warm it.
        run_once(&rt, &plan, &engine, dir.path());
        let mut g = c.benchmark_group(format!("{name} flow in process (warm engine)"));
        g.throughput(Throughput::Elements(1));
        g.bench_function("one at a time", |b| b.iter(|| run_once(&rt, &plan, &engine, dir.path())));
        g.throughput(Throughput::Elements(2));
        g.bench_function("two at a time", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let runs = (0..2).map(|i| {
                        let mut opts = RunOptions::sim(1, dir.path().join(format!("p{i}")));
                        opts.save_state = false;
                        tokio::spawn(runner::run(plan.clone(), engine.clone(), opts))
                    });
                    for h in runs.collect::<Vec<_>>() {
                        assert!(h.await.unwrap().unwrap().passed);
                    }
                })
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
