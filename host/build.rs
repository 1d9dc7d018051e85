//! Builds every step crate under `plugins/` for wasm32-wasip2 and embeds the components in
//! the `aksflow` binary (see `src/plugins.rs`).

use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let plugins_dir = root.join("plugins");
    aksflow_wasm_build::rerun_if_changed(&[&plugins_dir, &root.join("wit"), &root.join("Cargo.toml")]);

    let packages = step_packages(&plugins_dir);
    let names: Vec<&str> = packages.iter().map(String::as_str).collect();
    let built = aksflow_wasm_build::build_components(&root, &names);
    // The stack they are linked with, for the scaffold's config and the stack-overflow hint.
    println!("cargo:rustc-env=AKSFLOW_PLUGIN_STACK_BYTES={}", aksflow_wasm_build::STACK_BYTES);

    let mut code = String::from("/// Built-in step plugins: (name, component bytes).\npub static BUILTIN: &[(&str, &[u8])] = &[\n");
    for b in &built {
        code.push_str(&format!("    ({:?}, include_bytes!({:?})),\n", b.package, b.wasm.display().to_string()));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin_plugins.rs");
    std::fs::write(out, code).unwrap();
}

/// Every crate directly under `plugins/` except the SDK and this build helper.
fn step_packages(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).expect("plugins/ exists") {
        let path = entry.unwrap().path();
        let manifest = path.join("Cargo.toml");
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "sdk" || name == "build" || !manifest.exists() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).unwrap();
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", manifest.display()));
        let package = doc
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or_else(|| panic!("{} has no [package] name", manifest.display()));
        names.push(package.to_string());
    }
    names.sort();
    names
}
