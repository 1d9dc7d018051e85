//! The token service's wire: discovery documents, JWKS, and the v1 and v2 token endpoints.
//! [protocols.md §A.1–A.5]

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::json;

use super::device_code::{self, DEVICE_CODE_SECONDS};
use super::error::{LoginError, LoginErrorResponse};
use super::model::Ctx;
use super::target::Target;
use super::instant_tokens::InstantToken;
use super::{client_credentials, tokens, user_tokens};
use crate::router::Sim;
use crate::clock::aad_timestamp;
use crate::state::Shared;

pub(crate) fn routes() -> Router {
    let routes = Router::new()
        .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery_v2))
        .route("/{tenant}/.well-known/openid-configuration", get(discovery_v1))
        .route("/{tenant}/discovery/v2.0/keys", get(keys_v2))
        .route("/{tenant}/discovery/keys", get(keys_v1))
        .route("/{tenant}/oauth2/v2.0/token", post(token_v2))
        .route("/{tenant}/oauth2/token", post(token_v1))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(devicecode_v2))
        .route("/{tenant}/oauth2/devicecode", post(devicecode_v1))
        .route("/common/userrealm/{username}", get(user_realm))
        .route("/common/UserRealm/{username}", get(user_realm))
        .route("/common/discovery/instance", get(instance_discovery))
        .route("/devicelogin", get(super::device_page::form).post(super::device_page::submit));
    crate::faults::inject::injecting(routes, "login", super::error::injected).layer(middleware::from_fn(error_bodies))
}

/// Writes the body of a handler's `LoginError`: a trace id, the client's correlation id (or a
/// new one) and the time.
async fn error_bodies(Sim(s): Sim, req: Request, next: Next) -> Response {
    let client_request_id = req.headers().get("client-request-id").and_then(|v| v.to_str().ok()).map(String::from);
    let resp = next.run(req).await;
    let Some(error) = resp.extensions().get::<LoginError>().cloned() else { return resp };
    let w = s.world();
    let trace_id = w.ids.guid().to_string();
    let correlation_id = client_request_id.unwrap_or_else(|| w.ids.guid().to_string());
    let mut out = LoginErrorResponse { error, trace_id, correlation_id, timestamp: aad_timestamp(s.clock.now()) }.into_response();
    crate::faults::inject::keep_headers(resp.headers(), out.headers_mut());
    out
}

type R = Result<Response, LoginError>;

/// Resolves `{tenant}` (GUID, domain, `common`, `organizations`) for a discovery document: the
/// tenant its endpoints name, and the one its issuer names (`{tenantid}` for the multi-tenant
/// authorities).
fn tenant_for_document(s: &Shared, tenant: &str) -> Result<(String, String), LoginError> {
    if matches!(tenant, "common" | "organizations") {
        return Ok((tenant.to_string(), "{tenantid}".to_string()));
    }
    let tid = s.world().directory.tenant(tenant).map(|t| t.id.clone()).ok_or_else(|| LoginError::TenantNotFound { tenant: tenant.into() })?;
    Ok((tid.clone(), tid))
}

