//! The executor. Each step is a task; a finishing step (holding the turn, so the order is
//! the same on every simulated run) records its result, saves the state and starts the
//! steps that were waiting only for it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::FutureExt;
use tokio::sync::mpsc;

mod recovery;
use recovery::{LastResort, panic_message};

use super::backend::{self, Backend};
use super::io::RunIo;
use super::output_files::OutputFiles;
use super::report::{RunReport, StepReport, StepStatus};
use super::journal::Journal;
use super::stop::Stop;
use super::run_files::RunFiles;
use super::state::{LateAnswer, ResumePoint, RunState, RunningStep, SavedStep};
use super::turnstile::Turnstile;
use super::{RunError, RunOptions, Saves};
use crate::atomic_file;
use crate::bindings::{Field, File, StepError, Value};
use crate::cloud::Target;
use crate::engine::{StepEngine, StepFailure};
use crate::cloud::auth::Identity;
use crate::flow::{ActAs, Expect, Part, Plan, PlannedStep};
use crate::redact::{REDACTED, Redactor};
use crate::caps::{Grants, StepCaps};
use crate::sandbox::{self, StepIo};
use crate::transcript::{self, Transcript};

/// Where each step stands.
#[derive(Clone)]
enum Slot {
    Waiting,
    /// Started at this time on the run's clock.
    Running { started_ms: i64 },
    Done { report: StepReport, outputs: Vec<Field>, passed: bool },
}

struct Exec {
    /// How the run writes its files; held by every step, so a step of a stopped run still
    /// writing its files settles last.
    run_files: Arc<RunFiles>,
    plan: Arc<Plan>,
    engine: Arc<StepEngine>,
    opts: Arc<RunOptions>,
    io: Arc<RunIo>,
    backend_sim: Option<aksflow_simulator::Simulator>,
    turnstile: Arc<Turnstile>,
    slots: Mutex<Vec<Slot>>,
    state: Mutex<RunState>,
    redactor: Arc<Redactor>,
    done_tx: mpsc::UnboundedSender<()>,
    /// Steps started, not yet counted by the driver.
    started_since: Mutex<usize>,
    /// Who writes what under the output directory.
    files: OutputFiles,
    transcript: Arc<Transcript>,
    /// Where a resumed run's first steps take up the saved one (used once, at the start).
    resumed: Mutex<Resumed>,
    /// State saves so far (for the fault hook that kills the process after one).
    saves: Mutex<usize>,
    /// The sandboxes reserved: the most steps running at once, which only a flow wider than
    /// the engine's pool makes fewer than the steps that could run. Held by every step's task
    /// through its `Arc<Exec>`: given back when the last step has dropped its sandbox, not
    /// when the driver returns (a stopped run's steps outlive it).
    sandboxes: crate::engine::Reservation,
    /// aksflow's own code panicked in this run (`HostPanic`). The simulator may have been
    /// left part way through a change, so no later state is saved: `--resume` goes back to
    /// the last save before it.
    host_failed: std::sync::atomic::AtomicBool,
}

/// What a resumed run takes over from the saved one for the steps that were running at the
/// save: when each started, and whose turn came next.
#[derive(Default)]
struct Resumed {
    started_ms: BTreeMap<usize, i64>,
    next_turn: Option<usize>,
}

impl Resumed {
    /// Preloads the journal of every step that was running at the save and will run again
    /// unchanged (same definition, resting on finished steps that are kept).
    fn new(plan: &Plan, slots: &[Slot], point: Option<&ResumePoint>, journal: &Journal) -> Self {
        let Some(point) = point else { return Resumed::default() };
        let mut resumed = Resumed { next_turn: point.next_turn.as_deref().and_then(|id| plan.step(id)).map(|s| s.index), ..Resumed::default() };
        for (id, running) in &point.running {
            let Some(s) = plan.step(id) else { continue };
            let deps_kept = s.deps.iter().all(|&d| matches!(slots[d], Slot::Done { .. }));
            if running.fingerprint == s.fingerprint && deps_kept && matches!(slots[s.index], Slot::Waiting) {
                journal.preload(s.index, running.told.clone());
                resumed.started_ms.insert(s.index, running.started_ms);
            }
        }
        resumed
    }
}

