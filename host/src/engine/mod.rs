//! One wasmtime [`Engine`] for the whole process: components compiled once (and cached on
//! disk by content hash and engine configuration), checked against the contract when
//! loaded, and instantiated from an [`InstancePre`](wasmtime::component::InstancePre) into a
//! fresh, limited [`Store`] for every step.

mod cache;
mod imports;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::{Field, StepInfo, StepPre};
use crate::caps::StepCaps;
pub use crate::limits::{Limits, StepFailure};
use crate::sandbox::{self, StepIo, StepOutcome, StepState};

/// How often the epoch advances: the granularity of the wall-clock backstop.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Instances that may be live at once in a process, over all its flows. A run reserves the
/// sandboxes its flow can use at once before its first step ([`StepEngine::reserve`]); runs
/// past the pool wait for others to finish, and a flow wider than the pool runs this many of
/// its steps at a time.
pub const MAX_INSTANCES: u32 = 64;

/// Each sandbox's share of the pool's core instances, memories and tables: a Rust wasip2
/// component has a handful of core instances, one memory and a table or two. Reservations
/// count whole sandboxes, so steps of a plugin that needs more can still find the pool empty.
pub const CORE_INSTANCES_PER_SANDBOX: u32 = 8;
pub const MEMORIES_PER_SANDBOX: u32 = 2;
pub const TABLES_PER_SANDBOX: u32 = 4;

/// How much of each table the pool zeroes in place when a step ends (the rest, if any, is
/// given back to the kernel): far more than a plugin's tables need, and only a table's own
/// pages are zeroed.
const TABLE_KEEP_RESIDENT: usize = 64 << 10;

/// The stack the built-in plugins are linked with (`aksflow_wasm_build::STACK_BYTES`, passed
/// on by build.rs), in bytes: what `aksflow plugins new` links a new plugin with too.
pub(crate) const PLUGIN_STACK_BYTES: &str = env!("AKSFLOW_PLUGIN_STACK_BYTES");

/// How much of each step's linear memory the pool keeps mapped and zeroes in place when the
/// step ends (the rest is given back to the kernel): the plugins' stack (128 KiB,
/// `aksflow_wasm_build::STACK_BYTES`), their data and statics (192 KiB in all for most, 256 KiB
/// for the kube plugins) and, for most, the first pages of their heap.
pub(crate) const MEMORY_KEEP_RESIDENT: usize = 256 << 10;

/// The most memory any step may be allowed (a flow can raise a step's cap up to this).
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{origin}: not a WebAssembly component aksflow can compile: {reason}")]
    Compile { origin: String, reason: String },
    #[error(
        "{origin}: imports `{import}`, which aksflow does not give to plugins.\n  A step may import only aksflow:step (cloud, log, interact) and the WASI clocks, random, I/O and CLI interfaces; it has no sockets, HTTP or files. Call services through `cloud.call`."
    )]
    ForbiddenImport { origin: String, import: String },
    #[error("{origin}: does not fit the aksflow:step@0.2.0 world: {reason}")]
    Contract { origin: String, reason: String },
    #[error("{origin}: `describe` failed: {failure}")]
    Describe { origin: String, failure: StepFailure },
}

/// A compiled, checked plugin, ready to instantiate.
pub struct Plugin {
    pub hash: [u8; 32],
    pub origin: String,
    pub info: StepInfo,
    pub(crate) pre: StepPre<StepState>,
}

pub struct StepEngine {
    engine: Engine,
    linker: Linker<StepState>,
    cache: cache::DiskCache,
    loaded: Mutex<HashMap<[u8; 32], Arc<Plugin>>>,
    /// Components embedded in this binary, by address and length: their bytes never change,
    /// so each is hashed once per process rather than at every flow that names it.
    embedded: Mutex<HashMap<(usize, usize), Arc<Plugin>>>,
    /// The pool's sandboxes, counted out: a run holds its reservation to its end, and
    /// describing a plugin holds one while it runs.
    sandboxes: Arc<tokio::sync::Semaphore>,
}

