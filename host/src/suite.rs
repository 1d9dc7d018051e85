//! `aksflow test`: flows as a test suite. Each flow runs in its own simulator (its own
//! seed, state and transcript), several at once; a flow passes when every step does what
//! the flow expects. Results can be written as JUnit XML for CI systems.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Semaphore;

use crate::cloud::Target;
use crate::engine::StepEngine;
use crate::flow;
use crate::report::Capture;
use crate::runner::{self, Live, RunOptions, RunReport, Silent, StepStatus};

/// One flow's result (one seed of it, in a sweep).
#[derive(Debug, Clone)]
pub struct FlowResult {
    pub path: PathBuf,
    pub seed: u64,
    /// The command that runs this flow again as it ran here.
    pub repro: String,
    pub passed: bool,
    pub steps: usize,
    pub elapsed_ms: f64,
    /// Why it failed: the flow-file errors, the setup error, or the failing steps.
    pub failure: Option<String>,
    /// What the JUnit output and the index keep of its report. Not the report itself: a
    /// suite of thousands of flows holds every result until the end, and memory stays flat.
    pub summary: Option<FlowSummary>,
    /// Its HTML report page (`--report DIR`), or why it could not be written.
    pub page: Option<Result<PathBuf, String>>,
}

/// The flow's name and a line per step (`id status code`).
#[derive(Debug, Clone)]
pub struct FlowSummary {
    pub flow: String,
    pub steps: Vec<String>,
}

impl FlowSummary {
    fn of(report: &RunReport) -> Self {
        FlowSummary { flow: report.flow.clone(), steps: report.steps.iter().map(|s| format!("{} {:?} {}", s.id, s.status, s.code.as_deref().unwrap_or(""))).collect() }
    }
}

pub struct SuiteOptions {
    pub seed: u64,
    pub target: Target,
    pub live: Option<Live>,
    pub out_dir: PathBuf,
    /// Flows run at the same time.
    pub jobs: usize,
    pub cache_dir: Option<PathBuf>,
    /// Write each flow's HTML report page here (`--report DIR`).
    pub report_dir: Option<PathBuf>,
    /// Faults injected into every flow (`--faults`), and the argument as given (for the
    /// command that reproduces a failure).
    pub faults: Option<(aksflow_simulator::faults::FaultProfile, String)>,
    /// A sweep runs every flow once per seed (`--seeds 1..200`); otherwise `seed` alone.
    pub seeds: Option<Vec<u64>>,
}

impl SuiteOptions {
    fn seeds(&self) -> Vec<u64> {
        self.seeds.clone().unwrap_or_else(|| vec![self.seed])
    }

    fn sweeping(&self) -> bool {
        self.seeds.as_ref().is_some_and(|s| s.len() > 1)
    }
}

/// The seeds of a sweep, and `--seeds` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeds(pub Vec<u64>, pub String);

impl std::str::FromStr for Seeds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_seeds(s).map(|v| Seeds(v, s.to_string()))
    }
}

/// `--seeds 1..200` (inclusive), `7`, or `1,5,9`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let num = |t: &str| t.trim().parse::<u64>().map_err(|_| format!("`{t}` in --seeds {s} is not a number"));
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once("..") {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b.trim_start_matches('='))?);
                if a > b {
                    return Err(format!("--seeds {s}: the range {a}..{b} is empty; write the smaller seed first"));
                }
                if b - a >= 100_000 {
                    return Err(format!("--seeds {s}: more than 100000 seeds; sweep in parts"));
                }
                out.extend(a..=b);
            }
            None => out.push(num(part)?),
        }
    }
    out.sort_unstable();
    out.dedup();
    if out.len() > 100_000 {
        return Err(format!("--seeds {s}: more than 100000 seeds; sweep in parts"));
    }
    Ok(out)
}

/// `aksflow run FLOW --seed N [--faults F]`: what a person types to see a result again.
fn repro_command(path: &Path, seed: u64, faults: Option<&str>, target: &Target) -> String {
    let mut c = format!("aksflow run {} --seed {seed}", path.display());
    if let Some(f) = faults {
        c.push_str(&format!(" --faults {f}"));
    }
    if *target != Target::Sim {
        c.push_str(&format!(" --target {target}"));
    }
    c
}

