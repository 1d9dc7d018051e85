//! Graph's wire: real paths (case-insensitive, normalised by the router), `$filter`, paging,
//! 201/204 where Graph gives them, and Graph's error body. [protocols.md §B]

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::error::{GraphError, InnerError};
use super::model::GraphCaller;
use super::{filter, json as gj};
use crate::router::Sim;
use crate::clock::rfc3339;
use crate::directory::{ApplicationChanges, Directory, DirectoryObject, Owned, PermissionGrant, ServicePrincipalChanges, UserChanges};
use crate::login::caller::Caller;
use crate::state::Shared;

/// Default and largest page size.
const PAGE: usize = 100;
const MAX_PAGE: usize = 999;

pub(crate) fn routes() -> Router {
    let routes = Router::new()
        .route("/v1.0/applications", get(list_applications).post(create_application))
        .route("/v1.0/applications/{id}", get(get_application).patch(patch_application).delete(delete_application))
        .route("/v1.0/applications/{id}/owners", get(|s, p, q, c| list_owners(s, p, q, c, Owned::Application)))
        .route("/v1.0/applications/{id}/owners/$ref", post(|s, p, c, b| add_owner(s, p, c, b, Owned::Application)))
        .route("/v1.0/applications/{id}/owners/{owner}/$ref", axum::routing::delete(|s, p, c| remove_owner(s, p, c, Owned::Application)))
        .route("/v1.0/serviceprincipals/{id}/owners", get(|s, p, q, c| list_owners(s, p, q, c, Owned::ServicePrincipal)))
        .route("/v1.0/serviceprincipals/{id}/owners/$ref", post(|s, p, c, b| add_owner(s, p, c, b, Owned::ServicePrincipal)))
        .route("/v1.0/serviceprincipals/{id}/owners/{owner}/$ref", axum::routing::delete(|s, p, c| remove_owner(s, p, c, Owned::ServicePrincipal)))
        .route("/v1.0/groups/{id}/owners", get(|s, p, q, c| list_owners(s, p, q, c, Owned::Group)))
        .route("/v1.0/groups/{id}/owners/$ref", post(|s, p, c, b| add_owner(s, p, c, b, Owned::Group)))
        .route("/v1.0/groups/{id}/owners/{owner}/$ref", axum::routing::delete(|s, p, c| remove_owner(s, p, c, Owned::Group)))
        .route("/v1.0/applications/{id}/addpassword", post(|s, p, c, b| add_password(s, p, c, b, false)))
        .route("/v1.0/applications/{id}/removepassword", post(|s, p, c, b| remove_password(s, p, c, b, false)))
        .route("/v1.0/serviceprincipals", get(list_service_principals).post(create_service_principal))
        .route("/v1.0/serviceprincipals/{id}", get(get_service_principal).patch(patch_service_principal).delete(delete_service_principal))
        .route("/v1.0/serviceprincipals/{id}/addpassword", post(|s, p, c, b| add_password(s, p, c, b, true)))
        .route("/v1.0/serviceprincipals/{id}/removepassword", post(|s, p, c, b| remove_password(s, p, c, b, true)))
        .route("/v1.0/serviceprincipals/{id}/approleassignedto", get(list_assigned_to).post(create_assigned_to))
        .route("/v1.0/serviceprincipals/{id}/approleassignments", get(list_assignments))
        .route("/v1.0/oauth2permissiongrants", get(list_grants).post(create_grant))
        .route("/v1.0/oauth2permissiongrants/{id}", get(get_grant).patch(patch_grant).delete(delete_grant))
        .route("/v1.0/me", get(me))
        .route("/v1.0/users", get(list_users).post(create_user))
        .route("/v1.0/users/{id}", get(get_user).patch(patch_user).delete(delete_user))
        .route("/v1.0/directory/deleteditems/{id}", get(get_deleted).delete(purge_deleted))
        .route("/v1.0/directory/deleteditems/{id}/restore", post(restore_deleted))
        .route("/v1.0/users/{id}/getmembergroups", post(get_member_groups))
        .route("/v1.0/users/{id}/memberof", get(|s, p, q, c| member_of(s, p, q, c, "users")))
        .route("/v1.0/groups/{id}/memberof", get(|s, p, q, c| member_of(s, p, q, c, "groups")))
        .route("/v1.0/serviceprincipals/{id}/memberof", get(|s, p, q, c| member_of(s, p, q, c, "servicePrincipals")))
        .route("/v1.0/users/{id}/checkmembergroups", post(check_member_groups))
        .route("/v1.0/groups", get(list_groups).post(create_group))
        .route("/v1.0/groups/{id}", get(get_group).delete(delete_group))
        .route("/v1.0/groups/{id}/members", get(list_members))
        .route("/v1.0/groups/{id}/members/$ref", post(add_member))
        .route("/v1.0/groups/{id}/members/{member}/$ref", axum::routing::delete(remove_member))
        .route("/v1.0/groups/{id}/getmembergroups", post(get_member_groups))
        .route("/v1.0/groups/{id}/checkmembergroups", post(check_member_groups))
        .route("/v1.0/directoryobjects/getbyids", post(get_by_ids))
        .route("/v1.0/directoryobjects/{id}", get(get_directory_object))
        .route("/v1.0/directoryobjects/{id}/getmembergroups", post(get_member_groups))
        .route("/v1.0/directoryobjects/{id}/checkmembergroups", post(check_member_groups));
    crate::faults::inject::injecting(routes, "graph", super::error::injected)
        .layer(middleware::from_fn(json_writes_only))
        .layer(middleware::from_fn(inner_error))
        .layer(middleware::from_fn(crate::origin::links_at_origin))
}

