//! Whole flows in process with a warm engine: the hello flow (two ARM calls and the
//! operator's sign-in) and the legacy-aad flow (seed 000 end to end, 16 steps), one at a
//! time and two at a time (this machine has two cores). Afterwards it prints legacy-aad's
//! flows per second, where a flow's time goes, step by step, and what the flow's RSA
//! signatures alone cost at this machine's `openssl speed` floor, with the ceiling that puts
//! on flows per second here. Target (issue 16, set on a machine whose openssl floor was 9,270
//! signatures/s over two cores, with AVX-512 IFMA): legacy-aad ≥ 350 flows/s one at a time,
//! ≥ 600 two at a time.

use std::sync::Arc;

use aksflow::engine::StepEngine;
use aksflow::flow;
use aksflow::runner::{self, RunOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/floor.rs"]
mod floor;

fn run_once(rt: &tokio::runtime::Runtime, plan: &Arc<flow::Plan>, engine: &Arc<StepEngine>, out: &std::path::Path) {
    let mut opts = RunOptions::sim(1, out);
    opts.saves = runner::Saves::Never;
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
                        opts.saves = runner::Saves::Never;
                        tokio::spawn(runner::run(plan.clone(), engine.clone(), opts))
                    });
                    for h in runs.collect::<Vec<_>>() {
                        assert!(h.await.unwrap().unwrap().passed);
                    }
                })
            })
        });
        g.finish();
        if name == "legacy-aad" {
            breakdown(&rt, &plan, &engine, dir.path());
        }
    }
}

/// Flows per second one at a time over a fixed window, each step's mean time in them, and
/// what the flow's RSA signatures alone cost at the machine's floor (measured around it).
fn breakdown(rt: &tokio::runtime::Runtime, plan: &Arc<flow::Plan>, engine: &Arc<StepEngine>, out: &std::path::Path) {
    // A flow runs on one thread, so one at a time its signatures take one core: the window
    // is measured between two floors of one core alone.
    let ((per_step, flows, wall_ms, signatures, faults), one_core) = floor::around(1, || window(rt, plan, engine, out));
    let cores = floor::cores();
    let every_core = floor::openssl_rsa2048_on(cores);
    println!("\n{}: {:.0} flows/s one at a time ({:.2} ms a flow, {flows} flows)", plan.name, f64::from(flows) * 1000.0 / wall_ms, wall_ms / f64::from(flows));
    let steps_ms: f64 = per_step.iter().map(|s| s.2).sum::<f64>() / f64::from(flows);
    // Steps the flow does not order run at once, so their times add up to more than the
    // flow's: each share is of the steps' summed time.
    println!("  {:<24} {:<24} {:>9} {:>7}", "step", "plugin", "ms", "share");
    for (id, uses, total) in &per_step {
        let ms = total / f64::from(flows);
        println!("  {id:<24} {uses:<24} {ms:>9.3} {:>6.1}%", 100.0 * ms / steps_ms);
    }
    println!("  steps' summed time {steps_ms:.2} ms in a flow of {:.2} ms (steps overlap where the flow allows)", wall_ms / f64::from(flows));
    // Each is a trip into the kernel, and a write to a page mapped copy-on-write also flushes
    // the TLB of every other core running a thread of this process (docs/testing.md).
    println!("  page faults: {:.1} a flow (minor faults of this process in the window)", faults as f64 / f64::from(flows));
    assert!(signatures > 0, "no RS256 signature was counted: another jsonwebtoken CryptoProvider was installed before the simulator's (aksflow_simulator keys install theirs on first use), so the signatures went uncounted");
    let per_flow = signatures as f64 / f64::from(flows);
    match (one_core, every_core) {
        (Some(one), Some(all)) => {
            let rsa_ms = per_flow * 1000.0 / one.mean();
            println!(
                "  RS256 signatures: {per_flow:.1} a flow, {rsa_ms:.2} ms at one core's openssl floor ({:.0} signatures/s: {:.0} before, {:.0} after), {:.0}% of a flow one at a time;",
                one.mean(),
                one.before,
                one.after,
                100.0 * rsa_ms * f64::from(flows) / wall_ms
            );
            println!(
                "  signing alone caps this machine at {:.0} flows/s one at a time, and at {:.0} with all {cores} cores busy (openssl -multi {cores}: {all:.0} signatures/s)",
                1000.0 / rsa_ms,
                all / per_flow
            );
        }
        _ => println!("  RS256 signatures: {per_flow:.1} a flow (openssl not found: no floor to compare with)"),
    }
}

/// Each step's summed time over the flows run one at a time for three seconds, the flows,
/// the window in milliseconds, and the RS256 signatures made and page faults taken in it.
fn window(rt: &tokio::runtime::Runtime, plan: &Arc<flow::Plan>, engine: &Arc<StepEngine>, out: &std::path::Path) -> (Vec<(String, String, f64)>, u32, f64, u64, u64) {
    let mut per_step: Vec<(String, String, f64)> = Vec::new();
    let signed_before = aksflow_simulator::signatures_made();
    let faults_before = minor_page_faults();
    let (start, mut flows) = (std::time::Instant::now(), 0u32);
    while start.elapsed() < std::time::Duration::from_secs(3) {
        let mut opts = RunOptions::sim(1, out);
        opts.saves = runner::Saves::Never;
        let r = rt.block_on(runner::run(plan.clone(), engine.clone(), opts)).unwrap();
        for (i, s) in r.steps.iter().enumerate() {
            match per_step.get_mut(i) {
                Some(e) => e.2 += s.elapsed_ms,
                None => per_step.push((s.id.clone(), s.uses.clone(), s.elapsed_ms)),
            }
        }
        flows += 1;
    }
    (per_step, flows, start.elapsed().as_secs_f64() * 1000.0, aksflow_simulator::signatures_made() - signed_before, minor_page_faults() - faults_before)
}

/// The minor page faults this process's threads have taken so far (openssl's floor runs in a
/// child, so it is not counted).
fn minor_page_faults() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given, and it starts zeroed either way.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    usage.ru_minflt as u64
}

criterion_group!(benches, bench);
criterion_main!(benches);
