//! Azure Resource Manager conventions: `api-version`, the error body, long-running operations.

use crate::{Call, Response, Service, StepError};

/// A call to ARM at `path` with the given `api-version`.
pub fn call(method: &str, path: &str, api_version: &str) -> Call {
    Call::new(Service::Arm, method, path).query("api-version", api_version)
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Turns an ARM error response (`{"error":{"code","message"}}`) into a step error that
/// carries ARM's own code, so a flow can `expect` it.
pub fn error(resp: &Response) -> StepError {
    match serde_json::from_slice::<ErrorBody>(&resp.body) {
        Ok(b) => StepError::new(b.error.code, b.error.message),
        Err(_) => StepError::new(format!("HTTP{}", resp.status), format!("ARM answered {} with: {}", resp.status, resp.text())),
    }
}

/// The subscription-relative path of a resource group.
pub fn resource_group_path(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourcegroups/{name}")
}
