//! The bodies of aksflow's fuzz targets, one module each. `fuzz/fuzz_targets/*.rs` hands
//! them libFuzzer's input (`cargo fuzz run TARGET`, see docs/testing.md); `fuzz-targets/tests/corpus.rs`
//! replays every file of `fuzz/corpus/TARGET/` through them on stable Rust, so the test
//! suite runs each target on its corpus.
//!
//! A target returns normally for any input it rejects; a panic, a hang or an answer that
//! breaks a rule (a 5xx for a bad request body) is a finding.

pub mod flow_file;
pub mod jwt;
pub mod kubeconfig;
pub mod odata_filter;
pub mod request_bodies;

/// Every target by name: the names of `fuzz/fuzz_targets/` and `fuzz/corpus/`.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("flow_file", flow_file::run),
    ("odata_filter", odata_filter::run),
    ("jwt", jwt::run),
    ("request_bodies", request_bodies::run),
    ("kubeconfig", kubeconfig::run),
];

/// One runtime for the targets that drive async code, made once per process.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"))
}