/// Runs a flow. `stop` is set when the caller gives the run up (its future dropped).
pub async fn run(plan: Arc<Plan>, engine: Arc<StepEngine>, opts: RunOptions, stop: Arc<Stop>) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let opts = Arc::new(opts);
    let served_era = opts.live.as_ref().map(|l| l.sim_era);
    if let Some(why) = super::preflight::refusal(&plan, &opts.target, opts.faults.is_some(), served_era) {
        return Err(RunError::Setup(why));
    }
    // Every sandbox the flow can use at once, before anything is written: a run past the
    // engine's pool waits here for others to finish instead of failing a step halfway.
    let sandboxes = engine.reserve(plan.width).await;
    let faults = crate::faults::combine(plan.faults.as_ref(), opts.faults.as_ref());
    let faults_hash = faults.as_ref().map(|f| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(serde_json::to_vec(f).unwrap_or_default())));
    if opts.resume && opts.check.is_some() {
        return Err(RunError::Setup("--check compares a whole run; it cannot be combined with --resume".into()));
    }
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| RunError::Setup(format!("cannot create the output directory {}: {e}", opts.out_dir.display())))?;

    // Held by the run and each of its steps: when the last lets go, however the run ends, it
    // waits for the old versions of the files they replaced to be deleted.
    let files = Arc::new(RunFiles::new(&opts.out_dir, opts.files_survive()));

    let target_name = opts.target.to_string();
    let saved = if opts.resume { resume_state(&opts, &target_name)? } else { None };
    if !opts.resume && opts.saves != Saves::Never {
        RunState::discard(&opts.out_dir, &files).map_err(RunError::Setup)?;
    }
    if let Some(saved) = &saved {
        if saved.faults != faults_hash {
            return Err(RunError::Resume("the saved run had other injected faults (its flow's [faults] or --faults); resume with the same, or run without --resume to start over".into()));
        }
    }
    let mut state = saved.clone().unwrap_or_else(|| RunState::new(&plan.source_hash, opts.seed, &target_name));
    state.faults = faults_hash;

    let transcript_path = opts.transcript_path();
    let resume_point = state.resume_point.take();
    let transcript = match &resume_point {
        Some(point) => Transcript::resume_at(&transcript_path, point.transcript).map_err(RunError::Resume)?,
        None => Transcript::to_file(&transcript_path, opts.resume, files.retired())
            .map_err(|e| RunError::Setup(format!("cannot write the transcript {}: {e}", transcript_path.display())))?,
    };
    let transcript = Arc::new(if opts.keep_tokens { transcript.keeping_tokens() } else { transcript });
    let redactor = Arc::new(Redactor::new());
    for step in state.steps.values() {
        learn_secrets(&redactor, &step.outputs);
    }
    for secret in resume_point.iter().flat_map(|p| &p.secrets) {
        redactor.learn(secret);
    }
    let Backend { gateway, simulator, context } = match &opts.target {
        Target::Sim => backend::simulated(opts.seed, plan.era, faults, opts.cache_dir.clone(), state.simulator.take(), transcript.clone(), redactor.clone()),
        target => {
            let live = opts.live.clone().ok_or_else(|| RunError::Setup(format!("target {target} needs live settings")))?;
            backend::live(target, live, transcript.clone(), redactor.clone())
        }
    }
    .map_err(RunError::Setup)?;
    // Kubeconfigs the flow file itself gives (literal inputs and vars) name clusters the
    // run may call; the rest it learns from ARM as it goes.
    for text in plan.vars.values() {
        gateway.egress.learn_kubeconfig(text);
    }
    // A resumed run still knows the clusters its finished steps learned, and keeps the
    // operator's tokens.
    for server in &state.egress {
        gateway.egress.allow(server);
    }
    if let Some(point) = &resume_point {
        gateway.keep_operator_tokens(&point.operator_tokens);
    }
    for s in &plan.steps {
        for (_, template, _) in &s.with {
            if let Some((text, _)) = template.render(|part| match part {
                Part::Var(v) => plan.vars.get(v).map(|t| (t.clone(), false)),
                _ => None,
            }) {
                gateway.egress.learn_kubeconfig(&text);
            }
        }
    }
    let turnstile = Arc::new(Turnstile::new(opts.target == Target::Sim));
    let persona_passwords = simulator
        .as_ref()
        .map(|sim| sim.personas().into_iter().map(|p| (p.user_principal_name.to_ascii_lowercase(), p.password)).collect())
        .unwrap_or_default();
    let served_seed = opts.live.as_ref().and_then(|l| l.sim_seed);
    let mut io = RunIo::new(gateway, turnstile.clone(), context, opts.progress.clone(), opts.seed, persona_passwords, served_seed);
    io.journal = Journal::new(opts.saves != Saves::Never);
    io.stop = stop;
    for late in resume_point.iter().flat_map(|p| &p.late_answers) {
        if let Some(s) = plan.step(&late.step) {
            io.keep_late_answer(s.index, late.at_ms, crate::sandbox::DeviceLogin { verification_uri: late.verification_uri.clone(), user_code: late.user_code.clone() });
        }
    }

    let mut slots = vec![Slot::Waiting; plan.steps.len()];
    let reusable = reusable_steps(&plan, &state);
    for s in &plan.steps {
        if let Some(saved) = state.steps.get(&s.id).filter(|_| reusable[s.index]) {
            let report = StepReport { outputs: shown_fields(&saved.outputs), ..StepReport::new(&s.id, &s.uses, StepStatus::Resumed) };
            opts.progress.step_finished(&report);
            slots[s.index] = Slot::Done { report, outputs: saved.outputs.clone(), passed: !saved.expected_failure };
        }
    }
    let resumed = Resumed::new(&plan, &slots, resume_point.as_ref(), &io.journal);
    let io = Arc::new(io);

    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let exec = Arc::new(Exec {
        run_files: files.clone(),
        plan: plan.clone(),
        engine,
        opts: opts.clone(),
        io,
        backend_sim: simulator,
        turnstile,
        slots: Mutex::new(slots),
        state: Mutex::new(state),
        redactor,
        done_tx,
        started_since: Mutex::new(0),
        files: OutputFiles::new(&opts.out_dir, &transcript_path),
        transcript: transcript.clone(),
        resumed: Mutex::new(resumed),
        saves: Mutex::new(0),
        sandboxes,
        host_failed: Default::default(),
    });

    exec.start_ready();
    // Each start is counted before its task is spawned, so a step that finishes at once
    // (steps run in parallel against Azure) is never counted out before it was counted in.
    let mut running = exec.take_started();
    while running > 0 {
        let Some(()) = done_rx.recv().await else { break };
        running -= 1;
        running += exec.take_started();
    }

    exec.save_end();
    transcript.flush();
    let slots = exec.slots.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let steps: Vec<StepReport> = plan
        .steps
        .iter()
        .zip(slots)
        .map(|(s, slot)| match slot {
            Slot::Done { report, .. } => report,
            _ => StepReport {
                message: Some(format!("it needs {}, which did not succeed", blocked_by(&plan, s, &exec))),
                ..StepReport::new(&s.id, &s.uses, StepStatus::Skipped)
            },
        })
        .collect();
    for r in steps.iter().filter(|r| r.status == StepStatus::Skipped) {
        opts.progress.step_finished(r);
    }

    let check_mismatch = match &opts.check {
        None => None,
        Some(path) => {
            let expected = transcript::read(path).map_err(RunError::Setup)?;
            let actual = transcript::read(&transcript_path).map_err(RunError::Setup)?;
            transcript::compare(&expected, &actual).map(|m| m.to_string())
        }
    };
    let passed = steps.iter().all(|s| s.status.passed()) && check_mismatch.is_none();
    Ok(RunReport {
        flow: plan.name.clone(),
        path: plan.path.display().to_string(),
        seed: opts.seed,
        target: target_name,
        passed,
        steps,
        transcript: transcript.path().map(|p| p.display().to_string()),
        check_mismatch,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        tokens: transcript.tokens(),
    })
}

