//! Whole flows in process with a warm engine: the hello flow (two ARM calls and the
//! operator's sign-in through the simulated token service).

use std::sync::Arc;

use aksflow::engine::StepEngine;
use aksflow::flow;
use aksflow::runner::{self, RunOptions};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let engine = StepEngine::new(None).unwrap();
    let path = aksflow_e2e::flows_dir().join("hello.toml");
    let plan = Arc::new(rt.block_on(flow::load(&path, &engine)).unwrap());
    let dir = tempfile::tempdir().unwrap();
    // The seed's signing key is generated once per process; warm it.
    let warm = rt.block_on(runner::run(plan.clone(), engine.clone(), RunOptions::sim(1, dir.path()))).unwrap();
    assert!(warm.passed);
    c.bench_function("hello flow in process (warm engine)", |b| {
        b.iter(|| {
            let mut opts = RunOptions::sim(1, dir.path());
            opts.save_state = false;
            let r = rt.block_on(runner::run(plan.clone(), engine.clone(), opts)).unwrap();
            assert!(r.passed);
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
