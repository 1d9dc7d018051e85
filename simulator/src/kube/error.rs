//! The API server's `Status` error body. [protocols.md §E.3]

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct KubeError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl KubeError {
    pub fn unauthorized() -> Self {
        KubeError { code: 401, reason: "Unauthorized", message: "Unauthorized".into(), details: None }
    }

    pub fn forbidden(message: String, resource: &str, group: &str, name: &str) -> Self {
        let mut d = serde_json::Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        if !resource.is_empty() {
            d.insert("kind".into(), json!(resource));
        }
        KubeError { code: 403, reason: "Forbidden", message, details: Some(Value::Object(d)) }
    }

    /// `pods "x" not found`, with the group suffix for non-core resources.
    pub fn not_found(resource: &str, group: &str, name: &str) -> Self {
        let qualified = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
        let mut d = json!({ "name": name, "kind": resource });
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        KubeError { code: 404, reason: "NotFound", message: format!("{qualified} \"{name}\" not found"), details: Some(d) }
    }

    pub fn path_not_found(path: &str) -> Self {
        KubeError { code: 404, reason: "NotFound", message: format!("the server could not find the requested resource ({path})"), details: None }
    }

    pub fn already_exists(resource: &str, group: &str, name: &str) -> Self {
        let qualified = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
        KubeError { code: 409, reason: "AlreadyExists", message: format!("{qualified} \"{name}\" already exists"), details: Some(json!({ "name": name, "group": group, "kind": resource })) }
    }

    pub fn conflict(resource: &str, group: &str, name: &str) -> Self {
        let qualified = if group.is_empty() { resource.to_string() } else { format!("{resource}.{group}") };
        KubeError {
            code: 409,
            reason: "Conflict",
            message: format!("Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
            details: Some(json!({ "name": name, "group": group, "kind": resource })),
        }
    }

    pub fn invalid(kind: &str, name: &str, cause: &str) -> Self {
        KubeError { code: 422, reason: "Invalid", message: format!("{kind} \"{name}\" is invalid: {cause}"), details: Some(json!({ "name": name, "kind": kind })) }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        KubeError { code: 400, reason: "BadRequest", message: message.into(), details: None }
    }

    pub fn method_not_allowed() -> Self {
        KubeError { code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource".into(), details: None }
    }

    /// 406: the Accept header names no media type the server answers in.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        KubeError { code: 406, reason: "NotAcceptable", message: message.into(), details: None }
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        KubeError { code: 503, reason: "ServiceUnavailable", message: message.into(), details: None }
    }
}

/// The API server's answer to an injected fault (faults::inject).
pub(crate) fn injected(f: &crate::faults::inject::FaultContext<'_>) -> Response {
    match f.status {
        429 => KubeError { code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.".into(), details: Some(json!({ "retryAfterSeconds": f.retry_after_secs.max(1) })) },
        503 => KubeError::unavailable("The server is currently unable to handle the request"),
        _ => KubeError { code: 500, reason: "InternalError", message: "Internal error occurred: the server encountered an unexpected condition".into(), details: None },
    }
    .into_response()
}

impl IntoResponse for KubeError {
    fn into_response(self) -> Response {
        let mut body = json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message, "reason": self.reason });
        if let Some(d) = self.details {
            body["details"] = d;
        }
        body["code"] = json!(self.code);
        (StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Json(body)).into_response()
    }
}
