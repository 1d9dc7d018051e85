//! Kubernetes RBAC: the API server's RBAC authorizer, as plain Rust.
//!
//! This follows upstream (`plugin/pkg/auth/authorizer/rbac`, `pkg/apis/rbac/v1`
//! `evaluation_helpers.go`, `pkg/registry/rbac/validation/rule.go` and the cluster role
//! aggregation controller) piece by piece:
//!
//! * **Types** — [`PolicyRule`], [`Role`], [`ClusterRole`], [`RoleBinding`],
//!   [`ClusterRoleBinding`] and friends, with Kubernetes' JSON field names.
//! * **Rule matching** — one small pure function per field of a rule ([`verb_matches`],
//!   [`api_group_matches`], [`resource_matches`], [`resource_name_matches`],
//!   [`non_resource_url_matches`]) combined by [`rule_allows`].
//! * **Subject matching** — [`applies_to_user`]: User, Group or ServiceAccount.
//! * **Rule resolution** — [`RbacStore`] walks every ClusterRoleBinding, then the
//!   RoleBindings of the request's namespace, and yields each rule a subject is granted (or
//!   the error of a binding whose role is missing). [`RbacStore::authorize`] stops at the first
//!   rule that allows; [`RbacStore::rules_for`] collects them all.
//! * **Aggregation** — [`RbacStore::aggregate`] recomputes aggregated ClusterRoles the way the
//!   controller does.
//! * **Defaults** — [`RbacStore::with_defaults`], a subset of the bootstrap policy.
//! * **Messages** — [`forbidden_message`] and [`allowed_reason`], the apiserver's texts.
//!
//! RBAC only ever allows or has no opinion; it never denies. A request nobody allows is
//! answered 403 by the caller, with [`forbidden_message`].

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// The API group of Roles, bindings and of User/Group subjects.
pub const RBAC_API_GROUP: &str = "rbac.authorization.k8s.io";
/// The superuser group: allowed everything before RBAC is consulted.
pub const SYSTEM_MASTERS: &str = "system:masters";
/// Every authenticated user is in this group (the caller adds it).
pub const SYSTEM_AUTHENTICATED: &str = "system:authenticated";
/// Anonymous requests are in this group (the caller adds it).
pub const SYSTEM_UNAUTHENTICATED: &str = "system:unauthenticated";

/// The wildcard of verbs, API groups, resources and non-resource URLs.
const ALL: &str = "*";
/// A service account authenticates as `system:serviceaccount:<namespace>:<name>`.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";
/// Labels of the built-in aggregation chain view → edit → admin.
const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";
const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/// Kubernetes writes absent lists as `null` (`"rules": null` on a fresh aggregated role):
/// read that as empty.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One grant: verbs on resources (`apiGroups` + `resources` [+ `resourceNames`]) or on
/// non-resource URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default, deserialize_with = "null_as_default")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(
        rename = "nonResourceURLs",
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl PolicyRule {
    /// A rule on resources: `verbs` on `resources` in `api_groups`.
    pub fn resource(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Self {
        Self {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..Self::default()
        }
    }

    /// A rule on non-resource URLs (`/healthz`, `/api/*`).
    pub fn non_resource(verbs: &[&str], urls: &[&str]) -> Self {
        Self { verbs: strings(verbs), non_resource_urls: strings(urls), ..Self::default() }
    }

    /// The non-resource half of a rule: verbs and URLs.
    fn non_resource_from(rule: &PolicyRule) -> Self {
        Self { verbs: rule.verbs.clone(), non_resource_urls: rule.non_resource_urls.clone(), ..Self::default() }
    }

    /// Restrict the rule to the named objects.
    pub fn with_resource_names(mut self, names: &[&str]) -> Self {
        self.resource_names = strings(names);
        self
    }
}

/// What a binding grants: a `Role` (in the binding's namespace) or a `ClusterRole`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    #[serde(default)]
    pub api_group: String,
    pub kind: String,
    pub name: String,
}

impl RoleRef {
    pub fn cluster_role(name: &str) -> Self {
        Self { api_group: RBAC_API_GROUP.to_owned(), kind: "ClusterRole".to_owned(), name: name.to_owned() }
    }

    pub fn role(name: &str) -> Self {
        Self { api_group: RBAC_API_GROUP.to_owned(), kind: "Role".to_owned(), name: name.to_owned() }
    }
}

/// Who a binding grants to: `User`, `Group` or `ServiceAccount`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_group: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

impl Subject {
    pub fn user(name: &str) -> Self {
        Self { kind: "User".to_owned(), api_group: RBAC_API_GROUP.to_owned(), name: name.to_owned(), ..Self::default() }
    }

    pub fn group(name: &str) -> Self {
        Self {
            kind: "Group".to_owned(),
            api_group: RBAC_API_GROUP.to_owned(),
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// A service account; an empty `namespace` means the binding's own namespace.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Self {
            kind: "ServiceAccount".to_owned(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    pub name: String,
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<PolicyRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRole {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// For an aggregated role these are overwritten by [`RbacStore::aggregate`].
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<PolicyRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_rule: Option<AggregationRule>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregationRule {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

/// A label selector. Empty selects everything, as in Kubernetes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Modelled so that a selector using only expressions does not read as empty (which would
    /// select every ClusterRole).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

impl LabelSelector {
    /// A selector on exact label values.
    pub fn labels(pairs: &[(&str, &str)]) -> Self {
        let match_labels = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Self { match_labels, ..Self::default() }
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().all(|(key, value)| labels.get(key) == Some(value))
            && self.match_expressions.iter().all(|requirement| requirement.matches(labels))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl LabelSelectorRequirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => value.is_some_and(|v| self.values.contains(v)),
            // Kubernetes: a missing label satisfies NotIn.
            SelectorOperator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBinding {
    pub name: String,
    pub namespace: String,
    pub role_ref: RoleRef,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRoleBinding {
    pub name: String,
    pub role_ref: RoleRef,
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<Subject>,
}

/// The authenticated user, as the authenticator (and the apiserver's added groups) made it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
}

impl UserInfo {
    pub fn new(name: &str, groups: &[&str]) -> Self {
        Self { name: name.to_owned(), groups: strings(groups) }
    }
}

// ---------------------------------------------------------------------------------------------
// Request attributes and decisions
// ---------------------------------------------------------------------------------------------

/// One request to authorize: who, which verb, and on what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub user: UserInfo,
    /// `get`, `list`, `create`, … (for non-resource requests the lowercase HTTP method).
    pub verb: String,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource(ResourceAttributes),
    NonResource { path: String },
}

/// The resource part of a request. Empty strings mean "none": the core API group, no
/// subresource, cluster scope, or no object name (list, watch, create, deletecollection).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceAttributes {
    pub namespace: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
}

impl Attributes {
    /// A resource request.
    pub fn resource(
        user: UserInfo,
        verb: impl Into<String>,
        api_group: impl Into<String>,
        resource: impl Into<String>,
        subresource: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        let target = Target::Resource(ResourceAttributes {
            namespace: namespace.into(),
            api_group: api_group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
        });
        Self { user, verb: verb.into(), target }
    }

    /// A non-resource request (`/healthz`, `/api`, `/version`).
    pub fn non_resource(user: UserInfo, verb: impl Into<String>, path: impl Into<String>) -> Self {
        Self { user, verb: verb.into(), target: Target::NonResource { path: path.into() } }
    }

    pub fn is_resource_request(&self) -> bool {
        matches!(self.target, Target::Resource(_))
    }

    /// The request's namespace; empty for cluster-scoped and non-resource requests.
    pub fn namespace(&self) -> &str {
        match &self.target {
            Target::Resource(r) => &r.namespace,
            Target::NonResource { .. } => "",
        }
    }
}

/// An authorizer's answer. `allowed == false` is "no opinion", never an explicit deny.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Upstream's reason: `RBAC: allowed by …` when allowed; `RBAC: <errors>` or empty when not.
    pub reason: String,
    /// The resolution errors alone (e.g. a binding to a missing role), without the `RBAC: `
    /// prefix. Upstream's RBAC authorizer returns a nil error and folds these into `reason`
    /// only, so a faithful SubjectAccessReview shows them in `status.reason`.
    pub evaluation_error: Option<String>,
}

impl Decision {
    pub fn allow(reason: String) -> Self {
        Self { allowed: true, reason, evaluation_error: None }
    }

    fn no_opinion(errors: &[String]) -> Self {
        match aggregate_errors(errors) {
            None => Self::default(),
            Some(text) => Self { allowed: false, reason: format!("RBAC: {text}"), evaluation_error: Some(text) },
        }
    }
}

/// Renders several errors like Go's `utilerrors.NewAggregate`: duplicates dropped, one error
/// as itself, several as `[a, b]`.
fn aggregate_errors(errors: &[String]) -> Option<String> {
    let mut distinct: Vec<&str> = Vec::new();
    for error in errors {
        if !distinct.contains(&error.as_str()) {
            distinct.push(error);
        }
    }
    match distinct.as_slice() {
        [] => None,
        [one] => Some((*one).to_owned()),
        many => Some(format!("[{}]", many.join(", "))),
    }
}

// ---------------------------------------------------------------------------------------------
// Rule matching (evaluation_helpers.go)
// ---------------------------------------------------------------------------------------------

/// Some rule verb is `*` or equals the requested verb.
pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// Some rule API group is `*` or equals the requested group (`""` is the core group).
pub fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == ALL || g == group)
}

/// Some rule resource is `*` (everything, subresources included), equals the combined
/// `resource[/subresource]`, or is `*/<subresource>` for the requested subresource. Note that
/// `pods` does not grant `pods/log`.
pub fn resource_matches(rule: &PolicyRule, combined_resource: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == ALL || r == combined_resource || (!subresource.is_empty() && r.strip_prefix("*/") == Some(subresource))
    })
}

/// No resource names means any object; otherwise the requested name must be listed, so a
/// nameless request (list, watch, create, deletecollection) never matches.
pub fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

/// Some rule URL is `*`, equals the path, or ends in `*` and prefixes the path (`/api*`
/// matches `/apis/apps`, `/healthz/*` matches `/healthz/etcd` but not `/healthz`).
pub fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls
        .iter()
        .any(|url| url == ALL || url == path || (url.ends_with('*') && path.starts_with(url.trim_end_matches('*'))))
}

