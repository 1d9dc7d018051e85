#![no_main]
//! See `aksflow_fuzz_targets::odata_filter`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| aksflow_fuzz_targets::odata_filter::run(data));
