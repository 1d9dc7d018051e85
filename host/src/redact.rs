//! Keeps secrets out of transcripts, logs and error messages. Two nets: values the run knows
//! are secret (secret inputs and outputs, the operator's credentials, every token that
//! passed through) are replaced wherever they appear; and fields that always hold secrets
//! (`access_token`, `client_secret`, `secretText`, `Authorization`, …) are replaced by name,
//! and their values learnt for the first net.

use std::sync::RwLock;

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

#[derive(Default)]
pub struct Redactor {
    secrets: RwLock<Vec<String>>,
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
        let mut s = self.secrets.write().unwrap_or_else(|p| p.into_inner());
        if !s.iter().any(|k| k == secret) {
            s.push(secret.to_string());
            // Longest first, so a secret containing another is replaced whole.
            s.sort_by_key(|k| std::cmp::Reverse(k.len()));
        }
    }

    pub fn text(&self, s: &str) -> String {
        let secrets = self.secrets.read().unwrap_or_else(|p| p.into_inner());
        let mut out = s.to_string();
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    pub fn header(&self, name: &str, value: &str) -> String {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return match value.split_once(' ') {
                Some((scheme, rest)) => {
                    self.learn(rest.trim());
                    format!("{scheme} {REDACTED}")
                }
                None => {
                    self.learn(value);
                    REDACTED.to_string()
                }
            };
        }
        self.text(value)
    }

    /// Redacts a JSON document in place.
    pub fn json(&self, v: &mut serde_json::Value) {
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
                let secret_keys: Vec<String> = map.keys().filter(|k| is_secret_key(k, map)).cloned().collect();
                for (k, val) in map.iter_mut() {
                    if secret_keys.contains(k) && val.is_string() {
                        *val = serde_json::Value::String(REDACTED.into());
                    } else {
                        self.replace_json(val);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.replace_json(i)),
            serde_json::Value::String(s) => *s = self.text(s),
            _ => {}
        }
    }

    /// Redacts an `application/x-www-form-urlencoded` body, keeping its shape.
    pub fn form(&self, body: &str) -> String {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            if SECRET_FORM_KEYS.contains(&k.as_str()) {
                self.learn(v);
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
    let lower = k.to_ascii_lowercase();
    if SECRET_JSON_KEYS.contains(&lower.as_str()) {
        return true;
    }
    lower == "value"
        && siblings
            .get("name")
            .and_then(|n| n.as_str())
            .is_some_and(|n| n.starts_with("cluster") && n != "cluster")
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
        r.json(&mut v);
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
        assert_eq!(r.text("s3cr3t-value"), "<redacted>");
    }
}
