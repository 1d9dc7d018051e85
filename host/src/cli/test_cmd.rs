//! `aksflow test [FLOW|DIR ...]`

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::cloud::Target;
use crate::report::{self, IndexEntry};
use crate::suite::{self, Shard, SuiteOptions};
use super::out::out;

#[derive(Args, Debug)]
#[command(after_long_help = "\
Runs each flow on its own simulator (or the --target), several at once, and prints one line
per flow and a closing `N passed, N failed` line. A flow passes when every step does what
the flow expects — including steps that are expected to fail with a given error.

Examples:
  aksflow test flows/                       every flow under flows/
  aksflow test flows/ --junit results.xml   plus JUnit XML for the CI system
  aksflow test flows/ --shard 2/4           the second quarter of the suite
  aksflow test flows/ --report report/      an HTML page per flow and report/index.html
  aksflow test flows/ --faults flaky --seeds 1..200
                                            a sweep: every flow under 200 fault schedules;
                                            each failure is printed as the one command that
                                            reproduces it, and goes into the JUnit output

A progress line on stderr shows flows done, flows per second and failures so far (on a
terminal it is redrawn in place; otherwise a line every 100 flows). A sweep counts runs
instead, keeps the output directory only of the runs that failed, and ends with the failing
seeds per flow.

