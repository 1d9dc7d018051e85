//! Benchmarks live in `benches/`: `cargo bench -p aksflow-benches`.
