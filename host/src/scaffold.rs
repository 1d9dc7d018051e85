//! `aksflow plugins new NAME`: a step crate that builds as it is, outside this repository.
//! It vendors the SDK and the WIT contract this binary was built with, so the plugin and
//! the host always agree on `aksflow:step@0.1.0`.

use std::path::{Path, PathBuf};

/// The SDK's sources, as compiled into this binary.
const SDK_FILES: &[(&str, &str)] = &[
    ("src/lib.rs", include_str!("../../plugins/sdk/src/lib.rs")),
    ("src/describe.rs", include_str!("../../plugins/sdk/src/describe.rs")),
    ("src/io.rs", include_str!("../../plugins/sdk/src/io.rs")),
    ("src/http.rs", include_str!("../../plugins/sdk/src/http.rs")),
    ("src/arm.rs", include_str!("../../plugins/sdk/src/arm.rs")),
    ("src/graph.rs", include_str!("../../plugins/sdk/src/graph.rs")),
    ("src/kube.rs", include_str!("../../plugins/sdk/src/kube.rs")),
    ("src/log.rs", include_str!("../../plugins/sdk/src/log.rs")),
];
const WIT: &str = include_str!("../../wit/step.wit");

const SDK_MANIFEST: &str = include_str!("../../plugins/sdk/Cargo.toml");
const WORKSPACE_MANIFEST: &str = include_str!("../../Cargo.toml");

/// The SDK's manifest with each `dep.workspace = true` replaced by the workspace's pinned
/// version, so the vendored SDK resolves the same crates outside this workspace.
fn sdk_manifest() -> Result<String, String> {
    let ws: toml::Table = toml::from_str(WORKSPACE_MANIFEST).map_err(|e| format!("the embedded workspace manifest: {e}"))?;
    let pins = ws.get("workspace").and_then(|w| w.get("dependencies")).and_then(|d| d.as_table()).cloned().unwrap_or_default();
    let sdk: toml::Table = toml::from_str(SDK_MANIFEST).map_err(|e| format!("the embedded SDK manifest: {e}"))?;
    let mut deps = toml::Table::new();
    for (name, spec) in sdk.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default() {
        let inherited = spec.get("workspace").and_then(|w| w.as_bool()) == Some(true);
        let value = if inherited { pins.get(&name).cloned().ok_or_else(|| format!("the SDK depends on `{name}`, which the workspace does not pin"))? } else { spec };
        deps.insert(name, value);
    }
    let mut package = toml::Table::new();
    package.insert("name".into(), "aksflow-sdk".into());
    package.insert("description".into(), "Typed helpers for aksflow step plugins (vendored by `aksflow plugins new`)".into());
    package.insert("version".into(), "0.1.0".into());
    package.insert("edition".into(), "2024".into());
    package.insert("publish".into(), false.into());
    let mut doc = toml::Table::new();
    doc.insert("package".into(), toml::Value::Table(package));
    doc.insert("dependencies".into(), toml::Value::Table(deps));
    toml::to_string(&doc).map_err(|e| e.to_string())
}

fn plugin_manifest(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
description = "An aksflow step plugin"
version = "0.1.0"
edition = "2024"
publish = false

# A standalone workspace: this crate builds on its own, wherever it lives.
[workspace]
members = ["aksflow-sdk"]

[lib]
crate-type = ["cdylib"]

[dependencies]
aksflow-sdk = {{ path = "aksflow-sdk" }}
serde_json = "1"

[profile.release]
opt-level = "s"
"#
    )
}

fn plugin_source(name: &str) -> String {
    format!(
        r#"//! `{name}`: an aksflow step. `describe` says what it takes and gives; `run` does the work.
//! Everything outside the sandbox goes through the host: `Call` / `arm::call` for HTTP to
//! Entra ID, Graph, ARM or a cluster (only the services the flow grants), `log::info` for
//! progress lines, `interact::show` for prompts.

use aksflow_sdk::*;

struct Step;

impl Guest for Step {{
    fn describe() -> StepInfo {{
        StepInfo::new("{name}", "Reads the run's subscription and greets it")
            .optional("greeting", "How to greet (default: Hello)")
            .output("message", "The greeting")
            .output("subscription", "The subscription's display name")
            .uses(Service::Arm)
    }}

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {{
        let inputs = Inputs::from(inputs);
        let greeting = inputs.opt("greeting").unwrap_or("Hello").to_string();
        let ctx = context();
        log::info(&format!("reading subscription {{}}", ctx.subscription_id));
        // The host attaches the operator's ARM token; the plugin never sees credentials.
        let resp = arm::call("GET", &format!("/subscriptions/{{}}", ctx.subscription_id), "2022-12-01").send()?;
        if !resp.is_success() {{
            return Err(arm::error(&resp));
        }}
        let sub: serde_json::Value = resp.json()?;
        let name = sub["displayName"].as_str().unwrap_or("?").to_string();
        Ok(Outputs::new()
            .text("message", format!("{{greeting}}, {{name}}!"))
            .text("subscription", name)
            .into())
    }}
}}

export!(Step with_types_in aksflow_sdk::bindings);
"#
    )
}

fn flow_example(name: &str) -> String {
    let file = name.replace('-', "_");
    format!(
        r#"# Run with:  aksflow run flow.toml   (after building: see README.md)
name = "{name}-example"

[[step]]
id = "greet"
uses = "./target/wasm32-wasip2/release/{file}.wasm"
with = {{ greeting = "Hi" }}
grant = ["arm"]
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        "# {name}\n\nAn aksflow step plugin.\n\n```sh\nrustup target add wasm32-wasip2        # once\ncargo build --release --target wasm32-wasip2\naksflow run flow.toml                  # runs the step on the built-in simulator\n```\n\nSee aksflow's docs/plugins.md for the contract, grants, secrets and testing.\n"
    )
}

/// Writes the crate into `dir/NAME`; refuses to overwrite anything.
pub fn new_plugin(name: &str, dir: &Path) -> Result<PathBuf, String> {
    let valid = !name.is_empty() && name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(format!("`{name}` is not a plugin name: use lower-case letters, digits and `-`, starting with a letter (e.g. `tag-cluster`)"));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(format!("{} already exists; choose another name or directory (--dir)", root.display()));
    }
    let mut files: Vec<(PathBuf, String)> = vec![
        (root.join("Cargo.toml"), plugin_manifest(name)),
        (root.join("src/lib.rs"), plugin_source(name)),
        (root.join("flow.toml"), flow_example(name)),
        (root.join("README.md"), readme(name)),
        (root.join(".gitignore"), "/target\n".into()),
        (root.join("aksflow-sdk/Cargo.toml"), sdk_manifest()?),
        (root.join("aksflow-sdk/wit/step.wit"), WIT.into()),
    ];
    for (path, text) in SDK_FILES {
        // The vendored SDK finds the WIT beside itself.
        files.push((root.join("aksflow-sdk").join(path), text.replace("path: \"../../wit\"", "path: \"wit\"")));
    }
    for (path, text) in &files {
        let parent = path.parent().expect("files are below the root");
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(root)
}
