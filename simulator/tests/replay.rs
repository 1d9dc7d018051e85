//! Replays exchanges recorded against the real Azure (tests/recordings/, see SOURCES.md)
//! against the simulator, and compares what a client can tell apart: the status, the error
//! code, and the JSON key paths of the answer. Values the service generates (ids, times,
//! tokens) are not compared. The scrubbed placeholders of a recording are mapped to the
//! simulator's own: the tenant, the client id and secret, the resource.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;
use support::*;

/// One go-vcr (v2) interaction: what was sent and what came back.
#[derive(serde::Deserialize)]
struct Cassette {
    interactions: Vec<Interaction>,
}

#[derive(serde::Deserialize)]
struct Interaction {
    request: Request,
    response: Response,
}

#[derive(serde::Deserialize)]
struct Request {
    method: String,
    url: String,
    #[serde(default)]
    form: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(serde::Deserialize)]
struct Response {
    code: u16,
    body: String,
}

fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("tests/recordings")
}

/// Every key path of a JSON document: `a.b`, `a[].c` (array items share one path).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                out.insert(p.clone());
                key_paths(child, &p, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| key_paths(i, &format!("{prefix}[]"), out)),
        _ => {}
    }
}

/// The error code a client branches on: the token service's `error` and first AADSTS number.
fn error_code(v: &Value) -> Option<String> {
    let error = v.get("error")?;
    Some(match error {
        Value::String(e) => format!("{e} {}", v["error_codes"][0]),
        other => other["code"].as_str().unwrap_or_default().to_string(),
    })
}

/// The simulator's stand-ins for a recording's scrubbed values.
struct Stand {
    tenant: String,
    client_id: String,
    client_secret: String,
    /// kubelogin asks for the AKS server app (`6dae42f8-…`) as the resource.
    resource: String,
}

impl Stand {
    fn url(&self, recorded: &str) -> String {
        let path = recorded.strip_prefix("https://login.microsoftonline.com").unwrap_or(recorded);
        path.replace("AZURE_TENANT_ID", &self.tenant)
    }

    fn form_value(&self, key: &str, value: &str) -> String {
        match (key, value) {
            ("client_id", "[REDACTED]") => self.client_id.clone(),
            ("client_secret", "[REDACTED]") => self.client_secret.clone(),
            ("scope", v) => v.replace("[REDACTED]", &self.resource),
            (_, v) => v.replace("AZURE_TENANT_ID", &self.tenant),
        }
    }
}

#[derive(Default)]
struct Tally {
    matched: usize,
    mismatched: Vec<String>,
}

async fn replay(s: &Sim, stand: &Stand, file: &str, tally: &mut Tally) {
    let text = std::fs::read_to_string(recordings().join(file)).unwrap();
    let cassette: Cassette = serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    for (i, it) in cassette.interactions.iter().enumerate() {
        let url = stand.url(&it.request.url);
        let resp = if it.request.method == "POST" {
            let pairs: Vec<(String, String)> = it.request.form.iter().map(|(k, vs)| (k.clone(), stand.form_value(k, &vs[0]))).collect();
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            s.form(&url, &pairs).await
        } else {
            s.send(&it.request.method, &url, &[], vec![]).await
        };
        let what = format!("{file} #{i} {} {}", it.request.method, it.request.url);
        let mut problems = Vec::new();
        if resp.status != it.response.code {
            problems.push(format!("status {} where Azure answered {}", resp.status, it.response.code));
        }
        if let Ok(recorded) = serde_json::from_str::<Value>(&it.response.body) {
            let ours: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
            if error_code(&recorded) != error_code(&ours) {
                problems.push(format!("error {:?} where Azure said {:?}", error_code(&ours), error_code(&recorded)));
            }
            let (mut want, mut have) = (BTreeSet::new(), BTreeSet::new());
            key_paths(&recorded, "", &mut want);
            key_paths(&ours, "", &mut have);
            let missing: Vec<&String> = want.difference(&have).collect();
            if !missing.is_empty() {
                problems.push(format!("missing {missing:?}"));
            }
        }
        if problems.is_empty() {
            tally.matched += 1;
        } else {
            tally.mismatched.push(format!("{what}: {}", problems.join("; ")));
        }
    }
}

#[tokio::test]
async fn kubelogin_spn_recordings_replay_against_the_token_service() {
    let s = Sim::new(1);
    let op = s.sim.operator();
    let stand = Stand { tenant: s.tenant.clone(), client_id: op.client_id.clone(), client_secret: op.client_secret.clone(), resource: AKS_SERVER.into() };
    let mut tally = Tally::default();
    for file in ["kubelogin/ServicePrincipalTokenFromSecretVCR.yaml", "kubelogin/ServicePrincipalTokenFromBadSecretVCR.yaml"] {
        replay(&s, &stand, file, &mut tally).await;
    }
    println!("{} matched, {} mismatched", tally.matched, tally.mismatched.len());
    assert!(tally.mismatched.is_empty(), "{} matched, {} mismatched:\n{}", tally.matched, tally.mismatched.len(), tally.mismatched.join("\n"));
    assert_eq!(tally.matched, 6, "every recorded exchange was replayed");
}
