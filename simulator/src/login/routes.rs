//! The token service's wire: discovery documents, JWKS, and the v1 and v2 token endpoints.
//! [protocols.md §A.1–A.5]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;

use super::error::{LoginError, LoginErrorResponse};
use super::model::{self, Target};
use super::tokens;
use crate::clock::aad_timestamp;
use crate::state::Shared;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery_v2))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(keys_v2))
        .route("/{tenant}/discovery/keys", get(keys_v1))
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route("/{tenant}/oauth2/token", post(token_v1))
}

fn error(s: &Shared, headers: &HeaderMap, error: LoginError) -> Response {
    let mut w = s.world();
    let trace_id = w.ids.guid().to_string();
    let correlation_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .unwrap_or_else(|| w.ids.guid().to_string());
    LoginErrorResponse { error, trace_id, correlation_id, timestamp: aad_timestamp(s.clock.now()) }.into_response()
}

/// Resolves `{tenant}` (GUID, domain, `common`, `organizations`) to a tenant id for documents.
fn tenant_for_document(s: &Shared, tenant: &str) -> Result<String, LoginError> {
    if matches!(tenant, "common" | "organizations") {
        return Ok(tenant.to_string());
    }
    s.world().directory.tenant(tenant).map(|t| t.id.clone()).ok_or_else(|| LoginError::TenantNotFound { tenant: tenant.into() })
}

async fn discovery_v2(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let tid = match tenant_for_document(&s, &tenant) {
        Ok(t) => t,
        Err(e) => return error(&s, &headers, e),
    };
    let base = &s.config.base_url;
    let issuer_tid = if matches!(tid.as_str(), "common" | "organizations") { "{tenantid}".to_string() } else { tid.clone() };
    Json(json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/{tid}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": tokens::v2_issuer(base, &issuer_tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/v2.0/logout"),
        "claims_supported": ["sub","iss","cloud_instance_name","cloud_instance_host_name","cloud_graph_host_name","msgraph_host","aud","exp","iat","auth_time","acr","nonce","preferred_username","name","tid","ver","at_hash","c_hash","email"],
        "kerberos_endpoint": format!("{base}/{tid}/kerberos"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }))
    .into_response()
}

async fn discovery_v1(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, headers: HeaderMap) -> Response {
    let tid = match tenant_for_document(&s, &tenant) {
        Ok(t) => t,
        Err(e) => return error(&s, &headers, e),
    };
    let base = &s.config.base_url;
    let issuer_tid = if matches!(tid.as_str(), "common" | "organizations") { "{tenantid}".to_string() } else { tid.clone() };
    Json(json!({
        "token_endpoint": format!("{base}/{tid}/oauth2/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{tid}/oauth2/logout"),
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": tokens::v1_issuer(&issuer_tid),
        "claims_supported": ["sub","iss","cloud_instance_name","cloud_instance_host_name","cloud_graph_host_name","msgraph_host","aud","exp","iat","auth_time","acr","amr","nonce","email","given_name","family_name","nickname"],
        "microsoft_multi_refresh_token": true,
        "check_session_iframe": format!("{base}/{tid}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/{tid}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/{tid}/kerberos"),
        "authorization_endpoint": format!("{base}/{tid}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/{tid}/oauth2/devicecode"),
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    }))
    .into_response()
}

async fn keys_v2(State(s): State<Arc<Shared>>) -> Response {
    let issuer = tokens::v2_issuer(&s.config.base_url, "{tenantid}");
    Json(json!({ "keys": [s.key.jwk(&issuer)] })).into_response()
}

async fn keys_v1(State(s): State<Arc<Shared>>) -> Response {
    Json(json!({ "keys": [s.key.jwk(&tokens::v1_issuer("{tenantid}"))] })).into_response()
}

/// The form fields of a token request, and a client secret sent with HTTP Basic.
fn form(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut f: HashMap<String, String> = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect();
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if let Some((id, secret)) = basic.as_deref().and_then(|b| b.split_once(':')) {
        f.entry("client_id".into()).or_insert_with(|| id.to_string());
        f.entry("client_secret".into()).or_insert_with(|| secret.to_string());
    }
    f
}

enum Version {
    V1,
    V2,
}

async fn token_v2(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    token(&s, &tenant, &headers, &body, Version::V2)
}

async fn token_v1(State(s): State<Arc<Shared>>, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    token(&s, &tenant, &headers, &body, Version::V1)
}

fn token(s: &Shared, tenant: &str, headers: &HeaderMap, body: &[u8], version: Version) -> Response {
    let f = form(headers, body);
    let get = |k: &str| f.get(k).map(String::as_str);
    let result = match get("grant_type") {
        None => Err(LoginError::MissingParameter { name: "grant_type" }),
        Some("client_credentials") => {
            let target = match version {
                Version::V1 => get("resource").map(|r| Target::Resource(r.into())).ok_or(LoginError::MissingParameter { name: "resource" }),
                Version::V2 => get("scope").map(|r| Target::Scope(r.into())).ok_or(LoginError::MissingParameter { name: "scope" }),
            };
            target.and_then(|target| {
                let mut w = s.world();
                let w = &mut *w;
                model::client_credentials(
                    &w.directory,
                    &mut w.ids,
                    &s.key,
                    s.clock.now_secs(),
                    tenant,
                    get("client_id"),
                    get("client_secret"),
                    target,
                )
            })
        }
        Some(other) => Err(LoginError::UnsupportedGrantType { grant_type: other.into() }),
    };
    match result {
        Err(e) => error(s, headers, e),
        Ok(t) => match version {
            Version::V2 => Json(json!({
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "ext_expires_in": t.expires_in,
                "access_token": t.access_token,
            }))
            .into_response(),
            Version::V1 => Json(json!({
                "token_type": "Bearer",
                "expires_in": t.expires_in.to_string(),
                "ext_expires_in": t.expires_in.to_string(),
                "expires_on": t.expires_on.to_string(),
                "not_before": t.not_before.to_string(),
                "resource": t.resource,
                "access_token": t.access_token,
            }))
            .into_response(),
        },
    }
}