A suite at scale: scripts/generate-suite.sh 1000 /tmp/suite writes 1,000 flows (the seed
flows, each renamed), and `aksflow test /tmp/suite` runs them.")]
pub struct TestArgs {
    /// Flow files, or directories to search for *.toml flow files [default: flows]
    pub paths: Vec<PathBuf>,
    /// Seed for every flow
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to run: sim, azure, https://HOST:PORT, or proxy (a served simulator through HTTPS_PROXY)
    #[arg(long, default_value = "sim", value_parser = |s: &str| s.parse::<Target>())]
    pub target: Target,
    /// Write JUnit XML results here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only shard I of N (e.g. 1/4), to split a suite across CI machines
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Flows run at the same time [default: twice the number of CPUs, at most 32: a flow
    /// waits on the disk while its files are made durable, and another can use the CPU
    /// meanwhile]. A flow starts once the 64 step sandboxes of the process have room for
    /// all the steps it can run at once, so any number is safe; past the default, flows mostly wait
    /// their turn
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Write an HTML report page per flow here, and index.html with a line per flow
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Directory for each flow's state and transcript
    #[arg(long, value_name = "DIR", default_value = "out/test")]
    pub out: PathBuf,
    /// Faults to inject into every flow: preset names (flaky, slow, replication) or a fault
    /// profile file (docs/faults.md)
    #[arg(long, value_name = "PRESETS|FILE")]
    pub faults: Option<String>,
    /// Run every flow once per seed: 1..200, 7, or 1,5,9 (a sweep; overrides --seed)
    #[arg(long, value_name = "SEEDS")]
    pub seeds: Option<suite::Seeds>,
}

/// Without a terminal, a progress line goes to stderr every this many runs (and none for a
/// suite smaller than that: its closing line says as much).
const PROGRESS_EVERY: usize = 100;

pub async fn run(args: TestArgs) -> i32 {
    let paths = if args.paths.is_empty() { vec![PathBuf::from("flows")] } else { args.paths.clone() };
    let flows = match suite::collect(&paths, args.shard) {
        Ok(f) if f.is_empty() => {
            eprintln!("error: no flow files (*.toml) found in {}", paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
            return 2;
        }
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let engine = match super::start_engine() {
        Ok(e) => e,
        Err(code) => return code,
    };
    let live = match super::live_settings(&args.target) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let faults = match args.faults.as_deref().map(crate::faults::load).transpose() {
        Ok(f) => f.map(|f| (f, args.faults.clone().unwrap_or_default())),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let jobs = args.jobs.unwrap_or_else(crate::runner::side_by_side);
    let seeds = args.seeds.clone().map(|s| s.0).unwrap_or_else(|| vec![args.seed]);
    let sweep = seeds.len() > 1;
    let total = flows.len() * seeds.len();
    let seeds_text = match (sweep, args.seeds.as_ref().map(|s| s.1.as_str())) {
        (true, Some(given)) => format!("{} seeds ({given})", seeds.len()),
        _ => format!("seed {}", seeds[0]),
    };
    let faults_text = args.faults.as_deref().map(|f| format!(", faults {f}")).unwrap_or_default();
    eprintln!("running {} flow{} ({seeds_text}{faults_text}, target {}, {jobs} at a time): {total} run{}", flows.len(), if flows.len() == 1 { "" } else { "s" }, args.target, if total == 1 { "" } else { "s" });
    let started = Instant::now();
    let opts = SuiteOptions {
        seed: args.seed,
        target: args.target.clone(),
        live,
        out_dir: args.out.clone(),
        jobs,
        cache_dir: super::cache_dir(),
        report_dir: args.report.clone(),
        faults,
        seeds: args.seeds.clone().map(|s| s.0),
    };
    let done = std::sync::atomic::AtomicUsize::new(0);
    let failed_so_far = std::sync::atomic::AtomicUsize::new(0);
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // What one finished run counts as on the progress line.
    let unit = if sweep { "runs" } else { "flows" };
    let results = suite::run(engine, flows, opts, |r| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if !r.passed {
            failed_so_far.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        // The progress line is redrawn under the lines above it.
        if tty {
            eprint!("\r\x1b[K");
        }
        if sweep {
            if !r.passed {
                out!("FAILED {}   # {}", r.repro, r.failure.as_deref().and_then(|f| f.lines().next()).unwrap_or("failed"));
            }
        } else if r.passed {
            out!("ok     {} ({} steps, {:.1} ms)", r.path.display(), r.steps, r.elapsed_ms);
        } else {
            out!("FAILED {} ({:.1} ms)", r.path.display(), r.elapsed_ms);
            for line in r.failure.as_deref().unwrap_or("").lines() {
                out!("       {line}");
            }
            out!("       reproduce: {}", r.repro);
        }
        let rate = n as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let failed = failed_so_far.load(std::sync::atomic::Ordering::SeqCst);
        if tty {
            eprint!("{n}/{total} {unit}, {rate:.0} {unit}/s, {failed} failed");
        } else if total >= PROGRESS_EVERY && (n % PROGRESS_EVERY == 0 || n == total) {
            eprintln!("{n}/{total} {unit}, {rate:.0} {unit}/s, {failed} failed");
        }
    })
    .await;
    if tty {
        eprint!("\r\x1b[K");
    }
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, suite::junit(&results, elapsed)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(dir) = &args.report {
        match write_index(dir, &results, &args.target) {
            Ok(index) => eprintln!("report: {}", index.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    if sweep && failed > 0 {
        out!("\nfailing seeds by flow:");
        let mut by_flow: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
        for r in results.iter().filter(|r| !r.passed) {
            by_flow.entry(r.path.display().to_string()).or_default().push(r.seed);
        }
        for (flow, seeds) in by_flow {
            out!("  {flow}: {} of {} seeds ({})", seeds.len(), args.seeds.as_ref().map_or(1, |s| s.0.len()), seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "));
        }
    }
    let rate = results.len() as f64 / elapsed.max(1e-3);
    out!("\n{} passed, {failed} failed ({} {unit} in {elapsed:.1} s, {rate:.0} {unit}/s)", results.len() - failed, results.len());
    if failed == 0 { 0 } else { 1 }
}

/// `DIR/index.html`: a line per flow, linking its page.
fn write_index(dir: &std::path::Path, results: &[suite::FlowResult], target: &Target) -> Result<PathBuf, String> {
    let entries: Vec<IndexEntry> = results
        .iter()
        .map(|r| IndexEntry {
            flow: r.summary.as_ref().map_or_else(|| r.path.display().to_string(), |s| s.flow.clone()),
            path: r.path.display().to_string(),
            passed: r.passed,
            seed: r.seed,
            target: target.to_string(),
            elapsed_ms: r.elapsed_ms,
            report: match &r.page {
                Some(Ok(p)) => p.file_name().map(|n| n.to_string_lossy().into_owned()),
                _ => None,
            },
            failure: r.failure.as_deref().and_then(|f| f.lines().next()).map(str::to_string),
        })
        .collect();
    for r in results {
        if let Some(Err(e)) = &r.page {
            eprintln!("warning: no report page for {}: {e}", r.path.display());
        }
    }
    let html = report::render_index("aksflow test", &entries)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let index = dir.join("index.html");
    std::fs::write(&index, html).map_err(|e| format!("cannot write {}: {e}", index.display()))?;
    Ok(index)
}
