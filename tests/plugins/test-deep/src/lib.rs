//! Recurses with a large frame until the stack, which lives in linear memory, runs out.
use aksflow_sdk::{Field, Guest, StepError, StepInfo, StepOutput};

struct Deep;

#[inline(never)]
fn dive(depth: u64, seed: &[u8; 4096]) -> u64 {
    let mut frame = *seed;
    frame[(depth % 4096) as usize] = depth as u8;
    // black_box keeps the frame (and the recursion) from being optimised away.
    std::hint::black_box(&mut frame);
    dive(depth + 1, &frame).wrapping_add(frame[0] as u64)
}

impl Guest for Deep {
    fn describe() -> StepInfo {
        StepInfo { name: "test-deep".into(), summary: "Recurses forever".into(), inputs: vec![], outputs: vec![], services: vec![] }
    }

    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let n = dive(0, &[0; 4096]);
        Err(StepError { code: "Unreachable".into(), message: n.to_string(), hint: None })
    }
}

aksflow_sdk::export!(Deep with_types_in aksflow_sdk::bindings);