fn resume_state(opts: &RunOptions, target: &str) -> Result<Option<RunState>, RunError> {
    let Some(state) = RunState::load(&opts.out_dir).map_err(RunError::Resume)? else {
        return Err(RunError::Resume(format!(
            "there is no saved run in {}; run without --resume to start one",
            opts.out_dir.display()
        )));
    };
    if state.seed != opts.seed || state.target != target {
        return Err(RunError::Resume(format!(
            "the saved run used --seed {} --target {}; resume with the same, or run without --resume to start over",
            state.seed, state.target
        )));
    }
    Ok(Some(state))
}

/// Finished steps that `--resume` can skip: saved, unchanged, and resting only on steps
/// that are skipped too.
fn reusable_steps(plan: &Plan, state: &RunState) -> Vec<bool> {
    let mut ok: Vec<bool> = plan.steps.iter().map(|s| state.steps.get(&s.id).is_some_and(|saved| saved.fingerprint == s.fingerprint)).collect();
    loop {
        let mut changed = false;
        for s in &plan.steps {
            if ok[s.index] && s.deps.iter().any(|&d| !ok[d]) {
                ok[s.index] = false;
                changed = true;
            }
        }
        if !changed {
            return ok;
        }
    }
}

fn blocked_by(plan: &Plan, s: &PlannedStep, exec: &Exec) -> String {
    let slots = exec.slots.lock().unwrap_or_else(|p| p.into_inner());
    let names: Vec<String> = s
        .deps
        .iter()
        .filter(|&&d| !matches!(slots[d], Slot::Done { passed: true, .. } | Slot::Done { report: StepReport { status: StepStatus::ExpectedFailure, .. }, .. }))
        .map(|&d| format!("`{}`", plan.steps[d].id))
        .collect();
    names.join(", ")
}

