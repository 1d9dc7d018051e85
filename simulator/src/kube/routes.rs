//! The API server's wire, at `/k8s/{fqdn}/…` on the simulator: discovery, resources (with
//! Table output), access reviews; authentication, then authorization, then the operation.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::Extension;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Value, json};

use super::authn::{self, Authenticated};
use super::authorizer::{authorize, kubernetes_rbac};
use super::error::KubeError;
use super::model::{KINDS, Kind, KubeCluster, kind};
use super::rbac::{self, Attributes, Decision};
use super::table;
use super::x509::PeerCertificate;
use crate::router::Sim;
use crate::arm::aks::ManagedCluster;
use crate::arm::rbac::RoleAssignment;
use crate::login::caller::bearer;
use crate::state::Shared;

pub(crate) fn routes() -> Router {
    Router::new().route("/k8s/{fqdn}", any(root)).route("/k8s/{fqdn}/{*rest}", any(handle))
}

async fn root(
    state: Sim,
    Path(fqdn): Path<String>,
    method: Method,
    q: Query<HashMap<String, String>>,
    headers: HeaderMap,
    peer: Option<Extension<PeerCertificate>>,
    body: Bytes,
) -> Result<Response, KubeError> {
    handle(state, Path((fqdn, String::new())), method, q, headers, peer, body).await
}

/// What a request path names.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    NonResource(String),
    Resource { kind: &'static Kind, namespace: String, name: String, subresource: String },
    Review(&'static str),
}

fn parse(path: &str) -> Result<Target, KubeError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] if !rest.is_empty() => ("", "v1", rest),
        ["apis", "authorization.k8s.io", "v1", r] if matches!(*r, "selfsubjectaccessreviews" | "subjectaccessreviews" | "selfsubjectrulesreviews") => {
            return Ok(Target::Review(match *r {
                "selfsubjectaccessreviews" => "selfsubjectaccessreviews",
                "subjectaccessreviews" => "subjectaccessreviews",
                _ => "selfsubjectrulesreviews",
            }));
        }
        ["apis", "authentication.k8s.io", "v1" | "v1beta1", "selfsubjectreviews"] => return Ok(Target::Review("selfsubjectreviews")),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Ok(Target::NonResource(format!("/{}", segs.join("/")))),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, more @ ..] if !more.is_empty() => (ns.to_string(), more),
        other => (String::new(), other),
    };
    let (resource, name, sub) = match rest {
        [r] => (*r, "", ""),
        [r, n] => (*r, *n, ""),
        [r, n, s] => (*r, *n, *s),
        _ => return Err(KubeError::path_not_found(path)),
    };
    let k = kind(group, resource).filter(|k| k.version == version).ok_or_else(|| KubeError::path_not_found(path))?;
    for (what, segment) in [("Namespace", namespace.as_str()), ("Name", name)] {
        if let Some(why) = invalid_path_segment(segment) {
            return Err(KubeError::bad_request(format!("{what} parameter invalid: {segment:?}: {why}")));
        }
    }
    if k.namespaced != !namespace.is_empty() && !(k.namespaced && namespace.is_empty() && name.is_empty()) {
        return Err(KubeError::path_not_found(path));
    }
    Ok(Target::Resource { kind: k, namespace, name: name.to_string(), subresource: sub.to_string() })
}

/// The apiserver's rule for a name that travels as a path segment (`IsValidPathSegmentName`).
fn invalid_path_segment(segment: &str) -> Option<String> {
    match segment {
        "." | ".." => Some(format!("may not be '{segment}'")),
        s if s.contains('/') => Some("may not contain '/'".into()),
        s if s.contains('%') => Some("may not contain '%'".into()),
        _ => None,
    }
}

fn verb(method: &Method, has_name: bool, watch: bool) -> &'static str {
    match (method.as_str(), has_name) {
        ("GET", _) if watch => "watch",
        ("GET", true) => "get",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "get",
    }
}

