//! The fault profile as written (a flow's `[faults]` table, or `sim serve --faults FILE`),
//! and the named presets.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::parse_duration;

/// Which faults a run gets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultProfile {
    /// Presets whose rules and settings come first: `flaky`, `slow`, `replication`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presets: Vec<String>,
    #[serde(default, rename = "rule", skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<FaultRule>,
    #[serde(default)]
    pub replication: Replication,
    #[serde(default)]
    pub operations: Operations,
}

/// One kind of fault: which requests, what happens to them, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FaultRule {
    /// Names the rule in the transcript's mark and in its counter (default: `rule-N`).
    #[serde(default)]
    pub name: Option<String>,
    /// `login`, `graph`, `arm`, `kube` or `any` (the default).
    #[serde(default = "any")]
    pub service: String,
    /// An HTTP method; any when left out.
    #[serde(default)]
    pub method: Option<String>,
    /// A path glob: `*` within one segment, `**` across segments (case-insensitive).
    #[serde(default = "all_paths")]
    pub path: String,
    /// 429, 500 or 503.
    #[serde(default)]
    pub status: Option<u16>,
    /// `Retry-After` sent with the status ("10s").
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Extra time the answer takes, in virtual time ("30s").
    #[serde(default)]
    pub latency: Option<String>,
    /// Close the connection without an answer (a client sees a reset).
    #[serde(default)]
    pub drop: bool,
    /// The share of matching requests hit, 0.0 to 1.0.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Hit exactly the Nth matching request (1-based).
    #[serde(default)]
    pub nth: Option<u64>,
}

fn any() -> String {
    "any".into()
}

fn all_paths() -> String {
    "/**".into()
}

/// How long a new directory object stays unknown elsewhere (0: at once).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Replication {
    /// ARM's principal lookup (role assignments, cluster create): `PrincipalNotFound`.
    #[serde(default)]
    pub principal: Option<String>,
    /// The token service, for new apps and new secrets: AADSTS700016, AADSTS7000215.
    #[serde(default)]
    pub token: Option<String>,
    /// Graph reads by id from another replica: 404 `Request_ResourceNotFound`.
    #[serde(default)]
    pub graph: Option<String>,
}

/// How long long-running operations take (virtual time), instead of the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Operations {
    #[serde(default)]
    pub create: Option<String>,
    #[serde(default)]
    pub update: Option<String>,
    #[serde(default)]
    pub delete: Option<String>,
}

pub const PRESETS: &[&str] = &["flaky", "slow", "replication"];

impl FaultProfile {
    /// A named preset.
    pub fn preset(name: &str) -> Result<FaultProfile, String> {
        let rule = |name: &str, service: &str, status: u16, retry_after: &str, rate: f64| FaultRule {
            name: Some(name.into()),
            service: service.into(),
            method: None,
            path: all_paths(),
            status: Some(status),
            retry_after: Some(retry_after.into()),
            latency: None,
            drop: false,
            rate: Some(rate),
            nth: None,
        };
        match name {
            // Occasional throttling and unavailability everywhere: what the retry paths are for.
            "flaky" => Ok(FaultProfile {
                rules: vec![
                    rule("flaky-arm-429", "arm", 429, "5s", 0.05),
                    rule("flaky-graph-429", "graph", 429, "3s", 0.05),
                    rule("flaky-login-503", "login", 503, "2s", 0.03),
                    rule("flaky-503", "any", 503, "1s", 0.02),
                ],
                ..FaultProfile::default()
            }),
            // Long-running operations as long as AKS takes: minutes, polled.
            "slow" => Ok(FaultProfile {
                operations: Operations { create: Some("8m".into()), update: Some("5m".into()), delete: Some("6m".into()) },
                ..FaultProfile::default()
            }),
            // New principals, apps and secrets take a while to reach ARM, the token service
            // and other Graph replicas.
            "replication" => Ok(FaultProfile {
                replication: Replication { principal: Some("30s".into()), token: Some("20s".into()), graph: Some("10s".into()) },
                ..FaultProfile::default()
            }),
            other => Err(format!("`{other}` is not a fault preset: use {}", PRESETS.join(", "))),
        }
    }

    /// `flaky,replication` (the `--faults` shorthand): presets merged in order.
    pub fn presets(names: &str) -> Result<FaultProfile, String> {
        FaultProfile { presets: names.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect(), ..FaultProfile::default() }.resolved()
    }

    /// The profile with its presets folded in (presets first, its own rules and settings
    /// after and over them), checked.
    pub fn resolved(&self) -> Result<FaultProfile, String> {
        let mut out = FaultProfile::default();
        for name in &self.presets {
            let p = FaultProfile::preset(name)?;
            out.rules.extend(p.rules.iter().cloned());
            out.take_settings_of(&p);
        }
        out.rules.extend(self.rules.iter().cloned());
        out.take_settings_of(self);
        for (i, r) in out.rules.iter_mut().enumerate() {
            if r.name.is_none() {
                r.name = Some(format!("rule-{}", i + 1));
            }
        }
        out.check()?;
        Ok(out)
    }

