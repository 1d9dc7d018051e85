#![no_main]
//! See `aksflow_fuzz_targets::kubeconfig`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| aksflow_fuzz_targets::kubeconfig::run(data));