fn learn_secrets(redactor: &Redactor, fields: &[Field]) {
    for f in fields {
        if let Value::Secret(s) = &f.value {
            redactor.learn(s);
        }
    }
}

fn shown_fields(fields: &[Field]) -> BTreeMap<String, String> {
    fields
        .iter()
        .map(|f| (f.name.clone(), if f.value.is_secret() { REDACTED.to_string() } else { f.value.as_str().to_string() }))
        .collect()
}

impl Exec {
    /// Marks ready steps as running, joins them to the turnstile in index order, counts them
    /// for the driver and spawns them. Returns how many started.
    fn start_ready(self: &Arc<Self>) -> usize {
        // A run given up starts nothing more (against Azure its steps outlive the caller).
        if self.io.stop.is_set() {
            return 0;
        }
        let ready: Vec<usize> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let mut ready: Vec<usize> = self
                .plan
                .steps
                .iter()
                .filter(|s| matches!(slots[s.index], Slot::Waiting))
                .filter(|s| s.deps.iter().all(|&d| matches!(&slots[d], Slot::Done { report, .. } if report.status.passed())))
                .map(|s| s.index)
                .collect();
            let mut resumed = self.resumed.lock().unwrap_or_else(|p| p.into_inner());
            // The first in index order while sandboxes are left (the steps a resumed run's save
            // found running first, as they were started then); the rest start as running steps
            // finish. Decided in a finishing step's turn, so the same on every simulated run.
            ready.sort_by_key(|&i| (!resumed.started_ms.contains_key(&i), i));
            ready.truncate(self.sandboxes.steps().saturating_sub(slots.iter().filter(|s| matches!(s, Slot::Running { .. })).count()));
            ready.sort_unstable();
            // Started under the turn of the step that finished (or before any step ran), so
            // the time is the same on every simulated run.
            let now = self.io.gateway.clock.now_ms();
            for &i in &ready {
                slots[i] = Slot::Running { started_ms: resumed.started_ms.remove(&i).unwrap_or(now) };
            }
            ready
        };
        for &i in &ready {
            self.turnstile.join(i);
        }
        if let Some(first) = self.resumed.lock().unwrap_or_else(|p| p.into_inner()).next_turn.take() {
            self.turnstile.hand_to(first);
        }
        *self.started_since.lock().unwrap_or_else(|p| p.into_inner()) += ready.len();
        for &i in &ready {
            let me = self.clone();
            tokio::spawn(async move { me.run_step(i).await });
        }
        ready.len()
    }

    /// Steps started by finishing steps since the last call (counted for the driver).
    fn take_started(&self) -> usize {
        let mut st = self.started_since.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut *st)
    }
}

