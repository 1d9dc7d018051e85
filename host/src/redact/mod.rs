//! Keeps secrets out of transcripts, logs and error messages. Two nets: values the host knows
//! are secret (secret inputs and outputs, the operator's credentials, tokens the token
//! service issued) are replaced wherever they appear; and fields that always hold secrets
//! (`access_token`, `client_secret`, `secretText`, `Authorization`, …) are replaced by name.
//! Only the host adds to the first net: a plugin's own headers and bodies are redacted by
//! name, never learnt from.

use std::collections::HashSet;
use std::sync::RwLock;

mod matcher;

use matcher::SecretMatcher;

pub const REDACTED: &str = "<redacted>";

/// JSON fields whose values are always secret.
const SECRET_JSON_KEYS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "device_code",
    "password",
    "secrettext",
    "serverappsecret",
    "secret",
    "client-key-data",
    "token",
    "accesstoken",
];

/// Form fields whose values are always secret.
const SECRET_FORM_KEYS: &[&str] = &["client_secret", "password", "refresh_token", "device_code", "code", "client_assertion", "assertion"];

/// Headers whose values are always secret (the scheme is kept: `Bearer <redacted>`).
const SECRET_HEADERS: &[&str] = &["authorization", "cookie", "set-cookie", "x-ms-client-secret"];

/// Values shorter than this are not learnt: replacing them would mangle ordinary text.
const MIN_SECRET_LEN: usize = 6;

/// The run's known secrets and a matcher that finds them all in one pass (an automaton of
/// their first bytes, each find confirmed: `matcher.rs`). Only the
/// host adds to it: values it minted or attached, and inputs and outputs declared secret.
/// What a plugin sends (a header, a request body) is redacted by name but never learnt, so a
/// plugin cannot make the redactor hide other text.
#[derive(Default)]
pub struct Redactor {
    inner: RwLock<Known>,
}

/// Secrets learnt since the matcher was built wait in `pending`. Building copies and groups
/// every secret (tokens run to kilobytes) and a run learns a token at every sign-in, while a
/// fresh token rarely shows up in text that is not already redacted by name. So a text is
/// first searched for the pending secrets alone: if none occurs, the matcher of the others
/// gives exactly what one of all would, and it is rebuilt only when a pending secret is
/// really there (or too many wait).
#[derive(Default)]
struct Known {
    secrets: HashSet<String>,
    /// Built from every secret not in `pending`.
    matcher: Option<SecretMatcher>,
    pending: Vec<String>,
}

/// More pending secrets than this and the automaton is rebuilt at the next text.
const MAX_PENDING: usize = 32;

impl Known {
    fn pending_occurs_in(&self, s: &str) -> bool {
        self.pending.len() > MAX_PENDING || self.pending.iter().any(|p| s.contains(p.as_str()))
    }

    fn rebuild(&mut self) {
        self.matcher = SecretMatcher::new(&self.secrets);
        self.pending.clear();
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers a secret value: from now on it is replaced wherever it appears.
    pub fn learn(&self, secret: &str) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        if self.inner.read().unwrap_or_else(|p| p.into_inner()).secrets.contains(secret) {
            return;
        }
        let mut known = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if known.secrets.insert(secret.to_string()) {
            known.pending.push(secret.to_string());
        }
    }

    /// Every secret learnt so far, sorted (what a saved run keeps, so a resumed one hides
    /// what this one did).
    pub fn secrets(&self) -> Vec<String> {
        let mut all: Vec<String> = self.inner.read().unwrap_or_else(|p| p.into_inner()).secrets.iter().cloned().collect();
        all.sort();
        all
    }

    /// `s` with every known secret replaced. Where secrets overlap, the longest wins, so a
    /// secret that contains another is replaced whole.
    pub fn text(&self, s: &str) -> String {
        self.redacted(s).unwrap_or_else(|| s.to_string())
    }

