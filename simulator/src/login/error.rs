//! The token service's error body: `error`, an `AADSTS<code>: …` description ending in trace
//! and correlation ids and a timestamp, `error_codes`, `error_uri`. [protocols.md §A.5]

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Everything that can go wrong at the token endpoint, with Entra's own codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginError {
    TenantNotFound { tenant: String },
    MissingParameter { name: &'static str },
    UnsupportedGrantType { grant_type: String },
    UnknownClient { client_id: String, tenant: String },
    MissingSecret,
    InvalidSecret { client_id: String },
    DisabledClient { client_id: String, name: String },
    UnknownResource { resource: String, tenant: String },
    ClientCredentialsScope { scope: String },
}

impl LoginError {
    /// HTTP status, OAuth `error`, AADSTS number and message.
    pub fn parts(&self) -> (StatusCode, &'static str, u32, String) {
        use LoginError::*;
        match self {
            TenantNotFound { tenant } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                90002,
                format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
            ),
            MissingParameter { name } => (
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                format!("The request body must contain the following parameter: '{name}'."),
            ),
            UnsupportedGrantType { grant_type } => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant_type}'."),
            ),
            UnknownClient { client_id, tenant } => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
            ),
            MissingSecret => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
            ),
            InvalidSecret { client_id } => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            ),
            DisabledClient { client_id, name } => (
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                7000112,
                format!("Application '{client_id}'({name}) is disabled."),
            ),
            UnknownResource { resource, tenant } => (
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!("The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."),
            ),
            ClientCredentialsScope { scope } => (
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ),
        }
    }
}

/// A `LoginError` with the ids and time that go into its body.
pub struct LoginErrorResponse {
    pub error: LoginError,
    pub trace_id: String,
    pub correlation_id: String,
    pub timestamp: String,
}

impl IntoResponse for LoginErrorResponse {
    fn into_response(self) -> Response {
        let (status, error, code, message) = self.error.parts();
        let description = format!(
            "AADSTS{code}: {message} Trace ID: {} Correlation ID: {} Timestamp: {}",
            self.trace_id, self.correlation_id, self.timestamp
        );
        let body = json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": self.timestamp,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        });
        (status, Json(body)).into_response()
    }
}