/// `resource` or `resource/subresource`, the form rules name subresources in.
fn combined_resource<'a>(resource: &'a str, subresource: &str) -> Cow<'a, str> {
    if subresource.is_empty() { Cow::Borrowed(resource) } else { Cow::Owned(format!("{resource}/{subresource}")) }
}

/// Does this one rule allow the request? A resource rule has no non-resource URLs and a
/// non-resource rule no API groups, so neither ever matches the other kind of request.
pub fn rule_allows(attrs: &Attributes, rule: &PolicyRule) -> bool {
    match &attrs.target {
        Target::Resource(r) => {
            verb_matches(rule, &attrs.verb)
                && api_group_matches(rule, &r.api_group)
                && resource_matches(rule, &combined_resource(&r.resource, &r.subresource), &r.subresource)
                && resource_name_matches(rule, &r.name)
        }
        Target::NonResource { path } => verb_matches(rule, &attrs.verb) && non_resource_url_matches(rule, path),
    }
}

// ---------------------------------------------------------------------------------------------
// Subject matching (rule.go appliesToUser)
// ---------------------------------------------------------------------------------------------

/// Is `username` the service account `namespace/name`? Compared piecewise, without building
/// the `system:serviceaccount:<ns>:<name>` string.
fn is_service_account(username: &str, namespace: &str, name: &str) -> bool {
    username
        .strip_prefix(SERVICE_ACCOUNT_PREFIX)
        .and_then(|rest| rest.strip_prefix(namespace))
        .and_then(|rest| rest.strip_prefix(':'))
        == Some(name)
}

/// Does the subject name this user? `binding_namespace` is the RoleBinding's namespace
/// (empty for a ClusterRoleBinding): a ServiceAccount subject without a namespace means that
/// one, and so never matches in a ClusterRoleBinding.
pub fn applies_to_user(user: &UserInfo, subject: &Subject, binding_namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.groups.contains(&subject.name),
        "ServiceAccount" => {
            let namespace = if subject.namespace.is_empty() { binding_namespace } else { &subject.namespace };
            !namespace.is_empty() && is_service_account(&user.name, namespace, &subject.name)
        }
        _ => false,
    }
}

/// The first of the subjects that names this user.
fn applying_subject<'a>(user: &UserInfo, subjects: &'a [Subject], binding_namespace: &str) -> Option<&'a Subject> {
    subjects.iter().find(|s| applies_to_user(user, s, binding_namespace))
}

// ---------------------------------------------------------------------------------------------
// Rule resolution and the authorizer
// ---------------------------------------------------------------------------------------------

/// A binding of either kind: the source of a granted rule.
#[derive(Debug, Clone, Copy)]
pub enum Binding<'a> {
    Cluster(&'a ClusterRoleBinding),
    Namespaced(&'a RoleBinding),
}

impl<'a> Binding<'a> {
    fn role_ref(self) -> &'a RoleRef {
        match self {
            Binding::Cluster(b) => &b.role_ref,
            Binding::Namespaced(b) => &b.role_ref,
        }
    }

    fn subjects(self) -> &'a [Subject] {
        match self {
            Binding::Cluster(b) => &b.subjects,
            Binding::Namespaced(b) => &b.subjects,
        }
    }

    /// Empty for a ClusterRoleBinding.
    fn namespace(self) -> &'a str {
        match self {
            Binding::Cluster(_) => "",
            Binding::Namespaced(b) => &b.namespace,
        }
    }
}

/// What resolution yields, in order: a rule granted through a binding to a subject, or the
/// error of a binding whose role could not be resolved.
enum Visit<'a> {
    Rule { binding: Binding<'a>, subject: &'a Subject, rule: &'a PolicyRule },
    Error(String),
}

/// The RBAC objects of one cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RbacStore {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub cluster_roles: Vec<ClusterRole>,
    #[serde(default)]
    pub role_bindings: Vec<RoleBinding>,
    #[serde(default)]
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

/// Upstream's NotFound text for an RBAC object, e.g. `role.rbac.authorization.k8s.io "x" not found`.
fn not_found(resource: &str, name: &str) -> String {
    format!("{resource}.{RBAC_API_GROUP} {} not found", go_quote(name))
}

impl RbacStore {
    /// The API server's decision for the request.
    pub fn authorize(&self, attrs: &Attributes) -> Decision {
        // Outside RBAC: the apiserver puts a privileged-group authorizer for `system:masters`
        // ahead of every other authorizer, so these users are allowed even if RBAC objects are
        // deleted. It gives no reason.
        if attrs.user.groups.iter().any(|g| g == SYSTEM_MASTERS) {
            return Decision::allow(String::new());
        }
        self.authorize_rbac(attrs)
    }

