//! ARM's wire: subscriptions, tenants, resource groups and operation results, with ARM's
//! headers on every answer. [protocols.md §C.0–C.2]

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::error::ArmError;
use super::model::{ArmCaller, ResourceGroup, Upsert, subscription_scope};
use crate::router::Sim;
use crate::login::caller::Caller;
use crate::state::Shared;

/// How long a client should wait between polls of an operation, in seconds.
const RETRY_AFTER_SECONDS: u64 = 15;

pub(crate) fn routes() -> Router {
    let routes = Router::new()
        .route("/subscriptions", get(list_subscriptions))
        .route("/tenants", get(list_tenants))
        .route("/subscriptions/{sid}", get(get_subscription))
        .route("/subscriptions/{sid}/resourcegroups", get(list_groups))
        .route(
            "/subscriptions/{sid}/resourcegroups/{rg}",
            get(get_group).head(head_group).put(put_group).delete(delete_group),
        )
        .route("/subscriptions/{sid}/operationresults/{op}", get(operation_result))
        .route("/subscriptions/{sid}/providers/microsoft.containerservice/locations/{loc}/operationresults/{op}", get(cluster_operation_result))
        .merge(super::aks_routes::routes());
    crate::faults::inject::injecting(routes, "arm", super::error::injected)
        .layer(middleware::from_fn(arm_headers))
        .layer(middleware::from_fn(crate::origin::links_at_origin))
}

