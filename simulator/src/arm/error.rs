//! ARM's error body: `{"error":{"code","message"}}` with the status ARM uses for it.
//! [protocols.md §C.0, §C.2]

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The api-versions named when one is refused: those of the resource types the simulator serves.
const SUPPORTED_API_VERSIONS: &[&str] = &["2025-03-01", "2024-11-01", "2024-09-01", "2024-07-01", "2022-04-01", "2021-04-01"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArmError {
    MissingApiVersion,
    InvalidApiVersion { version: String },
    MissingAuthorization,
    InvalidToken { tenant: Option<String> },
    WrongAudience { audience: String },
    ExpiredToken { expired: String, now: String },
    AuthorizationFailed { client: String, object_id: String, action: String, scope: String },
    SubscriptionNotFound { subscription: String },
    ResourceGroupNotFound { name: String },
    ResourceGroupBeingDeleted { name: String },
    InvalidResourceGroupName { name: String },
    InvalidResourceGroupLocation { requested: String, existing: String },
    LocationRequired,
    LocationNotAvailable { location: String },
    InvalidRequestContent { detail: String },
    NotFound { path: String },
    MethodNotAllowed { method: String },
    /// A 400 with the resource provider's own code and message.
    BadRequest { code: &'static str, message: String },
    /// A 409 with the resource provider's own code and message.
    Conflict { code: &'static str, message: String },
    ResourceNotFound { kind: String, name: String, group: String },
    RoleAssignmentExists,
    RoleAssignmentNotFound { name: String },
    RoleDefinitionNotFound { id: String },
    /// A role assignment names a principal ARM cannot find (or not yet: replication).
    PrincipalNotFound { principal: String, tenant: String },
    /// A cluster's service principal that AKS cannot find in the directory (or not yet).
    ServicePrincipalNotFound { client_id: String, tenant: String },
    /// Injected faults (faults::inject).
    Throttled { kind: &'static str, subscription: String, retry_after: u64 },
    InternalServerError { diagnostics: String },
    ServerTimeout { diagnostics: String },
}

/// ARM's answer to an injected fault, with the throttling headers it sends.
pub(crate) fn injected(f: &crate::faults::inject::FaultContext<'_>) -> Response {
    let subscription = f.path.split('/').nth(2).filter(|_| f.path.to_ascii_lowercase().starts_with("/subscriptions/")).unwrap_or("").to_string();
    let diagnostics = format!("timestamp '{}', subscription id '{subscription}', tracking id '{}', request correlation id '{}'", f.timestamp, f.id, f.id);
    let kind = match f.method {
        "GET" | "HEAD" => "read",
        "DELETE" => "delete",
        _ => "write",
    };
    let mut resp = match f.status {
        429 => ArmError::Throttled { kind, subscription, retry_after: f.retry_after_secs },
        503 => ArmError::ServerTimeout { diagnostics },
        _ => ArmError::InternalServerError { diagnostics },
    }
    .into_response();
    if f.status == 429 {
        resp.headers_mut().insert(HeaderName::from_static(match kind {
            "read" => "x-ms-ratelimit-remaining-subscription-reads",
            "delete" => "x-ms-ratelimit-remaining-subscription-deletes",
            _ => "x-ms-ratelimit-remaining-subscription-writes",
        }), HeaderValue::from_static("0"));
    }
    resp
}

impl ArmError {
    pub fn parts(&self) -> (StatusCode, &'static str, String) {
        use ArmError::*;
        match self {
            MissingApiVersion => (
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.".into(),
            ),
            InvalidApiVersion { version } => (
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                format!("The api-version '{version}' is invalid. The supported versions are '{}'.", SUPPORTED_API_VERSIONS.join(",")),
            ),
            MissingAuthorization => (
                StatusCode::UNAUTHORIZED,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.".into(),
            ),
            InvalidToken { .. } => (StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", "The access token is invalid.".into()),
            WrongAudience { audience } => (
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenAudience",
                format!("The access token has been obtained for wrong audience or resource '{audience}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'."),
            ),
            ExpiredToken { expired, now } => (
                StatusCode::UNAUTHORIZED,
                "ExpiredAuthenticationToken",
                format!("The access token expiry UTC time '{expired}' is earlier than current UTC time '{now}'."),
            ),
            AuthorizationFailed { client, object_id, action, scope } => (
                StatusCode::FORBIDDEN,
                "AuthorizationFailed",
                format!("The client '{client}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."),
            ),
            SubscriptionNotFound { subscription } => (
                StatusCode::NOT_FOUND,
                "SubscriptionNotFound",
                format!("The subscription '{subscription}' could not be found."),
            ),
            ResourceGroupNotFound { name } => (
                StatusCode::NOT_FOUND,
                "ResourceGroupNotFound",
                format!("Resource group '{name}' could not be found."),
            ),
            ResourceGroupBeingDeleted { name } => (
                StatusCode::CONFLICT,
                "ResourceGroupBeingDeleted",
                format!("The resource group '{name}' is in deprovisioning state and cannot perform this operation."),
            ),
            InvalidResourceGroupName { name } => (
                StatusCode::BAD_REQUEST,
                "InvalidResourceGroup",
                format!("The provided resource group name '{name}' has these invalid characters: the name may contain only alphanumeric, underscore, parentheses, hyphen and period (except at the end) characters, and be at most 90 characters long."),
            ),
            InvalidResourceGroupLocation { requested, existing } => (
                StatusCode::CONFLICT,
                "InvalidResourceGroupLocation",
                format!("Invalid resource group location '{requested}'. The Resource group already exists in location '{existing}'."),
            ),
            LocationRequired => (
                StatusCode::BAD_REQUEST,
                "LocationRequired",
                "The location property is required for this definition.".into(),
            ),
            LocationNotAvailable { location } => (
                StatusCode::BAD_REQUEST,
                "LocationNotAvailableForResourceGroup",
                format!("The provided location '{location}' is not available for resource group. List of available regions is '{}'.", super::location::LOCATIONS.join(",")),
            ),
            InvalidRequestContent { detail } => (
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                format!("The request content was invalid and could not be deserialized: '{detail}'."),
            ),
            NotFound { path } => (
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("The requested path '{path}' is not a resource this simulator serves."),
            ),
            MethodNotAllowed { method } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("The HTTP method '{method}' is not supported for this resource."),
            ),
            BadRequest { code, message } => (StatusCode::BAD_REQUEST, code, message.clone()),
            Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
            ResourceNotFound { kind, name, group } => (
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The Resource '{kind}/{name}' under resource group '{group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"),
            ),
            RoleAssignmentExists => (StatusCode::CONFLICT, "RoleAssignmentExists", "The role assignment already exists.".into()),
            RoleAssignmentNotFound { name } => (StatusCode::NOT_FOUND, "RoleAssignmentNotFound", format!("The role assignment '{name}' is not found.")),
            RoleDefinitionNotFound { id } => (
                StatusCode::BAD_REQUEST,
                "RoleDefinitionDoesNotExist",
                format!("The specified role definition with ID '{id}' does not exist."),
            ),
            Throttled { kind, subscription, retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "SubscriptionRequestsThrottled",
                format!("Number of '{kind}' requests for subscription '{subscription}' exceeded. Please try again after '{retry_after}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information."),
            ),
            PrincipalNotFound { principal, tenant } => (
                StatusCode::BAD_REQUEST,
                "PrincipalNotFound",
                format!("Principal {principal} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype"),
            ),
            ServicePrincipalNotFound { client_id, tenant } => (
                StatusCode::BAD_REQUEST,
                "ServicePrincipalNotFound",
                format!("Service principal clientID: {client_id} not found in Active Directory tenant {tenant}, Please see https://aka.ms/aks-sp-help for more details."),
            ),
            InternalServerError { diagnostics } => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError", format!("Encountered internal server error. Diagnostic information: {diagnostics}.")),
            ServerTimeout { diagnostics } => (StatusCode::SERVICE_UNAVAILABLE, "ServerTimeout", format!("The request timed out. Diagnostic information: {diagnostics}.")),
        }
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let mut resp = (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let tenant = match &self {
                ArmError::InvalidToken { tenant: Some(t) } => t.clone(),
                _ => "common".into(),
            };
            let value = format!(
                "Bearer authorization_uri=\"https://login.windows.net/{tenant}\", error=\"invalid_token\", error_description=\"{message}\""
            );
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}
