//! `aksflow plugins new NAME`: a step crate that builds as it is, outside this repository.
//! It depends on the SDK of the checkout this binary was built from, by path, so the plugin
//! and the host always agree on `aksflow:step@0.2.0` (the SDK finds the WIT contract beside
//! itself) and nothing of the SDK is copied.

use std::path::{Path, PathBuf};

/// Where this binary's SDK lives, absolute: `plugins/sdk` of the checkout it was built from.
fn sdk_path() -> Result<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk");
    std::fs::canonicalize(&dir)
        .ok()
        .filter(|d| d.join("Cargo.toml").is_file())
        .ok_or_else(|| format!("the aksflow SDK is not at {}: `plugins new` needs the aksflow checkout this binary was built from", dir.display()))
}

fn plugin_manifest(name: &str, sdk: &Path) -> Result<String, String> {
    let sdk = sdk.to_str().ok_or_else(|| format!("the SDK's path {} is not UTF-8", sdk.display()))?;
    // A TOML string, quoted and escaped as TOML wants it.
    let sdk = toml::Value::String(sdk.into());
    Ok(format!(
        r#"[package]
name = "{name}"
description = "An aksflow step plugin"
version = "0.1.0"
edition = "2024"
publish = false

# A standalone workspace: this crate builds on its own, wherever it lives.
[workspace]

[lib]
crate-type = ["cdylib"]

[dependencies]
# The SDK of the aksflow checkout that made this crate.
aksflow-sdk = {{ path = {sdk} }}
serde_json = "1"

[profile.release]
opt-level = "s"
"#
    ))
}

fn plugin_source(name: &str) -> String {
    format!(
        r#"//! `{name}`: an aksflow step. `describe` says what it takes and gives; `run` does the work.
//! Everything outside the sandbox goes through the host: `Call` / `arm::call` for HTTP to
//! Entra ID, Graph, ARM or a cluster (only the services the flow grants), `log::info` for
//! progress lines, `interact::show` for prompts.

use aksflow_sdk::*;

struct Step;

// Each input once: `describe` declares them (`takes`), `run` reads them (`from_fields`).
inputs! {{
    struct Args {{
        greeting: Option<String> = "greeting" => "How to greet (default: Hello)",
    }}
}}

impl Guest for Step {{
    fn describe() -> StepInfo {{
        StepInfo::new("{name}", "Reads the run's subscription and greets it")
            .takes::<Args>()
            .output("message", "The greeting")
            .output("subscription", "The subscription's display name")
            .uses(Service::Arm)
    }}

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {{
        let args = Args::from_fields(inputs)?;
        let greeting = args.greeting.given().unwrap_or("Hello").to_string();
        let ctx = context();
        log::info(&format!("reading subscription {{}}", ctx.subscription_id));
        // The host attaches the operator's ARM token; the plugin never sees credentials.
        // arm::send turns an error answer into ARM's own error code.
        let sub: serde_json::Value = arm::send(arm::call("GET", &format!("/subscriptions/{{}}", ctx.subscription_id), "2022-12-01"))?.json()?;
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

/// Links the plugin with the built-in plugins' stack (plugins/build): the stack comes first in
/// linear memory, so the plugin's data and the start of its heap then sit in the pages aksflow
/// keeps resident between steps, instead of being faulted in by every one.
fn cargo_config() -> String {
    let (kept, stack) = (crate::engine::MEMORY_KEEP_RESIDENT >> 10, crate::engine::PLUGIN_STACK_BYTES);
    format!(
        "# aksflow keeps the first {kept} KiB of a step's memory resident between steps. A stack of {stack}\n\
         # bytes (Rust's default is 1 MiB, and the stack comes first) puts this plugin's data and the\n\
         # start of its heap inside them. Raise it if a step of yours recurses deeply: an overflow traps.\n\
         [target.wasm32-wasip2]\n\
         rustflags = [\"-C\", \"link-arg=-zstack-size={stack}\"]\n"
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
    let files: Vec<(PathBuf, String)> = vec![
        (root.join("Cargo.toml"), plugin_manifest(name, &sdk_path()?)?),
        (root.join("src/lib.rs"), plugin_source(name)),
        (root.join("flow.toml"), flow_example(name)),
        (root.join("README.md"), readme(name)),
        (root.join(".gitignore"), "/target\n".into()),
        (root.join(".cargo/config.toml"), cargo_config()),
    ];
    for (path, text) in &files {
        let parent = path.parent().expect("files are below the root");
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(root)
}
