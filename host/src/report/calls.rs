//! What a click on an arrow shows: the calls it stands for, as the transcript has them, and
//! the tokens they carried, decoded, with the claims that decide access marked.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::model::{Arrow, Diagram};
use super::tokens::{DECISIVE_CLAIMS, DecodedToken};
use crate::redact::REDACTED;
use crate::transcript::Record;

#[derive(Debug, Serialize)]
pub struct CallView<'a> {
    pub step: &'a str,
    pub service: String,
    pub label: String,
    /// The first and the last of folded polls in full; those between only by number.
    pub records: Vec<&'a Record>,
    pub elided: Vec<u64>,
    pub tokens: Vec<TokenView>,
    /// Where the transcript has a token redacted and no decoded copy was kept.
    pub redacted: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TokenView {
    pub seq: u64,
    pub place: String,
    pub header: String,
    pub claims: Vec<Claim>,
}

#[derive(Debug, Serialize)]
pub struct Claim {
    pub name: String,
    pub value: String,
    /// `aud`, `iss`, `groups`/`_claim_names`, `upn`/`oid`, `exp`: what decides the answer.
    pub decisive: bool,
    /// A time claim as a date.
    pub note: Option<String>,
}

pub fn views<'a>(d: &Diagram, records: &'a [Record], tokens: &BTreeMap<u64, Vec<DecodedToken>>) -> Vec<CallView<'a>> {
    d.arrows.iter().map(|a| view(a, d, records, tokens)).collect()
}

fn view<'a>(a: &Arrow, d: &Diagram, records: &'a [Record], tokens: &BTreeMap<u64, Vec<DecodedToken>>) -> CallView<'a> {
    let all: Vec<&Record> = a.records.iter().map(|&i| &records[i]).collect();
    let (shown, elided) = if all.len() > 2 {
        (vec![all[0], all[all.len() - 1]], all[1..all.len() - 1].iter().map(|r| r.seq).collect())
    } else {
        (all.clone(), Vec::new())
    };
    let decoded: Vec<TokenView> = all.iter().flat_map(|r| tokens.get(&r.seq).into_iter().flatten().map(|t| token_view(r.seq, t))).collect();
    let redacted = if decoded.is_empty() { all.iter().flat_map(|r| redacted_tokens(r)).collect() } else { Vec::new() };
    CallView { step: &all[0].step, service: d.lanes[a.to].label.clone(), label: format!("{} {}", a.method, a.path), records: shown, elided, tokens: decoded, redacted }
}

fn token_view(seq: u64, t: &DecodedToken) -> TokenView {
    let claims = match &t.claims {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| Claim {
                name: k.clone(),
                value: match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
                decisive: DECISIVE_CLAIMS.contains(&k.as_str()),
                note: matches!(k.as_str(), "exp" | "iat" | "nbf").then(|| v.as_i64().and_then(date)).flatten(),
            })
            .collect(),
        _ => Vec::new(),
    };
    TokenView { seq, place: t.place.clone(), header: t.header.to_string(), claims }
}

fn date(secs: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

/// Tokens the transcript shows only as `<redacted>`: the Authorization header, and token
/// fields of a JSON answer.
fn redacted_tokens(r: &Record) -> Vec<String> {
    const TOKEN_FIELDS: &[&str] = &["access_token", "id_token", "refresh_token", "token", "accessToken"];
    let mut found = Vec::new();
    if r.request.headers.get("authorization").is_some_and(|v| v.ends_with(REDACTED)) {
        found.push(format!("#{} request header authorization", r.seq));
    }
    if let Some(Value::Object(body)) = r.response.as_ref().map(|x| &x.body) {
        for k in TOKEN_FIELDS {
            if body.get(*k).and_then(Value::as_str) == Some(REDACTED) {
                found.push(format!("#{} response body {k}", r.seq));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_call_whose_token_was_not_kept_says_where_the_transcript_redacted_it() {
        let mut r: Record = serde_json::from_value(json!({"seq": 4, "time": "t", "step": "s", "service": "login", "request": {"method": "POST", "url": "/t/oauth2/token"}, "response": {"status": 200, "body": {"access_token": REDACTED, "id_token": REDACTED}}})).unwrap();
        r.request.headers.insert("authorization".into(), format!("Bearer {REDACTED}"));
        let records = vec![r];
        let d = super::super::model::build(&records);
        let v = views(&d, &records, &BTreeMap::new());
        assert_eq!(v[0].redacted, ["#4 request header authorization", "#4 response body access_token", "#4 response body id_token"]);
        let token = DecodedToken { place: "response body access_token".into(), header: json!({}), claims: json!({"aud": "x"}) };
        let v = views(&d, &records, &BTreeMap::from([(4, vec![token])]));
        assert_eq!((v[0].tokens.len(), v[0].redacted.len()), (1, 0), "a kept token is shown instead");
    }

    #[test]
    fn decisive_claims_are_marked_and_times_read_as_dates() {
        let t = DecodedToken { place: "response body access_token".into(), header: json!({"alg": "RS256"}), claims: json!({"aud": "x", "exp": 1767229200, "name": "Alice", "groups": ["g1"]}) };
        let v = token_view(7, &t);
        let by_name = |n: &str| v.claims.iter().find(|c| c.name == n).unwrap();
        assert!(by_name("aud").decisive && by_name("groups").decisive && !by_name("name").decisive);
        assert_eq!(by_name("groups").value, r#"["g1"]"#);
        assert_eq!(by_name("exp").note.as_deref(), Some("2026-01-01T01:00:00Z"));
    }
}
