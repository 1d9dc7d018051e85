//! Transcript records of the gateway's calls: headers and bodies as sent and received, with
//! every secret the run knows redacted. The host and content-length headers only restate the
//! target and the body, so they are left out.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;

use super::error::TransportError;
use super::gateway::query_string;
use crate::bindings::{CloudRequest, Service};
use crate::clock::RunClock;
use crate::redact::Redactor;
use crate::report::tokens;
use crate::transcript::{Record, RecordedRequest, RecordedResponse, Transcript};

/// The most of one body a record keeps: a step's transcript stays bounded by its call budget
/// times this, however large the bodies it sends.
pub const RECORDED_BODY_CAP: usize = 64 << 10;

/// Redacted text cut to the cap, with a marker saying how long the body was. Redaction comes
/// first, so a cut never leaves half a secret.
fn truncated(mut text: String, original_len: usize) -> String {
    if text.len() <= RECORDED_BODY_CAP {
        return text;
    }
    let mut cut = RECORDED_BODY_CAP;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    text.push_str(&format!("…<truncated: the body was {original_len} bytes>"));
    text
}

pub(crate) struct Recorder {
    pub transcript: Arc<Transcript>,
    pub redactor: Arc<Redactor>,
    pub clock: RunClock,
}

impl Recorder {
    /// A call the gateway refused before sending: what was asked, and why not.
    pub fn refusal(&self, step: &str, req: &CloudRequest, why: &str) {
        let mut url = req.path.clone();
        if !req.query.is_empty() {
            url = format!("{url}?{}", query_string(&req.query));
        }
        self.transcript.push(Record {
            seq: 0,
            time: self.clock.stamp(),
            step: step.into(),
            service: req.service.to_string(),
            request: RecordedRequest { method: req.method.clone(), url, headers: BTreeMap::new(), body: serde_json::Value::Null },
            response: None,
            error: Some(self.redactor.text(why)),
        });
    }

    /// A request that was sent, with its answer or the transport's error.
    pub fn exchange(&self, step: &str, service: Service, req: &http::Request<Bytes>, result: &Result<http::Response<Bytes>, TransportError>, retries: u32) {
        let r = &self.redactor;
        let url = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
        let request = RecordedRequest {
            method: req.method().to_string(),
            url: r.text(&url),
            headers: self.headers(req.headers(), true),
            body: self.body(req.headers(), req.body(), false),
        };
        let (response, error) = match result {
            Ok(resp) => (
                Some(RecordedResponse {
                    status: resp.status().as_u16(),
                    headers: self.headers(resp.headers(), false),
                    body: self.body(resp.headers(), resp.body(), service == Service::Login),
                    retries,
                }),
                None,
            ),
            Err(e) => (None, Some(r.text(&e.to_string()))),
        };
        let seq = self.transcript.push(Record { seq: 0, time: self.clock.stamp(), step: step.into(), service: service.to_string(), request, response, error });
        if self.transcript.keeps_tokens() {
            self.transcript.note_tokens(seq, carried_tokens(req, result));
        }
    }

    fn headers(&self, headers: &http::HeaderMap, request: bool) -> BTreeMap<String, String> {
        headers
            .iter()
            // The host header only restates the target; content-length restates the body.
            .filter(|(k, _)| !(request && *k == http::header::HOST) && *k != http::header::CONTENT_LENGTH)
            .map(|(k, v)| (k.as_str().to_string(), self.redactor.header(k.as_str(), &String::from_utf8_lossy(v.as_bytes()))))
            .collect()
    }

    /// A body as JSON, form text or text, redacted. `learn`: the body is the token service's
    /// answer, whose secret fields the host learns (their values vanish from later records).
    fn body(&self, headers: &http::HeaderMap, body: &[u8], learn: bool) -> serde_json::Value {
        if body.is_empty() {
            return serde_json::Value::Null;
        }
        let ct = headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if ct.contains("json") {
            if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) {
                if learn { self.redactor.json_learning(&mut v) } else { self.redactor.json(&mut v) }
                if body.len() <= RECORDED_BODY_CAP {
                    return v;
                }
                return serde_json::Value::String(truncated(v.to_string(), body.len()));
            }
        }
        match std::str::from_utf8(body) {
            Ok(text) => {
                let redacted = if ct.starts_with("application/x-www-form-urlencoded") { self.redactor.form(text) } else { self.redactor.text(text) };
                serde_json::Value::String(truncated(redacted, body.len()))
            }
            Err(_) => serde_json::Value::String(format!("<{} bytes of binary>", body.len())),
        }
    }
}

/// The tokens a request and its answer carried, decoded from the raw exchange (the record
/// itself has them redacted).
fn carried_tokens(req: &http::Request<Bytes>, result: &Result<http::Response<Bytes>, TransportError>) -> Vec<tokens::DecodedToken> {
    let content_type = |h: &http::HeaderMap| h.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut found = tokens::in_headers("request", req.headers());
    found.extend(tokens::in_body("request", &content_type(req.headers()), req.body()));
    if let Ok(resp) = result {
        found.extend(tokens::in_body("response", &content_type(resp.headers()), resp.body()));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_over_the_cap_are_cut_at_a_char_boundary_with_a_marker() {
        assert_eq!(truncated("short".into(), 5), "short");
        let long = "é".repeat(RECORDED_BODY_CAP); // two bytes each
        let cut = truncated(long, 2 * RECORDED_BODY_CAP);
        assert!(cut.ends_with(&format!("…<truncated: the body was {} bytes>", 2 * RECORDED_BODY_CAP)));
        assert!(cut.len() <= RECORDED_BODY_CAP + 60);
    }

    #[test]
    fn a_cut_inside_a_character_steps_back_to_its_start() {
        // One ASCII byte, then two-byte characters: the cap falls inside one of them.
        let text = format!("a{}", "é".repeat(RECORDED_BODY_CAP));
        let cut = truncated(text.clone(), text.len());
        let kept = cut.split('…').next().unwrap();
        assert_eq!(kept.len(), RECORDED_BODY_CAP - 1, "the half character is dropped, nothing more");
        assert!(text.starts_with(kept));
    }

    #[test]
    fn a_secret_across_the_cut_is_redacted_before_cutting() {
        let redactor = Arc::new(Redactor::new());
        let secret = "S".repeat(40);
        redactor.learn(&secret);
        let rec = Recorder { transcript: Arc::new(Transcript::in_memory()), redactor, clock: RunClock::Real };
        let mut text = "a".repeat(RECORDED_BODY_CAP - 20);
        text.push_str(&secret);
        text.push_str("tail");
        let v = rec.body(&http::HeaderMap::new(), text.as_bytes(), false);
        let s = v.as_str().unwrap();
        assert!(!s.contains("SSSSS"), "no part of the secret survives the cut");
        assert!(s.contains("<redacted>") || s.ends_with("bytes>"));
    }
}