    fn check(&self) -> Result<(), String> {
        let mut names = std::collections::BTreeSet::new();
        for r in &self.rules {
            if let Some(n) = &r.name {
                if !names.insert(n.as_str()) {
                    return Err(format!("two fault rules are named `{n}`: each rule needs a name of its own (its counter and the mark go by it)"));
                }
            }
        }
        for r in &self.rules {
            let name = r.name.as_deref().unwrap_or("rule");
            if !["any", "login", "graph", "arm", "kube"].contains(&r.service.as_str()) {
                return Err(format!("fault rule `{name}`: service `{}` is not login, graph, arm, kube or any", r.service));
            }
            if let Some(s) = r.status {
                if ![429, 500, 503].contains(&s) {
                    return Err(format!("fault rule `{name}`: status {s} is not 429, 500 or 503"));
                }
            }
            if r.status.is_none() && r.latency.is_none() && !r.drop {
                return Err(format!("fault rule `{name}` does nothing: give it a status, a latency or drop = true"));
            }
            match (r.rate, r.nth) {
                (Some(rate), None) if (0.0..=1.0).contains(&rate) => {}
                (Some(rate), None) => return Err(format!("fault rule `{name}`: rate {rate} is not between 0 and 1")),
                (None, Some(n)) if n >= 1 => {}
                (None, Some(_)) => return Err(format!("fault rule `{name}`: nth counts from 1")),
                _ => return Err(format!("fault rule `{name}` needs exactly one of rate (a share of requests) and nth (the Nth request)")),
            }
            if !r.path.starts_with('/') {
                return Err(format!("fault rule `{name}`: path `{}` must start with /", r.path));
            }
            for d in [&r.retry_after, &r.latency].into_iter().flatten() {
                parse_duration(d).map_err(|e| format!("fault rule `{name}`: {e}"))?;
            }
        }
        for d in [&self.replication.principal, &self.replication.token, &self.replication.graph, &self.operations.create, &self.operations.update, &self.operations.delete]
            .into_iter()
            .flatten()
        {
            parse_duration(d)?;
        }
        Ok(())
    }

    /// Whether the profile does anything at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.replication == Replication::default() && self.operations == Operations::default()
    }
}

impl FaultProfile {
    /// The replication and operation settings `over` gives replace these; what it leaves
    /// out stays.
    pub fn take_settings_of(&mut self, over: &FaultProfile) {
        let (r, o) = (&over.replication, &over.operations);
        let keep = |mine: &mut Option<String>, theirs: &Option<String>| {
            if theirs.is_some() {
                mine.clone_from(theirs);
            }
        };
        keep(&mut self.replication.principal, &r.principal);
        keep(&mut self.replication.token, &r.token);
        keep(&mut self.replication.graph, &r.graph);
        keep(&mut self.operations.create, &o.create);
        keep(&mut self.operations.update, &o.update);
        keep(&mut self.operations.delete, &o.delete);
    }
}

/// A checked duration field, in milliseconds (0 when absent).
pub fn millis(d: &Option<String>) -> i64 {
    d.as_deref().and_then(|s| parse_duration(s).ok()).map(|d: Duration| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_merge_in_order_and_own_settings_win() {
        let p: FaultProfile = toml::from_str("presets = [\"flaky\", \"replication\"]\n[replication]\nprincipal = \"2m\"\n[[rule]]\nservice = \"arm\"\nstatus = 500\nnth = 3\n").unwrap();
        let r = p.resolved().unwrap();
        assert_eq!(r.rules.len(), 5);
        assert_eq!(r.rules[4].name.as_deref(), Some("rule-5"));
        assert_eq!(r.replication.principal.as_deref(), Some("2m"));
        assert_eq!(r.replication.token.as_deref(), Some("20s"));
        assert_eq!(FaultProfile::presets("slow").unwrap().operations.create.as_deref(), Some("8m"));
        assert!(FaultProfile::default().resolved().unwrap().is_empty());
    }

    #[test]
    fn mistakes_are_named() {
        let bad = |t: &str| toml::from_str::<FaultProfile>(t).map_err(|e| e.to_string()).and_then(|p| p.resolved()).unwrap_err();
        assert!(bad("[[rule]]\nstatus = 404\nrate = 0.1\n").contains("404 is not 429, 500 or 503"));
        assert!(bad("[[rule]]\nstatus = 503\n").contains("exactly one of rate"));
        assert!(bad("[[rule]]\nstatus = 503\nrate = 2.0\n").contains("not between 0 and 1"));
        assert!(bad("[[rule]]\nrate = 0.5\n").contains("does nothing"));
        assert!(bad("[[rule]]\nservice = \"storage\"\nstatus = 503\nnth = 1\n").contains("`storage`"));
        assert!(bad("[[rule]]\nstatus = 503\nnth = 1\nretry-after = \"soon\"\n").contains("`soon`"));
        assert!(bad("[[rule]]\nstatus = 503\nnth = 1\nwhen = 2\n").contains("unknown field `when`"));
        assert!(FaultProfile::presets("flakey").unwrap_err().contains("flaky, slow, replication"));
        assert!(bad("[[rule]]\nname = \"x\"\nstatus = 503\nnth = 1\n[[rule]]\nname = \"x\"\nstatus = 429\nnth = 2\n").contains("two fault rules are named `x`"));
        assert!(bad("presets = [\"flaky\", \"flaky\"]\n").contains("two fault rules are named `flaky-arm-429`"));
    }
}
