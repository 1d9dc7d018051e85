//! The token service's error body: `error`, an `AADSTS<code>: …` description ending in trace
//! and correlation ids and a timestamp, `error_codes`, `error_uri`. [protocols.md §A.5]
//!
//! A handler returns `Err(LoginError)`; the ids and the time come from the simulator's state,
//! so the service's middleware (`routes::error_bodies`) writes the body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
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
    /// Device code or ROPC with a confidential client that sent no secret.
    PublicClientRequired,
    AuthorizationPending,
    SlowDown,
    DeviceCodeExpired { v1: bool },
    DeviceCodeDeclined { v1: bool },
    BadVerificationCode,
    InvalidRefreshToken,
    ExpiredRefreshToken,
    WrongPassword,
    /// The right password for an account an administrator disabled.
    UserDisabled,
    NoSuchUser { tenant: String },
    ForeignUser { idp_tenant: String, tenant_name: String, app_id: String, app_name: String },
    ConsentRequired { client_id: String, client_name: String },
    InvalidScope { scope: String },
    /// Injected faults (faults::inject): throttled, unavailable, failed.
    Throttled,
    TemporarilyUnavailable,
    ServerError,
}

/// The token service's answer to an injected fault.
pub(crate) fn injected(f: &crate::faults::inject::FaultContext<'_>) -> Response {
    match f.status {
        429 => LoginError::Throttled,
        503 => LoginError::TemporarilyUnavailable,
        _ => LoginError::ServerError,
    }
    .into_response()
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
            PublicClientRequired => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
            ),
            AuthorizationPending => (
                StatusCode::BAD_REQUEST,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.".into(),
            ),
            SlowDown => (StatusCode::BAD_REQUEST, "slow_down", 70016, "OAuth 2.0 device flow error. Polling too frequently; slow down.".into()),
            DeviceCodeExpired { v1 } => (
                StatusCode::BAD_REQUEST,
                if *v1 { "code_expired" } else { "expired_token" },
                70019,
                "Verification code expired.".into(),
            ),
            DeviceCodeDeclined { v1 } => (
                StatusCode::BAD_REQUEST,
                if *v1 { "access_denied" } else { "authorization_declined" },
                70020,
                "The user declined to authorize the device sign-in request.".into(),
            ),
            BadVerificationCode => (
                StatusCode::BAD_REQUEST,
                "bad_verification_code",
                70018,
                "The provided value for the input parameter 'device_code' is not valid.".into(),
            ),
            InvalidRefreshToken => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                70000,
                "The provided value for the 'refresh_token' is not valid.".into(),
            ),
            ExpiredRefreshToken => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90.00:00:00.".into(),
            ),
            WrongPassword => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50126,
                "Error validating credentials due to invalid username or password.".into(),
            ),
            UserDisabled => (StatusCode::BAD_REQUEST, "invalid_grant", 50057, "The user account is disabled.".into()),
            NoSuchUser { tenant } => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50034,
                format!("The user account {{EUII Hidden}} does not exist in the {tenant} directory. To sign into this application, the account must be added to the directory."),
            ),
            ForeignUser { idp_tenant, tenant_name, app_id, app_name } => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                50020,
                format!("User account '{{EUII Hidden}}' from identity provider 'https://sts.windows.net/{idp_tenant}/' does not exist in tenant '{tenant_name}' and cannot access the application '{app_id}'({app_name}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account."),
            ),
            ConsentRequired { client_id, client_name } => (
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                65001,
                format!("The user or administrator has not consented to use the application with ID '{client_id}' named '{client_name}'. Send an interactive authorization request for this user and resource."),
            ),
            InvalidScope { scope } => (
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                70011,
                format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
            ),
            Throttled => (StatusCode::TOO_MANY_REQUESTS, "temporarily_unavailable", 90055, "There are too many incoming requests. This exception is thrown for blocked tenants.".into()),
            TemporarilyUnavailable => (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.".into()),
            ServerError => (StatusCode::INTERNAL_SERVER_ERROR, "server_error", 90033, "A transient error has occurred. Please try again.".into()),
        }
    }
}

/// The status now; the body once the middleware has the ids ([`LoginErrorResponse`]).
impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let mut resp = self.parts().0.into_response();
        resp.extensions_mut().insert(self);
        resp
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
        let mut body = json!({
            "error": error,
            "error_description": description,
            "error_codes": [code],
            "timestamp": self.timestamp,
            "trace_id": self.trace_id,
            "correlation_id": self.correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        });
        if code == 65001 {
            body["suberror"] = json!("consent_required");
        }
        let mut resp = (status, Json(body)).into_response();
        if matches!(self.error, LoginError::SlowDown | LoginError::AuthorizationPending) {
            resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
        }
        resp
    }
}
