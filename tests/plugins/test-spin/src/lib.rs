//! Loops forever: fuel (or the wall-clock backstop) must stop it.
use aksflow_sdk::*;
struct Spin;
impl Guest for Spin {
    fn describe() -> StepInfo {
        StepInfo::new("test-spin", "Loops forever")
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_add(1));
        }
    }
}
export!(Spin with_types_in aksflow_sdk::bindings);