/// `--shard I/N`: this machine runs every Nth flow, starting at the Ith (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not a shard like 1/4"))?;
        let index: usize = i.trim().parse().map_err(|_| format!("`{i}` in `{s}` is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| format!("`{n}` in `{s}` is not a number"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard `{s}` must be I/N with 1 ≤ I ≤ N"));
        }
        Ok(Shard { index, count })
    }
}

/// The flow files named by the arguments (a directory means every `.toml` below it),
/// sorted, de-duplicated, then sharded.
pub fn collect(paths: &[PathBuf], shard: Option<Shard>) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{} is neither a flow file nor a directory", p.display()));
        }
    }
    files.sort();
    files.dedup();
    Ok(match shard {
        Some(s) => files.into_iter().enumerate().filter(|(i, _)| i % s.count == s.index - 1).map(|(_, f)| f).collect(),
        None => files,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
    Ok(())
}

/// A directory name for a flow's output, unique within the suite.
pub fn out_name(path: &Path) -> String {
    path.with_extension("").to_string_lossy().replace(['/', '\\'], "_").trim_start_matches(['.', '_']).to_string()
}

fn describe_failure(r: &RunReport) -> String {
    let mut lines: Vec<String> = r
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Failed | StepStatus::Skipped))
        .map(|s| match s.status {
            StepStatus::Skipped => format!("step `{}` skipped: {}", s.id, s.message.as_deref().unwrap_or("")),
            _ => format!("step `{}`: {}: {}", s.id, s.code.as_deref().unwrap_or("Failed"), s.message.as_deref().unwrap_or("")),
        })
        .collect();
    if let Some(m) = &r.check_mismatch {
        lines.push(m.clone());
    }
    lines.join("\n")
}

async fn run_one(engine: Arc<StepEngine>, path: PathBuf, plan: Result<Arc<flow::Plan>, String>, seed: u64, opts: Arc<SuiteOptions>) -> FlowResult {
    let started = Instant::now();
    let repro = repro_command(&path, seed, opts.faults.as_ref().map(|(_, a)| a.as_str()), &opts.target);
    let fail = |failure: String, started: Instant| FlowResult {
        path: path.clone(),
        seed,
        repro: repro.clone(),
        passed: false,
        steps: 0,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        failure: Some(failure),
        summary: None,
        page: None,
    };
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return fail(e, started),
    };
    let name = if opts.sweeping() { format!("{}-seed-{seed}", out_name(&path)) } else { out_name(&path) };
    let out_dir = opts.out_dir.join(&name);
    let mut run = RunOptions::sim(seed, &out_dir);
    run.target = opts.target.clone();
    run.live = opts.live.clone();
    let capture = Arc::new(Capture::new(Arc::new(Silent)));
    run.progress = capture.clone();
    run.cache_dir = opts.cache_dir.clone();
    run.keep_tokens = opts.report_dir.is_some();
    run.faults = opts.faults.as_ref().map(|(f, _)| f.clone());
    // A sweep keeps what it needs to look at: the failures. Otherwise each flow's state is
    // written once, at its end, for `--resume` after a fix.
    run.saves = if opts.sweeping() { runner::Saves::Never } else { runner::Saves::AtEnd };
    let result = match runner::run(plan.clone(), engine, run).await {
        Ok(report) => FlowResult {
            path: path.clone(),
            seed,
            repro: repro.clone(),
            passed: report.passed,
            steps: report.steps.len(),
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
            failure: (!report.passed).then(|| describe_failure(&report)),
            page: opts.report_dir.as_ref().map(|dir| {
                let page = dir.join(format!("{name}.html"));
                crate::report::keep(&plan, &report, capture.logs(), &out_dir, Some(&page)).map(|()| page)
            }),
            summary: Some(FlowSummary::of(&report)),
        },
        Err(e) => fail(e.to_string(), started),
    };
    if opts.sweeping() && result.passed {
        let _ = std::fs::remove_dir_all(&out_dir);
    }
    result
}