    /// [`Redactor::text`], or `None` when `s` holds no known secret (most text: nothing is
    /// copied then).
    fn redacted(&self, s: &str) -> Option<String> {
        if s.len() < MIN_SECRET_LEN {
            return None;
        }
        {
            let known = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if !known.pending_occurs_in(s) {
                return known.matcher.as_ref()?.replace(s, REDACTED);
            }
        }
        let mut known = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if !known.pending.is_empty() {
            known.rebuild();
        }
        known.matcher.as_ref()?.replace(s, REDACTED)
    }

    /// A header value: secret headers keep only their scheme (`Bearer <redacted>`); others
    /// have known secrets replaced. Nothing is learnt from a header.
    pub fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return match value.split_once(' ') {
                Some((scheme, _)) => format!("{scheme} {REDACTED}"),
                None => REDACTED.to_string(),
            };
        }
        self.text(value)
    }

    /// Redacts a JSON document in place: secret fields by name, known secrets by value.
    pub fn json(&self, v: &mut serde_json::Value) {
        self.replace_json(v);
    }

    /// The same for an answer the host trusts to name its secrets (the token service's): the
    /// values of its secret fields are learnt first, so they vanish from later records too.
    pub fn json_learning(&self, v: &mut serde_json::Value) {
        self.learn_json(v);
        self.replace_json(v);
    }

    fn learn_json(&self, v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, val) in map {
                    if is_secret_key(k, map) {
                        if let serde_json::Value::String(s) = val {
                            self.learn(s);
                        }
                    }
                    self.learn_json(val);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| self.learn_json(i)),
            _ => {}
        }
    }

    fn replace_json(&self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                let secret_value = holds_a_secret_value(map);
                for (k, val) in map.iter_mut() {
                    if (is_secret_name(k) || (secret_value && k.eq_ignore_ascii_case("value"))) && val.is_string() {
                        *val = serde_json::Value::String(REDACTED.into());
                    } else {
                        self.replace_json(val);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.replace_json(i)),
            serde_json::Value::String(s) => {
                if let Some(r) = self.redacted(s) {
                    *s = r;
                }
            }
            _ => {}
        }
    }

    /// Redacts an `application/x-www-form-urlencoded` body, keeping its shape.
    pub fn form(&self, body: &str) -> String {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            if SECRET_FORM_KEYS.contains(&k.as_str()) {
                ser.append_pair(k, REDACTED);
            } else {
                ser.append_pair(k, &self.text(v));
            }
        }
        ser.finish()
    }
}

/// A key is secret by name, or as the `value` of an AKS kubeconfig entry (which holds keys
/// and tokens).
fn is_secret_key(k: &str, siblings: &serde_json::Map<String, serde_json::Value>) -> bool {
    is_secret_name(k) || (k.eq_ignore_ascii_case("value") && holds_a_secret_value(siblings))
}

/// A field whose value is always secret, whatever its case.
fn is_secret_name(k: &str) -> bool {
    SECRET_JSON_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s))
}

