//! Compiles step crates to `wasm32-wasip2` components from a build script, the way wasmtime
//! builds its own test programs: a nested `cargo build` with its own target directory (so it
//! never waits on the outer build's lock), whose artifacts the caller embeds or points at.

use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-wasip2";
/// The workspace's Cargo profile for plugins (Cargo.toml: `[profile.plugin]`).
const PROFILE: &str = "plugin";
/// Each plugin's stack, in linear memory below its data (see `build_components`).
pub const STACK_BYTES: u32 = 128 << 10;

/// One component that was built: its package name and the `.wasm` file.
#[derive(Debug, Clone)]
pub struct Built {
    pub package: String,
    pub wasm: PathBuf,
}

/// Builds `packages` (cargo package names in the workspace at `workspace_root`) for
/// wasm32-wasip2 with the workspace's `plugin` profile (release, linked as one unit) and
/// returns where each component landed.
///
/// Panics with an actionable message when the target is not installed: a build script has
/// no better way to stop the build.
pub fn build_components(workspace_root: &Path, packages: &[&str]) -> Vec<Built> {
    ensure_target_installed();
    let target_dir = wasm_target_dir();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace_root)
        .arg("build")
        .arg("--profile")
        .arg(PROFILE)
        .arg("--quiet")
        .arg("--target")
        .arg(TARGET)
        .arg("--target-dir")
        .arg(&target_dir);
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    // The outer build's flags are for the host, not for wasm.
    for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_MAKEFLAGS"] {
        cmd.env_remove(var);
    }
    cmd.env_remove("CARGO_TARGET_DIR");
    // A 128 KiB stack instead of Rust's 1 MiB: the stack comes first in linear memory, so the
    // statics (and, but for the kube plugins, the start of the heap) then sit inside the first
    // 256 KiB, which the host keeps resident between steps (`StepEngine::pooling`,
    // `MEMORY_KEEP_RESIDENT`). serde_yaml and serde_json stop at 128 levels of nesting, which
    // needs about 70 KiB of it here. Given as config, not as an environment variable, so that
    // it is added to any rustflags a config file sets for the target instead of replacing them.
    cmd.arg("--config").arg(format!("target.{TARGET}.rustflags=[\"-C\", \"link-arg=-zstack-size={STACK_BYTES}\"]"));
    let status = cmd.status().unwrap_or_else(|e| panic!("could not run cargo to build the step plugins: {e}"));
    if !status.success() {
        panic!("building the step plugins for {TARGET} failed (see the cargo output above)");
    }
    packages
        .iter()
        .map(|p| {
            let file = format!("{}.wasm", p.replace('-', "_"));
            let wasm = target_dir.join(TARGET).join(PROFILE).join(file);
            assert!(wasm.exists(), "cargo built {p} but {} is missing", wasm.display());
            Built { package: p.to_string(), wasm }
        })
        .collect()
}

/// Tells cargo to rerun the build script when anything under these paths changes: each
/// directory (for files added) and each file in it, named one by one, because a directory
/// alone was seen to miss edits to files deep below it.
pub fn rerun_if_changed(paths: &[&Path]) {
    for p in paths {
        watch(p);
    }
}

fn watch(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
    let Ok(entries) = std::fs::read_dir(path) else { return };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if child.is_dir() { watch(&child) } else { println!("cargo:rerun-if-changed={}", child.display()) }
    }
}

/// A target directory beside the outer one (`target/wasm`), stable across builds so the
/// nested build is incremental.
fn wasm_target_dir() -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set in build scripts"));
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out
    let target = out
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out.clone());
    target.join("wasm")
}

fn ensure_target_installed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot {
        if !sysroot.join("lib/rustlib").join(TARGET).exists() {
            panic!(
                "\n\nThe Rust target {TARGET} is not installed, and aksflow's step plugins are \
                 built for it.\nRun:\n\n    rustup target add {TARGET}\n\nthen build again.\n\n"
            );
        }
    }
}
