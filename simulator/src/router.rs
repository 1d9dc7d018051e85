//! One Router for every service, at the paths the real hosts use: the token service at
//! `/{tenant}/…`, ARM at `/subscriptions/…` and `/tenants`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::Request;

use crate::state::Shared;
use crate::{arm, graph, kube, login};

/// Each service's routes, with its own middleware; what no service serves gets ARM's 404.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let services = Router::new()
        .merge(login::routes::routes(shared.clone()))
        .merge(graph::routes::routes(shared.clone()))
        .merge(graph::portal::routes())
        .merge(crate::faults::inject::injecting(kube::routes::routes(), &shared, "kube", kube::error::injected))
        .merge(arm::routes::routes(shared.clone()))
        .fallback(arm::routes::not_found)
        .with_state(shared);
    // Before routing: a cluster's API server, addressed by its own name, is routed to its
    // `/k8s/<fqdn>` routes; ARM paths are case-insensitive, so `resourceGroups` and
    // `resourcegroups` reach the same handler.
    let normalized = tower::util::MapRequest::new(services, |req| normalize_path(route_by_host(req)));
    Router::new().fallback_service(normalized)
}

/// Path keywords ARM matches case-insensitively. Names between them keep their case.
const ARM_KEYWORDS: &[&str] = &[
    "subscriptions",
    "resourcegroups",
    "providers",
    "operationresults",
    "operationstatuses",
    "operations",
    "locations",
    "microsoft.containerservice",
    "managedclusters",
    "microsoft.authorization",
    "roleassignments",
    "roledefinitions",
    "listclusteradmincredential",
    "listclusterusercredential",
    "rotateclustercertificates",
    "kubernetesversions",
];

/// Graph path keywords, matched case-insensitively (`oAuth2PermissionGrants`).
const GRAPH_KEYWORDS: &[&str] = &[
    "applications",
    "serviceprincipals",
    "oauth2permissiongrants",
    "users",
    "groups",
    "members",
    "me",
    "directoryobjects",
    "getbyids",
    "getmembergroups",
    "checkmembergroups",
    "addpassword",
    "removepassword",
    "approleassignedto",
    "approleassignments",
    "directory",
    "deleteditems",
    "restore",
    "owners",
    "memberof",
];

/// A cluster's API server is addressed by its own name (through the proxy, `Host: <fqdn>`);
/// its routes live under `/k8s/<fqdn>`.
fn route_by_host(mut req: Request<Body>) -> Request<Body> {
    let Some(host) = crate::origin::host_name(req.headers()).filter(|h| crate::origin::is_cluster_host(h)) else { return req };
    if req.uri().path().starts_with("/k8s/") {
        return req;
    }
    let routed = format!("/k8s/{host}{}", req.uri().path_and_query().map_or("/", |p| p.as_str()));
    let mut parts = req.uri().clone().into_parts();
    if let Ok(pq) = routed.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
    req
}

fn normalize_path(mut req: Request<Body>) -> Request<Body> {
    let original = req.uri().path().to_string();
    // ARM reads `//subscriptions/…` as `/subscriptions/…`: the JavaScript SDKs send it, as
    // their templates put a `/` before a scope that starts with one.
    let trimmed = original.trim_start_matches('/');
    let path = if original.starts_with("//") && trimmed.get(.."subscriptions".len()).is_some_and(|p| p.eq_ignore_ascii_case("subscriptions")) {
        &original[original.len() - trimmed.len() - 1..]
    } else {
        original.as_str()
    };
    let lower_path = path.to_ascii_lowercase();
    let keywords = if lower_path.starts_with("/subscriptions") {
        ARM_KEYWORDS
    } else if lower_path.starts_with("/v1.0/") {
        GRAPH_KEYWORDS
    } else {
        return req;
    };
    let graph = keywords == GRAPH_KEYWORDS;
    let rewritten: Vec<String> = path
        .split('/')
        .enumerate()
        // Graph reads `/v1.0//applications` (what Kiota clients send from a base URL with a
        // trailing slash) as `/v1.0/applications`.
        .filter(|(i, seg)| !(graph && *i > 0 && seg.is_empty()))
        .map(|(_, seg)| {
            let lower = seg.to_ascii_lowercase();
            if keywords.contains(&lower.as_str()) { lower } else { seg.to_string() }
        })
        .collect();
    let rewritten = rewritten.join("/");
    if rewritten != original {
        let pq = match req.uri().query() {
            Some(q) => format!("{rewritten}?{q}"),
            None => rewritten,
        };
        let mut parts = req.uri().clone().into_parts();
        if let Ok(pq) = pq.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(uri: &str) -> String {
        normalize_path(Request::builder().uri(uri).body(Body::empty()).unwrap()).uri().to_string()
    }

    fn routed(host: &str, uri: &str) -> String {
        route_by_host(Request::builder().uri(uri).header("host", host).body(Body::empty()).unwrap()).uri().to_string()
    }

    #[test]
    fn a_clusters_own_name_reaches_its_routes() {
        assert_eq!(routed("x.hcp.eastus.azmk8s.io", "/api/v1/pods?limit=1"), "/k8s/x.hcp.eastus.azmk8s.io/api/v1/pods?limit=1");
        assert_eq!(routed("X.hcp.eastus.azmk8s.io:443", "/version"), "/k8s/x.hcp.eastus.azmk8s.io/version");
        // Other hosts, and paths already under /k8s/, go as they came.
        assert_eq!(routed("graph.microsoft.com", "/v1.0/me"), "/v1.0/me");
        assert_eq!(routed("127.0.0.1:8443", "/k8s/x.hcp.eastus.azmk8s.io/api"), "/k8s/x.hcp.eastus.azmk8s.io/api");
        assert_eq!(routed("evilazmk8s.io", "/api"), "/api");
    }

    #[test]
    fn keywords_lose_their_case_and_graph_its_doubled_slashes() {
        assert_eq!(normalized("/v1.0//Applications?$top=1"), "/v1.0/applications?$top=1");
        assert_eq!(normalized("/v1.0/servicePrincipals/AbC"), "/v1.0/serviceprincipals/AbC");
        assert_eq!(normalized("/subscriptions/S/resourceGroups/MyRG"), "/subscriptions/S/resourcegroups/MyRG");
        // ARM paths keep their slashes; other paths are left alone.
        assert_eq!(normalized("/subscriptions//x"), "/subscriptions//x");
        assert_eq!(normalized("/k8s/a//b"), "/k8s/a//b");
        // A scope put after a `/` (the JavaScript SDKs' templates).
        assert_eq!(normalized("//subscriptions/S/resourceGroups/rg?x=1"), "/subscriptions/S/resourcegroups/rg?x=1");
        assert_eq!(normalized("///Subscriptions/S"), "/subscriptions/S");
        assert_eq!(normalized("//v1.0/me"), "//v1.0/me");
    }
}
