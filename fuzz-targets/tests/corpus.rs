//! Every fuzz target on every input of its corpus (`fuzz/corpus/TARGET/`), on stable Rust:
//! the short run of each target that the test suite makes. `cargo fuzz run TARGET` grows
//! the corpus; what it finds and fixes stays here as a regression input.

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target)
}

#[test]
fn every_target_runs_its_whole_corpus_without_a_finding() {
    for (name, target) in aksflow_fuzz_targets::TARGETS {
        let dir = corpus_dir(name);
        let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}; every target keeps a corpus", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(inputs.len() >= 5, "{name}: a corpus of {} inputs is too thin to start a fuzzer from", inputs.len());
        for input in &inputs {
            let bytes = std::fs::read(input).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| target(&bytes)) {
                let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                panic!("{name} failed on {}: {why}", input.display());
            }
        }
    }
}