    /// The RBAC authorizer alone: the first granted rule that allows wins; otherwise no
    /// opinion, carrying any resolution errors met on the way.
    fn authorize_rbac(&self, attrs: &Attributes) -> Decision {
        let mut errors = Vec::new();
        for visit in self.visit_rules_for(&attrs.user, attrs.namespace()) {
            match visit {
                Visit::Rule { binding, subject, rule } if rule_allows(attrs, rule) => {
                    return Decision::allow(allowed_reason(binding, subject));
                }
                Visit::Rule { .. } => {}
                Visit::Error(error) => errors.push(error),
            }
        }
        Decision::no_opinion(&errors)
    }

    /// Every rule granted to the user in `namespace` (empty: cluster-wide grants only), split
    /// as SelfSubjectRulesReview reports them: resource rules (without URLs) and non-resource
    /// rules (verbs and URLs only). Unresolvable bindings are skipped.
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> (Vec<PolicyRule>, Vec<PolicyRule>) {
        let mut resource_rules = Vec::new();
        let mut non_resource_rules = Vec::new();
        for visit in self.visit_rules_for(user, namespace) {
            let Visit::Rule { rule, .. } = visit else { continue };
            if !rule.resources.is_empty() {
                resource_rules.push(PolicyRule { non_resource_urls: Vec::new(), ..rule.clone() });
            }
            if !rule.non_resource_urls.is_empty() {
                non_resource_rules.push(PolicyRule::non_resource_from(rule));
            }
        }
        (resource_rules, non_resource_rules)
    }