/// ARM's response headers: request and correlation ids, no caching, JSON with charset.
async fn arm_headers(Sim(s): Sim, req: Request, next: Next) -> Response {
    let correlation = req.headers().get("x-ms-client-request-id").cloned();
    let mut resp = next.run(req).await;
    let request_id = s.world().ids.guid().to_string();
    let h = resp.headers_mut();
    let id = HeaderValue::from_str(&request_id).expect("a GUID is a valid header value");
    h.insert("x-ms-request-id", id.clone());
    h.insert("x-ms-correlation-request-id", correlation.unwrap_or_else(|| id.clone()));
    h.insert("x-ms-routing-request-id", HeaderValue::from_static("EASTUS:20260101T000000Z:SIM"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("strict-transport-security", HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    if h.get(header::CONTENT_TYPE).is_some_and(|v| v == "application/json") {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    }
    resp
}

pub(crate) async fn not_found(uri: Uri) -> Response {
    ArmError::NotFound { path: uri.path().to_string() }.into_response()
}

fn api_version(q: &HashMap<String, String>) -> &str {
    q.iter().find(|(k, _)| k.eq_ignore_ascii_case("api-version")).map(|(_, v)| v.as_str()).unwrap_or("2024-11-01")
}

fn group_json(g: &ResourceGroup) -> serde_json::Value {
    let mut v = json!({
        "id": g.id(),
        "name": g.name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": g.location,
        "properties": { "provisioningState": g.provisioning_state },
    });
    if let Some(tags) = &g.tags {
        v["tags"] = json!(tags);
    }
    v
}

type Q = Query<HashMap<String, String>>;

async fn list_subscriptions(Sim(s): Sim, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let value: Vec<_> = w
        .arm
        .subscriptions
        .iter()
        .filter(|sub| w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/read", &subscription_scope(&sub.id)).is_ok())
        .map(|sub| subscription_json(sub))
        .collect();
    Ok(Json(json!({ "value": value, "count": { "type": "Total", "value": value.len() } })).into_response())
}

fn subscription_json(sub: &super::model::Subscription) -> serde_json::Value {
    json!({
        "id": subscription_scope(&sub.id),
        "authorizationSource": "RoleBased",
        "managedByTenants": [],
        "subscriptionId": sub.id,
        "tenantId": sub.tenant_id,
        "displayName": sub.display_name,
        "state": "Enabled",
        "subscriptionPolicies": { "locationPlacementId": "Public_2014-09-01", "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off" },
    })
}

async fn list_tenants(Sim(s): Sim, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let home = w.directory.home();
    Ok(Json(json!({ "value": [{
        "id": format!("/tenants/{}", home.id),
        "tenantId": home.id,
        "countryCode": "US",
        "displayName": home.display_name,
        "domains": [home.default_domain],
        "tenantCategory": "Home",
        "defaultDomain": home.default_domain,
        "tenantType": "AAD",
    }] }))
    .into_response())
}

async fn get_subscription(Sim(s): Sim, Path(sid): Path<String>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let sub = w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/read", &subscription_scope(&sub.id))?;
    Ok(Json(subscription_json(sub)).into_response())
}

async fn list_groups(Sim(s): Sim, Path(sid): Path<String>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/resourceGroups/read", &subscription_scope(&sid))?;
    let value: Vec<_> = w.arm.resource_groups_in(&sid).into_iter().map(group_json).collect();
    Ok(Json(json!({ "value": value })).into_response())
}

fn group_scope(sid: &str, rg: &str) -> String {
    format!("/subscriptions/{sid}/resourceGroups/{rg}")
}

async fn get_group(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/resourceGroups/read", &group_scope(&sid, &rg))?;
    Ok(Json(group_json(w.arm.resource_group(&sid, &rg)?)).into_response())
}

/// `az group exists`: 204 or 404, no body (a refused token too).
async fn head_group(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, caller: Result<Caller<ArmCaller>, ArmError>) -> Response {
    let result = caller.and_then(|Caller(caller)| {
        let w = s.world();
        w.arm.subscription(&sid)?;
        w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/resourceGroups/read", &group_scope(&sid, &rg))?;
        w.arm.resource_group(&sid, &rg).map(|_| ())
    });
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (e.parts().0, Body::empty()).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    location: Option<String>,
    tags: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(rename = "managedBy")]
    _managed_by: Option<String>,
    #[serde(rename = "properties")]
    _properties: Option<serde_json::Value>,
    #[serde(rename = "id")]
    _id: Option<String>,
    #[serde(rename = "name")]
    _name: Option<String>,
    #[serde(rename = "type")]
    _type: Option<String>,
}

async fn put_group(
    Sim(s): Sim,
    Path((sid, rg)): Path<(String, String)>,
    Caller(caller): Caller<ArmCaller>,
    body: Bytes,
) -> Result<Response, ArmError> {
    let parsed: GroupBody = serde_json::from_slice(&body).map_err(|e| ArmError::InvalidRequestContent { detail: e.to_string() })?;
    let mut w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/resourceGroups/write", &group_scope(&sid, &rg))?;
    match w.arm.put_resource_group(&sid, &rg, parsed.location.as_deref(), parsed.tags)? {
        Upsert::Created(g) => Ok((StatusCode::CREATED, Json(group_json(&g))).into_response()),
        Upsert::Updated(g) => Ok((StatusCode::OK, Json(group_json(&g))).into_response()),
    }
}

fn operation_location(s: &Shared, sid: &str, op: &str, api_version: &str) -> String {
    format!("{}/subscriptions/{sid}/operationresults/{op}?api-version={api_version}", s.config.base_url)
}

fn accepted(location: String) -> Response {
    let mut resp = StatusCode::ACCEPTED.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    h.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    resp
}

async fn delete_group(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, Query(q): Q, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let mut w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, "Microsoft.Resources/subscriptions/resourceGroups/delete", &group_scope(&sid, &rg))?;
    let w = &mut *w;
    let op = w.arm.delete_resource_group(&mut w.ids, &sid, &rg, s.clock.now_ms())?;
    Ok(accepted(operation_location(&s, &sid, &op.id, api_version(&q))))
}

async fn operation_result(Sim(s): Sim, Path((sid, op)): Path<(String, String)>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    w.arm.subscription(&sid)?;
    let Some(operation) = w.arm.operation(&sid, &op) else {
        return Err(ArmError::NotFound { path: format!("/subscriptions/{sid}/operationresults/{op}") });
    };
    if operation.done {
        Ok(StatusCode::OK.into_response())
    } else {
        Ok(accepted(operation_location(&s, &sid, &op, api_version(&q))))
    }
}

/// The `Location` of a cluster deletion: 202 while running, 204 when done.
async fn cluster_operation_result(Sim(s): Sim, Path((sid, _loc, op)): Path<(String, String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let o = w.arm.operation(&sid, &op).ok_or_else(|| ArmError::NotFound { path: format!("operationresults/{op}") })?;
    if o.done {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        let mut resp = StatusCode::ACCEPTED.into_response();
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        Ok(resp)
    }
}
