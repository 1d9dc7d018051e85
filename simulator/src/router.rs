//! One Router for every service, at the paths the real hosts use: the token service at
//! `/{tenant}/…`, ARM at `/subscriptions/…` and `/tenants`. The routes are built once per
//! process and serve every simulator in it: each request carries its simulator ([`Sim`]),
//! so a flow in process does not pay for building a hundred routes.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{Request, StatusCode, request::Parts};

use crate::state::Shared;
use crate::{arm, graph, kube, login};

/// The simulator a request is for, as a handler's argument. Put on the request by the
/// simulator's own [`router`]; no client can set it. Only the shared routes, called without
/// `router` (a test), can miss it: that is a plain 500 here, and in `Caller` the service's own.
#[derive(Clone)]
pub(crate) struct Sim(pub Arc<Shared>);

impl<S: Send + Sync> FromRequestParts<S> for Sim {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Sim>().cloned().ok_or((StatusCode::INTERNAL_SERVER_ERROR, "the request reached the simulator's routes without its simulator"))
    }
}

/// Each service's routes, with its own middleware; what no service serves gets ARM's 404.
fn services() -> Router {
    Router::new()
        .merge(login::routes::routes())
        .merge(graph::routes::routes())
        .merge(graph::portal::routes())
        .merge(crate::faults::inject::injecting(kube::routes::routes(), "kube", kube::error::injected))
        .merge(arm::routes::routes())
        .fallback(arm::routes::not_found)
}

/// `shared`'s Router: the process's routes, with every request marked as this simulator's.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    static SERVICES: OnceLock<Router> = OnceLock::new();
    let services = SERVICES.get_or_init(services).clone();
    let sim = Sim(shared);
    // Before routing: a cluster's API server, addressed by its own name, is routed to its
    // `/k8s/<fqdn>` routes; ARM paths are case-insensitive, so `resourceGroups` and
    // `resourcegroups` reach the same handler.
    let normalized = tower::util::MapRequest::new(services, move |mut req: Request<Body>| {
        req.extensions_mut().insert(sim.clone());
        normalize_path(route_by_host(req))
    });
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

    async fn answer(router: Router, uri: &str) -> (u16, String) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let resp = router.oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()).await.unwrap();
        let status = resp.status().as_u16();
        (status, String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_routes_are_shared_and_each_request_carries_its_own_simulator() {
        use crate::{SimConfig, Simulator, VirtualClock};
        let (one, two) = (Simulator::new(SimConfig::in_process(1), VirtualClock::default()), Simulator::new(SimConfig::in_process(2), VirtualClock::default()));
        let tenant = |sim: &Simulator| sim.operator().tenant_id;
        for sim in [&one, &two] {
            let (status, body) = answer(sim.router(), &format!("/{}/v2.0/.well-known/openid-configuration", tenant(sim))).await;
            assert_eq!(status, 200);
            assert!(body.contains(&tenant(sim)), "each simulator answers for its own tenant");
        }
        assert_ne!(tenant(&one), tenant(&two));
        // Without its simulator (which `router` never allows), a request gets a 500, not
        // another simulator's world.
        for uri in ["/v1.0/me", "/subscriptions/s/resourcegroups?api-version=2024-11-01", "/k8s/x.hcp.eastus.azmk8s.io/api"] {
            let (status, body) = answer(services(), uri).await;
            assert_eq!(status, 500, "{uri}");
            assert!(body.contains("without its simulator") || body.contains("InternalServerError"), "{uri}: {body}");
        }
    }
}
