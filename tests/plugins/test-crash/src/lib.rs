//! Panics: the step must fail as a trap, with the panic message.
use aksflow_sdk::*;
struct Crash;
impl Guest for Crash {
    fn describe() -> StepInfo {
        StepInfo::new("test-crash", "Panics")
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        panic!("the crash plugin crashed on purpose");
    }
}
export!(Crash with_types_in aksflow_sdk::bindings);
