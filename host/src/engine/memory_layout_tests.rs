//! The built-in plugins are linked so that what a step touches sits in the memory the pool
//! keeps resident (`MEMORY_KEEP_RESIDENT`): the stack first (`PLUGIN_STACK_BYTES`),
//! then the data. Read from each plugin's own modules, so a change to how the plugins are
//! linked, or data grown past the kept pages, fails here rather than slowing every step.

use wasmparser::{DataKind, Encoding, Operator, Parser, Payload};

use super::{MEMORY_KEEP_RESIDENT, PLUGIN_STACK_BYTES};

/// A core module that defines its own linear memory: where its stack pointer starts, where its
/// active data ends, and the memory's initial size, which wasm-ld makes cover the zeroed
/// statics (`.bss`, not in any data segment) up to the heap's base.
#[derive(Debug, Default)]
struct MemoryModule {
    defines_memory: bool,
    stack_pointer: Option<u32>,
    data_end: u32,
    initial_bytes: u64,
}

fn i32_const(expr: &wasmparser::ConstExpr) -> Option<u32> {
    match expr.get_operators_reader().read().ok()? {
        Operator::I32Const { value } => Some(value as u32),
        _ => None,
    }
}

/// The core modules of a component that define a memory (the plugin's own module; the WASI
/// adapter and the shims use it).
fn memory_modules(component: &[u8]) -> Vec<MemoryModule> {
    let (mut open, mut done): (Vec<Option<MemoryModule>>, Vec<MemoryModule>) = (Vec::new(), Vec::new());
    for payload in Parser::new(0).parse_all(component) {
        match payload.expect("a built-in plugin parses") {
            Payload::Version { encoding: Encoding::Module, .. } => open.push(Some(MemoryModule::default())),
            Payload::Version { .. } => open.push(None),
            Payload::MemorySection(s) => {
                if let Some(Some(m)) = open.last_mut() {
                    if let Some(memory) = s.into_iter().next() {
                        m.defines_memory = true;
                        m.initial_bytes = memory.expect("a memory").initial << 16;
                    }
                }
            }
            Payload::GlobalSection(s) => {
                if let Some(Some(m)) = open.last_mut() {
                    // wasm-ld's `__stack_pointer` is the module's first global: a mutable i32.
                    let first = s.into_iter().next().map(|g| g.expect("a global"));
                    m.stack_pointer = first.filter(|g| g.ty.mutable).and_then(|g| i32_const(&g.init_expr));
                }
            }
            Payload::DataSection(s) => {
                if let Some(Some(m)) = open.last_mut() {
                    for d in s {
                        let d = d.expect("a data segment");
                        if let DataKind::Active { offset_expr, .. } = d.kind {
                            let start = i32_const(&offset_expr).expect("data at a constant offset");
                            m.data_end = m.data_end.max(start + d.data.len() as u32);
                        }
                    }
                }
            }
            Payload::End(_) => {
                if let Some(Some(m)) = open.pop() {
                    if m.defines_memory {
                        done.push(m);
                    }
                }
            }
            _ => {}
        }
    }
    done
}

#[test]
fn each_built_in_plugins_stack_and_data_sit_in_the_memory_kept_resident() {
    let names = crate::plugins::builtin_names();
    assert!(names.len() > 10, "the built-in plugins are embedded");
    for name in names {
        let modules = memory_modules(crate::plugins::builtin(name).unwrap());
        assert_eq!(modules.len(), 1, "{name}: one module defines the memory");
        let m = &modules[0];
        assert_eq!(m.stack_pointer, PLUGIN_STACK_BYTES.parse().ok(), "{name}: the stack is linked at plugins/build's size and comes first");
        assert!(m.data_end as u64 <= m.initial_bytes, "{name}: wasm-ld sizes the initial memory to hold the data");
        assert!(
            m.initial_bytes <= MEMORY_KEEP_RESIDENT as u64,
            "{name}: its stack and statics take {} bytes (its initial memory), more than the {} kept resident: raise MEMORY_KEEP_RESIDENT or shrink them",
            m.initial_bytes,
            MEMORY_KEEP_RESIDENT
        );
    }
}

#[test]
fn a_module_linked_with_rusts_default_stack_is_read_as_such() {
    // A hand-written module shaped as wasm-ld links one: memory, `__stack_pointer` at 1 MiB,
    // data above it. The reader must see the 1 MiB, or the test above proves nothing.
    let module = module_linked_like_wasm_ld(1 << 20, 1 << 20, b"hello");
    let read = memory_modules(&module);
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].stack_pointer, Some(1 << 20));
    assert_eq!(read[0].data_end, (1 << 20) + 5);
    assert_eq!(read[0].initial_bytes, 32 << 16);
}

/// A module with one memory, a mutable i32 global set to `stack`, and one active data segment
/// of `data` at `offset`.
fn module_linked_like_wasm_ld(stack: u32, offset: u32, data: &[u8]) -> Vec<u8> {
    use wasm_encoder::{ConstExpr, DataSection, GlobalSection, GlobalType, MemorySection, MemoryType, Module, ValType};
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: 32, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut globals = GlobalSection::new();
    globals.global(GlobalType { val_type: ValType::I32, mutable: true, shared: false }, &ConstExpr::i32_const(stack as i32));
    let mut segments = DataSection::new();
    segments.active(0, &ConstExpr::i32_const(offset as i32), data.iter().copied());
    let mut module = Module::new();
    module.section(&memories).section(&globals).section(&segments);
    module.finish()
}
