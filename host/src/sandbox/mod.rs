//! A step's sandbox: the store data, the host side of the `aksflow:step` imports, and the
//! WASI a plugin sees (no files, no environment, no network; the run's clocks and random).
//!
//! The sandbox knows nothing about clouds or flows. It hands every import to a [`StepIo`],
//! which the runner implements (and a test can fake).

mod clocks;
mod io;

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{Field, File, Step, StepInfo, StepPre};
use crate::caps::{Grants, StepCaps};
use crate::limits::{self, LimitHit, Limits, MemoryCap, Spent, StepFailure};
pub use io::{BoxFuture, DeviceLogin, LogLevel, NullIo, StepIo};

/// How much of a plugin's stderr (panic messages) is kept for the failure report.
const STDERR_CAPTURE: usize = 16 * 1024;

/// Per-step store data. One per step run, never reused.
pub struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryCap,
    pub(crate) io: Arc<dyn StepIo>,
    pub(crate) caps: Arc<StepCaps>,
    pub(crate) spent: Spent,
    timing: Timing,
}

/// The step's wall-clock deadline: it covers the whole step, wasm and host calls alike.
struct Timing {
    started: Instant,
    limit: Duration,
}

impl Timing {
    fn remaining(&self) -> Option<Duration> {
        self.limit.checked_sub(self.started.elapsed()).filter(|d| !d.is_zero())
    }
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl StepState {
    /// Runs a host call within what is left of the step's wall-clock limit. Past it, the
    /// call is abandoned and the guest traps with a timeout.
    pub(crate) async fn host_call<F: Future>(&mut self, f: F) -> wasmtime::Result<F::Output> {
        let limit = self.timing.limit;
        let timeout = || wasmtime::Error::new(LimitHit::Timeout { limit });
        let remaining = self.timing.remaining().ok_or_else(timeout)?;
        tokio::time::timeout(remaining, f).await.map_err(|_| timeout())
    }

    /// Charges the step's budget; past it, the guest traps with the limit it hit.
    pub(crate) fn charge(&mut self, budget: limits::Budget, n: u64) -> wasmtime::Result<()> {
        let limits = *self.caps.limits();
        self.spent.charge(&limits, budget, n).map_err(wasmtime::Error::new)
    }
}

pub(crate) fn add_to_linker(linker: &mut Linker<StepState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    Step::add_to_linker::<StepState, HasSelf<StepState>>(linker, |s| s)?;
    clocks::shadow_sleep(linker)?;
    Ok(())
}

fn new_store(engine: &Engine, io: Arc<dyn StepIo>, caps: Arc<StepCaps>) -> (Store<StepState>, MemoryOutputPipe) {
    let limits = *caps.limits();
    let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
    let mut wasi = WasiCtxBuilder::new();
    wasi.stderr(stderr.clone())
        .wall_clock(clocks::GuestWallClock(io.clone(), caps.clone()))
        .monotonic_clock(clocks::GuestMonotonicClock(io.clone(), caps.clone()))
        .secure_random(clocks::guest_rng(io.seed_for(&caps, "secure")))
        .insecure_random(clocks::guest_rng(io.seed_for(&caps, "insecure")))
        .insecure_random_seed(u128::from(io.seed_for(&caps, "seed")))
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    let state = StepState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: MemoryCap { limit: limits.memory_bytes },
        io,
        caps,
        spent: Spent::default(),
        timing: Timing { started: Instant::now(), limit: limits.timeout },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_fuel(limits.fuel).expect("fuel is enabled on the engine");
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|ctx| {
        let t = &ctx.data().timing;
        if t.remaining().is_none() {
            return Err(wasmtime::Error::new(LimitHit::Timeout { limit: t.limit }));
        }
        // A stopped run's flow thread is busy here, so it cannot see the stop itself: the step
        // ends at this tick instead of running on to its fuel or timeout.
        if ctx.data().io.stopped() {
            return Err(wasmtime::Error::msg("the run was stopped"));
        }
        // Continue, not Yield: a guest's clock reads are not ordered by the turnstile, so
        // handing the flow's thread to another step in the middle of a computation (at a
        // wall-clock tick) could let that step's event move the clock the guest reads next.
        Ok(UpdateDeadline::Continue(1))
    });
    (store, stderr)
}

fn stderr_text(pipe: &MemoryOutputPipe) -> String {
    String::from_utf8_lossy(&pipe.contents()).into_owned()
}

/// Instantiates the plugin and asks what it is. Runs with default limits and no services.
pub(crate) async fn describe(engine: &Engine, pre: &StepPre<StepState>) -> Result<StepInfo, StepFailure> {
    let limits = Limits::default();
    let (mut store, stderr) = new_store(engine, Arc::new(NullIo), Arc::new(StepCaps::host("describe", Grants::NONE)));
    let step = pre.instantiate_async(&mut store).await.map_err(limits::instantiate_error)?;
    step.call_describe(&mut store).await.map_err(|e| limits::classify(e, &limits, stderr_text(&stderr)))
}

/// Runs one step in a fresh store: instantiate, `run(inputs)`, check the outputs' size.
/// The step's budget is the one in its capabilities.
pub(crate) async fn run_step(
    engine: &Engine,
    pre: &StepPre<StepState>,
    io: Arc<dyn StepIo>,
    caps: Arc<StepCaps>,
    inputs: &[Field],
) -> Result<StepOutcome, StepFailure> {
    let limits = *caps.limits();
    let (mut store, stderr) = new_store(engine, io, caps);
    let step = pre.instantiate_async(&mut store).await.map_err(limits::instantiate_error)?;
    let result = step.call_run(&mut store, inputs).await.map_err(|e| limits::classify(e, &limits, stderr_text(&stderr)))?;
    let fuel_used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
    let out = result.map_err(StepFailure::Plugin)?;
    let bytes: usize = out.outputs.iter().map(|f| f.name.len() + f.value.as_str().len()).sum::<usize>()
        + out.files.iter().map(|f| f.path.len() + f.contents.as_str().len()).sum::<usize>();
    if bytes > limits.output_bytes {
        return Err(StepFailure::OutputTooLarge { bytes, limit: limits.output_bytes });
    }
    Ok(StepOutcome { outputs: out.outputs, files: out.files, fuel_used })
}

/// A successful step: its outputs, the files it asks the host to write, and the fuel it
/// burned (deterministic).
#[derive(Debug)]
pub struct StepOutcome {
    pub outputs: Vec<Field>,
    pub files: Vec<File>,
    pub fuel_used: u64,
}