/// Runs the flows, calling `on_done` as each finishes; returns results in input order.
pub async fn run(engine: Arc<StepEngine>, flows: Vec<PathBuf>, opts: SuiteOptions, on_done: impl Fn(&FlowResult)) -> Vec<FlowResult> {
    let opts = Arc::new(opts);
    let gate = Arc::new(Semaphore::new(opts.jobs.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let seeds = opts.seeds();
    let mut results = Vec::new();
    let mut finished = |joined: Result<(usize, FlowResult), tokio::task::JoinError>| match joined {
        Ok((i, r)) => {
            on_done(&r);
            results.push((i, r));
        }
        Err(e) => tracing::error!("a flow task panicked: {e}"),
    };
    let mut i = 0;
    for path in flows {
        // Checked once, run once per seed. The next flow is loaded while the others run, and
        // waits for a free slot: a suite of thousands holds the plans of the flows running,
        // not of all of them.
        let plan = flow::load(&path, &engine).await.map(Arc::new).map_err(|e| e.to_string());
        for &seed in &seeds {
            let permit = gate.clone().acquire_owned().await.expect("the semaphore is never closed");
            while let Some(joined) = set.try_join_next() {
                finished(joined);
            }
            let (engine, opts, path, plan) = (engine.clone(), opts.clone(), path.clone(), plan.clone());
            let index = i;
            i += 1;
            set.spawn(async move {
                let _permit = permit;
                (index, run_one(engine, path, plan, seed, opts).await)
            });
        }
    }
    while let Some(joined) = set.join_next().await {
        finished(joined);
    }
    drop(finished);
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect::<String>()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one testsuite, one testcase per flow, step lines in system-out.
pub fn junit(results: &[FlowResult], elapsed_s: f64) -> String {
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"aksflow\" tests=\"{}\" failures=\"{failures}\" time=\"{elapsed_s:.3}\">\n  <testsuite name=\"aksflow flows\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{elapsed_s:.3}\">\n",
        results.len(),
        results.len()
    );
    let sweep = results.iter().any(|r| r.seed != results[0].seed);
    for r in results {
        let name = if sweep { format!("{} (seed {})", r.path.display(), r.seed) } else { r.path.display().to_string() };
        let name = xml_escape(&name);
        x.push_str(&format!("    <testcase classname=\"aksflow.flow\" name=\"{name}\" time=\"{:.3}\">\n", r.elapsed_ms / 1000.0));
        if let Some(f) = &r.failure {
            let first = f.lines().next().unwrap_or("failed");
            x.push_str(&format!("      <failure message=\"{}\" type=\"FlowFailed\">reproduce: {}\n{}</failure>\n", xml_escape(first), xml_escape(&r.repro), xml_escape(f)));
        }
        if let Some(summary) = &r.summary {
            x.push_str(&format!("      <system-out>{}</system-out>\n", xml_escape(&summary.steps.join("\n"))));
        }
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_the_suite_without_overlap() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["a", "b", "c", "d", "e"] {
            std::fs::write(dir.path().join(format!("{n}.toml")), "").unwrap();
        }
        let all = collect(&[dir.path().to_path_buf()], None).unwrap();
        assert_eq!(all.len(), 5);
        let one = collect(&[dir.path().to_path_buf()], Some("1/2".parse().unwrap())).unwrap();
        let two = collect(&[dir.path().to_path_buf()], Some("2/2".parse().unwrap())).unwrap();
        assert_eq!(one.len() + two.len(), 5);
        assert!(one.iter().all(|f| !two.contains(f)));
        assert!("0/2".parse::<Shard>().is_err() && "3/2".parse::<Shard>().is_err() && "x".parse::<Shard>().is_err());
    }

    #[test]
    fn junit_escapes_and_counts() {
        let r = FlowResult { path: "flows/a<b>.toml".into(), seed: 1, repro: "aksflow run flows/a<b>.toml --seed 1".into(), passed: false, steps: 1, elapsed_ms: 12.0, failure: Some("step `x`: \"bad\" & worse".into()), summary: None, page: None };
        let x = junit(&[r], 0.5);
        assert!(x.contains("failures=\"1\"") && x.contains("a&lt;b&gt;") && x.contains("&quot;bad&quot; &amp; worse"));
        assert!(x.contains("reproduce: aksflow run flows/a&lt;b&gt;.toml --seed 1"));
    }

    #[test]
    fn seeds_are_ranges_lists_or_one() {
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("7").unwrap(), vec![7]);
        assert_eq!(parse_seeds("1,5,9..10").unwrap(), vec![1, 5, 9, 10]);
        assert_eq!(parse_seeds("1..5,3").unwrap(), vec![1, 2, 3, 4, 5], "each seed once");
        assert!(parse_seeds("5..1").unwrap_err().contains("write the smaller seed first"));
        assert!(parse_seeds("a..3").unwrap_err().contains("`a`"));
        assert_eq!(repro_command(Path::new("flows/x.toml"), 17, Some("flaky"), &Target::Sim), "aksflow run flows/x.toml --seed 17 --faults flaky");
    }
}