    /// Lazily walks the grants: all ClusterRoleBindings, then (for a namespaced request) the
    /// RoleBindings of that namespace. Being lazy, `authorize` stops resolving at the first allow.
    fn visit_rules_for<'a>(&'a self, user: &'a UserInfo, namespace: &'a str) -> impl Iterator<Item = Visit<'a>> + 'a {
        let cluster = self.cluster_role_bindings.iter().map(Binding::Cluster);
        // A RoleBinding never reaches cluster-scoped or non-resource requests (namespace "").
        let local = self
            .role_bindings
            .iter()
            .filter(move |rb| !namespace.is_empty() && rb.namespace == namespace)
            .map(Binding::Namespaced);
        cluster
            .chain(local)
            .filter_map(move |binding| {
                applying_subject(user, binding.subjects(), binding.namespace()).map(|subject| (binding, subject))
            })
            .flat_map(move |(binding, subject)| {
                let (rules, error) = match self.role_ref_rules(binding.role_ref(), binding.namespace()) {
                    Ok(rules) => (rules, None),
                    Err(error) => (&[][..], Some(error)),
                };
                error.map(Visit::Error).into_iter().chain(rules.iter().map(move |rule| Visit::Rule {
                    binding,
                    subject,
                    rule,
                }))
            })
    }

    /// The rules a role reference resolves to. A `Role` is looked up in the binding's
    /// namespace; a `ClusterRole` by name (through a RoleBinding it is still only reached by
    /// requests in that namespace).
    fn role_ref_rules(&self, role_ref: &RoleRef, binding_namespace: &str) -> Result<&[PolicyRule], String> {
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .iter()
                .find(|r| !binding_namespace.is_empty() && r.namespace == binding_namespace && r.name == role_ref.name)
                .map(|r| r.rules.as_slice())
                .ok_or_else(|| not_found("role", &role_ref.name)),
            "ClusterRole" => self
                .cluster_roles
                .iter()
                .find(|r| r.name == role_ref.name)
                .map(|r| r.rules.as_slice())
                .ok_or_else(|| not_found("clusterrole", &role_ref.name)),
            other => Err(format!("unsupported role reference kind: {}", go_quote(other))),
        }
    }

    /// Recompute every aggregated ClusterRole's rules: the union, without duplicates, of the
    /// rules of the other ClusterRoles matching any of its selectors (per selector, in name
    /// order). Call after any ClusterRole changes. The controller re-syncs all aggregated roles
    /// on every change, so chains (view → edit → admin) settle; we repeat to that fixed point,
    /// bounded in case selectors form a cycle.
    pub fn aggregate(&mut self) {
        for _ in 0..=self.cluster_roles.len() {
            let mut changed = false;
            for i in 0..self.cluster_roles.len() {
                let target = &self.cluster_roles[i];
                let Some(aggregation) = &target.aggregation_rule else { continue };
                let rules = aggregated_rules(&self.cluster_roles, &target.name, aggregation);
                if rules != self.cluster_roles[i].rules {
                    self.cluster_roles[i].rules = rules;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// [`with_defaults`](Self::with_defaults), made once per process: every new cluster
    /// seeds its objects from it.
    pub fn defaults() -> &'static RbacStore {
        static DEFAULTS: std::sync::LazyLock<RbacStore> = std::sync::LazyLock::new(RbacStore::with_defaults);
        &DEFAULTS
    }

    /// The bootstrap policy subset an AKS cluster starts with, aggregated.
    pub fn with_defaults() -> RbacStore {
        let mut store = RbacStore {
            cluster_roles: bootstrap_cluster_roles(),
            cluster_role_bindings: bootstrap_cluster_role_bindings(),
            ..RbacStore::default()
        };
        store.aggregate();
        store
    }
}

/// One aggregated role's rules from the current rules of all the others (see [`RbacStore::aggregate`]).
fn aggregated_rules(all: &[ClusterRole], target: &str, aggregation: &AggregationRule) -> Vec<PolicyRule> {
    let mut rules: Vec<PolicyRule> = Vec::new();
    for selector in &aggregation.cluster_role_selectors {
        let mut sources: Vec<&ClusterRole> =
            all.iter().filter(|cr| cr.name != target && selector.matches(&cr.labels)).collect();
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        for rule in sources.iter().flat_map(|cr| &cr.rules) {
            if !rules.contains(rule) {
                rules.push(rule.clone());
            }
        }
    }
    rules
}

// ---------------------------------------------------------------------------------------------
// Bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, a subset)
// ---------------------------------------------------------------------------------------------

fn bootstrap_labels(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    std::iter::once(("kubernetes.io/bootstrapping", "rbac-defaults"))
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn bootstrap_role(name: &str, extra_labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole { name: name.to_owned(), labels: bootstrap_labels(extra_labels), rules, aggregation_rule: None }
}

fn aggregated_role(name: &str, extra_labels: &[(&str, &str)], aggregate_label: &str) -> ClusterRole {
    ClusterRole {
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: vec![LabelSelector::labels(&[(aggregate_label, "true")])],
        }),
        ..bootstrap_role(name, extra_labels, Vec::new())
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

fn bootstrap_cluster_roles() -> Vec<ClusterRole> {
    vec![
        bootstrap_role(
            "cluster-admin",
            &[],
            vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL]), PolicyRule::non_resource(&[ALL], &[ALL])],
        ),
        bootstrap_role(
            "system:discovery",
            &[],
            vec![PolicyRule::non_resource(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        bootstrap_role(
            "system:basic-user",
            &[],
            vec![
                PolicyRule::resource(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                PolicyRule::resource(&["create"], &["authentication.k8s.io"], &["selfsubjectreviews"]),
            ],
        ),
        bootstrap_role(
            "system:public-info-viewer",
            &[],
            vec![PolicyRule::non_resource(&["get"], &["/healthz", "/livez", "/readyz", "/version", "/version/"])],
        ),
        aggregated_role("admin", &[], AGGREGATE_TO_ADMIN),
        aggregated_role("edit", &[(AGGREGATE_TO_ADMIN, "true")], AGGREGATE_TO_EDIT),
        aggregated_role("view", &[(AGGREGATE_TO_EDIT, "true")], AGGREGATE_TO_VIEW),
        bootstrap_role(
            "system:aggregate-to-admin",
            &[(AGGREGATE_TO_ADMIN, "true")],
            vec![
                PolicyRule::resource(&["create"], &["authorization.k8s.io"], &["localsubjectaccessreviews"]),
                PolicyRule::resource(READ_WRITE, &[RBAC_API_GROUP], &["rolebindings", "roles"]),
            ],
        ),
        bootstrap_role(
            "system:aggregate-to-edit",
            &[(AGGREGATE_TO_EDIT, "true")],
            vec![
                PolicyRule::resource(
                    READ,
                    &[""],
                    &["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
                ),
                PolicyRule::resource(&["impersonate"], &[""], &["serviceaccounts"]),
                PolicyRule::resource(
                    WRITE,
                    &[""],
                    &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"],
                ),
                PolicyRule::resource(&["create"], &[""], &["pods/eviction"]),
                PolicyRule::resource(
                    WRITE,
                    &[""],
                    &["configmaps", "events", "persistentvolumeclaims", "secrets", "serviceaccounts", "services"],
                ),
                PolicyRule::resource(
                    WRITE,
                    &["apps"],
                    &[
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/scale",
                        "statefulsets",
                        "statefulsets/scale",
                    ],
                ),
                PolicyRule::resource(WRITE, &["batch"], &["cronjobs", "jobs"]),
            ],
        ),
        bootstrap_role(
            "system:aggregate-to-view",
            &[(AGGREGATE_TO_VIEW, "true")],
            vec![
                PolicyRule::resource(
                    READ,
                    &[""],
                    &["configmaps", "endpoints", "persistentvolumeclaims", "pods", "serviceaccounts", "services"],
                ),
                PolicyRule::resource(
                    READ,
                    &[""],
                    &["events", "limitranges", "pods/log", "pods/status", "resourcequotas"],
                ),
                PolicyRule::resource(READ, &[""], &["namespaces"]),
                PolicyRule::resource(
                    READ,
                    &["apps"],
                    &["daemonsets", "deployments", "deployments/scale", "replicasets", "statefulsets"],
                ),
                PolicyRule::resource(READ, &["batch"], &["cronjobs", "jobs"]),
            ],
        ),
    ]
}

fn group_binding(name: &str, role: &str, groups: &[&str]) -> ClusterRoleBinding {
    ClusterRoleBinding {
        name: name.to_owned(),
        role_ref: RoleRef::cluster_role(role),
        subjects: groups.iter().map(|g| Subject::group(g)).collect(),
    }
}

fn bootstrap_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        group_binding("cluster-admin", "cluster-admin", &[SYSTEM_MASTERS]),
        group_binding("system:discovery", "system:discovery", &[SYSTEM_AUTHENTICATED]),
        group_binding("system:basic-user", "system:basic-user", &[SYSTEM_AUTHENTICATED]),
        group_binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &[SYSTEM_AUTHENTICATED, SYSTEM_UNAUTHENTICATED],
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Go's `%q` for the text the apiserver quotes: escapes `"` and `\`, and control characters
/// as `strconv.Quote` does. (Go also escapes a few non-control non-printables; names never
/// hold those.)
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `Kind "name"`, or `ServiceAccount "name/namespace"` (namespace defaulted to the binding's).
fn describe_subject(subject: &Subject, binding_namespace: &str) -> String {
    match subject.kind.as_str() {
        "ServiceAccount" => {
            let namespace = if subject.namespace.is_empty() { binding_namespace } else { &subject.namespace };
            format!("{} {}", subject.kind, go_quote(&format!("{}/{}", subject.name, namespace)))
        }
        _ => format!("{} {}", subject.kind, go_quote(&subject.name)),
    }
}

/// The reason of an allow, e.g. `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole
/// "cluster-admin" to Group "g"` or `RBAC: allowed by RoleBinding "rb/ns" of Role "r" to User "u"`.
pub fn allowed_reason(binding: Binding<'_>, subject: &Subject) -> String {
    let role_ref = binding.role_ref();
    let (kind, name) = match binding {
        Binding::Cluster(b) => ("ClusterRoleBinding", Cow::Borrowed(b.name.as_str())),
        Binding::Namespaced(b) => ("RoleBinding", Cow::Owned(format!("{}/{}", b.name, b.namespace))),
    };
    format!(
        "RBAC: allowed by {kind} {} of {} {} to {}",
        go_quote(&name),
        role_ref.kind,
        go_quote(&role_ref.name),
        describe_subject(subject, binding.namespace())
    )
}

/// The apiserver escapes `&`, `<` and `>` in the denial so it never reads as HTML.
fn sanitize(message: &str) -> String {
    message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// `User "u" cannot <verb> resource "r[/sub]" in API group "g" in the namespace "ns"` (or `at
/// the cluster scope`), or `User "u" cannot <verb> path "/p"`.
fn denial(attrs: &Attributes) -> String {
    let user = go_quote(&attrs.user.name);
    let verb = &attrs.verb;
    match &attrs.target {
        Target::NonResource { path } => format!("User {user} cannot {verb} path {}", go_quote(path)),
        Target::Resource(r) => {
            let resource = go_quote(&combined_resource(&r.resource, &r.subresource));
            let group = go_quote(&r.api_group);
            if r.namespace.is_empty() {
                format!("User {user} cannot {verb} resource {resource} in API group {group} at the cluster scope")
            } else {
                let namespace = go_quote(&r.namespace);
                format!(
                    "User {user} cannot {verb} resource {resource} in API group {group} in the namespace {namespace}"
                )
            }
        }
    }
}

/// The `message` of the 403 Status: the denial, `: <reason>` when the authorizers gave one,
/// wrapped as `NewForbidden` does — `<resource>[.<group>] ["<name>" ]is forbidden: …`, or
/// `forbidden: …` when there is no resource (non-resource requests).
pub fn forbidden_message(attrs: &Attributes, reason: &str) -> String {
    let denial = sanitize(&denial(attrs));
    let error = if reason.is_empty() { denial } else { format!("{denial}: {reason}") };
    let (group, resource, name) = match &attrs.target {
        Target::Resource(r) => (r.api_group.as_str(), r.resource.as_str(), r.name.as_str()),
        Target::NonResource { .. } => ("", "", ""),
    };
    let qualified = if group.is_empty() { resource.to_owned() } else { format!("{resource}.{group}") };
    if group.is_empty() && resource.is_empty() {
        format!("forbidden: {error}")
    } else if name.is_empty() {
        format!("{qualified} is forbidden: {error}")
    } else {
        format!("{qualified} {} is forbidden: {error}", go_quote(name))
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn alice() -> UserInfo {
        UserInfo::new("alice@contoso.com", &[SYSTEM_AUTHENTICATED])
    }

    fn res(verb: &str, group: &str, resource: &str, sub: &str, ns: &str, name: &str) -> Attributes {
        Attributes::resource(alice(), verb, group, resource, sub, ns, name)
    }

    fn path(verb: &str, p: &str) -> Attributes {
        Attributes::non_resource(alice(), verb, p)
    }

    fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
        ClusterRole { name: name.into(), rules, ..ClusterRole::default() }
    }

    fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
        Role { name: name.into(), namespace: ns.into(), rules, ..Role::default() }
    }

    fn crb(name: &str, role_ref: RoleRef, subjects: Vec<Subject>) -> ClusterRoleBinding {
        ClusterRoleBinding { name: name.into(), role_ref, subjects }
    }

    fn rb(ns: &str, name: &str, role_ref: RoleRef, subjects: Vec<Subject>) -> RoleBinding {
        RoleBinding { name: name.into(), namespace: ns.into(), role_ref, subjects }
    }

    /// A store with one rule granted to alice through a ClusterRoleBinding.
    fn granting(rule: PolicyRule) -> RbacStore {
        RbacStore {
            cluster_roles: vec![cluster_role("r", vec![rule])],
            cluster_role_bindings: vec![crb("b", RoleRef::cluster_role("r"), vec![Subject::user("alice@contoso.com")])],
            ..RbacStore::default()
        }
    }

    #[test]
    fn a_resource_rule_matches_on_verb_group_resource_and_name() {
        let pods_read = PolicyRule::resource(&["get", "list"], &[""], &["pods"]);
        let deploy_any = PolicyRule::resource(&[ALL], &["apps"], &["deployments"]);
        let any_group = PolicyRule::resource(&["get"], &[ALL], &["deployments"]);
        let cases: &[(&str, &PolicyRule, Attributes, bool)] = &[
            ("listed verb", &pods_read, res("list", "", "pods", "", "default", ""), true),
            ("unlisted verb", &pods_read, res("delete", "", "pods", "", "default", "p"), false),
            ("* verb", &deploy_any, res("deletecollection", "apps", "deployments", "", "prod", ""), true),
            ("core group is \"\"", &pods_read, res("get", "apps", "pods", "", "default", "p"), false),
            ("* group", &any_group, res("get", "extensions", "deployments", "", "prod", "web"), true),
            ("other group", &deploy_any, res("get", "batch", "deployments", "", "prod", "web"), false),
            ("other resource", &pods_read, res("get", "", "secrets", "", "default", "s"), false),
        ];
        for (what, rule, attrs, want) in cases {
            assert_eq!(rule_allows(attrs, rule), *want, "{what}");
        }
    }

    #[test]
    fn subresources_need_the_combined_form_star_or_star_slash_subresource() {
        let star = PolicyRule::resource(&["get"], &[""], &[ALL]);
        let pods = PolicyRule::resource(&["get"], &[""], &["pods"]);
        let pods_log = PolicyRule::resource(&["get"], &[""], &["pods/log"]);
        let pods_slash_star = PolicyRule::resource(&["get"], &[""], &["pods/*"]);
        let any_scale = PolicyRule::resource(&["get"], &["apps"], &["*/scale"]);
        let cases: &[(&str, &PolicyRule, Attributes, bool)] = &[
            ("* includes subresources", &star, res("get", "", "pods", "log", "default", "p"), true),
            ("pods does not grant pods/log", &pods, res("get", "", "pods", "log", "default", "p"), false),
            ("pods/log grants pods/log", &pods_log, res("get", "", "pods", "log", "default", "p"), true),
            ("pods/log does not grant pods", &pods_log, res("get", "", "pods", "", "default", "p"), false),
            ("pods/* is no wildcard", &pods_slash_star, res("get", "", "pods", "log", "default", "p"), false),
            ("*/scale grants x/scale", &any_scale, res("get", "apps", "deployments", "scale", "prod", "w"), true),
            ("*/scale not the resource", &any_scale, res("get", "apps", "deployments", "", "prod", "w"), false),
            ("*/scale not other subs", &any_scale, res("get", "apps", "deployments", "status", "prod", "w"), false),
        ];
        for (what, rule, attrs, want) in cases {
            assert_eq!(rule_allows(attrs, rule), *want, "{what}");
        }
    }

    #[test]
    fn resource_names_restrict_to_named_objects_and_never_match_nameless_requests() {
        let named =
            PolicyRule::resource(&["get", "list", "update"], &[""], &["configmaps"]).with_resource_names(&["cfg"]);
        let cases: &[(&str, Attributes, bool)] = &[
            ("listed name", res("get", "", "configmaps", "", "default", "cfg"), true),
            ("other name", res("get", "", "configmaps", "", "default", "other"), false),
            ("list has no name", res("list", "", "configmaps", "", "default", ""), false),
            ("create has no name", res("create", "", "configmaps", "", "default", ""), false),
        ];
        for (what, attrs, want) in cases {
            assert_eq!(rule_allows(attrs, &named), *want, "{what}");
        }
        let unnamed = PolicyRule::resource(&["get"], &[""], &["configmaps"]);
        assert!(rule_allows(&res("get", "", "configmaps", "", "default", "anything"), &unnamed));
    }

    #[test]
    fn non_resource_urls_match_exactly_or_by_trailing_star_prefix() {
        let cases: &[(&str, &str, bool)] = &[
            ("/healthz", "/healthz", true),
            ("/healthz", "/healthz/etcd", false),
            ("/healthz/*", "/healthz/etcd", true),
            ("/healthz/*", "/healthz", false),
            ("/api*", "/apis/apps/v1", true),
            ("/api/*", "/apis", false),
            ("*", "/anything/at/all", true),
            ("/version/", "/version", false),
        ];
        for (url, p, want) in cases {
            let rule = PolicyRule::non_resource(&["get"], &[url]);
            assert_eq!(rule_allows(&path("get", p), &rule), *want, "{url} vs {p}");
        }
        let rule = PolicyRule::non_resource(&["get"], &["/healthz"]);
        assert!(!rule_allows(&path("post", "/healthz"), &rule), "verb still matters");
    }

    #[test]
    fn resource_rules_and_non_resource_rules_never_cross() {
        let everything = PolicyRule::resource(&[ALL], &[ALL], &[ALL]);
        assert!(!rule_allows(&path("get", "/healthz"), &everything));
        let all_urls = PolicyRule::non_resource(&[ALL], &[ALL]);
        assert!(!rule_allows(&res("get", "", "pods", "", "default", "p"), &all_urls));
    }

    #[test]
    fn subjects_match_users_groups_and_service_accounts() {
        let sa_user = UserInfo::new("system:serviceaccount:ci:deployer", &["system:serviceaccounts"]);
        let cases: &[(&str, UserInfo, Subject, &str, bool)] = &[
            ("user by name", alice(), Subject::user("alice@contoso.com"), "", true),
            ("user name is case-sensitive", alice(), Subject::user("Alice@contoso.com"), "", false),
            ("group membership", alice(), Subject::group(SYSTEM_AUTHENTICATED), "", true),
            ("not a member", alice(), Subject::group("admins"), "", false),
            ("a user subject is not a group", alice(), Subject::group("alice@contoso.com"), "", false),
            ("SA with namespace", sa_user.clone(), Subject::service_account("ci", "deployer"), "", true),
            ("SA other namespace", sa_user.clone(), Subject::service_account("prod", "deployer"), "", false),
            ("SA defaults to binding ns", sa_user.clone(), Subject::service_account("", "deployer"), "ci", true),
            ("SA default, other ns", sa_user.clone(), Subject::service_account("", "deployer"), "prod", false),
            ("SA in CRB needs a namespace", sa_user.clone(), Subject::service_account("", "deployer"), "", false),
            ("SA name is exact", sa_user.clone(), Subject::service_account("ci", "deploy"), "", false),
            (
                "unknown kind",
                alice(),
                Subject { kind: "Robot".into(), name: "alice@contoso.com".into(), ..Subject::default() },
                "",
                false,
            ),
        ];
        for (what, user, subject, binding_ns, want) in cases {
            assert_eq!(applies_to_user(user, subject, binding_ns), *want, "{what}");
        }
    }

    #[test]
    fn cluster_role_bindings_apply_everywhere() {
        let store = RbacStore {
            cluster_roles: vec![cluster_role(
                "reader",
                vec![
                    PolicyRule::resource(&["get"], &[""], &["pods", "nodes"]),
                    PolicyRule::non_resource(&["get"], &["/metrics"]),
                ],
            )],
            cluster_role_bindings: vec![crb(
                "read",
                RoleRef::cluster_role("reader"),
                vec![Subject::user("alice@contoso.com")],
            )],
            ..RbacStore::default()
        };
        assert!(store.authorize(&res("get", "", "pods", "", "default", "p")).allowed);
        assert!(store.authorize(&res("get", "", "pods", "", "kube-system", "p")).allowed);
        assert!(store.authorize(&res("get", "", "nodes", "", "", "n")).allowed);
        assert!(store.authorize(&path("get", "/metrics")).allowed);
    }

    #[test]
    fn role_bindings_apply_only_in_their_namespace_even_to_a_cluster_role() {
        let store = RbacStore {
            cluster_roles: vec![cluster_role(
                "cluster-admin",
                vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL]), PolicyRule::non_resource(&[ALL], &[ALL])],
            )],
            role_bindings: vec![rb(
                "team",
                "admins",
                RoleRef::cluster_role("cluster-admin"),
                vec![Subject::user("alice@contoso.com")],
            )],
            ..RbacStore::default()
        };
        let cases: &[(&str, Attributes, bool)] = &[
            ("in its namespace", res("delete", "apps", "deployments", "", "team", "web"), true),
            ("other namespace", res("get", "", "pods", "", "default", "p"), false),
            ("cluster-scoped", res("list", "", "nodes", "", "", ""), false),
            ("all namespaces", res("list", "", "pods", "", "", ""), false),
            ("non-resource", path("get", "/healthz"), false),
        ];
        for (what, attrs, want) in cases {
            assert_eq!(store.authorize(attrs).allowed, *want, "{what}");
        }
    }

    #[test]
    fn a_role_binding_to_a_role_uses_the_role_of_its_own_namespace() {
        let store = RbacStore {
            roles: vec![
                role("team", "pod-reader", vec![PolicyRule::resource(&["list"], &[""], &["pods"])]),
                role("other", "pod-reader", vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL])]),
            ],
            role_bindings: vec![rb(
                "team",
                "read",
                RoleRef::role("pod-reader"),
                vec![Subject::user("alice@contoso.com")],
            )],
            ..RbacStore::default()
        };
        assert!(store.authorize(&res("list", "", "pods", "", "team", "")).allowed);
        assert!(!store.authorize(&res("delete", "", "pods", "", "team", "p")).allowed);
        assert!(!store.authorize(&res("list", "", "pods", "", "other", "")).allowed);
    }

    #[test]
    fn allow_reasons_name_the_binding_role_and_subject() {
        let sa = UserInfo::new("system:serviceaccount:ci:deployer", &[]);
        let store = RbacStore {
            roles: vec![role("team", "r", vec![PolicyRule::resource(&["get"], &[""], &["pods"])])],
            cluster_roles: vec![cluster_role("cluster-admin", vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL])])],
            role_bindings: vec![
                rb(
                    "team",
                    "rb",
                    RoleRef::role("r"),
                    vec![Subject::group("nobody"), Subject::user("alice@contoso.com")],
                ),
                rb(
                    "ci",
                    "deploy",
                    RoleRef::cluster_role("cluster-admin"),
                    vec![Subject::service_account("", "deployer")],
                ),
            ],
            cluster_role_bindings: vec![crb(
                "admins",
                RoleRef::cluster_role("cluster-admin"),
                vec![Subject::group("g")],
            )],
        };
        let cases: &[(Attributes, &str)] = &[
            (
                Attributes::resource(UserInfo::new("bob", &["g"]), "get", "", "nodes", "", "", "n"),
                r#"RBAC: allowed by ClusterRoleBinding "admins" of ClusterRole "cluster-admin" to Group "g""#,
            ),
            (
                res("get", "", "pods", "", "team", "p"),
                r#"RBAC: allowed by RoleBinding "rb/team" of Role "r" to User "alice@contoso.com""#,
            ),
            (
                Attributes::resource(sa, "create", "apps", "deployments", "", "ci", ""),
                r#"RBAC: allowed by RoleBinding "deploy/ci" of ClusterRole "cluster-admin" to ServiceAccount "deployer/ci""#,
            ),
        ];
        for (attrs, want) in cases {
            let decision = store.authorize(attrs);
            assert_eq!(decision, Decision { allowed: true, reason: (*want).into(), evaluation_error: None });
        }
    }

    #[test]
    fn a_missing_role_is_an_evaluation_error_not_an_allow() {
        let store = RbacStore {
            role_bindings: vec![rb("team", "rb", RoleRef::role("gone"), vec![Subject::user("alice@contoso.com")])],
            cluster_role_bindings: vec![crb(
                "crb",
                RoleRef::cluster_role("foo"),
                vec![Subject::group(SYSTEM_AUTHENTICATED)],
            )],
            ..RbacStore::default()
        };
        let cluster_only = store.authorize(&res("get", "", "nodes", "", "", "n"));
        assert_eq!(
            cluster_only,
            Decision {
                allowed: false,
                reason: r#"RBAC: clusterrole.rbac.authorization.k8s.io "foo" not found"#.into(),
                evaluation_error: Some(r#"clusterrole.rbac.authorization.k8s.io "foo" not found"#.into()),
            }
        );
        let both = store.authorize(&res("get", "", "pods", "", "team", "p"));
        assert!(!both.allowed);
        assert_eq!(
            both.reason,
            r#"RBAC: [clusterrole.rbac.authorization.k8s.io "foo" not found, role.rbac.authorization.k8s.io "gone" not found]"#
        );
    }

    #[test]
    fn errors_only_come_from_bindings_that_name_the_user_and_are_deduplicated() {
        let store = RbacStore {
            cluster_role_bindings: vec![
                crb("a", RoleRef::cluster_role("foo"), vec![Subject::user("alice@contoso.com")]),
                crb("b", RoleRef::cluster_role("foo"), vec![Subject::group(SYSTEM_AUTHENTICATED)]),
                crb("c", RoleRef::cluster_role("bar"), vec![Subject::user("someone-else")]),
            ],
            ..RbacStore::default()
        };
        let decision = store.authorize(&path("get", "/healthz"));
        assert_eq!(decision.reason, r#"RBAC: clusterrole.rbac.authorization.k8s.io "foo" not found"#);
        assert_eq!(
            store.authorize(&Attributes::non_resource(UserInfo::new("x", &[]), "get", "/")),
            Decision::default()
        );
    }

    #[test]
    fn another_binding_still_allows_despite_a_missing_role() {
        let mut store = granting(PolicyRule::resource(&["get"], &[""], &["pods"]));
        store
            .cluster_role_bindings
            .insert(0, crb("broken", RoleRef::cluster_role("foo"), vec![Subject::user("alice@contoso.com")]));
        let decision = store.authorize(&res("get", "", "pods", "", "default", "p"));
        assert!(decision.allowed);
        assert_eq!(decision.evaluation_error, None);
    }

    #[test]
    fn an_unsupported_role_ref_kind_is_an_error() {
        let store = RbacStore {
            cluster_role_bindings: vec![crb(
                "odd",
                RoleRef { kind: "Policy".into(), name: "p".into(), ..RoleRef::default() },
                vec![Subject::user("alice@contoso.com")],
            )],
            ..RbacStore::default()
        };
        assert_eq!(store.authorize(&path("get", "/")).reason, r#"RBAC: unsupported role reference kind: "Policy""#);
    }

    #[test]
    fn system_masters_is_allowed_before_rbac_with_no_reason() {
        let admin = UserInfo::new("masterclient", &[SYSTEM_MASTERS, SYSTEM_AUTHENTICATED]);
        let empty = RbacStore::default();
        for attrs in [
            Attributes::resource(admin.clone(), "delete", "", "nodes", "", "", "n"),
            Attributes::non_resource(admin.clone(), "get", "/metrics"),
        ] {
            assert_eq!(
                empty.authorize(&attrs),
                Decision { allowed: true, reason: String::new(), evaluation_error: None }
            );
        }
    }

    #[test]
    fn default_policy_grants_discovery_and_self_reviews_but_no_objects() {
        let store = RbacStore::with_defaults();
        let anonymous = UserInfo::new("system:anonymous", &[SYSTEM_UNAUTHENTICATED]);
        let cases: &[(&str, Attributes, bool)] = &[
            ("/version", path("get", "/version"), true),
            ("/api", path("get", "/api"), true),
            ("/apis/apps/v1", path("get", "/apis/apps/v1"), true),
            ("/openapi/v3", path("get", "/openapi/v3"), true),
            ("/metrics", path("get", "/metrics"), false),
            ("post /api", path("post", "/api"), false),
            ("SSAR", res("create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""), true),
            ("SSRR", res("create", "authorization.k8s.io", "selfsubjectrulesreviews", "", "", ""), true),
            ("whoami", res("create", "authentication.k8s.io", "selfsubjectreviews", "", "", ""), true),
            ("SAR", res("create", "authorization.k8s.io", "subjectaccessreviews", "", "", ""), false),
            ("list pods", res("list", "", "pods", "", "default", ""), false),
            ("anonymous /healthz", Attributes::non_resource(anonymous.clone(), "get", "/healthz"), true),
            ("anonymous /version", Attributes::non_resource(anonymous.clone(), "get", "/version"), true),
            ("anonymous /api", Attributes::non_resource(anonymous.clone(), "get", "/api"), false),
        ];
        for (what, attrs, want) in cases {
            assert_eq!(store.authorize(attrs).allowed, *want, "{what}");
        }
        let allowed = store.authorize(&path("get", "/version"));
        assert_eq!(
            allowed.reason,
            r#"RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated""#
        );
    }

    #[test]
    fn default_aggregated_roles_nest_view_in_edit_in_admin() {
        let mut store = RbacStore::with_defaults();
        for (ns, role) in [("v", "view"), ("e", "edit"), ("a", "admin")] {
            store.role_bindings.push(rb(
                ns,
                role,
                RoleRef::cluster_role(role),
                vec![Subject::user("alice@contoso.com")],
            ));
        }
        let cases: &[(&str, &str, &str, &str, bool, bool, bool)] = &[
            // verb, resource, subresource, what; view, edit, admin
            ("list", "pods", "", "read pods", true, true, true),
            ("get", "pods", "log", "logs", true, true, true),
            ("get", "secrets", "", "secrets", false, true, true),
            ("create", "pods", "exec", "exec", false, true, true),
            ("delete", "pods", "", "delete pods", false, true, true),
            ("create", "rolebindings", "", "bind roles", false, false, true),
        ];
        for (verb, resource, sub, what, view, edit, admin) in cases {
            let group = if *resource == "rolebindings" { RBAC_API_GROUP } else { "" };
            for (ns, want) in [("v", view), ("e", edit), ("a", admin)] {
                let decision = store.authorize(&res(verb, group, resource, sub, ns, "x"));
                assert_eq!(decision.allowed, *want, "{what} in {ns}");
            }
        }
    }

    #[test]
    fn aggregation_picks_up_a_newly_labelled_cluster_role_and_drops_an_unlabelled_one() {
        let mut store = RbacStore::with_defaults();
        store.role_bindings.push(rb(
            "team",
            "view",
            RoleRef::cluster_role("view"),
            vec![Subject::user("alice@contoso.com")],
        ));
        let widgets = res("list", "example.com", "widgets", "", "team", "");
        assert!(!store.authorize(&widgets).allowed);

        let mut crd_view =
            cluster_role("widgets-view", vec![PolicyRule::resource(READ, &["example.com"], &["widgets"])]);
        crd_view.labels.insert(AGGREGATE_TO_VIEW.into(), "true".into());
        store.cluster_roles.push(crd_view);
        store.aggregate();
        assert!(store.authorize(&widgets).allowed, "view picks it up");
        let admin = store.cluster_roles.iter().find(|r| r.name == "admin").map(|r| r.rules.clone()).unwrap_or_default();
        assert!(
            admin.contains(&PolicyRule::resource(READ, &["example.com"], &["widgets"])),
            "and so do edit and admin"
        );

        if let Some(role) = store.cluster_roles.iter_mut().find(|r| r.name == "widgets-view") {
            role.labels.clear();
        }
        store.aggregate();
        assert!(!store.authorize(&widgets).allowed, "unlabelled again");
    }

    #[test]
    fn aggregation_orders_by_name_skips_itself_and_deduplicates() {
        let shared = PolicyRule::resource(&["get"], &[""], &["pods"]);
        let labelled = |name: &str, rules: Vec<PolicyRule>| {
            let mut r = cluster_role(name, rules);
            r.labels.insert("agg".into(), "yes".into());
            r
        };
        let mut store = RbacStore {
            cluster_roles: vec![
                labelled("b", vec![shared.clone(), PolicyRule::resource(&["get"], &[""], &["secrets"])]),
                labelled("a", vec![shared.clone()]),
                ClusterRole {
                    aggregation_rule: Some(AggregationRule {
                        cluster_role_selectors: vec![LabelSelector::labels(&[("agg", "yes")])],
                    }),
                    ..labelled("self", vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL])])
                },
            ],
            ..RbacStore::default()
        };
        store.aggregate();
        let rules = store.cluster_roles.iter().find(|r| r.name == "self").map(|r| r.rules.clone()).unwrap_or_default();
        assert_eq!(rules, vec![shared, PolicyRule::resource(&["get"], &[""], &["secrets"])]);
    }

    #[test]
    fn label_selectors_follow_kubernetes_semantics() {
        let labels: BTreeMap<String, String> = [("tier".to_owned(), "web".to_owned())].into();
        let requirement = |key: &str, operator, values: &[&str]| LabelSelector {
            match_expressions: vec![LabelSelectorRequirement { key: key.into(), operator, values: strings(values) }],
            ..LabelSelector::default()
        };
        let cases: &[(&str, LabelSelector, bool)] = &[
            ("empty selects everything", LabelSelector::default(), true),
            ("matchLabels equal", LabelSelector::labels(&[("tier", "web")]), true),
            ("matchLabels differ", LabelSelector::labels(&[("tier", "db")]), false),
            ("In", requirement("tier", SelectorOperator::In, &["web", "db"]), true),
            ("NotIn missing label", requirement("zone", SelectorOperator::NotIn, &["a"]), true),
            ("NotIn listed", requirement("tier", SelectorOperator::NotIn, &["web"]), false),
            ("Exists", requirement("tier", SelectorOperator::Exists, &[]), true),
            ("DoesNotExist", requirement("tier", SelectorOperator::DoesNotExist, &[]), false),
        ];
        for (what, selector, want) in cases {
            assert_eq!(selector.matches(&labels), *want, "{what}");
        }
    }

    #[test]
    fn rules_for_splits_resource_and_non_resource_rules_in_scope() {
        let mut store = RbacStore::with_defaults();
        store.roles.push(role("team", "r", vec![PolicyRule::resource(&["list"], &[""], &["pods"])]));
        store.role_bindings.push(rb("team", "rb", RoleRef::role("r"), vec![Subject::user("alice@contoso.com")]));
        let (resource, non_resource) = store.rules_for(&alice(), "team");
        assert!(resource.contains(&PolicyRule::resource(&["list"], &[""], &["pods"])));
        assert!(resource.contains(&PolicyRule::resource(
            &["create"],
            &["authentication.k8s.io"],
            &["selfsubjectreviews"]
        )));
        assert!(resource.iter().all(|r| r.non_resource_urls.is_empty()));
        assert!(non_resource.iter().all(|r| r.resources.is_empty() && r.api_groups.is_empty()));
        assert!(non_resource.iter().any(|r| r.non_resource_urls.contains(&"/api/*".to_owned())));
        let (elsewhere, _) = store.rules_for(&alice(), "default");
        assert!(!elsewhere.contains(&PolicyRule::resource(&["list"], &[""], &["pods"])));

        let admin = UserInfo::new("admin", &[SYSTEM_MASTERS]);
        let (resource, non_resource) = store.rules_for(&admin, "");
        assert_eq!(resource, vec![PolicyRule::resource(&[ALL], &[ALL], &[ALL])]);
        assert_eq!(non_resource, vec![PolicyRule::non_resource(&[ALL], &[ALL])]);
    }

    #[test]
    fn forbidden_messages_match_the_apiserver() {
        let x = || UserInfo::new("x", &[]);
        let cases: &[(Attributes, &str, &str)] = &[
            (
                res("list", "", "pods", "", "default", ""),
                "",
                r#"pods is forbidden: User "alice@contoso.com" cannot list resource "pods" in API group "" in the namespace "default""#,
            ),
            (
                Attributes::resource(x(), "get", "apps", "deployments", "", "prod", "web"),
                "",
                r#"deployments.apps "web" is forbidden: User "x" cannot get resource "deployments" in API group "apps" in the namespace "prod""#,
            ),
            (
                Attributes::resource(x(), "list", "", "nodes", "", "", ""),
                "",
                r#"nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the cluster scope"#,
            ),
            (Attributes::non_resource(x(), "get", "/healthz"), "", r#"forbidden: User "x" cannot get path "/healthz""#),
            (
                Attributes::resource(x(), "get", "", "pods", "log", "default", "p"),
                "",
                r#"pods "p" is forbidden: User "x" cannot get resource "pods/log" in API group "" in the namespace "default""#,
            ),
            (
                Attributes::resource(x(), "get", "", "pods", "", "default", "p"),
                r#"RBAC: clusterrole.rbac.authorization.k8s.io "foo" not found"#,
                r#"pods "p" is forbidden: User "x" cannot get resource "pods" in API group "" in the namespace "default": RBAC: clusterrole.rbac.authorization.k8s.io "foo" not found"#,
            ),
            (
                Attributes::resource(UserInfo::new("<b>&", &[]), "get", "", "pods", "", "default", "p"),
                "",
                r#"pods "p" is forbidden: User "&lt;b&gt;&amp;" cannot get resource "pods" in API group "" in the namespace "default""#,
            ),
            (
                Attributes::resource(UserInfo::new("q\"u", &[]), "get", "", "pods", "", "", ""),
                "",
                r#"pods is forbidden: User "q\"u" cannot get resource "pods" in API group "" at the cluster scope"#,
            ),
        ];
        for (attrs, reason, want) in cases {
            assert_eq!(forbidden_message(attrs, reason), *want);
        }
    }

    #[test]
    fn rbac_objects_use_kubernetes_json_field_names() {
        let rule = PolicyRule::non_resource(&["get"], &["/healthz"]);
        assert_eq!(
            serde_json::to_value(&rule).ok(),
            Some(serde_json::json!({"verbs": ["get"], "nonResourceURLs": ["/healthz"]}))
        );
        let binding = rb("ns", "rb", RoleRef::cluster_role("view"), vec![Subject::service_account("", "sa")]);
        assert_eq!(
            serde_json::to_value(&binding).ok(),
            Some(serde_json::json!({
                "name": "rb", "namespace": "ns",
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa"}]
            }))
        );
        let parsed: Result<ClusterRole, _> = serde_json::from_value(serde_json::json!({
            "name": "view", "rules": null,
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]}
        }));
        let parsed = parsed.map_err(|e| e.to_string());
        assert_eq!(
            parsed.as_ref().map(|r| r.aggregation_rule.clone()),
            Ok(Some(AggregationRule {
                cluster_role_selectors: vec![LabelSelector::labels(&[(AGGREGATE_TO_VIEW, "true")])]
            }))
        );
        let rule: Result<PolicyRule, _> =
            serde_json::from_str(r#"{"verbs":["get"],"apiGroups":[""],"resources":["pods"],"resourceNames":["p"]}"#);
        assert_eq!(rule.ok(), Some(PolicyRule::resource(&["get"], &[""], &["pods"]).with_resource_names(&["p"])));
    }

    fn word() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9.-]{0,15}"
    }

    proptest! {
        #[test]
        fn star_matches_any_verb_group_resource_and_subresource(
            verb in word(), group in prop_oneof![Just(String::new()), word()], resource in word(),
            sub in prop_oneof![Just(String::new()), word()], name in prop_oneof![Just(String::new()), word()],
        ) {
            let attrs = res(&verb, &group, &resource, &sub, "default", &name);
            prop_assert!(rule_allows(&attrs, &PolicyRule::resource(&[ALL], &[ALL], &[ALL])));
            prop_assert!(granting(PolicyRule::resource(&[ALL], &[ALL], &[ALL])).authorize(&attrs).allowed);
        }

        #[test]
        fn a_rule_with_resource_names_never_matches_a_nameless_request(
            verb in word(), resource in word(), names in proptest::collection::vec(word(), 1..4),
        ) {
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let rule = PolicyRule::resource(&[ALL], &[ALL], &[ALL]).with_resource_names(&names);
            prop_assert!(!rule_allows(&res(&verb, "", &resource, "", "default", ""), &rule));
            prop_assert!(rule_allows(&res(&verb, "", &resource, "", "default", names[0]), &rule));
        }

        #[test]
        fn a_plain_resource_never_grants_its_subresources(resource in word(), sub in word()) {
            let rule = PolicyRule::resource(&[ALL], &[ALL], &[resource.as_str()]);
            prop_assert!(rule_allows(&res("get", "", &resource, "", "ns", "n"), &rule));
            prop_assert!(!rule_allows(&res("get", "", &resource, &sub, "ns", "n"), &rule));
            let star_sub = format!("*/{sub}");
            let any = PolicyRule::resource(&[ALL], &[ALL], &[star_sub.as_str()]);
            prop_assert!(rule_allows(&res("get", "", &resource, &sub, "ns", "n"), &any));
        }

        #[test]
        fn a_trailing_star_url_matches_exactly_the_paths_with_its_prefix(
            prefix in "/[a-z/]{0,10}", rest in "[a-z/]{0,10}", other in "/[a-z/]{0,20}",
        ) {
            let url = format!("{prefix}*");
            let rule = PolicyRule::non_resource(&["get"], &[url.as_str()]);
            let full = format!("{prefix}{rest}");
            prop_assert!(rule_allows(&path("get", &full), &rule));
            prop_assert_eq!(rule_allows(&path("get", &other), &rule), other.starts_with(&prefix));
            prop_assert!(rule_allows(&path("get", &other), &PolicyRule::non_resource(&["get"], &[ALL])));
        }

        #[test]
        fn rbac_has_no_opinion_without_grants(verb in word(), resource in word(), ns in word()) {
            let decision = RbacStore::default().authorize(&res(&verb, "", &resource, "", &ns, ""));
            prop_assert_eq!(decision, Decision::default());
        }
    }
}

#[cfg(test)]
#[path = "rbac_rules_tests.rs"]
mod rules_tests;
