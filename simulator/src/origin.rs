//! The origin a client addressed. Through `sim serve`'s proxy a client reaches the simulator
//! as `login.microsoftonline.com`, `graph.microsoft.com` or `management.azure.com`, and its
//! `Host` header says so: the URLs the simulator hands back (discovery documents, issuers,
//! operation and next-page links) then name that host, as Azure's do. Any other `Host`
//! (the direct endpoint, in process) gets the simulator's own base URL. Only these names
//! are taken from a client: a `Host` header cannot make the simulator name another site.


use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;

use crate::router::Sim;

/// The Azure hosts the simulator answers as.
pub const AZURE_HOSTS: &[&str] = &["login.microsoftonline.com", "graph.microsoft.com", "management.azure.com", "main.iam.ad.ext.azure.com"];

/// AKS API servers: `<name>-<rg>-<sub>-<hash>.hcp.<region>.azmk8s.io`.
pub const CLUSTER_DOMAIN: &str = "azmk8s.io";

/// Whether `host` (lower case, no port) is a well-formed name in [`CLUSTER_DOMAIN`].
pub fn is_cluster_host(host: &str) -> bool {
    let in_domain = host.strip_suffix(CLUSTER_DOMAIN).is_some_and(|rest| rest.ends_with('.') && rest.len() > 1);
    in_domain && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The token service's own origin: v2 tokens it issues there name it in `iss`.
pub const LOGIN: &str = "https://login.microsoftonline.com";

/// The name a request addressed (its `Host`, lower case, without `:443`).
pub(crate) fn host_name(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(http::header::HOST)?.to_str().ok()?.to_ascii_lowercase();
    Some(host.strip_suffix(":443").map(str::to_string).unwrap_or(host))
}

/// `https://<host>` when the request addressed one of [`AZURE_HOSTS`] (on port 443), else
/// `base_url`.
pub fn of(headers: &HeaderMap, base_url: &str) -> String {
    match host_name(headers) {
        Some(name) if AZURE_HOSTS.contains(&name.as_str()) => format!("https://{name}"),
        _ => base_url.to_string(),
    }
}

/// Whether `origin` is Azure's own (the client came through the proxy).
pub fn is_azure(origin: &str) -> bool {
    origin.strip_prefix("https://").is_some_and(|h| AZURE_HOSTS.contains(&h))
}

/// Links the services hand back (operation and `Location` headers, `@odata.nextLink`) name
/// the origin the client addressed: a request that came as `management.azure.com` is told
/// to poll `management.azure.com`, not the simulator's own address.
pub(crate) async fn links_at_origin(Sim(s): Sim, req: Request, next: Next) -> Response {
    let origin = of(req.headers(), &s.config.base_url);
    let resp = next.run(req).await;
    if origin == s.config.base_url {
        return resp;
    }
    let base = s.config.base_url.as_str();
    let (mut parts, body) = resp.into_parts();
    for name in [http::header::LOCATION, http::HeaderName::from_static("azure-asyncoperation")] {
        let moved = parts.headers.get(&name).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix(base)).map(|rest| format!("{origin}{rest}"));
        if let Some(v) = moved.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            parts.headers.insert(name, v);
        }
    }
    let is_json = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.contains("json"));
    if !is_json {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let text = String::from_utf8_lossy(&bytes).replace(&format!("\"{base}/"), &format!("\"{origin}/"));
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(h: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(http::header::HOST, h.parse().unwrap());
        m
    }

    #[test]
    fn only_azure_hosts_are_taken_from_the_client() {
        let base = "https://127.0.0.1:8443";
        assert_eq!(of(&with_host("login.microsoftonline.com"), base), "https://login.microsoftonline.com");
        assert_eq!(of(&with_host("Management.Azure.com:443"), base), "https://management.azure.com");
        assert_eq!(of(&with_host("127.0.0.1:8443"), base), base);
        assert_eq!(of(&with_host("evil.example"), base), base);
        assert_eq!(of(&with_host("graph.microsoft.com:8080"), base), base);
        assert_eq!(of(&HeaderMap::new(), base), base);
    }

    #[test]
    fn azure_origins_are_only_azure_hosts() {
        assert!(is_azure("https://management.azure.com"));
        assert!(is_azure(LOGIN));
        assert!(!is_azure("https://127.0.0.1:8443"));
        assert!(!is_azure("http://management.azure.com"));
        assert!(!is_azure("https://management.azure.com.evil.example"));
    }

    /// Through the router, as a client through the proxy sends it: Graph's next page names the
    /// host the client addressed, and the simulator's own address names itself.
    #[tokio::test]
    async fn links_name_the_host_the_client_addressed() {
        use tower::ServiceExt;
        let sim = crate::Simulator::new(crate::SimConfig::in_process(1), crate::VirtualClock::default());
        let op = sim.operator();
        let form = format!("grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default", op.client_id, op.client_secret);
        let send = |host: &'static str, req: http::request::Builder, body: String| {
            let router = sim.router();
            async move {
                let resp = router.oneshot(req.header(http::header::HOST, host).body(Body::from(body)).unwrap()).await.unwrap();
                let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
                serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
            }
        };
        let token = send("login.microsoftonline.com", http::Request::post(format!("/{}/oauth2/v2.0/token", op.tenant_id)).header("content-type", "application/x-www-form-urlencoded"), form).await;
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let page = |host: &'static str| send(host, http::Request::get("/v1.0/users?$top=1").header("authorization", bearer.clone()), String::new());
        let proxied = page("graph.microsoft.com").await;
        assert!(proxied["@odata.nextLink"].as_str().unwrap().starts_with("https://graph.microsoft.com/v1.0/users?"), "{proxied}");
        let direct = page("127.0.0.1:8443").await;
        let base = crate::SimConfig::in_process(1).base_url;
        assert!(direct["@odata.nextLink"].as_str().unwrap().starts_with(&format!("{base}/v1.0/users?")), "{direct}");
    }
}
