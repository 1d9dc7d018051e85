//! RBAC rules that the main tests pass for the wrong reason or not at all, each written so
//! that breaking the rule breaks the test (checked with cargo-mutants; see docs/testing.md).

use serde_json::json;

use super::*;

const ALICE: &str = "alice@contoso.com";

fn alice_in_team(verb: &str, resource: &str) -> Attributes {
    Attributes::resource(UserInfo::new(ALICE, &[SYSTEM_AUTHENTICATED]), verb, "", resource, "", "team", "")
}

fn namespaced_role(namespace: &str, name: &str, rule: PolicyRule) -> Role {
    Role { name: name.into(), namespace: namespace.into(), rules: vec![rule], ..Role::default() }
}

#[test]
fn a_role_binding_resolves_only_the_role_of_its_namespace_and_name_even_behind_decoys() {
    // The decoys come first, so a lookup that ignored the namespace or the name would find
    // them before the right Role.
    let everything = PolicyRule::resource(&["*"], &["*"], &["*"]);
    let store = RbacStore {
        roles: vec![
            namespaced_role("other", "pod-reader", everything.clone()),
            namespaced_role("team", "secret-admin", everything),
            namespaced_role("team", "pod-reader", PolicyRule::resource(&["list"], &[""], &["pods"])),
        ],
        role_bindings: vec![RoleBinding {
            name: "read".into(),
            namespace: "team".into(),
            role_ref: RoleRef::role("pod-reader"),
            subjects: vec![Subject::user(ALICE)],
        }],
        ..RbacStore::default()
    };
    assert!(store.authorize(&alice_in_team("list", "pods")).allowed);
    let decision = store.authorize(&alice_in_team("delete", "secrets"));
    assert_eq!(decision, Decision::default(), "only the team's pod-reader applies");
}

#[test]
fn a_cluster_role_binding_never_resolves_a_namespaced_role() {
    // Even a Role stored without a namespace: a ClusterRoleBinding has none to look it up in.
    let store = RbacStore {
        roles: vec![namespaced_role("", "r", PolicyRule::resource(&["*"], &["*"], &["*"]))],
        cluster_role_bindings: vec![ClusterRoleBinding {
            name: "b".into(),
            role_ref: RoleRef::role("r"),
            subjects: vec![Subject::user(ALICE)],
        }],
        ..RbacStore::default()
    };
    let decision = store.authorize(&alice_in_team("list", "pods"));
    assert!(!decision.allowed);
    assert_eq!(decision.evaluation_error.as_deref(), Some(r#"role.rbac.authorization.k8s.io "r" not found"#));
}

#[test]
fn user_and_group_subjects_carry_the_rbac_api_group_and_service_accounts_none() {
    assert_eq!(serde_json::to_value(Subject::user("u")).unwrap(), json!({"kind": "User", "apiGroup": RBAC_API_GROUP, "name": "u"}));
    assert_eq!(serde_json::to_value(Subject::group("g")).unwrap(), json!({"kind": "Group", "apiGroup": RBAC_API_GROUP, "name": "g"}));
    assert_eq!(
        serde_json::to_value(Subject::service_account("ns", "sa")).unwrap(),
        json!({"kind": "ServiceAccount", "name": "sa", "namespace": "ns"})
    );
}

#[test]
fn rules_for_reports_a_mixed_rule_as_a_resource_rule_without_urls_and_a_url_rule_without_resources() {
    let mixed = PolicyRule {
        verbs: vec!["get".into()],
        api_groups: vec!["".into()],
        resources: vec!["pods".into()],
        resource_names: vec!["p".into()],
        non_resource_urls: vec!["/healthz".into()],
    };
    let store = RbacStore {
        cluster_roles: vec![ClusterRole { name: "mixed".into(), rules: vec![mixed], ..ClusterRole::default() }],
        cluster_role_bindings: vec![ClusterRoleBinding {
            name: "b".into(),
            role_ref: RoleRef::cluster_role("mixed"),
            subjects: vec![Subject::user(ALICE)],
        }],
        ..RbacStore::default()
    };
    let (resource, non_resource) = store.rules_for(&UserInfo::new(ALICE, &[]), "");
    assert_eq!(resource, vec![PolicyRule::resource(&["get"], &[""], &["pods"]).with_resource_names(&["p"])]);
    assert_eq!(non_resource, vec![PolicyRule::non_resource(&["get"], &["/healthz"])]);
}

#[test]
fn a_request_is_a_resource_request_exactly_when_it_names_a_resource() {
    let user = UserInfo::new(ALICE, &[]);
    assert!(Attributes::resource(user.clone(), "get", "", "pods", "", "team", "p").is_resource_request());
    assert!(!Attributes::non_resource(user, "get", "/healthz").is_resource_request());
}

#[test]
fn names_are_quoted_as_go_quotes_them() {
    // strconv.Quote: quote and backslash escaped, C escapes for the named controls, \x for
    // other ASCII controls and DEL, \u for other controls; printable text as it is.
    let cases = [
        ("plain-name", r#""plain-name""#),
        ("say \"hi\"", r#""say \"hi\"""#),
        ("back\\slash", r#""back\\slash""#),
        ("\u{7}\u{8}\u{c}\n\r\t\u{b}", r#""\a\b\f\n\r\t\v""#),
        ("\u{1}\u{1f}\u{7f}", r#""\x01\x1f\x7f""#),
        ("\u{85}", r#""\u0085""#),
        ("é ü 名", r#""é ü 名""#),
    ];
    for (name, quoted) in cases {
        assert_eq!(go_quote(name), quoted, "{name:?}");
    }
}
