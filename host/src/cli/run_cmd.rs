//! `aksflow run FLOW`

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::cloud::Target;
use crate::flow;
use crate::report;
use crate::runner::{self, Console, RunOptions, RunReport, Silent, StepStatus};
use super::out::out;

const RUN_HELP: &str = "\
A flow file is TOML:

  name = \"hello\"
  era = \"today\"                             # which Azure: today's (default), or \"2019\",
                                            #   seed 000's, with the legacy AAD integration
  [vars]
  group = \"aksflow-hello\"

  [[step]]
  id = \"rg\"                                 # unique, letters/digits/-/_
  uses = \"resource-group\"                   # a built-in plugin, or a path to a .wasm
  with = { name = \"${{ vars.group }}\" }     # inputs; may use ${{ vars.X }} and
                                            #   ${{ steps.ID.outputs.NAME }}
  grant = [\"arm\"]                           # services it may call: login, graph, arm, kube
  expect = \"success\"                        # or { failure = \"CODE\", message = \"text\" }
  limits = { fuel = 2000000000, memory = \"128MiB\", timeout = \"30m\", output = \"1MiB\",
             calls = 1000, network = \"64MiB\", log = \"1MiB\" }   # the step's budget
                                            #   (timeout: wall clock, host calls included)
  needs = [\"other\"]                         # order without using outputs
  persona = \"alice@contoso.onmicrosoft.com\"  # who answers a device-code prompt (simulation)
  as = \"bob@contoso.onmicrosoft.com\"         # act as this user instead of the operator, or
                                            #   as = { client-id = \"…\", client-secret = \"…\" }

Kube steps act as the kubectl of the flow's era (1.37 today, 1.15 in 2019) unless their
`kubectl-version` input says otherwise; from 1.26 on, kubectl refuses azure-format
kubeconfigs. A 2019-era flow runs on the simulator only: `--target azure` refuses it.

Seeded users (passwords come from the seed): admin@ (Global Administrator), alice@, bob@
and crowded@ (201 groups) contoso.onmicrosoft.com; the guest carol@fabrikam.onmicrosoft.com.
Against Azure, `as = \"user@…\"` takes the password from --identities FILE.

Steps run as soon as the steps they use have finished; independent steps run together.
The whole file is checked before anything runs.

Targets:
  sim                the built-in simulator, in process (default): offline, deterministic
  azure              real Azure; the operator is AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/
                     AZURE_TENANT_ID (+ AZURE_SUBSCRIPTION_ID), or the `az login` account
  https://HOST:PORT  a served simulator (`aksflow sim serve`), with its aksflow.env loaded

Exit status: 0 when every step did what the flow expects, 1 when one did not, 2 when the
flow or the command line is invalid.

Examples:
  aksflow run flows/hello.toml
  aksflow run flows/hello.toml --seed 7 --transcript golden.jsonl
  aksflow run flows/hello.toml --check golden.jsonl     # fail if any call differs
  aksflow run flows/hello.toml --resume                 # continue after a failure
  aksflow run flows/hello.toml --report report.html     # the run as one HTML page";

#[derive(Args, Debug)]
#[command(after_long_help = RUN_HELP)]
pub struct RunArgs {
    /// The flow file to run
    pub flow: PathBuf,
    /// Seed for everything the simulator invents (ids, secrets, codes)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where to run: sim, azure, https://HOST:PORT of a served simulator, or proxy (a served
    /// simulator at Azure's host names, through HTTPS_PROXY from its aksflow.env)
    #[arg(long, default_value = "sim", value_parser = parse_target)]
    pub target: Target,
    /// Write the transcript (one JSON line per cloud call) here [default: OUT/transcript.jsonl]
    #[arg(long, value_name = "FILE")]
    pub transcript: Option<PathBuf>,
    /// Directory for the run's state, transcript and the files steps write
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// Continue the run saved in OUT, skipping the steps that finished
    #[arg(long)]
    pub resume: bool,
    /// Compare the run's transcript with this one and fail at the first difference
    #[arg(long, value_name = "TRANSCRIPT")]
    pub check: Option<PathBuf>,
    /// Write the run as one HTML page here: a sequence diagram of its calls, its steps, and
    /// the failing step first
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the result as JSON on stdout (progress stays on stderr)
    #[arg(long)]
    pub json: bool,
    /// Passwords of the users that steps act as (`as = "bob@…"`) against Azure: a TOML table
    /// per user with `password = "…"`, readable by its owner only (chmod 600)
    #[arg(long, value_name = "FILE", env = "AKSFLOW_IDENTITIES")]
    pub identities: Option<PathBuf>,
    /// Faults the simulator injects: preset names (flaky, slow, replication; comma-separated)
    /// or a fault profile file (docs/faults.md), on top of the flow's own [faults]. The
    /// schedule follows --seed, so a failure reproduces with the same two flags.
    #[arg(long, value_name = "PRESETS|FILE", value_parser = crate::faults::load)]
    pub faults: Option<aksflow_simulator::faults::FaultProfile>,
    /// Show plugins' debug lines too
    #[arg(short, long)]
    pub verbose: bool,
    /// No progress lines, only the summary (or JSON)
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

pub async fn run(args: RunArgs) -> i32 {
    let engine = match super::start_engine() {
        Ok(e) => e,
        Err(code) => return code,
    };
    let plan = match flow::load(&args.flow, &engine).await {
        Ok(p) => Arc::new(p),
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{} problem{} in {}; nothing was run.", errors.0.len(), if errors.0.len() == 1 { "" } else { "s" }, args.flow.display());
            return 2;
        }
    };
    // Before anything else, even reading Azure settings (a served simulator's era is
    // checked once its settings are read).
    if let Some(why) = runner::preflight::refusal(&plan, &args.target, args.faults.is_some(), None) {
        eprintln!("error: {why}");
        return 2;
    }
    let identities = match args.identities.as_deref().map(crate::identities::Identities::load).transpose() {
        Ok(ids) => ids.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let live = match super::live_settings(&args.target) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let shown: Arc<dyn runner::Progress> = if args.quiet { Arc::new(Silent) } else { Arc::new(Console { verbose: args.verbose }) };
    // Log lines are kept for the run record that `aksflow report` draws from.
    let capture = Arc::new(report::Capture::new(shown));
    let progress: Arc<dyn runner::Progress> = capture.clone();
    let opts = RunOptions {
        seed: args.seed,
        target: args.target.clone(),
        out_dir: args.out.clone(),
        transcript: args.transcript.clone(),
        resume: args.resume,
        check: args.check.clone(),
        live,
        progress,
        saves: crate::runner::Saves::AfterEachStep,
        cache_dir: super::cache_dir(),
        keep_tokens: true,
        // Fault injection for resume tests (see docs/testing.md).
        kill_after_saves: std::env::var("AKSFLOW_FAULT_KILL_AFTER_SAVES").ok().and_then(|n| n.parse().ok()),
        identities,
        faults: args.faults.clone(),
    };
    if !args.quiet {
        eprintln!("{}: {} step{} on {} (seed {})", plan.name, plan.steps.len(), if plan.steps.len() == 1 { "" } else { "s" }, args.target, args.seed);
    }
    let report = match runner::run(plan.clone(), engine, opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    if args.json {
        out!("{}", serde_json::to_string_pretty(&report).expect("reports serialise"));
    }
    print_summary(&report);
    if let Err(e) = report::keep(&plan, &report, capture.logs(), &args.out, args.report.as_deref()) {
        eprintln!("error: {e}");
        return 2;
    }
    if let Some(page) = &args.report {
        eprintln!("report: {}", page.display());
    }
    if report.passed { 0 } else { 1 }
}

fn print_summary(r: &RunReport) {
    if let Some(m) = &r.check_mismatch {
        eprintln!("\n{m}");
    }
    let failed = r.count(|s| s == StepStatus::Failed);
    let skipped = r.count(|s| s == StepStatus::Skipped);
    let passed = r.count(StepStatus::passed);
    let verdict = if r.passed { "passed" } else { "FAILED" };
    eprintln!(
        "\n{}: {verdict} — {passed} step{} ok, {failed} failed, {skipped} skipped in {:.1} ms (seed {}, target {})",
        r.flow,
        if passed == 1 { "" } else { "s" },
        r.elapsed_ms,
        r.seed,
        r.target
    );
    if let Some(t) = &r.transcript {
        eprintln!("transcript: {t}");
    }
    if !r.passed && failed > 0 {
        eprintln!("fix the failing step and continue with --resume, or rerun from scratch without it.");
    }
}