fn forbidden(attrs: &Attributes, d: &Decision) -> KubeError {
    let message = rbac::forbidden_message(attrs, &d.reason);
    match &attrs.target {
        rbac::Target::Resource(r) => KubeError::forbidden(message, &r.resource, &r.api_group, &r.name),
        rbac::Target::NonResource { .. } => KubeError::forbidden(message, "", "", ""),
    }
}

async fn handle(
    Sim(s): Sim,
    Path((fqdn, rest)): Path<(String, String)>,
    method: Method,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    peer: Option<Extension<PeerCertificate>>,
    body: Bytes,
) -> Result<Response, KubeError> {
    serve(&s, &fqdn, &format!("/{rest}"), &method, &q, &headers, peer.as_ref().map(|p| &p.0), &body)
}

#[allow(clippy::too_many_arguments)]
fn serve(s: &Shared, fqdn: &str, path: &str, method: &Method, q: &HashMap<String, String>, headers: &HeaderMap, peer: Option<&PeerCertificate>, body: &[u8]) -> Result<Response, KubeError> {
    // kubectl sends its reviews (`auth can-i`, `auth whoami`) as protobuf; they are read
    // here. Other protobuf bodies get a 415 (answers are always JSON, which every client also
    // accepts).
    let converted;
    let protobuf = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("protobuf"));
    let body = if protobuf && (path.ends_with("/selfsubjectaccessreviews") || path.ends_with("/selfsubjectreviews")) {
        converted = serde_json::to_vec(&super::protobuf::review(body).map_err(KubeError::bad_request)?).expect("JSON");
        converted.as_slice()
    } else if protobuf {
        return Err(KubeError {
            code: 415,
            reason: "UnsupportedMediaType",
            message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/apply-patch+yaml".into(),
            details: None,
        });
    } else {
        body
    };
    let now = s.clock.now_ms();
    let mut guard = s.world();
    let w = &mut *guard;
    let cluster = w.arm.cluster_at(fqdn).cloned().ok_or_else(|| KubeError::path_not_found(path))?;
    if cluster.provisioning_state == "Creating" || cluster.provisioning_state == "Deleting" {
        return Err(KubeError::unavailable(format!("the API server of {} is not reachable while the cluster is {}", cluster.name, cluster.provisioning_state.to_lowercase())));
    }
    let key = cluster.id().to_ascii_lowercase();
    if !w.kube.contains_key(&key) {
        let kc = KubeCluster::new(&mut w.ids, cluster.node_count(), &cluster.kubernetes_version, cluster.created_ms);
        w.kube.insert(key.clone(), kc);
    }
    let client_ca = s.cluster_pki(&cluster);
    let who = authn::authenticate_request(&w.directory, &s.key, &cluster, &client_ca.ca_der, peer, bearer(headers).ok(), now / 1000).map_err(|e| {
        tracing::debug!("kube authentication failed: {e}");
        KubeError::unauthorized()
    })?;
    let target = parse(path)?;
    let kc = w.kube.get(&key).expect("inserted above");
    match target {
        Target::NonResource(p) => {
            let verb = method.as_str().to_ascii_lowercase();
            let attrs = Attributes::non_resource(who.user.clone(), verb, p.clone());
            let d = authorize(&w.arm.role_assignments, &cluster, kc, &who, &attrs);
            if !d.allowed {
                return Err(forbidden(&attrs, &d));
            }
            non_resource(&p, &cluster, headers)
        }
        Target::Review(r) => {
            let attrs = Attributes::resource(who.user.clone(), "create", if r == "selfsubjectreviews" { "authentication.k8s.io" } else { "authorization.k8s.io" }, r, "", "", "");
            let d = authorize(&w.arm.role_assignments, &cluster, kc, &who, &attrs);
            if !d.allowed {
                return Err(forbidden(&attrs, &d));
            }
            review(&w.arm.role_assignments, &cluster, kc, &who, r, body)
        }
        Target::Resource { kind: k, namespace, name, subresource } => {
            let verb = verb(method, !name.is_empty(), q.get("watch").is_some_and(|v| v == "true" || v == "1"));
            let attrs = Attributes::resource(who.user.clone(), verb, k.group, k.resource, subresource.clone(), namespace.clone(), name.clone());
            let d = authorize(&w.arm.role_assignments, &cluster, kc, &who, &attrs);
            if !d.allowed {
                return Err(forbidden(&attrs, &d));
            }
            if !subresource.is_empty() {
                return Err(KubeError::path_not_found(path));
            }
            // `fieldValidation=Strict` (kubectl's default): fields the kind's schema does not
            // declare are refused, in the API server's words. `Warn` lets them through.
            if matches!(verb, "create" | "update" | "patch") && q.get("fieldValidation").is_some_and(|v| v.eq_ignore_ascii_case("Strict")) {
                if let Ok(doc) = serde_json::from_slice::<Value>(body) {
                    let unknown = super::openapi::unknown_fields(k.group, k.version, k.kind, &doc);
                    if !unknown.is_empty() {
                        let fields: Vec<String> = unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
                        return Err(KubeError::bad_request(format!("{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}", k.kind, k.version, k.kind, fields.join(", "))));
                    }
                }
            }
            let table = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=Table"));
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_string();
            let kc = w.kube.get_mut(&key).expect("inserted above");
            resource(&mut w.ids, kc, k, verb, &namespace, &name, table, &content_type, body, now)
        }
    }
}