/// An AKS kubeconfig entry (`{"name": "clusterUser", "value": …}`): its `value` is secret.
fn holds_a_secret_value(object: &serde_json::Map<String, serde_json::Value>) -> bool {
    object.get("name").and_then(|n| n.as_str()).is_some_and(|n| n.starts_with("cluster") && n != "cluster")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn learnt_values_vanish_everywhere() {
        let r = Redactor::new();
        r.learn("hunter2-secret");
        assert_eq!(r.text("pw=hunter2-secret;"), "pw=<redacted>;");
        r.learn("abc");
        assert_eq!(r.text("abc"), "abc", "too short to learn");
    }

    #[test]
    fn secret_fields_are_replaced_by_name_and_then_known_by_value() {
        let r = Redactor::new();
        let mut v = json!({"token_type":"Bearer","access_token":"eyJ0eXAi.payload.sig","nested":{"secretText":"Q~abcdefgh"},"kubeconfigs":[{"name":"clusterUser","value":"YXBpVmVyc2lvbjog"}]});
        r.json_learning(&mut v);
        assert_eq!(v["access_token"], "<redacted>");
        assert_eq!(v["nested"]["secretText"], "<redacted>");
        assert_eq!(v["kubeconfigs"][0]["value"], "<redacted>");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(r.header("Authorization", "Bearer eyJ0eXAi.payload.sig"), "Bearer <redacted>");
        assert_eq!(r.text("echo eyJ0eXAi.payload.sig"), "echo <redacted>");
    }

    #[test]
    fn forms_keep_their_shape() {
        let r = Redactor::new();
        let out = r.form("grant_type=client_credentials&client_id=abc&client_secret=s3cr3t-value&scope=x%2F.default");
        assert_eq!(out, "grant_type=client_credentials&client_id=abc&client_secret=%3Credacted%3E&scope=x%2F.default");
        assert_eq!(r.text("s3cr3t-value"), "s3cr3t-value", "what a plugin sends is redacted by name, never learnt");
    }

    #[test]
    fn a_plugin_cannot_teach_the_redactor_through_a_header_or_a_request_body() {
        let r = Redactor::new();
        let subscription = "8f0c7e2a-0000-4000-8000-1234567890ab";
        assert_eq!(r.header("authorization", &format!("Bearer {subscription}")), "Bearer <redacted>");
        assert_eq!(r.header("Cookie", subscription), "<redacted>");
        let mut body = json!({"password": subscription, "client_secret": subscription});
        r.json(&mut body);
        assert_eq!(body, json!({"password": "<redacted>", "client_secret": "<redacted>"}));
        assert_eq!(r.text(&format!("/subscriptions/{subscription}/resourceGroups")), format!("/subscriptions/{subscription}/resourceGroups"));
    }

    #[test]
    fn the_longest_overlapping_secret_is_replaced_whole() {
        let r = Redactor::new();
        r.learn("abcdef");
        r.learn("abcdefghij");
        r.learn("ghijkl");
        assert_eq!(r.text("x abcdefghij y abcdef z ghijkl"), "x <redacted> y <redacted> z <redacted>");
        r.learn("zzzzzz");
        assert_eq!(r.text("zzzzzz abcdefghij"), "<redacted> <redacted>", "a new secret rebuilds the matcher");
    }

    #[test]
    fn redaction_is_linear_in_the_number_of_secrets() {
        // 20k distinct secrets and a long text: one automaton pass, not 20k replaces.
        let r = Redactor::new();
        for i in 0..20_000 {
            r.learn(&format!("secret-{i:08}"));
        }
        let text = "plain words and secret-00012345 and more ".repeat(2_000);
        let out = r.text(&text);
        assert_eq!(out.matches("<redacted>").count(), 2_000);
        assert!(!out.contains("secret-0"));
    }

    /// One automaton of every secret, built afresh: what `text` must always equal.
    fn reference(secrets: &[String], s: &str) -> String {
        let set: HashSet<&String> = secrets.iter().filter(|x| x.len() >= MIN_SECRET_LEN).collect();
        if set.is_empty() {
            return s.to_string();
        }
        let m = aho_corasick::AhoCorasick::builder().match_kind(aho_corasick::MatchKind::LeftmostLongest).build(set).unwrap();
        m.replace_all(s, &vec![REDACTED; m.patterns_len()])
    }

    proptest::proptest! {
        /// Learning and redacting interleaved in any order, with secrets that overlap and
        /// contain each other (a small alphabet), gives what one automaton of every secret
        /// learnt so far gives: waiting secrets never change the answer.
        #[test]
        fn pending_secrets_change_nothing(ops in proptest::collection::vec((proptest::bool::ANY, "[ab]{4,40}"), 1..60)) {
            let r = Redactor::new();
            let mut learnt = Vec::new();
            for (learn, s) in ops {
                if learn {
                    r.learn(&s);
                    learnt.push(s);
                } else {
                    let text = format!("x{s}y{s}");
                    proptest::prop_assert_eq!(r.text(&text), reference(&learnt, &text));
                }
            }
        }
    }
}