/// Graph reads a write's body only when it is declared JSON: a body sent as `text/plain` (or
/// any other type) is refused before it is parsed.
async fn json_writes_only(req: Request, next: Next) -> Response {
    let writes = !matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::DELETE | axum::http::Method::OPTIONS);
    let declared = req.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or_default().split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    match declared {
        Some(t) if writes && t != "application/json" => GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", "Entity only allows writes with a JSON Content-Type header.").into_response(),
        _ => next.run(req).await,
    }
}

type Q = Query<HashMap<String, String>>;
type R = Result<Response, GraphError>;

/// Writes the body of a handler's `GraphError`, with its `innerError`: the date, a request
/// id, and the client's request id (or the request id again).
async fn inner_error(Sim(s): Sim, req: Request, next: Next) -> Response {
    let client_request_id = req.headers().get("client-request-id").and_then(|v| v.to_str().ok()).map(String::from);
    let resp = next.run(req).await;
    let Some(error) = resp.extensions().get::<GraphError>().cloned() else { return resp };
    let request_id = s.world().ids.guid().to_string();
    let date = rfc3339(s.clock.now()).trim_end_matches('Z').to_string();
    let client_request_id = client_request_id.unwrap_or_else(|| request_id.clone());
    let mut out = error.with_inner(InnerError { date, request_id, client_request_id });
    crate::faults::inject::keep_headers(resp.headers(), out.headers_mut());
    out
}

fn parse_body(body: &[u8]) -> Result<Map<String, Value>, GraphError> {
    if body.is_empty() {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", "Empty Payload. JSON content expected."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", "Invalid request: a JSON object was expected.")),
        Err(e) => Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", format!("Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format. ({e})"))),
    }
}

fn created(entity_set: &str, id: &str, mut v: Value) -> Response {
    v.as_object_mut().map(|o| o.insert("@odata.context".into(), json!(gj::context(entity_set, true))));
    let mut resp = (StatusCode::CREATED, Json(reorder_context(v))).into_response();
    if let Ok(loc) = HeaderValue::from_str(&format!("https://graph.microsoft.com/v2/{entity_set}/{id}")) {
        resp.headers_mut().insert(header::LOCATION, loc);
    }
    resp
}

fn single(entity_set: &str, mut v: Value) -> Response {
    v.as_object_mut().map(|o| o.insert("@odata.context".into(), json!(gj::context(entity_set, true))));
    Json(reorder_context(v)).into_response()
}