fn non_resource(path: &str, c: &ManagedCluster, headers: &HeaderMap) -> Result<Response, KubeError> {
    let v = &c.kubernetes_version;
    let minor = v.split('.').nth(1).unwrap_or("0");
    match path {
        "/version" | "/version/" => Ok(Json(json!({
            "major": "1", "minor": minor, "gitVersion": format!("v{v}"), "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean", "buildDate": "2025-10-01T00:00:00Z", "goVersion": "go1.23.8", "compiler": "gc", "platform": "linux/amd64",
        }))
        .into_response()),
        "/api" => Ok(Json(json!({ "kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{ "clientCIDR": "0.0.0.0/0", "serverAddress": "10.0.0.1:443" }] })).into_response()),
        "/apis" => {
            let mut groups: Vec<(&str, &str)> = KINDS.iter().filter(|k| !k.group.is_empty()).map(|k| (k.group, k.version)).collect();
            groups.extend([("authorization.k8s.io", "v1"), ("authentication.k8s.io", "v1")]);
            groups.dedup();
            let groups: Vec<Value> = groups
                .iter()
                .map(|(g, v)| json!({ "name": g, "versions": [{ "groupVersion": format!("{g}/{v}"), "version": v }], "preferredVersion": { "groupVersion": format!("{g}/{v}"), "version": v } }))
                .collect();
            Ok(Json(json!({ "kind": "APIGroupList", "apiVersion": "v1", "groups": groups })).into_response())
        }
        "/healthz" | "/livez" | "/readyz" => Ok((StatusCode::OK, "ok").into_response()),
        "/openapi/v2" => openapi_v2(headers),
        "/openapi/v3" | "/openapi/v3/" => Ok(Json(super::openapi::index()).into_response()),
        p if p.starts_with("/openapi/v3/") => match super::openapi::document(&p["/openapi/v3/".len()..]) {
            Some(doc) => Ok(([(header::CONTENT_TYPE, "application/json")], doc).into_response()),
            None => Err(KubeError::path_not_found(p)),
        },
        p => {
            let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
            let (group, version) = match segs.as_slice() {
                ["api", "v1"] => ("", "v1"),
                ["apis", g, v] => (*g, *v),
                _ => return Err(KubeError::path_not_found(p)),
            };
            let mut resources: Vec<Value> = KINDS
                .iter()
                .filter(|k| k.group == group && k.version == version)
                .map(|k| {
                    let verbs: Vec<&str> = if k.writable { vec!["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] } else { vec!["get", "list", "watch"] };
                    json!({ "name": k.resource, "singularName": k.kind.to_ascii_lowercase(), "namespaced": k.namespaced, "kind": k.kind, "verbs": verbs, "shortNames": k.short_names })
                })
                .collect();
            match group {
                "authorization.k8s.io" => {
                    for (r, k) in [("selfsubjectaccessreviews", "SelfSubjectAccessReview"), ("selfsubjectrulesreviews", "SelfSubjectRulesReview"), ("subjectaccessreviews", "SubjectAccessReview")] {
                        resources.push(json!({ "name": r, "singularName": "", "namespaced": false, "kind": k, "verbs": ["create"] }));
                    }
                }
                "authentication.k8s.io" => resources.push(json!({ "name": "selfsubjectreviews", "singularName": "", "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"] })),
                _ => {}
            }
            if resources.is_empty() {
                return Err(KubeError::path_not_found(p));
            }
            let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
            Ok(Json(json!({ "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources })).into_response())
        }
    }
}

/// `/openapi/v2` as kube-openapi's handler answers it: the document with its `ETag` (and
/// `Vary: Accept`), and `304 Not Modified` when `If-None-Match` names that tag. Only JSON is
/// served: an Accept header that allows no JSON (kubectl's protobuf-only one) gets 406.
fn openapi_v2(headers: &HeaderMap) -> Result<Response, KubeError> {
    let accept: Vec<&str> = headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect();
    if !accepts_json(&accept.join(",")) {
        return Err(KubeError::not_acceptable(format!(
            "only the following media types are accepted: application/json (the OpenAPI v2 document is served as JSON only, not as {})",
            accept.join(", ")
        )));
    }
    let etag = super::openapi::v2_etag();
    // Go's `http.ServeContent`: a list of tags, `*`, and weak tags compared weakly.
    let cached = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag);
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::VARY, "Accept")]).into_response());
    }
    Ok(([(header::CONTENT_TYPE, "application/json"), (header::ETAG, etag), (header::VARY, "Accept")], super::openapi::v2_document()).into_response())
}

/// Whether an Accept header lets the answer be JSON: an empty header (any type), or a media
/// range `*/*`, `application/*` or `application/json` that its q does not refuse (`q=0`).
/// Other q-values do not matter: JSON is the only form there is.
fn accepts_json(accept: &str) -> bool {
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|clause| {
        let mut parts = clause.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let refused = parts.any(|p| p.split_once('=').is_some_and(|(k, v)| k.trim().eq_ignore_ascii_case("q") && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        !refused && matches!(media.as_str(), "*/*" | "application/*" | "application/json")
    })
}

/// The kind a review endpoint takes.
fn review_kind(endpoint: &str) -> &'static str {
    match endpoint {
        "selfsubjectreviews" => "SelfSubjectReview",
        "selfsubjectrulesreviews" => "SelfSubjectRulesReview",
        "subjectaccessreviews" => "SubjectAccessReview",
        _ => "SelfSubjectAccessReview",
    }
}

/// SelfSubjectAccessReview, SubjectAccessReview, SelfSubjectRulesReview, SelfSubjectReview.
fn review(assignments: &[RoleAssignment], c: &ManagedCluster, kc: &KubeCluster, who: &Authenticated, kind_name: &str, body: &[u8]) -> Result<Response, KubeError> {
    let mut v: Value = serde_json::from_slice(body).map_err(|e| KubeError::bad_request(format!("the request body is not JSON: {e}")))?;
    if !v.is_object() {
        return Err(KubeError::bad_request(format!("the request body must be a JSON object (a {}), not {v}", review_kind(kind_name))));
    }
    match kind_name {
        "selfsubjectreviews" => {
            v["status"] = json!({ "userInfo": { "username": who.user.name, "groups": who.user.groups } });
            // Azure AD users carry their object id; a client certificate names none.
            if let Some(oid) = &who.object_id {
                v["status"]["userInfo"]["extra"] = json!({ "oid": [oid] });
            }
            return Ok((StatusCode::CREATED, Json(v)).into_response());
        }
        "selfsubjectrulesreviews" => {
            let ns = v["spec"]["namespace"].as_str().unwrap_or("default").to_string();
            let (res, non) = kubernetes_rbac(c, kc).rules_for(&who.user, &ns);
            let res: Vec<Value> = res.iter().map(|r| json!({ "verbs": r.verbs, "apiGroups": r.api_groups, "resources": r.resources, "resourceNames": r.resource_names })).collect();
            let non: Vec<Value> = non.iter().map(|r| json!({ "verbs": r.verbs, "nonResourceURLs": r.non_resource_urls })).collect();
            v["status"] = json!({ "resourceRules": res, "nonResourceRules": non, "incomplete": false });
            return Ok((StatusCode::CREATED, Json(v)).into_response());
        }
        _ => {}
    }
    let spec = v["spec"].clone();
    let (user, subject) = if kind_name == "subjectaccessreviews" {
        let groups: Vec<String> = spec["groups"].as_array().map(|a| a.iter().filter_map(|g| g.as_str().map(String::from)).collect()).unwrap_or_default();
        let u = rbac::UserInfo { name: spec["user"].as_str().unwrap_or_default().to_string(), groups };
        (u.clone(), Authenticated { user: u, object_id: None })
    } else {
        (who.user.clone(), who.clone())
    };
    let attrs = if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        let f = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        Attributes::resource(user, f("verb"), f("group"), f("resource"), f("subresource"), f("namespace"), f("name"))
    } else if let Some(n) = spec.get("nonResourceAttributes").filter(|r| r.is_object()) {
        Attributes::non_resource(user, n["verb"].as_str().unwrap_or_default(), n["path"].as_str().unwrap_or_default())
    } else {
        return Err(KubeError::invalid(review_kind(kind_name), "", "spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified"));
    };
    let d = authorize(assignments, c, kc, &subject, &attrs);
    let mut status = json!({ "allowed": d.allowed });
    if !d.reason.is_empty() {
        status["reason"] = json!(d.reason);
    }
    v["status"] = status;
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// RFC 7386 JSON merge patch (kubectl's strategic merge patches are applied the same way:
/// for the objects served here they coincide except for keyed lists).
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn resource(ids: &mut crate::ids::IdSource, kc: &mut KubeCluster, k: &'static Kind, verb: &str, ns: &str, name: &str, as_table: bool, content_type: &str, body: &[u8], now: i64) -> Result<Response, KubeError> {
    let rv = kc.resource_version.to_string();
    let parse_body = |body: &[u8]| -> Result<Value, KubeError> {
        if content_type.contains("yaml") {
            serde_yaml::from_slice(body).map_err(|e| KubeError::bad_request(format!("the request body is not YAML: {e}")))
        } else {
            serde_json::from_slice(body).map_err(|e| KubeError::bad_request(format!("the request body is not JSON: {e}")))
        }
    };
    let read_only = || KubeError::method_not_allowed();
    match verb {
        "list" | "watch" => {
            let items: Vec<Value> = kc.list(k, (!ns.is_empty()).then_some(ns)).into_iter().map(|o| o.body.clone()).collect();
            if as_table {
                return Ok(Json(table::table(k.resource, &items, &rv, now)).into_response());
            }
            let api_version = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
            Ok(Json(json!({ "kind": format!("{}List", k.kind), "apiVersion": api_version, "metadata": { "resourceVersion": rv }, "items": items })).into_response())
        }
        "get" => {
            let o = kc.get(k, ns, name)?.body.clone();
            if as_table {
                return Ok(Json(table::table(k.resource, &[o], &rv, now)).into_response());
            }
            Ok(Json(o).into_response())
        }
        "create" => {
            if !k.writable {
                return Err(read_only());
            }
            let v = parse_body(body)?;
            if let Some(body_ns) = v["metadata"]["namespace"].as_str() {
                if k.namespaced && body_ns != ns {
                    return Err(KubeError::bad_request(format!("the namespace of the provided object ({body_ns}) does not match the namespace sent on the request ({ns})")));
                }
            }
            Ok((StatusCode::CREATED, Json(kc.create(ids, k, ns, v, now)?)).into_response())
        }
        "update" => {
            if !k.writable {
                return Err(read_only());
            }
            let v = parse_body(body)?;
            match kc.get(k, ns, name) {
                Ok(_) => Ok(Json(kc.update(k, ns, name, v)?).into_response()),
                Err(_) => Ok((StatusCode::CREATED, Json(kc.create(ids, k, ns, v, now)?)).into_response()),
            }
        }
        "patch" => {
            if !k.writable {
                return Err(read_only());
            }
            if content_type.starts_with("application/json-patch+json") {
                return Err(KubeError { code: 415, reason: "UnsupportedMediaType", message: "JSON patches (RFC 6902) are not supported by this API server; use a merge patch".into(), details: None });
            }
            let patch = parse_body(body)?;
            match kc.get(k, ns, name) {
                Ok(o) => {
                    let mut merged = o.body.clone();
                    merge_patch(&mut merged, &patch);
                    if let Some(m) = merged["metadata"].as_object_mut() {
                        m.remove("resourceVersion");
                    }
                    Ok(Json(kc.update(k, ns, name, merged)?).into_response())
                }
                // Server-side apply creates what does not exist.
                Err(e) if content_type.starts_with("application/apply-patch") => {
                    let _ = e;
                    Ok((StatusCode::CREATED, Json(kc.create(ids, k, ns, patch, now)?)).into_response())
                }
                Err(e) => Err(e),
            }
        }
        "delete" => {
            if !k.writable {
                return Err(read_only());
            }
            kc.delete(k, ns, name)?;
            Ok(Json(json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": { "name": name, "group": k.group, "kind": k.resource } })).into_response())
        }
        _ => Err(KubeError::method_not_allowed()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_resources_and_namespaces() {
        let t = parse("/api/v1/namespaces/kube-system/pods").unwrap();
        assert!(matches!(t, Target::Resource { kind, ref namespace, ref name, .. } if kind.resource == "pods" && namespace == "kube-system" && name.is_empty()));
        let t = parse("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/x").unwrap();
        assert!(matches!(t, Target::Resource { kind, ref name, .. } if kind.resource == "clusterrolebindings" && name == "x"));
        assert!(matches!(parse("/api/v1/pods").unwrap(), Target::Resource { kind, .. } if kind.resource == "pods"));
        assert_eq!(parse("/version").unwrap(), Target::NonResource("/version".into()));
        assert!(parse("/api/v1/widgets").is_err());
        assert_eq!(parse("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").unwrap(), Target::Review("selfsubjectaccessreviews"));
    }

    #[test]
    fn dot_segments_are_not_names() {
        for path in ["/api/v1/namespaces/../pods", "/api/v1/namespaces/./pods/x", "/api/v1/namespaces/default/pods/..", "/api/v1/namespaces/a%2Fb/pods"] {
            let e = parse(path).unwrap_err();
            assert_eq!((e.code, e.reason), (400, "BadRequest"), "{path}");
        }
        assert!(parse("/api/v1/namespaces/kube-system/pods/coredns-1").is_ok());
    }

    #[test]
    fn json_is_acceptable_unless_the_accept_header_leaves_it_out() {
        const PB: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
        const PB_NEW: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
        for ok in ["", " ", "*/*", "application/json", "Application/JSON", "application/*", &format!("{PB}, application/json"), &format!("{PB_NEW};q=1.0, */*;q=0.1"), "application/json;q=0.5", "text/html, application/json; charset=utf-8"] {
            assert!(accepts_json(ok), "{ok:?}");
        }
        for refused in [PB, PB_NEW, &format!("{PB}, {PB_NEW}"), "application/json;q=0", &format!("{PB}, */*; q=0.0"), "text/html", "application/yaml"] {
            assert!(!accepts_json(refused), "{refused:?}");
        }
    }

    /// A simulator with one cluster whose API server is up; its FQDN and admin token.
    fn cluster() -> (crate::Simulator, String, String) {
        let sim = crate::Simulator::new(crate::SimConfig::in_process(1), crate::VirtualClock::default());
        let mut w = sim.shared.world();
        let tenant = w.directory.home_tenant.clone();
        let spec = crate::arm::aks::ClusterSpec { location: Some("eastus".into()), ..Default::default() };
        let mut c = crate::arm::aks::create(&mut w.ids, "00000000-aaaa", "rg", "aks", spec, &tenant, 0, crate::era::Era::Today).unwrap();
        c.provisioning_state = "Succeeded".into();
        let (fqdn, token) = (c.fqdn.clone(), c.admin_token.clone());
        w.arm.clusters.push(c);
        drop(w);
        (sim, fqdn, token)
    }

    async fn get(sim: &crate::Simulator, path: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Bytes) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::get(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = sim.router().oneshot(req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = resp.into_parts();
        (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap())
    }

    #[tokio::test]
    async fn openapi_v2_is_json_with_an_etag_and_refuses_protobuf_only() {
        let (sim, fqdn, token) = cluster();
        let url = format!("/k8s/{fqdn}/openapi/v2");
        let bearer = format!("Bearer {token}");
        let auth = ("authorization", bearer.as_str());

        for accept in [None, Some("*/*"), Some("application/json"), Some("application/com.github.proto-openapi.spec.v2@v1.0+protobuf, application/json;q=0.9")] {
            let headers: Vec<(&str, &str)> = std::iter::once(auth).chain(accept.map(|a| ("accept", a))).collect();
            let (status, h, body) = get(&sim, &url, &headers).await;
            assert_eq!(status, StatusCode::OK, "{accept:?}: {}", String::from_utf8_lossy(&body));
            assert_eq!(h[header::CONTENT_TYPE], "application/json");
            assert_eq!(h[header::ETAG], super::super::openapi::v2_etag());
            assert_eq!(&body[..], super::super::openapi::v2_document().as_bytes());
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["swagger"], "2.0");
        }

        for pb in ["application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"] {
            let (status, h, body) = get(&sim, &url, &[auth, ("accept", pb)]).await;
            assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{pb}");
            assert_eq!(h[header::CONTENT_TYPE], "application/json");
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!((v["kind"].as_str(), v["status"].as_str(), v["reason"].as_str(), v["code"].as_u64()), (Some("Status"), Some("Failure"), Some("NotAcceptable"), Some(406)), "{v}");
            assert!(v["message"].as_str().unwrap().contains("JSON only"), "{v}");
        }

        let etag = super::super::openapi::v2_etag();
        for inm in [etag.to_string(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".into()] {
            let (status, h, body) = get(&sim, &url, &[auth, ("if-none-match", &inm)]).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED, "{inm}");
            assert_eq!(h[header::ETAG], etag);
            assert!(body.is_empty());
        }
        let (status, _, body) = get(&sim, &url, &[auth, ("if-none-match", "\"0123\"")]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.len(), super::super::openapi::v2_document().len());
    }

    #[tokio::test]
    async fn a_review_body_that_is_not_an_object_is_a_bad_request() {
        use tower::ServiceExt;
        let (sim, fqdn, token) = cluster();
        for (path, body) in [("apis/authentication.k8s.io/v1/selfsubjectreviews", "[]"), ("apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "5"), ("apis/authorization.k8s.io/v1/selfsubjectrulesreviews", "\"x\"")] {
            let req = axum::http::Request::post(format!("/k8s/{fqdn}/{path}")).header("authorization", format!("Bearer {token}")).header("content-type", "application/json").body(axum::body::Body::from(body)).unwrap();
            let resp = sim.router().oneshot(req).await.unwrap();
            assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
            let v: Value = serde_json::from_slice(&axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap()).unwrap();
            assert!(v["message"].as_str().unwrap().contains("must be a JSON object"), "{v}");
        }
    }

    #[tokio::test]
    async fn openapi_v2_needs_a_credential_as_v3_does() {
        let (sim, fqdn, token) = cluster();
        for path in ["openapi/v2", "openapi/v3"] {
            let (status, _, body) = get(&sim, &format!("/k8s/{fqdn}/{path}"), &[]).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(serde_json::from_slice::<Value>(&body).unwrap()["reason"], "Unauthorized");
            let (status, _, _) = get(&sim, &format!("/k8s/{fqdn}/{path}"), &[("authorization", &format!("Bearer {token}"))]).await;
            assert_eq!(status, StatusCode::OK, "{path}");
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut t, &json!({"b": {"c": null, "e": 4}, "f": [1]}));
        assert_eq!(t, json!({"a": 1, "b": {"d": 3, "e": 4}, "f": [1]}));
    }
}
