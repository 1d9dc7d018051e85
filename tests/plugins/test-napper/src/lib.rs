//! Sleeps (default an hour) and reports what the clocks and random source showed: the
//! sleep must take no real time and everything must repeat with the seed.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aksflow_sdk::*;
struct Napper;
impl Guest for Napper {
    fn describe() -> StepInfo {
        StepInfo::new("test-napper", "Sleeps and reports clocks and random numbers")
            .typed("seconds", "how long to sleep", ValueKind::Integer, false)
            .output("before", "wall clock before, ms")
            .output("after", "wall clock after, ms")
            .output("slept", "monotonic ms elapsed")
            .output("random", "a random u64 from std's hashmap seed source")
    }
    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let inputs = Inputs::from(inputs);
        let secs = inputs.opt_int("seconds")?.unwrap_or(3600) as u64;
        let ms = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis().to_string();
        let before = SystemTime::now();
        let mono = Instant::now();
        log::info(&format!("sleeping {secs}s"));
        std::thread::sleep(Duration::from_secs(secs));
        let slept = mono.elapsed().as_millis();
        let after = SystemTime::now();
        let mut buf = [0u8; 8];
        getrandom_fill(&mut buf);
        Ok(Outputs::new()
            .text("before", ms(before))
            .text("after", ms(after))
            .text("slept", slept.to_string())
            .text("random", u64::from_le_bytes(buf).to_string())
            .into())
    }
}

/// std's RandomState draws its keys from wasi:random; hashing a constant exposes them.
fn getrandom_fill(buf: &mut [u8; 8]) {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    *buf = h.finish().to_le_bytes();
}
export!(Napper with_types_in aksflow_sdk::bindings);
