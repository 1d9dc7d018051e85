//! Every flow-file mistake is refused before anything runs, with the file, the line, what
//! is wrong and what to do.

use aksflow_e2e::*;

async fn errors(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let e = flow_errors(dir.path(), text).await;
    // Paths differ per test run; keep the part after the file name.
    e.replace(&dir.path().join("bad.toml").display().to_string(), "bad.toml")
}

const RG: &str = "uses = \"resource-group\"\ngrant = [\"arm\"]";

#[tokio::test(flavor = "multi_thread")]
async fn a_toml_syntax_error_points_at_its_line() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \n").await;
    assert!(e.starts_with("error: bad.toml:3: not a valid flow file"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_fields_are_named() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nwhen = \"always\"\n")).await;
    assert!(e.contains("unknown field `when`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_plugin_lists_the_built_in_ones() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \"resource-groups\"\n").await;
    assert!(e.contains("bad.toml:3: step `a` uses `resource-groups`, which is not a built-in plugin"), "{e}");
    assert!(e.contains("hint: built-in plugins are `account-show`") && e.contains("`resource-group`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_plugin_file_is_named() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \"./nowhere.wasm\"\n").await;
    assert!(e.contains("cannot read plugin") && e.contains("nowhere.wasm"), "{e}");
}

/// Found while writing the flow-file fuzz target: `uses = "/dev/zero"` was read to the end,
/// which never comes.
#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_path_that_is_not_a_file_is_refused_without_reading_it() {
    for path in ["/dev/zero", "/tmp/"] {
        let e = errors(&format!("[[step]]\nid = \"a\"\nuses = \"{path}\"\n")).await;
        assert!(e.contains("cannot read plugin") && e.contains("not a regular file"), "{e}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_step_reference_lists_the_steps() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ steps.nope.outputs.name }}}}\" }}\n")).await;
    assert!(e.contains("bad.toml:5: step `a`, input `name`: there is no step `nope`"), "{e}");
    assert!(e.contains("hint: steps are `a`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_var_lists_the_vars() {
    let e = errors(&format!("[vars]\ngroup = \"g\"\n\n[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ vars.grp }}}}\" }}\n")).await;
    assert!(e.contains("bad.toml:8: step `a`, input `name`: there is no var `grp`"), "{e}");
    assert!(e.contains("vars are `group`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_output_lists_the_outputs() {
    let e = errors(&format!(
        "[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\n\n[[step]]\nid = \"b\"\n{RG}\nwith = {{ name = \"${{{{ steps.a.outputs.groupId }}}}\" }}\n"
    ))
    .await;
    assert!(e.contains("bad.toml:11: step `b`, input `name`: step `a` (plugin `resource-group`) has no output `groupId`"), "{e}");
    assert!(e.contains("its outputs are `id`, `name`, `location`, `created`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_reference_is_explained() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ env.HOME }}}}\" }}\n")).await;
    assert!(e.contains("`${{ env.HOME }}` is not a reference aksflow knows"), "{e}");
    assert!(e.contains("hint: references are"), "{e}");
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ vars.x\" }}\n")).await;
    assert!(e.contains("is never closed"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cycle_is_refused_and_named() {
    let e = errors(&format!(
        "[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ steps.b.outputs.name }}}}\" }}\n\n[[step]]\nid = \"b\"\n{RG}\nwith = {{ name = \"${{{{ steps.a.outputs.name }}}}\" }}\n"
    ))
    .await;
    assert!(e.contains("bad.toml:1: steps depend on each other in a cycle: a → b → a") || e.contains("cycle: b → a → b"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_self_reference_is_refused() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"${{{{ steps.a.outputs.name }}}}\" }}\n")).await;
    assert!(e.contains("refers to the step's own output `name`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_required_inputs_are_listed_with_the_fix() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\n")).await;
    assert!(e.contains("bad.toml:1: step `a` (plugin `resource-group`) is missing required input `name`"), "{e}");
    assert!(e.contains("hint: add them to the step: with = { name = \"…\" }"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_input_lists_the_inputs() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\", region = \"eastus\" }}\n")).await;
    assert!(e.contains("plugin `resource-group` has no input `region`"), "{e}");
    assert!(e.contains("its inputs are `name`, `location`, `tags`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrongly_typed_literal_is_refused() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\", tags = \"not json\" }}\n")).await;
    assert!(e.contains("input `tags` expects JSON"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_ids_point_at_the_first() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\n\n[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"y\" }}\n")).await;
    assert!(e.contains("bad.toml:8: step id `a` is used twice"), "{e}");
    assert!(e.contains("first used at line 2"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_service_in_grant_is_refused() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \"resource-group\"\ngrant = [\"storage\"]\nwith = { name = \"x\" }\n").await;
    assert!(e.contains("bad.toml:4: step `a` grants `storage`, which is not a service"), "{e}");
    assert!(e.contains("`login`, `graph`, `arm` and `kube`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn outputs_of_a_step_expected_to_fail_cannot_be_used() {
    let e = errors(&format!(
        "[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nexpect = {{ failure = \"Conflict\" }}\n\n[[step]]\nid = \"b\"\n{RG}\nwith = {{ name = \"${{{{ steps.a.outputs.name }}}}\" }}\n"
    ))
    .await;
    assert!(e.contains("which is expected to fail and so has none"), "{e}");
    assert!(e.contains("needs = [\"a\"]"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_expectations_and_limits_are_explained() {
    let e = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nexpect = \"fail\"\nlimits = {{ memory = \"64MB\", timeout = \"soon\" }}\n")).await;
    assert!(e.contains("`expect = \"fail\"` is not an expectation"), "{e}");
    assert!(e.contains("unknown size unit `MB`"), "{e}");
    assert!(e.contains("limits.timeout"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn all_problems_are_reported_at_once_in_line_order() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \"nope\"\n\n[[step]]\nid = \"b\"\nuses = \"resource-group\"\ngrant = [\"dns\"]\n").await;
    let lines: Vec<&str> = e.lines().filter(|l| l.starts_with("error:")).collect();
    assert!(lines.len() >= 3, "{e}");
    assert!(lines[0].contains(":3:"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_the_plugin_calls_but_the_flow_does_not_grant_is_refused_at_load() {
    let e = errors("[[step]]\nid = \"a\"\nuses = \"resource-group\"\ngrant = [\"graph\"]\nwith = { name = \"x\" }\n").await;
    assert!(e.contains("bad.toml:4: step `a` uses plugin `resource-group`, which calls `arm`, but the flow does not grant it"), "{e}");
    assert!(e.contains("hint: change the step's grant line 4 to `grant = [\"graph\", \"arm\"]`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_without_a_grant_line_is_told_which_line_to_add() {
    let e = errors("[vars]\nx = 1\n\n[[step]]\nid = \"a\"\nuses = \"kube-login\"\nwith = { server-id = \"s\", client-id = \"c\" }\n").await;
    assert!(e.contains("step `a` uses plugin `kube-login`, which calls `login`"), "{e}");
    assert!(e.contains("hint: add `grant = [\"login\"]` to the step (line 4)"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_era_names_the_known_ones() {
    let e = errors(&format!("era = \"2021\"\n[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\n")).await;
    assert!(e.contains("bad.toml:1: `2021` is not an era the simulator knows: use `today`"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn acting_as_needs_a_user_written_out_or_a_whole_service_principal() {
    let templated = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nas = \"${{{{ vars.who }}}}\"\n")).await;
    assert!(templated.contains("step `a`: `as` names the user") && templated.contains("users are not templated"), "{templated}");
    let half = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nas = {{ client-id = \"abc\" }}\n")).await;
    assert!(half.contains("`as` must be a user") && half.contains("{ client-id, client-secret }"), "{half}");
    let dangling = errors(&format!("[[step]]\nid = \"a\"\n{RG}\nwith = {{ name = \"x\" }}\nas = {{ client-id = \"abc\", client-secret = \"${{{{ steps.sp.outputs.password }}}}\" }}\n")).await;
    assert!(dangling.contains("step `a`, input `as.client-secret`: there is no step `sp`"), "{dangling}");
}
