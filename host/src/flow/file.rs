//! The flow file as written, with the source span of everything a message may point at.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Which Azure the flow needs: `today` (the default) or `2019`, seed 000's.
    pub era: Option<Spanned<String>>,
    /// Faults the simulator injects into this flow's run (docs/faults.md).
    pub faults: Option<Spanned<aksflow_simulator::faults::FaultProfile>>,
    #[serde(default)]
    pub vars: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Spanned<StepDef>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepDef {
    pub id: Spanned<String>,
    pub uses: Spanned<String>,
    #[serde(default)]
    pub with: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub grant: Vec<Spanned<String>>,
    /// Steps to run after even without a data reference.
    #[serde(default)]
    pub needs: Vec<Spanned<String>>,
    pub expect: Option<Spanned<ExpectDef>>,
    pub limits: Option<Spanned<LimitsDef>>,
    /// Who answers the step's device-code prompt in a simulation.
    pub persona: Option<Spanned<PersonaDef>>,
    /// Whom the step acts as instead of the operator.
    #[serde(rename = "as")]
    pub acting_as: Option<Spanned<ActAsDef>>,
    /// Virtual time to let pass before the step starts ("10m"): tokens expire, device codes
    /// lapse, replication catches up. In a simulation only; against Azure it is real waiting.
    pub wait: Option<Spanned<String>>,
}

/// `as = "bob@contoso.onmicrosoft.com"` acts as that user (signed in with their password);
/// `as = { user = "…", password = "…" }` with the password given; `as = { client-id = "…",
/// client-secret = "…" }` as a service principal (both may refer to step outputs).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ActAsDef {
    User(String),
    Detailed {
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        password: Option<String>,
        #[serde(default, rename = "client-id")]
        client_id: Option<String>,
        #[serde(default, rename = "client-secret")]
        client_secret: Option<String>,
    },
}

/// `persona = "alice@contoso.onmicrosoft.com"` signs in as that seeded user;
/// `persona = { user = "…", action = "decline" }` declines; `password` overrides the seeded
/// one (to test a wrong password).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PersonaDef {
    User(String),
    Detailed {
        user: String,
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        password: Option<String>,
        /// Sign in this long after the code is shown ("12s"), so the step's first polls get
        /// `authorization_pending`.
        #[serde(default)]
        after: Option<String>,
    },
}

/// `expect = "success"` or `expect = { failure = "CODE", message = "part of the message" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ExpectDef {
    Word(String),
    Failure {
        failure: String,
        #[serde(default)]
        message: Option<String>,
    },
}

/// `limits = { fuel = 5_000_000, memory = "64MiB", timeout = "10s", output = "1MiB" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsDef {
    pub fuel: Option<u64>,
    pub memory: Option<toml::Value>,
    pub timeout: Option<String>,
    pub output: Option<toml::Value>,
    /// Cloud calls the step may make.
    pub calls: Option<u64>,
    /// Bytes it may send and receive, all calls together ("64MiB").
    pub network: Option<toml::Value>,
    /// Bytes of log lines ("1MiB").
    pub log: Option<toml::Value>,
}
