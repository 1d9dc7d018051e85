//! Graph's error body: `{"error":{"code","message","innerError":{date, request-id,
//! client-request-id}}}`. [protocols.md §B.0]
//!
//! A handler returns `Err(GraphError)`; the ids and the date of `innerError` come from the
//! simulator's state, so the service's middleware (`routes::inner_error`) writes the body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::directory::DirError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// What goes into an error body's `innerError`.
#[derive(Debug, Clone)]
pub struct InnerError {
    pub date: String,
    pub request_id: String,
    pub client_request_id: String,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        GraphError { status, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    pub fn denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }
}

impl From<DirError> for GraphError {
    fn from(e: DirError) -> Self {
        match e {
            DirError::NotFound { id } => GraphError::not_found(&id),
            DirError::InsufficientPrivileges => GraphError::denied(),
            DirError::Duplicate { message, .. } => GraphError::new(StatusCode::BAD_REQUEST, "Request_MultipleObjectsWithSameKeyValue", message),
            DirError::UnverifiedDomain { uri } => GraphError::new(
                StatusCode::BAD_REQUEST,
                "HostNameNotOnVerifiedDomain",
                format!("Values of identifierUris property must use a verified domain of the organization or its subdomain: '{uri}'"),
            ),
            DirError::InvalidValue { property, entity, detail } => {
                GraphError::bad_request(detail.unwrap_or_else(|| format!("Invalid value specified for property '{property}' of resource '{entity}'.")))
            }
            DirError::Required { property, entity } => GraphError::bad_request(format!("A value is required for property '{property}' of resource '{entity}'.")),
            DirError::AlreadyMember => {
                GraphError::bad_request("One or more added object references already exist for the following modified properties: 'members'.")
            }
            DirError::AlreadyOwner => {
                GraphError::bad_request("One or more added object references already exist for the following modified properties: 'owners'.")
            }
            // As Graph answers a second grant for the same client, resource and principal
            // (terraform-provider-azuread#690 quotes it).
            DirError::GrantExists => GraphError::new(StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists."),
            DirError::NoSuchKey { key_id } => GraphError::bad_request(format!("No password credential with keyId '{key_id}' exists on this object.")),
            DirError::NoSuchApplication { app_id } => {
                GraphError::bad_request(format!("The appId '{app_id}' of the service principal does not reference a valid application object."))
            }
        }
    }
}

/// Graph's answer to an injected fault.
pub(crate) fn injected(f: &crate::faults::inject::FaultContext<'_>) -> Response {
    match f.status {
        429 => GraphError::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Please retry again later."),
        503 => GraphError::new(StatusCode::SERVICE_UNAVAILABLE, "serviceNotAvailable", "The service is temporarily unavailable. Please retry after the time given in Retry-After."),
        _ => GraphError::new(StatusCode::INTERNAL_SERVER_ERROR, "generalException", "General exception while processing."),
    }
    .into_response()
}

impl GraphError {
    /// The error's response, its body complete.
    pub fn with_inner(self, inner: InnerError) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": { "date": inner.date, "request-id": inner.request_id, "client-request-id": inner.client_request_id },
            }
        });
        (self.status, Json(body)).into_response()
    }
}

/// The status now; the body once the middleware has the ids ([`GraphError::with_inner`]).
impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut resp = self.status.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_grant_for_the_same_client_resource_and_principal_is_a_conflict() {
        let e = GraphError::from(DirError::GrantExists);
        assert_eq!((e.status, e.code, e.message.as_str()), (StatusCode::CONFLICT, "Request_MultipleObjectsWithSameKeyValue", "Permission entry already exists."));
    }
}
