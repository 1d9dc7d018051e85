#![no_main]
//! See `aksflow_fuzz_targets::jwt`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| aksflow_fuzz_targets::jwt::run(data));