async fn discovery_v2(Sim(s): Sim, Path(tenant): Path<String>, headers: HeaderMap) -> R {
    let (tid, issuer_tid) = tenant_for_document(&s, &tenant)?;
    let base = &crate::origin::of(&headers, &s.config.base_url);
    Ok(Json(json!({
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
    .into_response())
}

async fn discovery_v1(Sim(s): Sim, Path(tenant): Path<String>, headers: HeaderMap) -> R {
    let (tid, issuer_tid) = tenant_for_document(&s, &tenant)?;
    let base = &crate::origin::of(&headers, &s.config.base_url);
    Ok(Json(json!({
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
    .into_response())
}

async fn keys_v2(Sim(s): Sim, headers: HeaderMap) -> Response {
    let issuer = tokens::v2_issuer(&crate::origin::of(&headers, &s.config.base_url), "{tenantid}");
    Json(json!({ "keys": [s.key.jwk(&issuer)] })).into_response()
}

async fn keys_v1(Sim(s): Sim) -> Response {
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

#[derive(Clone, Copy, PartialEq)]
enum Version {
    V1,
    V2,
}

async fn token_v2(Sim(s): Sim, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> R {
    token(&s, &tenant, &headers, &body, Version::V2, false)
}

async fn token_v1(Sim(s): Sim, Path(tenant): Path<String>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap, body: Bytes) -> R {
    token(&s, &tenant, &headers, &body, Version::V1, q.get("api-version").is_some_and(|v| v == "1.0"))
}

/// What a v1 request's `resource` names. ADAL's `api-version=1.0` requests for a bare
/// appId get the legacy `spn:` audience. [protocols.md §D.1]
fn v1_target(resource: &str, adal: bool) -> Target {
    let is_guid = uuid::Uuid::parse_str(resource).is_ok();
    if adal && is_guid { Target::Resource(format!("spn:{resource}")) } else { Target::Resource(resource.to_string()) }
}

/// The target of a token request: `resource` (v1) or `scope` (v2).
fn target(f: &HashMap<String, String>, version: Version, adal: bool) -> Result<Target, LoginError> {
    match version {
        Version::V1 => f.get("resource").map(|r| v1_target(r, adal)).ok_or(LoginError::MissingParameter { name: "resource" }),
        Version::V2 => f.get("scope").map(|r| Target::Scope(r.clone())).ok_or(LoginError::MissingParameter { name: "scope" }),
    }
}

enum Issued {
    App(client_credentials::Issued, Arc<InstantToken>),
    User(user_tokens::UserTokens),
}

/// The grant a token request names, run against the state.
/// `base_url` is the origin the client addressed (v2 tokens name it in `iss`).
fn grant(s: &Shared, tenant: &str, f: &HashMap<String, String>, version: Version, adal: bool, base_url: &str) -> Result<Issued, LoginError> {
    match f.get("grant_type").map(String::as_str) {
        None => Err(LoginError::MissingParameter { name: "grant_type" }),
        Some("client_credentials") => app_token(s, tenant, f, version, adal).map(|(issued, token)| Issued::App(issued, token)),
        Some(grant_type) => user_grant(s, tenant, f, grant_type, version, adal, base_url).map(Issued::User),
    }
}

/// The client-credentials grant reads the directory and draws the token's id: it does not
/// change the world, so a served simulator has nothing to save before answering. The same
/// claims in the same second get the same token (`instant_tokens.rs`).
fn app_token(s: &Shared, tenant: &str, f: &HashMap<String, String>, version: Version, adal: bool) -> Result<(client_credentials::Issued, Arc<InstantToken>), LoginError> {
    let get = |k: &str| f.get(k).map(String::as_str);
    let w = s.world();
    let target = target(f, version, adal)?;
    let issued = client_credentials::client_credentials(
        &w.directory,
        s.clock.now_secs(),
        tenant,
        get("client_id"),
        get("client_secret"),
        target,
        s.config.replication_lag().token_ms,
    )?;
    let token = w.app_tokens.issue(issued.claims.clone(), || w.ids.opaque(22));
    Ok((issued, token))
}

/// The grants that sign a user in (device code, password, refresh token): they keep what
/// they issue, so they change the world.
fn user_grant(s: &Shared, tenant: &str, f: &HashMap<String, String>, grant_type: &str, version: Version, adal: bool, base_url: &str) -> Result<user_tokens::UserTokens, LoginError> {
    let get = |k: &str| f.get(k).map(String::as_str);
    let mut guard = s.world();
    let w = &mut *guard;
    let mut ctx = Ctx { dir: &mut w.directory, login: &mut w.login, ids: &mut w.ids, key: &s.key, now_ms: s.clock.now_ms(), base_url };
    match grant_type {
        "urn:ietf:params:oauth:grant-type:device_code" | "device_code" => {
            user_tokens::user_tenant(ctx.dir, tenant)?;
            device_code::poll(&mut ctx, get("client_id"), get("device_code").or(get("code")), version == Version::V1, true)
        }
        "password" => {
            let target = target(f, version, adal)?;
            user_tokens::password_grant(&mut ctx, tenant, get("client_id"), get("username"), get("password"), target)
        }
        "refresh_token" => {
            let target = target(f, version, adal)?;
            user_tokens::refresh_grant(&mut ctx, tenant, get("client_id"), get("refresh_token"), target)
        }
        other => Err(LoginError::UnsupportedGrantType { grant_type: other.into() }),
    }
}

fn token(s: &Shared, tenant: &str, headers: &HeaderMap, body: &[u8], version: Version, adal: bool) -> R {
    let f = form(headers, body);
    // The state is let go before signing: concurrent token requests then sign in parallel.
    let issued = grant(s, tenant, &f, version, adal, &crate::origin::of(headers, &s.config.base_url))?;
    let client_info = f.get("client_info").is_some_and(|v| v == "1");
    Ok(match issued {
        Issued::App(t, token) => match version {
            Version::V2 => Json(json!({
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "ext_expires_in": t.expires_in,
                "access_token": token.signed(&s.key),
            }))
            .into_response(),
            Version::V1 => Json(json!({
                "token_type": "Bearer",
                "expires_in": t.expires_in.to_string(),
                "ext_expires_in": t.expires_in.to_string(),
                "expires_on": token.claims.exp.to_string(),
                "not_before": token.claims.nbf.to_string(),
                "resource": t.resource,
                "access_token": token.signed(&s.key),
            }))
            .into_response(),
        },
        Issued::User(t) => {
            let mut body = match version {
                Version::V2 => json!({
                    "token_type": "Bearer",
                    "scope": t.scope,
                    "expires_in": t.expires_in,
                    "ext_expires_in": t.expires_in,
                    "access_token": t.access_token,
                }),
                Version::V1 => json!({
                    "token_type": "Bearer",
                    "scope": t.scope,
                    "expires_in": t.expires_in.to_string(),
                    "ext_expires_in": t.expires_in.to_string(),
                    "expires_on": t.expires_on.to_string(),
                    "not_before": t.not_before.to_string(),
                    "resource": t.resource,
                    "access_token": t.access_token,
                }),
            };
            if let Some(rt) = t.refresh_token {
                body["refresh_token"] = json!(rt);
            }
            if let Some(id) = t.id_token {
                body["id_token"] = json!(id);
            }
            if client_info && version == Version::V2 {
                body["client_info"] = json!(t.client_info);
            }
            Json(body).into_response()
        }
    })
}

async fn devicecode_v2(Sim(s): Sim, Path(tenant): Path<String>, headers: HeaderMap, body: Bytes) -> R {
    devicecode(&s, &tenant, &headers, &body, Version::V2, false)
}

async fn devicecode_v1(Sim(s): Sim, Path(tenant): Path<String>, Query(q): Query<HashMap<String, String>>, headers: HeaderMap, body: Bytes) -> R {
    devicecode(&s, &tenant, &headers, &body, Version::V1, q.get("api-version").is_some_and(|v| v == "1.0"))
}

/// Starts a device-code sign-in. v1 (ADAL) wants numbers as strings and `verification_url`.
fn devicecode(s: &Shared, tenant: &str, headers: &HeaderMap, body: &[u8], version: Version, adal: bool) -> R {
    let f = form(headers, body);
    let base = crate::origin::of(headers, &s.config.base_url);
    let (code, device_code) = {
        let mut w = s.world();
        let w = &mut *w;
        let mut ctx = Ctx { dir: &mut w.directory, login: &mut w.login, ids: &mut w.ids, key: &s.key, now_ms: s.clock.now_ms(), base_url: &base };
        device_code::start(&mut ctx, tenant, f.get("client_id").map(String::as_str), target(&f, version, adal)?)?
    };
    // Through the proxy, Azure's own page: `https://microsoft.com/devicelogin` is not one of
    // the hosts the simulator answers, so the sign-in page stays on the login host.
    let uri = format!("{base}/devicelogin");
    let message = format!("To sign in, use a web browser to open the page {uri} and enter the code {} to authenticate.", code.user_code);
    let expires_in = DEVICE_CODE_SECONDS;
    let interval = code.interval_s;
    Ok(match version {
        Version::V2 => Json(json!({
            "user_code": code.user_code,
            "device_code": device_code,
            "verification_uri": uri,
            "expires_in": expires_in,
            "interval": interval,
            "message": message,
        })),
        Version::V1 => Json(json!({
            "user_code": code.user_code,
            "device_code": device_code,
            "verification_url": uri,
            "expires_in": expires_in.to_string(),
            "interval": interval.to_string(),
            "message": message,
        })),
    }
    .into_response())
}

/// User realm discovery: every simulated account is a managed (cloud) account.
async fn user_realm(Sim(s): Sim, Path(username): Path<String>) -> Response {
    let domain = username.rsplit('@').next().unwrap_or_default().to_string();
    let known = s.world().directory.tenant(&domain).is_some();
    if !known {
        return (axum::http::StatusCode::OK, Json(json!({"ver": "1.0", "account_type": "Unknown", "cloud_instance_name": "microsoftonline.com"}))).into_response();
    }
    Json(json!({
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": domain,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }))
    .into_response()
}

/// Instance discovery, for clients that validate the authority against this host.
async fn instance_discovery(Sim(s): Sim, Query(q): Query<HashMap<String, String>>, headers: HeaderMap) -> Response {
    let base = crate::origin::of(&headers, &s.config.base_url);
    let tenant = q
        .get("authorization_endpoint")
        .and_then(|e| url_path_first_segment(e))
        .unwrap_or_else(|| "common".into());
    let metadata = if base == crate::origin::LOGIN {
        // The public cloud's aliases, as Azure lists them (recorded in kubelogin's cassettes).
        json!([{ "preferred_network": "login.microsoftonline.com", "preferred_cache": "login.windows.net", "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"] }])
    } else {
        let host = base.trim_start_matches("https://").trim_start_matches("http://");
        json!([{ "preferred_network": host, "preferred_cache": host, "aliases": [host] }])
    };
    Json(json!({
        "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": metadata,
    }))
    .into_response()
}

fn url_path_first_segment(u: &str) -> Option<String> {
    let rest = u.split("://").nth(1)?;
    rest.split('/').nth(1).filter(|s| !s.is_empty()).map(String::from)
}
