//! The `aksflow` command line as a person meets it.

use std::process::Command;

fn aksflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aksflow"));
    c.env("AKSFLOW_CACHE_DIR", std::env::temp_dir().join("aksflow-cli-test-cache"));
    c
}

fn flows() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().join("flows")
}

#[test]
fn help_teaches_the_flow_format_and_targets() {
    let out = aksflow().args(["run", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for want in ["[[step]]", "${{ steps.ID.outputs.NAME }}", "grant", "expect", "--resume", "https://HOST:PORT", "Exit status"] {
        assert!(text.contains(want), "run --help lacks {want}:\n{text}");
    }
}

#[test]
fn plugins_list_shows_inputs_outputs_and_services() {
    let out = aksflow().args(["plugins", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("resource-group") && text.contains("services: arm") && text.contains("location"), "{text}");
    let out = aksflow().args(["plugins", "list", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.as_array().unwrap().iter().any(|p| p["name"] == "resource-group"));
}

#[test]
fn hello_runs_and_reports_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = aksflow()
        .args(["run", flows().join("hello.toml").to_str().unwrap(), "--json", "--out", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["steps"][0]["status"], "succeeded");
    assert_eq!(report["steps"][0]["outputs"]["created"], "true");
    assert_eq!(report["steps"][1]["outputs"]["created"], "false");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("▶ rg (resource-group)") && stderr.contains("hello: passed"), "{stderr}");
}

#[test]
fn an_invalid_flow_exits_2_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("bad.toml");
    std::fs::write(&flow, "[[step]]\nid = \"x\"\nuses = \"no-such-plugin\"\n").unwrap();
    let out = aksflow().args(["run", flow.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bad.toml:3: step `x` uses `no-such-plugin`, which is not a built-in plugin"), "{stderr}");
    assert!(stderr.contains("nothing was run"), "{stderr}");
    assert!(!dir.path().join("o/transcript.jsonl").exists());
}

#[test]
fn a_plain_http_target_is_refused_with_the_reason() {
    let out = aksflow().args(["run", "x.toml", "--target", "http://127.0.0.1:1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only https targets work"));
}

#[test]
fn a_closed_pipe_ends_plugins_list_quietly() {
    // `aksflow plugins list | head -0`: the reader is gone before the first line is written.
    let mut child = aksflow().args(["plugins", "list"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
}

#[test]
fn a_run_s_report_is_one_page_and_aksflow_report_redraws_it_from_the_transcript() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let page = dir.path().join("run.html");
    let out = aksflow()
        .args(["run", flows().join("hello.toml").to_str().unwrap(), "--quiet", "--out", out_dir.to_str().unwrap(), "--report", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("id=\"dag\"") && html.contains("class=\"call "), "steps and calls");

    // Later, from the transcript: the run record beside it gives the same page.
    let again = dir.path().join("again.html");
    let transcript = out_dir.join("transcript.jsonl");
    let out = aksflow().args(["report", transcript.to_str().unwrap(), "-o", again.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), html);

    // A transcript on its own: the calls only, and the page says so.
    let alone = dir.path().join("alone.jsonl");
    std::fs::copy(&transcript, &alone).unwrap();
    let out = aksflow().args(["report", alone.to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("calls only"));
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(!html.contains("id=\"dag\"") && html.contains("class=\"call "));

    let out = aksflow().args(["report", dir.path().join("missing.jsonl").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_suite_s_report_is_an_index_linking_a_page_per_flow() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    let out = aksflow()
        .args(["test", flows().join("hello.toml").to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap(), "--report", report.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let index = std::fs::read_to_string(report.join("index.html")).unwrap();
    let pages: Vec<_> = std::fs::read_dir(&report).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n != "index.html").collect();
    assert_eq!(pages.len(), 1, "{pages:?}");
    assert!(index.contains(&format!("href=\"{}\"", pages[0])), "{index}");
    assert!(std::fs::read_to_string(report.join(&pages[0])).unwrap().contains("id=\"dag\""));
}

/// A suite of many flows (generated, as scripts/generate-suite.sh does) shows a progress
/// line with flows per second and closes with the count in flows.
#[test]
fn a_large_suite_shows_flows_per_second_as_it_goes() {
    let dir = tempfile::tempdir().unwrap();
    let suite = dir.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let hello = std::fs::read_to_string(flows().join("hello.toml")).unwrap();
    for i in 0..100 {
        std::fs::write(suite.join(format!("hello-{i:03}.toml")), hello.replacen("name = \"hello\"", &format!("name = \"hello-{i:03}\""), 1)).unwrap();
    }
    let out = aksflow().args(["test", suite.to_str().unwrap(), "--out", dir.path().join("out").to_str().unwrap()]).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("100/100 flows, ") && stderr.contains(" flows/s, 0 failed"), "{stderr}");
    assert!(stdout.contains("100 passed, 0 failed (100 flows in "), "{stdout}");
    assert_eq!(stdout.matches("ok     ").count(), 100);
}

/// Seed 000's `kubelogin convert-kubeconfig -l azurecli`, through a `kubelogin` symlink to
/// aksflow: the azure auth-provider user becomes a kubelogin exec user, in place, keeping
/// the file owner-only; what cannot be converted says why and leaves the file alone.
#[cfg(unix)]
#[test]
fn convert_kubeconfig_rewrites_the_file_as_kubelogin_does_even_through_a_symlink() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../plugins/sdk/testdata/azure-user.kubeconfig")).unwrap();
    let file = dir.path().join("config");
    std::fs::write(&file, &original).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let kubelogin = dir.path().join("kubelogin");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_aksflow"), &kubelogin).unwrap();

    let out = Command::new(&kubelogin).args(["convert-kubeconfig", "-l", "azurecli"]).env("KUBECONFIG", &file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let converted = std::fs::read_to_string(&file).unwrap();
    assert!(!converted.contains("auth-provider"), "{converted}");
    assert!(converted.contains("command: kubelogin"), "{converted}");
    assert!(converted.contains("- get-token\n") && converted.contains("- --login\n      - azurecli\n") && converted.contains("- --server-id\n      - 11111111-1111-1111-1111-111111111111\n"), "{converted}");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600, "the file stays owner-only");

    // Errors name the problem; the file is not touched.
    std::fs::write(&file, &original).unwrap();
    let out = aksflow().args(["convert-kubeconfig", "-l", "magic", "--kubeconfig", file.to_str().unwrap()]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'magic' is not a supported login method"), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    let two = std::env::join_paths([&file, &dir.path().join("other")]).unwrap();
    let out = aksflow().args(["convert-kubeconfig"]).env("KUBECONFIG", two).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kubeconfig FILE"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = aksflow().args(["convert-kubeconfig", "--kubeconfig", dir.path().join("missing").to_str().unwrap()]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the kubeconfig"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Seed 000's legacy integration no longer exists in Azure: a 2019-era flow aimed at Azure
/// stops before it reads any Azure setting, writes nothing, and points at the flows that do run.
#[test]
fn a_2019_flow_aimed_at_azure_stops_before_doing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = aksflow()
        .args(["run", flows().join("legacy-aad.toml").to_str().unwrap(), "--target", "azure", "--out", out_dir.to_str().unwrap()])
        .env_remove("AZURE_TENANT_ID")
        .env("PATH", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("needs the 2019 era of Azure") && stderr.contains("flows/managed-aad.toml") && stderr.contains("Nothing was run"), "{stderr}");
    assert!(!out_dir.exists(), "nothing was written");
}

#[test]
fn an_identities_file_others_can_read_is_refused_naming_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let ids = dir.path().join("ids.toml");
    std::fs::write(&ids, "[\"bob@contoso.onmicrosoft.com\"]\npassword = \"p\"\n").unwrap();
    std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = aksflow().args(["run", flows().join("hello.toml").to_str().unwrap(), "--identities", ids.to_str().unwrap(), "--out", dir.path().join("o").to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("chmod 600"));
}

/// A sweep prints each failure as the command that reproduces it, puts it in JUnit, and
/// that command fails the same way again.
#[test]
fn a_sweep_reports_each_failure_as_the_command_that_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("faults.toml");
    std::fs::write(&profile, "[[rule]]\nname = \"rg-500\"\nservice = \"arm\"\nmethod = \"PUT\"\nstatus = 500\nrate = 0.5\n").unwrap();
    let junit = dir.path().join("junit.xml");
    let hello = flows().join("hello.toml");
    let out = aksflow()
        .args(["test", hello.to_str().unwrap(), "--faults", profile.to_str().unwrap(), "--seeds", "1..8", "--out", dir.path().join("o").to_str().unwrap(), "--junit", junit.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let failing: Vec<&str> = stdout.lines().filter(|l| l.starts_with("FAILED aksflow run ")).collect();
    assert!(!failing.is_empty() && failing.len() < 8, "{stdout}");
    assert!(stdout.contains("failing seeds by flow:"), "{stdout}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"8\"") && xml.contains("(seed ") && xml.contains("reproduce: aksflow run "), "{xml}");
    // The printed command, run as printed, fails at the same step.
    let command = failing[0].trim_start_matches("FAILED ").split("   #").next().unwrap();
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let again = aksflow().args(&args).args(["--out", dir.path().join("again").to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(1), "{command}");
    assert!(String::from_utf8(again.stderr).unwrap().contains("InternalServerError"));
}

#[test]
fn faults_for_a_live_target_are_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = aksflow()
        .args(["run", flows().join("hello.toml").to_str().unwrap(), "--faults", "flaky", "--target", "azure", "--out", dir.path().join("o").to_str().unwrap()])
        .env("PATH", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("only the in-process simulator"));
    assert!(!dir.path().join("o").exists());
}

/// `--resume` goes on with the saved schedule only: other faults are refused.
#[test]
fn resuming_with_other_faults_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let hello = flows().join("hello.toml");
    let first = aksflow().args(["run", hello.to_str().unwrap(), "--quiet", "--faults", "slow", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(first.status.success());
    let again = aksflow().args(["run", hello.to_str().unwrap(), "--quiet", "--resume", "--faults", "flaky", "--out", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8(again.stderr).unwrap().contains("other injected faults"));
    let same = aksflow().args(["run", hello.to_str().unwrap(), "--quiet", "--resume", "--faults", "slow", "--out", out.to_str().unwrap()]).output().unwrap();
    assert!(same.status.success(), "{}", String::from_utf8_lossy(&same.stderr));
}

/// Hours of `wait` are virtual in process and real anywhere else: refused before anything.
#[test]
fn a_long_wait_against_a_live_target_is_refused_before_anything() {
    let dir = tempfile::tempdir().unwrap();
    let flow = flows().join("time").join("group-change-needs-new-token.toml");
    let out = aksflow().args(["run", flow.to_str().unwrap(), "--target", "azure", "--out", dir.path().join("o").to_str().unwrap()]).env("PATH", "").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("step `expired` waits 7200 s") && stderr.contains("runs in process only"), "{stderr}");
    assert!(!dir.path().join("o").exists());
}
