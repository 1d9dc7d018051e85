#![no_main]
//! See `aksflow_fuzz_targets::request_bodies`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| aksflow_fuzz_targets::request_bodies::run(data));
