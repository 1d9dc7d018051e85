//! Opens a socket: a component importing wasi:sockets must be refused when it is loaded.
use aksflow_sdk::*;
struct Netcat;
impl Guest for Netcat {
    fn describe() -> StepInfo {
        StepInfo::new("test-netcat", "Opens a TCP connection")
    }
    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let s = std::net::TcpStream::connect("127.0.0.1:9").map_err(|e| StepError::new("Io", e.to_string()))?;
        drop(s);
        Ok(Outputs::new().into())
    }
}
export!(Netcat with_types_in aksflow_sdk::bindings);
