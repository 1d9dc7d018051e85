//! Instantiate + run of a trivial step (the test-echo component): through aksflow's sandbox
//! (pooling, InstancePre, fuel, epoch deadline, memory cap, deterministic WASI), and through
//! bare wasmtime (aksflow's pooling settings, InstancePre, stub imports) beside it, so the host's own
//! overhead is a visible number. Target: ours ≤ 25 µs median.

use std::sync::Arc;

use aksflow::bindings::aksflow::step::{cloud, interact, log, types};
use aksflow::bindings::{CallError, CloudContext, CloudRequest, CloudResponse, Field, Step, StepPre, Value};
use aksflow::caps::{Grants, StepCaps};
use aksflow::engine::StepEngine;
use aksflow::sandbox::NullIo;
use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

fn inputs() -> Vec<Field> {
    vec![Field { name: "text".into(), value: Value::Text("hello".into()) }]
}

struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}
impl types::Host for Bare {}
impl cloud::Host for Bare {
    async fn call(&mut self, _r: CloudRequest) -> wasmtime::Result<Result<CloudResponse, CallError>> {
        Ok(Err(CallError::NotGranted("bare".into())))
    }
    async fn context(&mut self) -> wasmtime::Result<CloudContext> {
        Ok(CloudContext { tenant_id: String::new(), subscription_id: String::new(), target: String::new(), default_location: String::new() })
    }
}
impl log::Host for Bare {
    async fn write(&mut self, _l: log::Level, _m: String) -> wasmtime::Result<()> {
        Ok(())
    }
}
impl interact::Host for Bare {
    async fn show(&mut self, _m: String, _d: Option<interact::DeviceLogin>) -> wasmtime::Result<Result<(), String>> {
        Ok(Ok(()))
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let wasm = std::fs::read(aksflow_e2e::test_wasm("test-echo")).unwrap();
    let inputs = inputs();

    // aksflow's sandbox
    let engine = StepEngine::new(None).unwrap();
    let plugin = rt.block_on(engine.load(&wasm, "test-echo")).unwrap();
    let io: Arc<dyn aksflow::sandbox::StepIo> = Arc::new(NullIo);
    let caps = Arc::new(StepCaps::host("bench", Grants::NONE));
    let mut g = c.benchmark_group("instantiate+run trivial step");
    g.bench_function("aksflow sandbox", |b| b.iter(|| rt.block_on(engine.run(&plugin, io.clone(), caps.clone(), &inputs)).unwrap()));

    // bare wasmtime: the same memory (pooling allocator, slots, warm reuse, batched resets,
    // pages kept resident) and InstancePre, none of the sandbox's limits, deterministic WASI
    // or host imports
    let mut config = Config::new();
    StepEngine::memory(&mut config, StepEngine::pooling());
    config.concurrency_support(false);
    let bare_engine = Engine::new(&config).unwrap();
    let component = wasmtime::component::Component::new(&bare_engine, &wasm).unwrap();
    let mut linker: Linker<Bare> = Linker::new(&bare_engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
    Step::add_to_linker::<Bare, HasSelf<Bare>>(&mut linker, |s| s).unwrap();
    let pre = StepPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
    g.bench_function("bare wasmtime", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut store = Store::new(&bare_engine, Bare { wasi: WasiCtx::builder().build(), table: ResourceTable::new() });
                let step = pre.instantiate_async(&mut store).await.unwrap();
                step.call_run(&mut store, &inputs).await.unwrap().unwrap()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
