//! Asks for 1 GiB: the memory cap must stop it.
use aksflow_sdk::*;
struct Hog;
impl Guest for Hog {
    fn describe() -> StepInfo {
        StepInfo::new("test-hog", "Allocates 1 GiB").output("len", "bytes allocated")
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let v = vec![7u8; 1 << 30];
        Ok(Outputs::new().text("len", std::hint::black_box(v).len().to_string()).into())
    }
}
export!(Hog with_types_in aksflow_sdk::bindings);
