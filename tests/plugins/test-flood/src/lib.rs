//! Returns 100 MiB: the output limit must refuse it.
use aksflow_sdk::*;
struct Flood;
impl Guest for Flood {
    fn describe() -> StepInfo {
        StepInfo::new("test-flood", "Returns 100 MiB").output("data", "a lot")
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        Ok(Outputs::new().text("data", "x".repeat(100 << 20)).into())
    }
}
export!(Flood with_types_in aksflow_sdk::bindings);