/// Sandboxes a run holds until it ends (dropping this gives them back).
pub struct Reservation(tokio::sync::OwnedSemaphorePermit);

impl Reservation {
    /// How many steps the run may have running at once.
    pub fn steps(&self) -> usize {
        self.0.num_permits()
    }
}

impl StepEngine {
    /// An engine whose compiled components are cached under `cache_dir` (`None`: memory only).
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Arc<Self>> {
        let engine = Engine::new(&Self::config())?;
        let mut linker = Linker::new(&engine);
        sandbox::add_to_linker(&mut linker)?;
        let this = Arc::new(StepEngine { engine, linker, cache: cache::DiskCache::new(cache_dir), loaded: Mutex::new(HashMap::new()), embedded: Mutex::new(HashMap::new()), sandboxes: Arc::new(tokio::sync::Semaphore::new(MAX_INSTANCES as usize)) });
        start_epoch_ticker(Arc::downgrade(&this));
        Ok(this)
    }

    /// The pooling allocator's settings (public so the step bench's bare wasmtime can use the
    /// same).
    pub fn pooling() -> PoolingAllocationConfig {
        let mut pool = PoolingAllocationConfig::default();
        // Every step is one component instance; a Rust wasip2 component has a handful of
        // core instances and one linear memory.
        pool.total_component_instances(MAX_INSTANCES);
        pool.total_core_instances(MAX_INSTANCES * CORE_INSTANCES_PER_SANDBOX);
        pool.total_memories(MAX_INSTANCES * MEMORIES_PER_SANDBOX);
        pool.total_tables(MAX_INSTANCES * TABLES_PER_SANDBOX);
        pool.max_memory_size(MAX_MEMORY_BYTES as usize);
        // Keep a few slots' memory mapped between steps: re-instantiating is then a reset.
        pool.max_unused_warm_slots(8);
        // A finished step's memory is reset in batches rather than one madvise (and one TLB
        // shootdown across cores) per step; a slot is reused only after its reset. Flows two
        // at a time: 96.8 -> 102.7 flows/s (criterion `flow`, one sitting); one at a time the same.
        pool.decommit_batch_size(64);
        // The first 256 KiB of a step's memory (its stack, statics and mostly the start of its
        // heap, as the plugins are linked: plugins/build) stay mapped and are zeroed with memset
        // when it ends, instead of given back to the kernel and faulted in again by the next step.
        // Every byte of them is rewritten, so nothing carries over. (Resetting only the pages a
        // PAGEMAP_SCAN finds written was rejected: it skips written pages that are not present, so
        // a page swapped out or being migrated when a step ends would reach the next step with the
        // old contents, wasmtime 48.)
        pool.linear_memory_keep_resident(MEMORY_KEEP_RESIDENT);
        // A step's tables (a plugin's have a few hundred function references, under a page)
        // are zeroed with memset when it ends, instead of given back to the kernel and
        // faulted in again by the next step's first indirect calls: 150 legacy-aad flows,
        // page faults 38.2k -> 30.2k. Every byte of the table is rewritten, so nothing
        // carries over; a zero element is "not initialised yet" to lazy table init.
        pool.table_keep_resident(TABLE_KEEP_RESIDENT);
        // Resetting only the pages a scan finds written would miss a page swapped out when a
        // step ends (see above): never, whatever wasmtime's default becomes.
        pool.pagemap_scan(wasmtime::Enabled::No);
        pool
    }

    /// How steps get their memory: `pool` (the engine's is `pooling`), with each module's data copied into
    /// the kept-resident pages when a step starts (by wasmtime's start-up code, which charges
    /// the step a unit of fuel a byte) rather than mapped copy-on-write from an image. Every
    /// step read, then wrote, a couple of a mapped image's pages: each such write is a
    /// copy-on-write fault whose TLB flush interrupts every other core running a thread of
    /// this process, and a slot that changes module maps the new image over the old. (Public
    /// so the step bench's bare wasmtime can use the same.)
    pub fn memory(config: &mut Config, pool: PoolingAllocationConfig) {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        config.memory_init_cow(false);
    }