impl Exec {
    async fn run_step(self: Arc<Self>, i: usize) {
        let step = &self.plan.steps[i];
        let t0 = Instant::now();
        // A panic in the host while the step runs (a host function, the simulator, a progress
        // sink) becomes the step's failure. Left to tokio, it would end the task silently: the
        // step would never finish, and the run would wait for it forever.
        let work = std::panic::AssertUnwindSafe(self.work(step)).catch_unwind().await;
        let (result, shown_inputs) = work.unwrap_or_else(|panic| {
            self.stop_saving(&step.id);
            (Err(StepFailure::HostPanic { message: panic_message(panic.as_ref()) }), BTreeMap::new())
        });
        let elapsed_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let last_resort = LastResort::arm(&self, i);
        let finished = std::panic::AssertUnwindSafe(self.finish(i, result, shown_inputs, elapsed_ms)).catch_unwind().await;
        if let Err(panic) = finished {
            self.finish_after_panic(i, &panic_message(panic.as_ref()), elapsed_ms).await;
        }
        last_resort.disarm();
    }

    /// Everything a step does before it is judged: its inputs, whom it acts as, its wait, and
    /// the plugin's run. Returns the result and the inputs as the report shows them.
    async fn work(&self, step: &PlannedStep) -> (Result<sandbox::StepOutcome, StepFailure>, BTreeMap<String, String>) {
        self.opts.progress.step_started(&step.id, &step.uses);
        let mut shown_inputs = BTreeMap::new();
        let result = match self.inputs(step) {
            Ok(inputs) => {
                shown_inputs = shown_fields(&inputs);
                let io: Arc<dyn StepIo> = self.io.clone();
                let caps = StepCaps::new(&step.id, step.index, Grants::of(&step.grants), step.persona.clone(), step.limits);
                match self.identity(step) {
                    Ok(identity) => {
                        let caps = match identity {
                            Some(identity) => caps.acting_as(identity),
                            None => caps,
                        };
                        if let Some(wait) = step.wait {
                            self.opts.progress.step_log(&step.id, crate::sandbox::LogLevel::Info, &format!("waiting {}s first", wait.as_secs()));
                            io.sleep(&caps, wait).await;
                        }
                        self.engine.run(&step.plugin, io, Arc::new(caps), &inputs).await
                    }
                    Err(failure) => Err(failure),
                }
            }
            Err(failure) => Err(failure),
        };
        (result, shown_inputs)
    }

    /// Judges the step's result and, in the step's turn, records it and starts the steps that
    /// were waiting for it.
    async fn finish(self: &Arc<Self>, i: usize, result: Result<sandbox::StepOutcome, StepFailure>, shown_inputs: BTreeMap<String, String>, elapsed_ms: f64) {
        let step = &self.plan.steps[i];
        let (mut report, outputs) = self.judge(step, result, elapsed_ms);
        report.inputs = shown_inputs;

        // The completion is an event like a call: ordered by the turnstile.
        let turn = self.turnstile.acquire(i).await;
        report.finished_ms = Some(self.io.gateway.clock.now_ms());
        report.started_ms = match self.slots.lock().unwrap_or_else(|p| p.into_inner())[i] {
            Slot::Running { started_ms } => Some(started_ms),
            _ => None,
        };
        learn_secrets(&self.redactor, &outputs);
        let passed = report.status.passed();
        let expected_failure = report.status == StepStatus::ExpectedFailure;
        let saved = passed.then(|| outputs.clone());
        // Recorded before it is shown: should the display panic, the result stands
        // (`finish_after_panic` takes over from here).
        self.slots.lock().unwrap_or_else(|p| p.into_inner())[i] = Slot::Done { report: report.clone(), outputs, passed };
        self.opts.progress.step_finished(&report);
        // Kept until now: a save while this step waited for its turn to finish must still
        // hold everything it was told.
        self.io.journal.finish(i);
        self.start_ready();
        // Saved once the steps it frees have joined the rotation, so the state names them
        // as running and says whose turn is next.
        if let Some(outputs) = saved {
            self.save(step, expected_failure, outputs);
        }
        turn.leave();
        let _ = self.done_tx.send(());
    }

