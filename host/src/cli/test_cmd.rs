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
  aksflow test flows/ --report report/      an HTML page per flow and report/index.html")]
pub struct TestArgs {
    /// Flow files, or directories to search for *.toml flow files [default: flows]
    pub paths: Vec<PathBuf>,
    /// Seed for every flow
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to run: sim, azure, or https://HOST:PORT
    #[arg(long, default_value = "sim", value_parser = |s: &str| s.parse::<Target>())]
    pub target: Target,
    /// Write JUnit XML results here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Run only shard I of N (e.g. 1/4), to split a suite across CI machines
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Flows run at the same time [default: number of CPUs]
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Write an HTML report page per flow here, and index.html with a line per flow
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Directory for each flow's state and transcript
    #[arg(long, value_name = "DIR", default_value = "out/test")]
    pub out: PathBuf,
}

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
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
    eprintln!("running {} flow{} (seed {}, target {}, {jobs} at a time)", flows.len(), if flows.len() == 1 { "" } else { "s" }, args.seed, args.target);
    let started = Instant::now();
    let opts = SuiteOptions { seed: args.seed, target: args.target.clone(), live, out_dir: args.out.clone(), jobs, cache_dir: super::cache_dir(), report_dir: args.report.clone() };
    let results = suite::run(engine, flows, opts, |r| {
        if r.passed {
            out!("ok     {} ({} steps, {:.1} ms)", r.path.display(), r.steps, r.elapsed_ms);
        } else {
            out!("FAILED {} ({:.1} ms)", r.path.display(), r.elapsed_ms);
            for line in r.failure.as_deref().unwrap_or("").lines() {
                out!("       {line}");
            }
        }
    })
    .await;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(path) = &args.junit {
        if let Err(e) = std::fs::write(path, suite::junit(&results, elapsed)) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return 2;
        }
    }
    if let Some(dir) = &args.report {
        match write_index(dir, &results, args.seed, &args.target) {
            Ok(index) => eprintln!("report: {}", index.display()),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    out!("\n{} passed, {failed} failed", results.len() - failed);
    if failed == 0 { 0 } else { 1 }
}

/// `DIR/index.html`: a line per flow, linking its page.
fn write_index(dir: &std::path::Path, results: &[suite::FlowResult], seed: u64, target: &Target) -> Result<PathBuf, String> {
    let entries: Vec<IndexEntry> = results
        .iter()
        .map(|r| IndexEntry {
            flow: r.report.as_ref().map_or_else(|| r.path.display().to_string(), |rep| rep.flow.clone()),
            path: r.path.display().to_string(),
            passed: r.passed,
            seed,
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