    fn config() -> Config {
        let mut config = Config::new();
        config.wasm_component_model(true);
        // Fuel is the deterministic CPU budget; the epoch is the wall-clock backstop.
        config.consume_fuel(true);
        config.epoch_interruption(true);
        // Steps are plain synchronous exports; the async component-model machinery would
        // only add per-call cost.
        config.concurrency_support(false);
        Self::memory(&mut config, Self::pooling());
        // `AKSFLOW_PERFMAP=1`: guests' compiled functions named in /tmp/perf-<pid>.map, so
        // `perf report` shows which guest code a flow spends its time in (docs/testing.md).
        if std::env::var_os("AKSFLOW_PERFMAP").is_some_and(|v| !v.is_empty()) {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        config
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compiles (or fetches from cache), checks and describes a component.
    pub async fn load(&self, wasm: &[u8], origin: &str) -> Result<Arc<Plugin>, LoadError> {
        let hash: [u8; 32] = Sha256::digest(wasm).into();
        if let Some(p) = self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(&hash) {
            return Ok(p.clone());
        }
        let component = self
            .cache
            .component(&self.engine, wasm, &hash)
            .map_err(|e| LoadError::Compile { origin: origin.into(), reason: format!("{e:#}") })?;
        imports::check(&self.engine, &component, origin)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(StepPre::new)
            .map_err(|e| LoadError::Contract { origin: origin.into(), reason: format!("{e:#}") })?;
        let info = {
            let _sandbox = self.reserve(1).await;
            sandbox::describe(&self.engine, &pre).await.map_err(|failure| LoadError::Describe { origin: origin.into(), failure })?
        };
        let plugin = Arc::new(Plugin { hash, origin: origin.into(), info, pre });
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).insert(hash, plugin.clone());
        Ok(plugin)
    }

    /// [`load`](Self::load) for a component embedded in this binary.
    pub async fn load_embedded(&self, wasm: &'static [u8], origin: &str) -> Result<Arc<Plugin>, LoadError> {
        let key = (wasm.as_ptr() as usize, wasm.len());
        if let Some(p) = self.embedded.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(p.clone());
        }
        let plugin = self.load(wasm, origin).await?;
        self.embedded.lock().unwrap_or_else(|p| p.into_inner()).insert(key, plugin.clone());
        Ok(plugin)
    }

    /// Waits until `steps` sandboxes are free (at most the whole pool) and holds them for the
    /// caller. Every reservation is taken whole and none waits while holding another, so runs
    /// that wait never stall one another: each waits only for runs that can finish.
    pub async fn reserve(&self, steps: usize) -> Reservation {
        let steps = steps.min(MAX_INSTANCES as usize) as u32;
        Reservation(self.sandboxes.clone().acquire_many_owned(steps).await.expect("the engine never closes its semaphore"))
    }

    /// Runs a loaded plugin once in a fresh sandbox, with the step's capabilities.
    pub async fn run(&self, plugin: &Plugin, io: Arc<dyn StepIo>, caps: Arc<StepCaps>, inputs: &[Field]) -> Result<StepOutcome, StepFailure> {
        sandbox::run_step(&self.engine, &plugin.pre, io, caps, inputs).await
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn start_epoch_ticker(engine: Weak<StepEngine>) {
    std::thread::Builder::new()
        .name("aksflow-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(e) => e.engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .expect("spawning the epoch thread");
}

#[cfg(test)]
mod memory_layout_tests;
#[cfg(test)]
mod reset_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_embedded_component_is_loaded_once_per_process() {
        let engine = StepEngine::new(None).unwrap();
        let wasm = crate::plugins::builtin("resource-group").expect("a built-in plugin");
        let a = engine.load_embedded(wasm, "resource-group").await.unwrap();
        let b = engine.load_embedded(wasm, "resource-group").await.unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(engine.embedded.lock().unwrap().len(), 1);
        // The same bytes by value are the same plugin.
        assert!(Arc::ptr_eq(&a, &engine.load(&wasm.to_vec(), "copy").await.unwrap()));
    }
}
