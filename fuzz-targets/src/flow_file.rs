//! The flow-file loader as `aksflow run` uses it: TOML, the step checks, `${{ }}`
//! references, grants, limits, personas and cycles, with every error rendered with its
//! line. The `${{ }}` template parser also gets each line on its own.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use aksflow::engine::StepEngine;
use aksflow::flow::{self, Part, Template};

fn engine() -> &'static Arc<StepEngine> {
    static ENGINE: OnceLock<Arc<StepEngine>> = OnceLock::new();
    ENGINE.get_or_init(|| StepEngine::new(Some(std::env::temp_dir().join("aksflow-fuzz-cache"))).expect("a wasmtime engine"))
}

/// An empty directory to stand for the flow file's own: relative plugin paths resolve
/// below it and find nothing.
fn flow_path() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("aksflow-fuzz-flow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir.join("fuzz.toml")
    })
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for line in text.lines() {
        if let Ok(t) = Template::parse(line) {
            let (rendered, _) = t.render(|_: &Part| Some(("X".to_string(), false))).expect("every reference was given a value");
            assert!(!rendered.contains("${{"), "a reference survived rendering: {line:?} -> {rendered:?}");
            let _ = t.steps().count();
        }
    }
    match crate::runtime().block_on(flow::load_str(text, flow_path(), engine())) {
        Ok(_) => {}
        Err(errors) => {
            let shown = errors.to_string();
            assert!(shown.starts_with("error: "), "{shown}");
        }
    }
}
