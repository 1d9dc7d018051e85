//! Returns its input: the smallest real step, for benchmarks and sandbox tests.
use aksflow_sdk::*;
struct Echo;
impl Guest for Echo {
    fn describe() -> StepInfo {
        StepInfo::new("test-echo", "Returns its input").optional("text", "anything").output("text", "the same")
    }
    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let inputs = Inputs::from(inputs);
        Ok(Outputs::new().text("text", inputs.opt("text").unwrap_or_default()).into())
    }
}
export!(Echo with_types_in aksflow_sdk::bindings);
