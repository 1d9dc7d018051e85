//! The middleware that injects a rule's fault, innermost in each service's stack, so the
//! service's own middleware writes the error body as for any of its errors.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use super::FAULT_HEADER;
use super::schedule::decide;
use crate::router::Sim;

/// What a service's fault answer may name.
pub struct FaultContext<'a> {
    pub status: u16,
    pub method: &'a str,
    pub path: &'a str,
    /// The retry-after the rule sends, in seconds.
    pub retry_after_secs: u64,
    /// The simulator's now, as ARM's diagnostic text writes it (`20260101T000000Z`).
    pub timestamp: String,
    /// A fresh id from the seed (tracking id).
    pub id: String,
}

/// The answer a service gives for an injected status (its own error body).
pub(crate) type FaultAnswer = fn(&FaultContext<'_>) -> Response;

/// A service's routes with faults injected innermost: the layers the service adds after
/// this write the injected answer's body as they write any of its errors.
pub(crate) fn injecting(routes: axum::Router, service: &'static str, answer: FaultAnswer) -> axum::Router {
    routes.layer(axum::middleware::from_fn_with_state((service, answer), inject))
}

/// Marks an answer the connection should be dropped for instead (served: the socket closes
/// without a response; in process: a transport error).
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

/// Served simulators wait real time for latency, up to this; in process it is virtual.
const MAX_REAL_LATENCY: Duration = Duration::from_secs(5);

pub(crate) async fn inject(State((service, answer)): State<(&'static str, FaultAnswer)>, Sim(s): Sim, req: Request, next: Next) -> Response {
    let Some(profile) = s.config.faults.as_ref().filter(|p| !p.rules.is_empty()) else {
        return next.run(req).await;
    };
    let (injection, id) = {
        let mut w = s.world();
        let f = decide(profile, s.config.seed, &mut w.fault_counts, service, req.method().as_str(), req.uri().path());
        let id = if f.is_some() { w.ids.guid().to_string() } else { String::new() };
        (f, id)
    };
    let Some(f) = injection else { return next.run(req).await };
    if f.latency_ms > 0 {
        if s.config.is_served() {
            tokio::time::sleep(Duration::from_millis(f.latency_ms as u64).min(MAX_REAL_LATENCY)).await;
        } else {
            s.clock.advance(Duration::from_millis(f.latency_ms as u64));
        }
    }
    let mut resp = if f.drop {
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = axum::http::StatusCode::BAD_GATEWAY;
        r.extensions_mut().insert(Dropped);
        r
    } else if let Some(status) = f.status {
        let ctx = FaultContext {
            status,
            method: req.method().as_str(),
            path: req.uri().path(),
            retry_after_secs: f.retry_after_secs.unwrap_or(0),
            timestamp: crate::clock::arm_diagnostic_timestamp(s.clock.now()),
            id,
        };
        let mut r = answer(&ctx);
        if let Some(secs) = f.retry_after_secs {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    } else {
        next.run(req).await
    };
    if let Ok(v) = HeaderValue::from_str(&f.mark) {
        resp.headers_mut().insert(FAULT_HEADER, v);
    }
    resp
}

/// Headers an error answer had before its service wrote the body (`Retry-After`, the fault
/// mark), carried over to the rewritten answer; not the body's own.
pub(crate) fn keep_headers(from: &axum::http::HeaderMap, to: &mut axum::http::HeaderMap) {
    for (k, v) in from {
        if k != header::CONTENT_TYPE && k != header::CONTENT_LENGTH && !to.contains_key(k) {
            to.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    #[test]
    fn a_rewritten_error_keeps_the_headers_it_had_but_not_the_bodys_own() {
        let mut from = HeaderMap::new();
        from.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        from.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        from.insert(header::RETRY_AFTER, HeaderValue::from_static("3"));
        from.insert("x-ms-request-id", HeaderValue::from_static("old"));
        let mut to = HeaderMap::new();
        to.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        to.insert("x-ms-request-id", HeaderValue::from_static("new"));
        keep_headers(&from, &mut to);
        assert_eq!(to[header::CONTENT_TYPE], "application/json");
        assert!(!to.contains_key(header::CONTENT_LENGTH));
        assert_eq!(to[header::RETRY_AFTER], "3");
        assert_eq!(to["x-ms-request-id"], "new", "what the writer set stays");
    }
}
