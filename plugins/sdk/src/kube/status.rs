//! Kubernetes `Status` error bodies, and the text kubectl prints for them. [E.3]

use serde::Deserialize;

use crate::{Response, StepError};

/// A Kubernetes `Status` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub code: u16,
}

/// The `reason` the apiserver gives a status code when a body names none.
pub fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// The failure an error response carries: `(reason, message)`.
pub fn status_of(resp: &Response) -> (String, String) {
    let parsed = serde_json::from_slice::<Status>(&resp.body).ok().filter(|s| s.kind == "Status" || !s.reason.is_empty() || !s.message.is_empty());
    match parsed {
        Some(s) => {
            let reason = if s.reason.is_empty() { reason_for_code(resp.status).to_string() } else { s.reason };
            let message = if s.message.is_empty() { format!("the server answered {}", resp.status) } else { s.message };
            (reason, message)
        }
        None => {
            let text = resp.text();
            let text = text.trim();
            let message = if text.is_empty() { format!("the server answered {}", resp.status) } else { text.chars().take(500).collect() };
            (reason_for_code(resp.status).to_string(), message)
        }
    }
}

/// A `Status` error body as a step error: code = `reason` (`Unauthorized`, `Forbidden`,
/// `NotFound`, `AlreadyExists`, …), message = `message`.
pub fn status_error(resp: &Response) -> StepError {
    let (reason, message) = status_of(resp);
    StepError::new(reason, message)
}

/// The same, with the message as kubectl prints it: `Error from server (Forbidden): …`, or
/// `You must be logged in to the server (Unauthorized)` for a 401.
pub fn kubectl_error(resp: &Response) -> StepError {
    let (reason, message) = status_of(resp);
    StepError::new(reason.clone(), kubectl_message(resp.status, &reason, &message))
}

pub fn kubectl_message(status: u16, reason: &str, message: &str) -> String {
    if status == 401 {
        return format!("You must be logged in to the server ({message})");
    }
    format!("Error from server ({reason}): {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> Response {
        Response { status, headers: vec![], body: body.as_bytes().to_vec() }
    }

    #[test]
    fn status_bodies_become_step_errors() {
        let e = status_error(&resp(
            403,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods is forbidden: User \"bob\" cannot list resource \"pods\"","reason":"Forbidden","details":{"kind":"pods"},"code":403}"#,
        ));
        assert_eq!(e.code, "Forbidden");
        assert_eq!(e.message, "pods is forbidden: User \"bob\" cannot list resource \"pods\"");
        let e = kubectl_error(&resp(404, r#"{"kind":"Status","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","code":404}"#));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("NotFound", "Error from server (NotFound): configmaps \"x\" not found"));
        let e = kubectl_error(&resp(401, r#"{"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#));
        assert_eq!(e.message, "You must be logged in to the server (Unauthorized)");
        let e = status_error(&resp(409, r#"{"kind":"Status","message":"clusterrolebindings.rbac.authorization.k8s.io \"x\" already exists","reason":"AlreadyExists","code":409}"#));
        assert_eq!(e.code, "AlreadyExists");
        let e = status_error(&resp(502, "bad gateway"));
        assert_eq!((e.code.as_str(), e.message.as_str()), ("Unknown", "bad gateway"));
        assert_eq!(status_error(&resp(500, "")).code, "InternalError");
    }

    #[test]
    fn kubectl_error_text() {
        assert_eq!(
            kubectl_message(403, "Forbidden", "pods is forbidden: User \"x\" cannot list resource \"pods\""),
            "Error from server (Forbidden): pods is forbidden: User \"x\" cannot list resource \"pods\""
        );
        assert_eq!(kubectl_message(401, "Unauthorized", "Unauthorized"), "You must be logged in to the server (Unauthorized)");
    }
}
