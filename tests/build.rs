//! Builds the hostile and helper test plugins under `tests/plugins/` for wasm32-wasip2 and
//! tells the tests where they are (`AKSFLOW_TEST_WASM_DIR`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    let dir = manifest.join("plugins");
    aksflow_wasm_build::rerun_if_changed(&[&dir, &root.join("plugins/sdk"), &root.join("wit"), &root.join("Cargo.toml")]);
    let mut packages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| dir.join(n).join("Cargo.toml").exists())
        .collect();
    packages.sort();
    let names: Vec<&str> = packages.iter().map(String::as_str).collect();
    let built = aksflow_wasm_build::build_components(&root, &names);
    let out = built[0].wasm.parent().unwrap();
    println!("cargo:rustc-env=AKSFLOW_TEST_WASM_DIR={}", out.display());
}
