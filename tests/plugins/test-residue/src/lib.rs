//! Looks for what an earlier step left in linear memory. `plant = "true"` fills `mebibytes`
//! of heap (and a static) with a pattern made from `key`, then counts the pattern in its own
//! memory (which proves the scan can see it). Without `plant` it grows its memory by
//! `mebibytes` (as far as a planting step's heap went) and counts. The pattern is
//! computed byte by byte and never held whole, so a scan finds only what a planting step left.
use aksflow_sdk::*;

struct Residue;

/// The pattern's length: a 64-byte run cannot appear by chance.
const RUN: usize = 64;
/// A static in the data segment, which a reused memory slot must also restore.
static mut PLANTED: [u8; RUN] = [0; RUN];

fn pattern(key: u8, i: usize) -> u8 {
    (i as u8).wrapping_mul(37) ^ key ^ 0xA5
}

/// Places in this instance's whole linear memory where the pattern starts.
fn count(key: u8) -> usize {
    let len = core::arch::wasm32::memory_size(0) * 65536;
    let mut found = 0;
    let mut at = 0;
    while at + RUN <= len {
        // SAFETY: every address below memory.size is mapped linear memory in wasm32; reading
        // it is what this test is for.
        let byte = |i: usize| unsafe { core::ptr::read_volatile((at + i) as *const u8) };
        if (0..RUN).all(|i| byte(i) == pattern(key, i)) {
            found += 1;
            at += RUN;
        } else {
            at += 1;
        }
    }
    found
}

impl Guest for Residue {
    fn describe() -> StepInfo {
        StepInfo::new("test-residue", "Looks for what an earlier step left in memory")
            .input("key", "the pattern's key, 0 to 255")
            .typed("plant", "true: leave the pattern first", ValueKind::Boolean, false)
            .typed("mebibytes", "how much heap to fill when planting, or to grow memory by before scanning (default 1 and 4, at most 64)", ValueKind::Integer, false)
            .output("found", "places the pattern starts in this step's memory")
    }
    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let inputs = Inputs::from(inputs);
        let key = inputs.req("key")?.parse::<u8>().map_err(|e| StepError::bad_input("key", e))?;
        let mebibytes = inputs.opt_int("mebibytes")?;
        let mut kept = Vec::new();
        if inputs.opt_bool("plant")? == Some(true) {
            kept = (0..(mebibytes.unwrap_or(1).clamp(0, 64) as usize) << 20).map(|i| pattern(key, i % RUN)).collect::<Vec<u8>>();
            // SAFETY: one thread; nothing else touches the static.
            unsafe {
                for i in 0..RUN {
                    core::ptr::write_volatile(core::ptr::addr_of_mut!(PLANTED[i]), pattern(key, i));
                }
            }
        } else {
            // Memory a planting step grew is beyond this instance's first size: grow as far,
            // so the scan covers those pages too (fresh ones must read as zero).
            core::arch::wasm32::memory_grow(0, mebibytes.unwrap_or(4).clamp(0, 64) as usize * 16);
        }
        let found = count(key);
        drop(core::hint::black_box(kept));
        Ok(Outputs::new().text("found", found.to_string()).into())
    }
}
export!(Residue with_types_in aksflow_sdk::bindings);
