//! Tokens a call carried, decoded for the report: header and claims, signature elided.
//!
//! Transcripts redact every token, so the claims are taken from the raw exchange as it is
//! recorded (when a run keeps them) and kept beside the transcript, never in it. Without the
//! signature a decoded token cannot be replayed: it shows what the token said, not the
//! credential itself.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One token found in a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodedToken {
    /// Where it was: `request header authorization`, `response body access_token`, …
    pub place: String,
    pub header: Value,
    pub claims: Value,
}

/// The claims that decide whether a cluster, Graph or ARM accepts a token.
pub const DECISIVE_CLAIMS: &[&str] = &["aud", "iss", "groups", "_claim_names", "_claim_sources", "upn", "oid", "exp"];

/// A compact JWS (`header.payload.signature`, base64url JSON header): worth trying to decode.
pub fn looks_like_jwt(s: &str) -> bool {
    s.starts_with("eyJ") && s.split('.').count() == 3 && !s.contains(char::is_whitespace)
}

/// The header and claims of a token, without checking its signature (the report only shows
/// what the token says; the service that received it did the checking).
pub fn decode(place: &str, token: &str) -> Option<DecodedToken> {
    let data = jsonwebtoken::dangerous::insecure_decode::<Value>(token).ok()?;
    Some(DecodedToken { place: place.to_string(), header: serde_json::to_value(&data.header).ok()?, claims: data.claims })
}

/// Tokens in headers: `Authorization: Bearer …` and any header whose value is a token.
pub fn in_headers(side: &str, headers: &http::HeaderMap) -> Vec<DecodedToken> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let value = value.to_str().ok()?;
            let token = value.strip_prefix("Bearer ").unwrap_or(value).trim();
            looks_like_jwt(token).then(|| decode(&format!("{side} header {name}"), token)).flatten()
        })
        .collect()
}

/// Tokens anywhere in a body: JSON string values (at any depth) or form fields.
pub fn in_body(side: &str, content_type: &str, body: &[u8]) -> Vec<DecodedToken> {
    let mut found = Vec::new();
    if content_type.contains("json") {
        if let Ok(v) = serde_json::from_slice::<Value>(body) {
            walk_json(&format!("{side} body"), &v, &mut found);
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in form_urlencoded::parse(body) {
            if looks_like_jwt(&v) {
                found.extend(decode(&format!("{side} form {k}"), &v));
            }
        }
    }
    found
}

fn walk_json(place: &str, v: &Value, found: &mut Vec<DecodedToken>) {
    match v {
        Value::String(s) if looks_like_jwt(s) => found.extend(decode(place, s)),
        Value::Object(m) => m.iter().for_each(|(k, v)| walk_json(&format!("{place} {k}"), v, found)),
        Value::Array(a) => a.iter().for_each(|v| walk_json(place, v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_secret(b"test-key");
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).unwrap()
    }

    #[test]
    fn a_bearer_header_and_a_json_body_give_their_claims() {
        let t = token(&serde_json::json!({"aud": "6dae42f8", "upn": "alice@contoso.onmicrosoft.com", "exp": 1767229200}));
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {t}").parse().unwrap());
        let found = in_headers("request", &headers);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].place, "request header authorization");
        assert_eq!(found[0].claims["upn"], "alice@contoso.onmicrosoft.com");
        assert_eq!(found[0].header["alg"], "HS256");

        let body = serde_json::to_vec(&serde_json::json!({"token_type": "Bearer", "access_token": t, "nested": [{"id_token": t}]})).unwrap();
        let found = in_body("response", "application/json", &body);
        assert_eq!(found.iter().map(|d| d.place.as_str()).collect::<Vec<_>>(), ["response body access_token", "response body nested id_token"]);
    }

    #[test]
    fn opaque_or_broken_values_are_not_tokens() {
        assert!(!looks_like_jwt("<redacted>"));
        assert!(!looks_like_jwt("eyJhbGciOi.only-two"));
        assert_eq!(decode("x", "eyJub3QganNvbg.eyJ9.sig"), None);
        let form = b"grant_type=client_credentials&client_secret=%3Credacted%3E";
        assert!(in_body("request", "application/x-www-form-urlencoded", form).is_empty());
    }
}