    /// The step's inputs with references filled in. A value is secret when the plugin
    /// declares the input secret or when any output it uses is secret.
    fn inputs(&self, step: &PlannedStep) -> Result<Vec<Field>, StepFailure> {
        let mut fields = Vec::new();
        for (name, template, secret_input) in &step.with {
            let (value, secret) = self.render(template, &format!("input `{name}`"))?;
            if let Some(spec) = step.plugin.info.inputs.iter().find(|s| s.name == *name) {
                if let Err(e) = crate::flow::check_kind(spec.kind, &value) {
                    return Err(StepFailure::Plugin(StepError { code: "InvalidInput".into(), message: format!("input `{name}` {e}"), hint: None }));
                }
            }
            let value = if secret || *secret_input {
                self.redactor.learn(&value);
                Value::Secret(value)
            } else {
                Value::Text(value)
            };
            fields.push(Field { name: name.clone(), value });
        }
        Ok(fields)
    }

    /// A template with vars and finished steps' outputs filled in, and whether it holds a
    /// secret output. `what` names it in errors ("input `token`").
    fn render(&self, template: &crate::flow::Template, what: &str) -> Result<(String, bool), StepFailure> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let mut missing = None;
        let rendered = template.render(|part| match part {
            Part::Var(v) => self.plan.vars.get(v).map(|s| (s.clone(), false)),
            Part::Output { step: from, name: out } => {
                let dep = self.plan.step(from)?;
                match &slots[dep.index] {
                    Slot::Done { outputs, .. } => match outputs.iter().find(|f| f.name == *out) {
                        Some(f) => Some((f.value.as_str().to_string(), f.value.is_secret())),
                        None => {
                            missing = Some(format!("step `{from}` did not return its output `{out}`, which {what} uses"));
                            None
                        }
                    },
                    _ => None,
                }
            }
            Part::Literal(_) => None,
        });
        rendered.ok_or_else(|| {
            StepFailure::Plugin(StepError { code: "MissingOutput".into(), message: missing.unwrap_or_else(|| format!("{what} could not be resolved")), hint: None })
        })
    }

    /// Whom the step acts as (`as = …`), with its credentials: a user's password from the
    /// flow, the simulator's seeded users or the identities file; a service principal's
    /// from the outputs the flow names.
    fn identity(&self, step: &PlannedStep) -> Result<Option<Identity>, StepFailure> {
        let Some(acting_as) = &step.acting_as else { return Ok(None) };
        let tenant_id = self.io.context.tenant_id.clone();
        let identity = match acting_as {
            ActAs::User { name, password } => {
                let password = password
                    .clone()
                    .or_else(|| self.io.persona_passwords.get(&name.to_ascii_lowercase()).cloned())
                    .or_else(|| self.io.served_seed.map(|seed| aksflow_simulator::directory::seed::persona_password(seed, name)))
                    .or_else(|| self.opts.identities.password(name));
                let Some(password) = password else {
                    return Err(StepFailure::Plugin(StepError {
                        code: "NoCredentials".into(),
                        message: format!("step `{}` acts as {name}, but no password is known for that user", step.id),
                        hint: Some("in a simulation `as` names a seeded user (alice@, bob@, admin@contoso.onmicrosoft.com …); against Azure, give the user's password in the identities file (--identities FILE)".into()),
                    }));
                };
                Identity::User { tenant_id, name: name.clone(), password }
            }
            ActAs::ServicePrincipal { client_id, client_secret } => {
                let (client_id, _) = self.render(client_id, "`as.client-id`")?;
                let (client_secret, _) = self.render(client_secret, "`as.client-secret`")?;
                Identity::ServicePrincipal { tenant_id, client_id, client_secret }
            }
        };
        self.redactor.learn(identity.secret());
        Ok(Some(identity))
    }

    /// Compares what happened with what the flow expects.
    fn judge(&self, step: &PlannedStep, result: Result<sandbox::StepOutcome, StepFailure>, elapsed_ms: f64) -> (StepReport, Vec<Field>) {
        let mut report = StepReport { elapsed_ms, ..StepReport::new(&step.id, &step.uses, StepStatus::Succeeded) };
        let result = result.and_then(|outcome| self.check_outputs(step, outcome));
        let r = &self.redactor;
        match (result, &step.expect) {
            (Ok((outputs, files, fuel)), Expect::Success) => match self.write_files(&step.id, &files) {
                Ok(written) => {
                    report.fuel = Some(fuel);
                    report.outputs = shown_fields(&outputs);
                    report.files = written;
                    (report, outputs)
                }
                Err(f) => {
                    report.status = StepStatus::Failed;
                    report.code = Some(f.code().to_string());
                    report.message = Some(r.text(&f.message()));
                    (report, Vec::new())
                }
            },
            (Ok((_, _, fuel)), Expect::Failure { code, .. }) => {
                report.fuel = Some(fuel);
                report.status = StepStatus::Failed;
                report.code = Some("UnexpectedSuccess".into());
                report.message = Some(format!("the flow expects this step to fail with {code}, but it succeeded"));
                (report, Vec::new())
            }
            (Err(f), Expect::Success) => {
                report.status = StepStatus::Failed;
                report.code = Some(f.code().to_string());
                report.message = Some(r.text(&f.message()));
                if let StepFailure::Plugin(e) = &f {
                    report.hint = e.hint.as_ref().map(|h| r.text(h));
                }
                (report, Vec::new())
            }
            (Err(f), Expect::Failure { code, message }) => {
                let text = r.text(&f.message());
                let matches = f.code() == code && message.as_ref().is_none_or(|m| text.contains(m.as_str()));
                report.code = Some(f.code().to_string());
                if matches {
                    report.status = StepStatus::ExpectedFailure;
                    report.message = Some(text);
                } else {
                    report.status = StepStatus::Failed;
                    let wanted = match message {
                        Some(m) => format!("{code} with a message containing \"{m}\""),
                        None => code.clone(),
                    };
                    report.message = Some(format!("the flow expects {wanted}, but the step failed with {}: {text}", f.code()));
                }
                (report, Vec::new())
            }
        }
    }

    /// Outputs must be ones the plugin declared; declared-secret outputs are kept secret
    /// even if the plugin returned them as text.
    fn check_outputs(&self, step: &PlannedStep, outcome: sandbox::StepOutcome) -> Result<(Vec<Field>, Vec<File>, u64), StepFailure> {
        let declared = &step.plugin.info.outputs;
        let mut outputs = Vec::with_capacity(outcome.outputs.len());
        for f in outcome.outputs {
            let Some(spec) = declared.iter().find(|o| o.name == f.name) else {
                return Err(StepFailure::BadOutput {
                    reason: format!("it returned `{}`, which `describe` does not list (it lists {})", f.name, declared.iter().map(|o| format!("`{}`", o.name)).collect::<Vec<_>>().join(", ")),
                });
            };
            let value = match f.value {
                Value::Text(v) if spec.secret => Value::Secret(v),
                v => v,
            };
            outputs.push(Field { name: f.name, value });
        }
        for f in &outcome.files {
            if let Value::Secret(s) = &f.contents {
                self.redactor.learn(s);
            }
        }
        Ok((outputs, outcome.files, outcome.fuel_used))
    }

    /// Writes a step's files under `--out`: relative paths only, atomically, secret ones
    /// owner-only. The directory is the host's: a step may not write the host's own files
    /// (the transcript, the saved state) nor a file another step of the run wrote.
    fn write_files(&self, step: &str, files: &[File]) -> Result<Vec<String>, StepFailure> {
        let mut written = Vec::new();
        for f in files {
            let rel = std::path::Path::new(&f.path);
            let safe = !f.path.is_empty() && rel.components().all(|c| matches!(c, std::path::Component::Normal(_)));
            if !safe {
                return Err(StepFailure::BadOutput {
                    reason: format!("the plugin asked to write `{}`, which is not a plain relative path below the output directory", f.path),
                });
            }
            self.files.claim(rel, step).map_err(|owner| StepFailure::FileClash { path: f.path.clone(), owner })?;
            let path = self.opts.out_dir.join(rel);
            std::fs::create_dir_all(path.parent().expect("joined below the output directory"))
                .and_then(|()| self.run_files.write(&path, f.contents.as_str().as_bytes(), if f.contents.is_secret() { atomic_file::PRIVATE } else { atomic_file::PUBLIC }))
                .map_err(|e| StepFailure::BadOutput { reason: format!("cannot write {}: {e}", path.display()) })?;
            written.push(path.display().to_string());
        }
        Ok(written)
    }

    /// Saves the run as it stands when `step` has finished, holding the turn: no other step
    /// is in a host call, so the simulator, the transcript and the running steps' journals
    /// agree with each other.
    fn save(&self, step: &PlannedStep, expected_failure: bool, outputs: Vec<Field>) {
        if !self.saving() {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.flow_hash = self.plan.source_hash.clone();
        state.steps.insert(step.id.clone(), SavedStep { fingerprint: step.fingerprint.clone(), expected_failure, outputs });
        state.simulator = self.backend_sim.as_ref().map(|s| s.snapshot());
        state.egress = self.io.gateway.egress.servers();
        state.resume_point = match self.resume_point(step) {
            Ok(point) => Some(point),
            Err(e) => {
                self.opts.progress.step_log(&step.id, crate::sandbox::LogLevel::Warn, &format!("could not write out the transcript ({e}); a resumed run will differ from an uninterrupted one"));
                None
            }
        };
        if self.opts.saves != Saves::AfterEachStep {
            // Kept for the run's end to write (`save_end`).
            return;
        }
        if let Err(e) = state.save(&self.opts.out_dir, &self.run_files) {
            self.opts.progress.step_log(&step.id, crate::sandbox::LogLevel::Warn, &format!("could not save the run state ({e}); --resume will redo this step"));
            return;
        }
        drop(state);
        self.fault_after_save();
    }

    /// The run ended on its own (every step finished or was skipped): a later `--resume`
    /// keeps the whole transcript, the failed attempts included, and runs the failed steps
    /// again against the simulator as the last finished step left it. A run that saves only
    /// here (`Saves::AtEnd`) writes, where the end cannot be saved (after a host panic,
    /// or when the transcript cannot be marked), the last state a step left, as a run saving
    /// after every step would have.
    fn save_end(&self) {
        if self.opts.saves == Saves::Never {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // No step finished: there is nothing to resume from.
        let Some(point) = state.resume_point.as_mut() else { return };
        match self.saving().then(|| self.transcript.mark().ok()).flatten() {
            Some(mark) => {
                point.transcript = mark;
                point.secrets = self.redactor.secrets();
                point.operator_tokens = self.io.gateway.operator_tokens();
                point.running.clear();
                point.next_turn = None;
            }
            // Written after the last step already.
            None if self.opts.saves == Saves::AfterEachStep => return,
            None => {}
        }
        if let Err(e) = state.save(&self.opts.out_dir, &self.run_files) {
            tracing::warn!("could not save the run state in {} at its end: {e}; --resume there will start over", self.opts.out_dir.display());
        }
    }

    fn resume_point(&self, finished: &PlannedStep) -> std::io::Result<ResumePoint> {
        let transcript = self.transcript.mark()?;
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let running = self
            .plan
            .steps
            .iter()
            .filter_map(|s| match slots[s.index] {
                Slot::Running { started_ms } => Some((s.id.clone(), RunningStep { fingerprint: s.fingerprint.clone(), started_ms, told: self.io.journal.told(s.index) })),
                _ => None,
            })
            .collect();
        let next_turn = self.turnstile.next_after_leaving(finished.index).map(|i| self.plan.steps[i].id.clone());
        let late_answers = self
            .io
            .late_answers()
            .into_iter()
            .map(|(turn, at_ms, d)| LateAnswer { step: self.plan.steps[turn].id.clone(), at_ms, verification_uri: d.verification_uri, user_code: d.user_code })
            .collect();
        Ok(ResumePoint { transcript, secrets: self.redactor.secrets(), operator_tokens: self.io.gateway.operator_tokens(), running, next_turn, late_answers })
    }

    /// The fault hook `--resume`'s tests use: kill the process, as `kill -9` would, right
    /// after the Nth save (`AKSFLOW_FAULT_KILL_AFTER_SAVES=N`, read by the CLI).
    fn fault_after_save(&self) {
        let Some(n) = self.opts.kill_after_saves else { return };
        let mut saves = self.saves.lock().unwrap_or_else(|p| p.into_inner());
        *saves += 1;
        if *saves == n {
            // SIGKILL: no destructor runs and nothing buffered is flushed, as in a real kill.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

