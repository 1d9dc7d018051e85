//! What a step leaves in its memory is gone when the next step gets the same slot, with the
//! engine's own memory settings (`StepEngine::memory`): in the pages kept resident (zeroed in
//! place), past them (given back to the kernel), and in memory the step grew. A pool of one
//! memory makes the second instance reuse the first one's slot.

use wasm_encoder::{CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType};
use wasmtime::{Config, Engine, Instance, Store};

use super::{MEMORY_KEEP_RESIDENT, StepEngine};

const PAGES: u64 = 64;
const PATTERN: i32 = 0x5a5a_5a5a;
/// The module's data: a string at 1 KiB, which every instance must find as it was.
const SEED: &[u8] = b"seeded";
/// Where `plant` writes: in the kept pages, across their end, past them, and in grown memory.
const PLANTED: [u32; 5] = [64, 100_000, MEMORY_KEEP_RESIDENT as u32 - 2, 3_000_000, ((PAGES as u32) << 16) + 4096];

/// One memory of `PAGES` pages (exported) with `SEED` at 1 KiB; `plant` grows it by a page and
/// writes `PATTERN` at each of `PLANTED`; `load(offset)` and `pages()` read it.
fn module() -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([], []);
    types.ty().function([ValType::I32], [ValType::I32]);
    types.ty().function([], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0).function(1).function(2);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: PAGES, maximum: Some(PAGES + 1), memory64: false, shared: false, page_size_log2: None });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0).export("plant", ExportKind::Func, 0).export("load", ExportKind::Func, 1).export("pages", ExportKind::Func, 2);
    let unaligned = MemArg { offset: 0, align: 0, memory_index: 0 };
    let mut plant = Function::new([]);
    plant.instruction(&Instruction::I32Const(1)).instruction(&Instruction::MemoryGrow(0)).instruction(&Instruction::Drop);
    for at in PLANTED {
        plant.instruction(&Instruction::I32Const(at as i32)).instruction(&Instruction::I32Const(PATTERN)).instruction(&Instruction::I32Store(unaligned));
    }
    plant.instruction(&Instruction::End);
    let mut load = Function::new([]);
    load.instruction(&Instruction::LocalGet(0)).instruction(&Instruction::I32Load(unaligned)).instruction(&Instruction::End);
    let mut pages = Function::new([]);
    pages.instruction(&Instruction::MemorySize(0)).instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&plant).function(&load).function(&pages);
    let mut data = DataSection::new();
    data.active(0, &ConstExpr::i32_const(1024), SEED.iter().copied());
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memories).section(&exports).section(&code).section(&data);
    module.finish()
}

/// The engine's memory settings with a pool of a single memory.
fn one_slot_engine() -> Engine {
    let mut pool = StepEngine::pooling();
    pool.total_memories(1).total_core_instances(1).total_tables(1).total_component_instances(1);
    let mut config = Config::new();
    StepEngine::memory(&mut config, pool);
    Engine::new(&config).unwrap()
}

fn seed_at(store: &mut Store<()>, instance: &Instance) -> Vec<u8> {
    let memory = instance.get_memory(&mut *store, "memory").expect("the module's memory");
    memory.data(&*store)[1024..1024 + SEED.len()].to_vec()
}

#[test]
fn nothing_a_step_wrote_reaches_the_next_step_in_its_slot() {
    let engine = one_slot_engine();
    let module = wasmtime::Module::new(&engine, module()).unwrap();
    let read = |store: &mut Store<()>, instance: &Instance, at: u32| instance.get_typed_func::<i32, i32>(&mut *store, "load").unwrap().call(&mut *store, at as i32).unwrap();

    let mut first = Store::new(&engine, ());
    let planter = Instance::new(&mut first, &module, &[]).unwrap();
    planter.get_typed_func::<(), ()>(&mut first, "plant").unwrap().call(&mut first, ()).unwrap();
    for at in PLANTED {
        assert_eq!(read(&mut first, &planter, at), PATTERN, "planted at {at}");
    }
    drop(first);

    for round in 0..3 {
        let mut next = Store::new(&engine, ());
        let reader = Instance::new(&mut next, &module, &[]).expect("the one slot is free again");
        assert_eq!(reader.get_typed_func::<(), i32>(&mut next, "pages").unwrap().call(&mut next, ()).unwrap(), PAGES as i32, "the grown page is gone");
        for at in PLANTED.into_iter().filter(|&at| u64::from(at) + 4 <= PAGES << 16) {
            assert_eq!(read(&mut next, &reader, at), 0, "round {round}: the previous step's bytes at {at}");
        }
        assert_eq!(seed_at(&mut next, &reader), SEED, "the module's data is there again");
        // Leave the pattern for the next round too.
        reader.get_typed_func::<(), ()>(&mut next, "plant").unwrap().call(&mut next, ()).unwrap();
    }
}