/// `@odata.context` first, as Graph writes it.
fn reorder_context(v: Value) -> Value {
    let Value::Object(mut m) = v else { return v };
    let mut out = Map::new();
    if let Some(c) = m.remove("@odata.context") {
        out.insert("@odata.context".into(), c);
    }
    out.extend(m);
    Value::Object(out)
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The request's `$filter`, parsed; one that does not parse is Graph's 400.
fn query_filter(q: &HashMap<String, String>) -> Result<Option<filter::Filter>, GraphError> {
    q.get("$filter").map(|f| filter::parse(f).map_err(|e| GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", e.message))).transpose()
}

/// `objects` rendered for a list. When the request's `$filter` reads only their lookup
/// properties (`keys`, as `key_json` renders them), each is tested on those first and only
/// the ones that may match are rendered in full (the seeded directory's first-party service
/// principals are large, and its groups many); [`list`] applies the whole filter to what is
/// rendered. A filter that does not parse is left for `list` to refuse.
fn rendered<'a, T: 'a>(q: &HashMap<String, String>, keys: &[&str], objects: impl Iterator<Item = &'a T>, key_json: impl Fn(&T) -> Value, render: impl Fn(&T) -> Value) -> Vec<Value> {
    let keyed = query_filter(q).ok().flatten().filter(|f| f.reads_only(keys));
    objects.filter(|o| keyed.as_ref().is_none_or(|f| f.matches(&key_json(o)))).map(render).collect()
}

/// A list with `$filter`, `$top` and `$skiptoken` paging (`@odata.nextLink`).
fn list(s: &Shared, path: &str, entity_set: &str, q: &HashMap<String, String>, items: Vec<Value>) -> R {
    let filter = query_filter(q)?;
    let items: Vec<Value> = items.into_iter().filter(|v| filter.as_ref().is_none_or(|f| f.matches(v))).collect();
    let top = match q.get("$top") {
        Some(t) => t.parse::<usize>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or_else(|| {
            GraphError::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", format!("Invalid page size specified: '{t}'. Must be between 1 and {MAX_PAGE} inclusive."))
        })?,
        None => PAGE,
    };
    let skip: usize = q.get("$skiptoken").and_then(|t| t.parse().ok()).unwrap_or(0);
    let page: Vec<Value> = items.iter().skip(skip).take(top).cloned().collect();
    let mut body = json!({ "@odata.context": gj::context(entity_set, false), "value": page });
    if skip + top < items.len() {
        let mut next = form_urlencoded::Serializer::new(String::new());
        // Sorted, so the link (and so the transcript) is the same on every run.
        let mut params: Vec<(&String, &String)> = q.iter().filter(|(k, _)| k.as_str() != "$skiptoken").collect();
        params.sort();
        for (k, v) in params {
            next.append_pair(k, v);
        }
        next.append_pair("$skiptoken", &(skip + top).to_string());
        body["@odata.nextLink"] = json!(format!("{}{path}?{}", s.config.base_url, next.finish()));
    }
    Ok(Json(body).into_response())
}

// ---------- applications ----------

fn strings(v: &Value, property: &str) -> Result<Vec<String>, GraphError> {
    match v {
        Value::Null => Ok(vec![]),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(String::from).ok_or_else(|| GraphError::bad_request(format!("Invalid value specified for property '{property}' of resource 'Application'."))))
            .collect(),
        _ => Err(GraphError::bad_request(format!("Invalid value specified for property '{property}' of resource 'Application'."))),
    }
}

fn typed<T: serde::de::DeserializeOwned>(v: &Value, property: &str) -> Result<T, GraphError> {
    serde_json::from_value(v.clone()).map_err(|_| GraphError::bad_request(format!("Invalid value specified for property '{property}' of resource 'Application'.")))
}

/// Properties of an application Graph accepts and keeps as given.
const PASS_THROUGH: &[&str] = &[
    "web", "spa", "info", "optionalClaims", "notes", "description", "tags", "isDeviceOnlyAuthSupported", "parentalControlSettings",
    "serviceManagementReference", "tokenEncryptionKeyId", "defaultRedirectUri", "addIns",
];
/// Properties Graph accepts but that this simulator does not store (read-only or certificates).
const IGNORED: &[&str] = &["passwordCredentials", "id", "appId", "createdDateTime", "publisherDomain", "@odata.context", "deletedDateTime"];

/// Does an `@odata.type` annotation name `microsoft.graph.<entity>` (with or without `#`)?
fn names_type(v: &Value, entity: &str) -> bool {
    v.as_str().is_some_and(|t| t.trim_start_matches('#').eq_ignore_ascii_case(&format!("microsoft.graph.{entity}")))
}

/// A JSON body of an application into the changes it asks for; unknown properties are
/// Graph's 400.
fn application_changes(body: &Map<String, Value>) -> Result<ApplicationChanges, GraphError> {
    let mut c = ApplicationChanges::default();
    for (k, v) in body {
        match k.as_str() {
            "displayName" => c.display_name = Some(v.as_str().unwrap_or_default().to_string()),
            "identifierUris" => c.identifier_uris = Some(strings(v, k)?),
            "signInAudience" => c.sign_in_audience = v.as_str().map(String::from),
            "groupMembershipClaims" => c.group_membership_claims = Some(v.as_str().map(String::from)),
            "isFallbackPublicClient" => c.is_fallback_public_client = Some(v.as_bool()),
            "publicClient" => c.public_client_redirect_uris = Some(strings(v.get("redirectUris").unwrap_or(&Value::Null), "publicClient.redirectUris")?),
            "appRoles" => c.app_roles = Some(typed(v, k)?),
            "requiredResourceAccess" => c.required_resource_access = Some(typed(v, k)?),
            "keyCredentials" => c.key_credentials = Some(key_credentials(v)?),
            "api" => {
                let api = v.as_object().ok_or_else(|| GraphError::bad_request("Invalid value specified for property 'api' of resource 'Application'."))?;
                for (ak, av) in api {
                    match ak.as_str() {
                        "requestedAccessTokenVersion" => c.requested_access_token_version = Some(av.as_i64()),
                        "oauth2PermissionScopes" => c.oauth2_permission_scopes = Some(typed(av, "api.oauth2PermissionScopes")?),
                        "acceptMappedClaims" | "knownClientApplications" | "preAuthorizedApplications" => {}
                        other => return Err(GraphError::bad_request(format!("Property '{other}' does not exist as a declared property or extension property."))),
                    }
                }
            }
            p if PASS_THROUGH.contains(&p) => {
                c.extra.insert(p.to_string(), v.clone());
            }
            p if IGNORED.contains(&p) => {}
            // Kiota-generated SDKs (msgraph-sdk, the Go and .NET ones) name the type of every
            // object they send; it is an annotation, not a property.
            "@odata.type" if names_type(v, "application") => {}
            other => return Err(GraphError::bad_request(format!("Property '{other}' does not exist as a declared property or extension property."))),
        }
    }
    Ok(c)
}

/// `keyCredentials` as sent: each a certificate (`AsymmetricX509Cert`, base64 `key`) for
/// `Verify`, or a symmetric key. Missing ids and dates are filled in when the request is
/// applied ([`fill_key_credentials`]).
fn key_credentials(v: &Value) -> Result<Vec<crate::directory::KeyCredential>, GraphError> {
    let invalid = || GraphError::bad_request("Invalid value specified for property 'keyCredentials' of resource 'Application'.");
    let items = v.as_array().ok_or_else(invalid)?;
    let mut out = Vec::new();
    for item in items {
        let o = item.as_object().ok_or_else(invalid)?;
        let text = |k: &str| o.get(k).and_then(Value::as_str).map(String::from);
        let kind = text("type").ok_or_else(invalid)?;
        let usage = text("usage").ok_or_else(invalid)?;
        if !["AsymmetricX509Cert", "X509CertAndPassword", "Symmetric"].contains(&kind.as_str()) || !["Verify", "Sign"].contains(&usage.as_str()) {
            return Err(invalid());
        }
        let key = text("key").filter(|k| !k.is_empty()).ok_or_else(invalid)?;
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, key.trim()).map_err(|_| invalid())?;
        out.push(crate::directory::KeyCredential {
            key_id: text("keyId").unwrap_or_default(),
            display_name: text("displayName"),
            kind,
            usage,
            start_date_time: text("startDateTime").unwrap_or_default(),
            end_date_time: text("endDateTime").unwrap_or_default(),
            custom_key_identifier: text("customKeyIdentifier"),
        });
    }
    Ok(out)
}

/// A key id from the seed and a year from now, where the request gave none.
fn fill_key_credentials(changes: &mut ApplicationChanges, ids: &mut crate::ids::IdSource, now_ms: i64) {
    for k in changes.key_credentials.iter_mut().flatten() {
        if k.key_id.is_empty() {
            k.key_id = ids.guid().to_string();
        }
        if k.start_date_time.is_empty() {
            k.start_date_time = crate::clock::rfc3339_ms(now_ms).replace(".000Z", "Z");
        }
        if k.end_date_time.is_empty() {
            k.end_date_time = crate::clock::rfc3339_ms(now_ms + crate::directory::seed::YEAR_MS).replace(".000Z", "Z");
        }
    }
}

fn app_json(dir: &Directory, a: &crate::directory::Application) -> Value {
    let domain = dir.tenant(&a.tenant_id).map(|t| t.default_domain.clone()).unwrap_or_default();
    gj::application(a, &domain)
}

async fn list_applications(Sim(s): Sim, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let tenant = w.directory.applications.iter().filter(|a| a.tenant_id == caller.principal.tenant_id);
    let items = rendered(&q, gj::APPLICATION_KEYS, tenant, gj::application_keys, |a| app_json(&w.directory, a));
    list(&s, "/v1.0/applications", "applications", &q, items)
}

async fn create_application(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let mut changes = application_changes(&parse_body(&body)?)?;
    let mut w = s.world();
    let w = &mut *w;
    fill_key_credentials(&mut changes, &mut w.ids, s.clock.now_ms());
    let defaults = crate::directory::ops::NewApplicationDefaults::for_era(s.config.era);
    let app = w.directory.create_application(&mut w.ids, &caller.principal, changes, s.clock.now_ms(), defaults)?;
    Ok(created("applications", &app.id, app_json(&w.directory, &app)))
}

async fn get_application(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let a = w.directory.application(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    from_another_replica(&s, &w.directory, &a.id, a.created_ms)?;
    Ok(single("applications", app_json(&w.directory, a)))
}

async fn patch_application(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let mut changes = application_changes(&parse_body(&body)?)?;
    let mut w = s.world();
    let w = &mut *w;
    fill_key_credentials(&mut changes, &mut w.ids, s.clock.now_ms());
    w.directory.update_application(&caller.principal, &id, changes)?;
    Ok(no_content())
}

async fn delete_application(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let now = s.clock.now_ms();
    s.world().directory.delete_application(&caller.principal, &id, now)?;
    Ok(no_content())
}

fn parse_time(v: Option<&Value>) -> Result<Option<i64>, GraphError> {
    match v.and_then(Value::as_str) {
        None => Ok(None),
        Some(t) => time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|d| Some((d.unix_timestamp_nanos() / 1_000_000) as i64))
            .map_err(|_| GraphError::bad_request(format!("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential': '{t}'."))),
    }
}

async fn add_password(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes, on_sp: bool) -> R {
    let body = if body.is_empty() { Map::new() } else { parse_body(&body)? };
    let pc = body.get("passwordCredential").and_then(Value::as_object).cloned().unwrap_or_default();
    let display_name = pc.get("displayName").and_then(Value::as_str).map(String::from);
    let start = parse_time(pc.get("startDateTime"))?;
    let end = parse_time(pc.get("endDateTime"))?;
    let mut w = s.world();
    let w = &mut *w;
    let (cred, secret) = w.directory.add_password(&mut w.ids, &caller.principal, on_sp, &id, display_name, start, end, s.clock.now_ms())?;
    let mut v = gj::password_credential(&cred, Some(&secret));
    v["@odata.context"] = json!(format!("{}/$metadata#microsoft.graph.passwordCredential", gj::GRAPH_BASE));
    Ok(Json(reorder_context(v)).into_response())
}

async fn remove_password(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes, on_sp: bool) -> R {
    let body = parse_body(&body)?;
    let key = body.get("keyId").and_then(Value::as_str).ok_or_else(|| GraphError::bad_request("A value is required for property 'keyId' of resource 'removePassword'."))?;
    s.world().directory.remove_password(&caller.principal, on_sp, &id, key)?;
    Ok(no_content())
}

// ---------- service principals ----------

async fn list_service_principals(Sim(s): Sim, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let tenant = w.directory.service_principals.iter().filter(|sp| sp.tenant_id == caller.principal.tenant_id);
    let items = rendered(&q, gj::SERVICE_PRINCIPAL_KEYS, tenant, gj::service_principal_keys, |sp| gj::service_principal(sp, w.directory.sign_in_audience_of(sp)));
    list(&s, "/v1.0/servicePrincipals", "servicePrincipals", &q, items)
}

async fn create_service_principal(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let app_id = body.get("appId").and_then(Value::as_str).ok_or_else(|| GraphError::bad_request("A value is required for property 'appId' of resource 'ServicePrincipal'."))?;
    let mut w = s.world();
    let w = &mut *w;
    let mut sp = w.directory.create_service_principal(&mut w.ids, &caller.principal, app_id, s.clock.now_ms())?;
    if let Some(false) = body.get("accountEnabled").and_then(Value::as_bool) {
        if let Some(stored) = w.directory.service_principals.iter_mut().find(|x| x.id == sp.id) {
            stored.account_enabled = false;
        }
        sp.account_enabled = false;
    }
    Ok(created("servicePrincipals", &sp.id, gj::service_principal(&sp, w.directory.sign_in_audience_of(&sp))))
}

async fn get_service_principal(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let sp = w.directory.service_principal_by_id(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    from_another_replica(&s, &w.directory, &sp.id, sp.created_ms)?;
    Ok(single("servicePrincipals", gj::service_principal(sp, w.directory.sign_in_audience_of(sp))))
}

async fn delete_service_principal(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    s.world().directory.delete_service_principal(&caller.principal, &id)?;
    Ok(no_content())
}

async fn list_assigned_to(Sim(s): Sim, Path(id): Path<String>, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    w.directory.service_principal_by_id(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    let items = w.directory.app_role_assignments.iter().filter(|a| a.resource_id.eq_ignore_ascii_case(&id)).map(gj::app_role_assignment).collect();
    list(&s, &format!("/v1.0/servicePrincipals/{id}/appRoleAssignedTo"), &format!("servicePrincipals('{id}')/appRoleAssignedTo"), &q, items)
}

async fn list_assignments(Sim(s): Sim, Path(id): Path<String>, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let items = w.directory.app_role_assignments.iter().filter(|a| a.principal_id.eq_ignore_ascii_case(&id)).map(gj::app_role_assignment).collect();
    list(&s, &format!("/v1.0/servicePrincipals/{id}/appRoleAssignments"), &format!("servicePrincipals('{id}')/appRoleAssignments"), &q, items)
}

async fn create_assigned_to(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let field = |k: &str| body.get(k).and_then(Value::as_str).map(String::from).ok_or_else(|| GraphError::bad_request(format!("A value is required for property '{k}' of resource 'AppRoleAssignment'.")));
    let (principal, resource, role) = (field("principalId")?, field("resourceId")?, field("appRoleId")?);
    if !resource.eq_ignore_ascii_case(&id) {
        return Err(GraphError::bad_request("The resourceId of the appRoleAssignment must match the service principal in the URL."));
    }
    let mut w = s.world();
    let w = &mut *w;
    let a = w.directory.assign_app_role(&mut w.ids, &caller.principal, &id, &principal, &role, s.clock.now_ms())?;
    Ok(created(&format!("servicePrincipals('{id}')/appRoleAssignedTo"), &a.id, gj::app_role_assignment(&a)))
}

// ---------- oauth2PermissionGrants ----------

async fn list_grants(Sim(s): Sim, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let tenant_sps: Vec<&str> = w.directory.service_principals.iter().filter(|sp| sp.tenant_id == caller.principal.tenant_id).map(|sp| sp.id.as_str()).collect();
    let items = w.directory.grants.iter().filter(|g| tenant_sps.contains(&g.client_id.as_str())).map(gj::grant).collect();
    list(&s, "/v1.0/oauth2PermissionGrants", "oauth2PermissionGrants", &q, items)
}

async fn create_grant(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    let required = |k: &'static str| text(k).ok_or_else(|| GraphError::bad_request(format!("A value is required for property '{k}' of resource 'OAuth2PermissionGrant'.")));
    let grant = PermissionGrant {
        id: String::new(),
        client_id: required("clientId")?,
        consent_type: required("consentType")?,
        principal_id: text("principalId"),
        resource_id: required("resourceId")?,
        scope: text("scope").unwrap_or_default(),
    };
    let mut w = s.world();
    let w = &mut *w;
    let g = w.directory.create_grant(&mut w.ids, &caller.principal, grant)?;
    Ok(created("oauth2PermissionGrants", &g.id, gj::grant(&g)))
}

async fn get_grant(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let g = w.directory.grants.iter().find(|g| g.id == id).ok_or_else(|| GraphError::not_found(&id))?;
    Ok(single("oauth2PermissionGrants", gj::grant(g)))
}

async fn patch_grant(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let scope = body.get("scope").and_then(Value::as_str).ok_or_else(|| GraphError::bad_request("Only 'scope' can be updated on an oAuth2PermissionGrant."))?;
    s.world().directory.update_grant_scope(&caller.principal, &id, scope.to_string())?;
    Ok(no_content())
}

async fn delete_grant(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    s.world().directory.delete_grant(&caller.principal, &id)?;
    Ok(no_content())
}

// ---------- users ----------

async fn me(Sim(s): Sim, Caller(caller): Caller<GraphCaller>) -> R {
    if caller.principal.is_app {
        return Err(GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", "/me request is only valid with delegated authentication flow."));
    }
    let w = s.world();
    let u = w.directory.user(&caller.principal.tenant_id, &caller.principal.object_id).ok_or_else(|| GraphError::not_found(&caller.principal.object_id))?;
    Ok(single("users", gj::user(u)))
}

async fn list_users(Sim(s): Sim, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let items = w.directory.users.iter().filter(|u| u.tenant_id == caller.principal.tenant_id).map(gj::user).collect();
    list(&s, "/v1.0/users", "users", &q, items)
}

async fn get_user(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    let u = w.directory.user(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    caller.may_read_object(&w.directory, &u.id)?;
    Ok(single("users", gj::user(u)))
}

/// `PATCH /users/{id}` (`az ad user update`): `accountEnabled` (a disabled user can no
/// longer sign in), `displayName`, `givenName`, `surname`, `jobTitle`, `mailNickname` and
/// `passwordProfile` (its `password`; `forceChangePasswordNextSignIn` is accepted, as
/// `az ad user update --force-change-password-next-sign-in` sends it, and not modelled).
async fn patch_user(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let invalid = |k: &str| GraphError::bad_request(format!("Invalid value specified for property '{k}' of resource 'User'."));
    let mut c = UserChanges::default();
    for (k, v) in &body {
        match k.as_str() {
            "accountEnabled" => c.account_enabled = Some(v.as_bool().ok_or_else(|| invalid(k))?),
            "displayName" => c.display_name = Some(v.as_str().filter(|n| !n.is_empty()).ok_or_else(|| invalid(k))?.to_string()),
            "givenName" => c.given_name = Some(v.as_str().map(String::from)),
            "surname" => c.surname = Some(v.as_str().map(String::from)),
            "jobTitle" => c.job_title = Some(v.as_str().map(String::from)),
            // Graph refuses an empty nickname as it does on create.
            "mailNickname" => c.mail_nickname = Some(v.as_str().filter(|n| !n.trim().is_empty()).ok_or_else(|| invalid(k))?.to_string()),
            "passwordProfile" => {
                let password = v.get("password").and_then(Value::as_str).filter(|p| !p.is_empty()).ok_or_else(|| invalid("passwordProfile"))?;
                c.password = Some(password.to_string());
            }
            "@odata.type" if names_type(v, "user") => {}
            other => return Err(GraphError::bad_request(format!("Property '{other}' does not exist as a declared property or extension property."))),
        }
    }
    s.world().directory.update_user(&caller.principal, &id, c)?;
    Ok(no_content())
}

async fn create_user(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    let required = |k: &'static str| text(k).ok_or_else(|| GraphError::bad_request(format!("A value is required for property '{k}' of resource 'User'.")));
    let password = body
        .get("passwordProfile")
        .and_then(|p| p.get("password"))
        .and_then(Value::as_str)
        .ok_or_else(|| GraphError::bad_request("A value is required for property 'passwordProfile' of resource 'User'."))?
        .to_string();
    let (upn, name, nick) = (required("userPrincipalName")?, required("displayName")?, required("mailNickname")?);
    let enabled = body.get("accountEnabled").and_then(Value::as_bool).unwrap_or(true);
    let mut w = s.world();
    let w = &mut *w;
    let u = w.directory.create_user(&mut w.ids, &caller.principal, upn, name, nick, &password, enabled)?;
    Ok(created("users", &u.id, gj::user(&u)))
}

// ---------- groups ----------

async fn list_groups(Sim(s): Sim, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let tenant = w.directory.groups.iter().filter(|g| g.tenant_id == caller.principal.tenant_id);
    let items = rendered(&q, gj::GROUP_KEYS, tenant, gj::group_keys, gj::group);
    list(&s, "/v1.0/groups", "groups", &q, items)
}

async fn create_group(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(String::from).unwrap_or_default();
    let flag = |k: &str, d: bool| body.get(k).and_then(Value::as_bool).unwrap_or(d);
    let description = body.get("description").and_then(Value::as_str).map(String::from);
    let mut w = s.world();
    let w = &mut *w;
    let g = w.directory.create_group(&mut w.ids, &caller.principal, text("displayName"), text("mailNickname"), description, flag("securityEnabled", true), flag("mailEnabled", false), s.clock.now_ms())?;
    Ok(created("groups", &g.id, gj::group(&g)))
}

async fn get_group(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let g = w.directory.group(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    from_another_replica(&s, &w.directory, &g.id, g.created_ms)?;
    Ok(single("groups", gj::group(g)))
}

async fn delete_group(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let now = s.clock.now_ms();
    s.world().directory.delete_group(&caller.principal, &id, now)?;
    Ok(no_content())
}

async fn list_members(Sim(s): Sim, Path(id): Path<String>, Query(q): Q, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let g = w.directory.group(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    let items = g.members.iter().filter_map(|m| w.directory.object(&caller.principal.tenant_id, m)).map(|o| gj::directory_object(&w.directory, o)).collect();
    list(&s, &format!("/v1.0/groups/{id}/members"), "directoryObjects", &q, items)
}

/// `PATCH /servicePrincipals/{id}`: `accountEnabled` (a disabled one can no longer sign
/// in), `tags`, `notes`, `description` and `appRoleAssignmentRequired`.
async fn patch_service_principal(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let invalid = |k: &str| GraphError::bad_request(format!("Invalid value specified for property '{k}' of resource 'ServicePrincipal'."));
    let mut enabled = None;
    let mut c = ServicePrincipalChanges::default();
    for (k, v) in &body {
        match k.as_str() {
            "accountEnabled" => enabled = Some(v.as_bool().ok_or_else(|| invalid(k))?),
            "appRoleAssignmentRequired" => c.app_role_assignment_required = Some(v.as_bool().ok_or_else(|| invalid(k))?),
            "tags" => c.tags = Some(serde_json::from_value(v.clone()).map_err(|_| invalid(k))?),
            "notes" => c.notes = Some(v.as_str().map(String::from)),
            "description" => c.description = Some(v.as_str().map(String::from)),
            "@odata.type" if names_type(v, "servicePrincipal") => {}
            other => return Err(GraphError::bad_request(format!("Property '{other}' does not exist as a declared property or extension property."))),
        }
    }
    s.world().directory.update_service_principal(&caller.principal, &id, enabled, c)?;
    Ok(no_content())
}

/// `DELETE /users/{id}` (`az ad user delete`): into the deleted items.
async fn delete_user(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let now = s.clock.now_ms();
    s.world().directory.delete_user(&caller.principal, &id, now)?;
    Ok(no_content())
}

// ---------- deleted items ----------

/// A deleted (or just restored: `deleted_ms` None) object as Graph shows it: its own shape,
/// typed, with `deletedDateTime`.
fn deleted_json(dir: &Directory, object: &crate::directory::DeletedObject, deleted_ms: Option<i64>) -> Value {
    let (mut v, kind) = match object {
        crate::directory::DeletedObject::Application(a) => (app_json(dir, a), "application"),
        crate::directory::DeletedObject::Group(g) => (gj::group(g), "group"),
        crate::directory::DeletedObject::User(u) => (gj::user(u), "user"),
    };
    if let Some(o) = v.as_object_mut() {
        o.insert("@odata.type".into(), json!(format!("#microsoft.graph.{kind}")));
        o.insert("deletedDateTime".into(), json!(deleted_ms.map(|ms| crate::clock::rfc3339_ms(ms).replace(".000Z", "Z"))));
    }
    v
}

async fn get_deleted(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let d = w.directory.deleted_item(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    Ok(single("directoryObjects", deleted_json(&w.directory, &d.object, Some(d.deleted_ms))))
}

/// `DELETE /directory/deletedItems/{id}`: deleted for good.
async fn purge_deleted(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    s.world().directory.purge_deleted(&caller.principal, &id)?;
    Ok(no_content())
}

/// `POST /directory/deletedItems/{id}/restore`: the object back, as it was.
async fn restore_deleted(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let mut w = s.world();
    let restored = w.directory.restore_deleted(&caller.principal, &id)?;
    Ok(single("directoryObjects", deleted_json(&w.directory, &restored, None)))
}

// ---------- owners ----------

async fn list_owners(Sim(s): Sim, Path(id): Path<String>, Query(q): Q, Caller(caller): Caller<GraphCaller>, kind: Owned) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let tenant = &caller.principal.tenant_id;
    let items = w.directory.owners(tenant, kind, &id)?.iter().filter_map(|o| w.directory.object(tenant, o)).map(|o| gj::directory_object(&w.directory, o)).collect();
    let set = match kind {
        Owned::Application => "applications",
        Owned::Group => "groups",
        Owned::ServicePrincipal => "servicePrincipals",
    };
    list(&s, &format!("/v1.0/{set}/{id}/owners"), "directoryObjects", &q, items)
}

async fn add_owner(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes, kind: Owned) -> R {
    let owner = reference_id(&parse_body(&body)?)?;
    s.world().directory.add_owner(&caller.principal, kind, &id, &owner)?;
    Ok(no_content())
}

async fn remove_owner(Sim(s): Sim, Path((id, owner)): Path<(String, String)>, Caller(caller): Caller<GraphCaller>, kind: Owned) -> R {
    s.world().directory.remove_owner(&caller.principal, kind, &id, &owner)?;
    Ok(no_content())
}

/// The object id at the end of an `@odata.id` reference URL.
fn reference_id(body: &Map<String, Value>) -> Result<String, GraphError> {
    let r = body.get("@odata.id").and_then(Value::as_str).ok_or_else(|| GraphError::bad_request("Invalid object identifier ''."))?;
    let id = r.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    let id = id.trim_start_matches("directoryObjects(").trim_end_matches(')').trim_matches('\'');
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(GraphError::bad_request(format!("Invalid object identifier '{r}'.")));
    }
    Ok(id.to_string())
}

async fn add_member(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let member = reference_id(&parse_body(&body)?)?;
    s.world().directory.add_member(&caller.principal, &id, &member)?;
    Ok(no_content())
}

async fn remove_member(Sim(s): Sim, Path((id, member)): Path<(String, String)>, Caller(caller): Caller<GraphCaller>) -> R {
    s.world().directory.remove_member(&caller.principal, &id, &member)?;
    Ok(no_content())
}

// ---------- directory objects ----------

/// `GET /{users|groups|servicePrincipals}/{id}/memberOf` (`az ad user get-member-groups`):
/// the groups the object is directly in, each with its `@odata.type`. Entra ID lists the
/// directory roles an object holds here too; the simulator models none as objects.
async fn member_of(Sim(s): Sim, Path(id): Path<String>, Query(q): Q, Caller(caller): Caller<GraphCaller>, set: &'static str) -> R {
    let w = s.world();
    let tenant = &caller.principal.tenant_id;
    let object_id = match w.directory.object(tenant, &id) {
        Some(DirectoryObject::User(u)) if set == "users" => u.id.clone(),
        Some(DirectoryObject::Group(g)) if set == "groups" => g.id.clone(),
        Some(DirectoryObject::ServicePrincipal(sp)) if set == "servicePrincipals" => sp.id.clone(),
        None if set == "users" => w.directory.user(tenant, &id).map(|u| u.id.clone()).ok_or_else(|| GraphError::not_found(&id))?,
        _ => return Err(GraphError::not_found(&id)),
    };
    caller.may_read_object(&w.directory, &object_id)?;
    let items = w.directory.direct_groups(tenant, &object_id).into_iter().map(|g| gj::directory_object(&w.directory, DirectoryObject::Group(g))).collect();
    list(&s, &format!("/v1.0/{set}/{id}/memberOf"), "directoryObjects", &q, items)
}

/// `getMemberGroups`: the transitive group ids of a user, group or service principal
/// (guard calls this on group overage). A user may ask about themself.
async fn get_member_groups(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = if body.is_empty() { Map::new() } else { parse_body(&body)? };
    let security_only = body.get("securityEnabledOnly").and_then(Value::as_bool).unwrap_or(false);
    let w = s.world();
    let object_id = resolve_object(&w.directory, &caller.principal.tenant_id, &id)?;
    caller.may_read_object(&w.directory, &object_id)?;
    let groups: Vec<String> = w
        .directory
        .transitive_groups(&caller.principal.tenant_id, &object_id)
        .into_iter()
        .filter(|g| !security_only || w.directory.group(&caller.principal.tenant_id, g).is_some_and(|x| x.security_enabled))
        .collect();
    Ok(Json(json!({ "@odata.context": format!("{}/$metadata#Collection(Edm.String)", gj::GRAPH_BASE), "value": groups })).into_response())
}

async fn check_member_groups(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let wanted: Vec<String> = body.get("groupIds").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
    let w = s.world();
    let object_id = resolve_object(&w.directory, &caller.principal.tenant_id, &id)?;
    caller.may_read_object(&w.directory, &object_id)?;
    let member_of = w.directory.transitive_groups(&caller.principal.tenant_id, &object_id);
    let value: Vec<String> = wanted.into_iter().filter(|g| member_of.iter().any(|m| m.eq_ignore_ascii_case(g))).collect();
    Ok(Json(json!({ "@odata.context": format!("{}/$metadata#Collection(Edm.String)", gj::GRAPH_BASE), "value": value })).into_response())
}

/// Replication: a read by id of an object that another replica has not seen yet.
fn from_another_replica(s: &Shared, dir: &Directory, id: &str, created_ms: i64) -> Result<(), GraphError> {
    let lag = s.config.replication_lag().graph_ms;
    if dir.replicating(id, created_ms, lag, s.clock.now_ms()) { Err(GraphError::not_found(id)) } else { Ok(()) }
}

/// An object by id, or a user by UPN (`/users/{upn}/getMemberGroups`).
fn resolve_object(dir: &Directory, tenant: &str, id: &str) -> Result<String, GraphError> {
    if let Some(o) = dir.object(tenant, id) {
        return Ok(match o {
            DirectoryObject::User(u) => u.id.clone(),
            DirectoryObject::Group(g) => g.id.clone(),
            DirectoryObject::ServicePrincipal(sp) => sp.id.clone(),
            DirectoryObject::Application(a) => a.id.clone(),
        });
    }
    dir.user(tenant, id).map(|u| u.id.clone()).ok_or_else(|| GraphError::not_found(id))
}

async fn get_by_ids(Sim(s): Sim, Caller(caller): Caller<GraphCaller>, body: Bytes) -> R {
    let body = parse_body(&body)?;
    let ids: Vec<String> = body.get("ids").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
    let types: Vec<String> = body.get("types").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(|t| t.to_ascii_lowercase())).collect()).unwrap_or_default();
    let w = s.world();
    caller.may_read(&w.directory)?;
    let value: Vec<Value> = ids
        .iter()
        .filter_map(|id| w.directory.object(&caller.principal.tenant_id, id))
        .filter(|o| {
            let t = match o {
                DirectoryObject::User(_) => "user",
                DirectoryObject::Group(_) => "group",
                DirectoryObject::ServicePrincipal(_) => "serviceprincipal",
                DirectoryObject::Application(_) => "application",
            };
            types.is_empty() || types.iter().any(|x| x == t)
        })
        .map(|o| gj::directory_object(&w.directory, o))
        .collect();
    Ok(Json(json!({ "@odata.context": gj::context("directoryObjects", false), "value": value })).into_response())
}

async fn get_directory_object(Sim(s): Sim, Path(id): Path<String>, Caller(caller): Caller<GraphCaller>) -> R {
    let w = s.world();
    caller.may_read(&w.directory)?;
    let o = w.directory.object(&caller.principal.tenant_id, &id).ok_or_else(|| GraphError::not_found(&id))?;
    Ok(single("directoryObjects", gj::directory_object(&w.directory, o)))
}

