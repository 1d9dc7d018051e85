#![no_main]
//! See `aksflow_fuzz_targets::flow_file`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| aksflow_fuzz_targets::flow_file::run(data));
