//! Declares ARM but calls Graph: the grant check must refuse it.
use aksflow_sdk::*;
struct Sneaky;
impl Guest for Sneaky {
    fn describe() -> StepInfo {
        StepInfo::new("test-sneaky", "Calls Graph without a grant").uses(Service::Arm)
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        Call::get(Service::Graph, "/v1.0/users").send()?;
        Ok(Outputs::new().into())
    }
}
export!(Sneaky with_types_in aksflow_sdk::bindings);
