//! Azure RBAC: built-in role definitions, assignments at a scope, and the check ARM makes
//! before every operation. Actions match with `*` wildcards, case-insensitively; an
//! assignment at a scope covers everything below it.

use serde::{Deserialize, Serialize};

use super::error::ArmError;
use crate::directory::{Directory, DirectoryObject};

/// The type ARM records for a role assignment's principal. A request that says the type is
/// trusted as it is: that is how a principal made moments ago gets a role before it has
/// replicated. Otherwise ARM looks the principal up, and a user, group or service principal
/// its replica does not know yet (or an application's object id, which is no principal) is
/// `PrincipalNotFound`.
pub fn assignment_principal_type(dir: &Directory, tenant: &str, principal: &str, given: Option<&str>, lag_ms: i64, now_ms: i64) -> Result<String, ArmError> {
    if let Some(t) = given {
        return Ok(t.to_string());
    }
    let (kind, made) = match dir.object(tenant, principal) {
        Some(DirectoryObject::User(_)) => ("User", 0),
        Some(DirectoryObject::Group(g)) => ("Group", g.created_ms),
        Some(DirectoryObject::ServicePrincipal(sp)) => ("ServicePrincipal", sp.created_ms),
        Some(DirectoryObject::Application(_)) | None => ("", 0),
    };
    if kind.is_empty() || dir.replicating(principal, made, lag_ms, now_ms) {
        return Err(ArmError::PrincipalNotFound { principal: principal.into(), tenant: tenant.into() });
    }
    Ok(kind.into())
}

#[derive(Debug)]
pub struct RoleDefinition {
    /// The GUID that names the role in `roleDefinitionId`.
    pub name: &'static str,
    pub role_name: &'static str,
    /// Azure's description of the built-in role.
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
}

pub const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
pub const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub const AKS_CLUSTER_ADMIN: &str = "0ab0b1a8-8aac-4efd-b8c2-3ee1fb270be8";
pub const AKS_CLUSTER_USER: &str = "4abbcc35-e782-43d8-92c5-2d3f1bd2253f";
pub const AKS_RBAC_CLUSTER_ADMIN: &str = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
pub const AKS_RBAC_READER: &str = "7f6c6a51-bcf8-42ba-9220-52d62157d7db";
pub const AKS_CONTRIBUTOR: &str = "ed7f3fbd-7b88-4dd4-9017-9adb7ce333f8";

pub const BUILT_IN_ROLES: &[RoleDefinition] = &[
    RoleDefinition { name: OWNER, role_name: "Owner", description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.", actions: &["*"], not_actions: &[] },
    RoleDefinition {
        name: CONTRIBUTOR,
        role_name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
        ],
    },
    RoleDefinition { name: READER, role_name: "Reader", description: "View all resources, but does not allow you to make any changes.", actions: &["*/read"], not_actions: &[] },
    RoleDefinition {
        name: AKS_CLUSTER_ADMIN,
        role_name: "Azure Kubernetes Service Cluster Admin Role",
        description: "List cluster admin credential action.",
        actions: &[
            "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action",
            "Microsoft.ContainerService/managedClusters/accessProfiles/listCredential/action",
            "Microsoft.ContainerService/managedClusters/read",
            "Microsoft.ContainerService/managedClusters/runcommand/action",
        ],
        not_actions: &[],
    },
    RoleDefinition {
        name: AKS_CLUSTER_USER,
        role_name: "Azure Kubernetes Service Cluster User Role",
        description: "List cluster user credential action.",
        actions: &["Microsoft.ContainerService/managedClusters/listClusterUserCredential/action", "Microsoft.ContainerService/managedClusters/read"],
        not_actions: &[],
    },
    RoleDefinition {
        name: AKS_CONTRIBUTOR,
        role_name: "Azure Kubernetes Service Contributor Role",
        description: "Grants access to read and write Azure Kubernetes Service clusters",
        actions: &["Microsoft.ContainerService/managedClusters/read", "Microsoft.ContainerService/managedClusters/write", "Microsoft.Resources/deployments/*"],
        not_actions: &[],
    },
    // Data-plane roles for clusters with Azure RBAC: they hold dataActions, not actions.
    RoleDefinition { name: AKS_RBAC_CLUSTER_ADMIN, role_name: "Azure Kubernetes Service RBAC Cluster Admin", description: "Lets you manage all resources in the cluster.", actions: &[], not_actions: &[] },
    RoleDefinition { name: AKS_RBAC_READER, role_name: "Azure Kubernetes Service RBAC Reader", description: "Allows read-only access to see most objects in a namespace.", actions: &[], not_actions: &[] },
];

/// When Azure created and last changed its built-in roles: the dates recorded for Reader
/// (azure-cli's test_role_assignment_create_update, 2022). The simulator gives every
/// built-in role these; clients read them only as information.
pub const BUILT_IN_CREATED_ON: &str = "2015-02-02T21:55:09.8806423Z";
pub const BUILT_IN_UPDATED_ON: &str = "2021-11-11T20:13:47.8628684Z";

pub fn role(name: &str) -> Option<&'static RoleDefinition> {
    BUILT_IN_ROLES.iter().find(|r| r.name.eq_ignore_ascii_case(name) || r.role_name.eq_ignore_ascii_case(name))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RoleAssignment {
    pub name: String,
    pub principal_id: String,
    pub principal_type: String,
    pub role: String,
    pub scope: String,
    /// As sent on create (ARM returns `null` for each when none was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_version: Option<String>,
    /// When it was made and by whom (object id), on the run's clock.
    #[serde(default)]
    pub created_ms: i64,
    #[serde(default)]
    pub created_by: String,
}

/// What a role-assignment list's `$filter` asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListFilter {
    /// `atScope()`: only assignments at or above the scope (not below it).
    pub at_scope: bool,
    /// `principalId eq '…'` (or `assignedTo('…')`): one principal's.
    pub principal: Option<String>,
}

impl ListFilter {
    /// Parses the filters ARM supports, alone or joined with `and`. Anything else is the
    /// message of ARM's 400.
    pub fn parse(filter: Option<&str>) -> Result<ListFilter, String> {
        let mut f = ListFilter::default();
        let Some(text) = filter.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(f) };
        let unsupported = || format!("The filter '{text}' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{{value}}' ' or 'assignedTo('{{value}}')'.");
        for clause in text.split(" and ").map(str::trim) {
            let quoted = |prefix: &str, suffix: &str| {
                clause
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_suffix(suffix))
                    .filter(|v| !v.is_empty() && !v.contains('\''))
                    .map(String::from)
            };
            if clause.eq_ignore_ascii_case("atScope()") {
                f.at_scope = true;
            } else if let Some(p) = quoted("principalId eq '", "'").or_else(|| quoted("assignedTo('", "')")) {
                f.principal = Some(p);
            } else {
                return Err(unsupported());
            }
        }
        Ok(f)
    }
}

/// The assignments a list at `scope` returns: those at, above or below it (only at or above
/// with `atScope()`), narrowed to one principal when the filter names one.
pub fn listed<'a>(assignments: &'a [RoleAssignment], scope: &str, filter: &ListFilter) -> Vec<&'a RoleAssignment> {
    assignments
        .iter()
        .filter(|a| scope_covers(&a.scope, scope) || (!filter.at_scope && scope_covers(scope, &a.scope)))
        .filter(|a| filter.principal.as_ref().is_none_or(|p| a.principal_id.eq_ignore_ascii_case(p)))
        .collect()
}

/// Does the pattern (`Microsoft.Resources/*/read`, `*`) match the action? `*` matches any run
/// of characters, case-insensitively.
pub fn action_matches(pattern: &str, action: &str) -> bool {
    glob(pattern.to_ascii_lowercase().as_bytes(), action.to_ascii_lowercase().as_bytes())
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| glob(rest, &s[i..])),
        Some((c, rest)) => s.first() == Some(c) && glob(rest, &s[1..]),
    }
}

/// Is `scope` at or below `assigned` (`/subscriptions/x` covers `/subscriptions/x/resourceGroups/y`)?
pub fn scope_covers(assigned: &str, scope: &str) -> bool {
    let a = assigned.trim_end_matches('/').to_ascii_lowercase();
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    a.is_empty() || s == a || s.starts_with(&format!("{a}/"))
}

pub fn role_allows(role: &RoleDefinition, action: &str) -> bool {
    role.actions.iter().any(|p| action_matches(p, action)) && !role.not_actions.iter().any(|p| action_matches(p, action))
}

/// Is the principal allowed `action` at `scope` by any of `assignments`?
pub fn is_allowed(assignments: &[RoleAssignment], principal_id: &str, action: &str, scope: &str) -> bool {
    assignments.iter().any(|a| {
        a.principal_id.eq_ignore_ascii_case(principal_id)
            && scope_covers(&a.scope, scope)
            && role(&a.role).is_some_and(|r| role_allows(r, action))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignments_principal_is_looked_up_unless_its_type_is_given() {
        let mut ids = crate::ids::IdSource::new(3);
        let mut dir = Directory::seeded(&mut ids, 0);
        let tenant = dir.home_tenant.clone();
        let (app, sp) = dir.register_app(&mut ids, &tenant, "new", "secret", 1_000, false);
        let alice = dir.user(&tenant, "alice@contoso.onmicrosoft.com").unwrap().id.clone();
        let lookup = |id: &str, given, now| assignment_principal_type(&dir, &tenant, id, given, 30_000, now);
        assert_eq!(lookup(&alice, None, 31_000).unwrap(), "User");
        assert_eq!(lookup(&sp.id, None, 31_000).unwrap(), "ServicePrincipal");
        let not_found = |r: Result<String, ArmError>| matches!(r, Err(ArmError::PrincipalNotFound { .. }));
        assert!(not_found(lookup(&sp.id, None, 30_999)), "not replicated yet");
        assert_eq!(lookup(&sp.id, Some("ServicePrincipal"), 1_000).unwrap(), "ServicePrincipal", "a given type is trusted");
        assert!(not_found(lookup(&app.id, None, 99_000)), "an application's object id is no principal");
        assert!(not_found(lookup("00000000-0000-0000-0000-000000000000", None, 99_000)));
    }

    fn assigned(name: &str, principal: &str, scope: &str) -> RoleAssignment {
        RoleAssignment {
            name: name.into(),
            principal_id: principal.into(),
            principal_type: "User".into(),
            role: "Reader".into(),
            scope: scope.into(),
            description: None,
            condition: None,
            condition_version: None,
            created_ms: 0,
            created_by: String::new(),
        }
    }

    #[test]
    fn a_list_at_a_scope_holds_what_is_above_at_and_below_it_and_at_scope_drops_below() {
        let sub = "/subscriptions/s";
        let rg = "/subscriptions/s/resourceGroups/rg";
        let cluster = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c";
        let all = [assigned("at-sub", "p1", sub), assigned("at-rg", "p2", rg), assigned("at-cluster", "p1", cluster), assigned("other-rg", "p1", "/subscriptions/s/resourceGroups/other")];
        let names = |f: &ListFilter, scope: &str| listed(&all, scope, f).into_iter().map(|a| a.name.as_str()).collect::<Vec<_>>();
        assert_eq!(names(&ListFilter::default(), rg), ["at-sub", "at-rg", "at-cluster"]);
        assert_eq!(names(&ListFilter::parse(Some("atScope()")).unwrap(), rg), ["at-sub", "at-rg"]);
        assert_eq!(names(&ListFilter::parse(Some("atScope()")).unwrap(), cluster), ["at-sub", "at-rg", "at-cluster"]);
        assert_eq!(names(&ListFilter::parse(Some("principalId eq 'P1'")).unwrap(), rg), ["at-sub", "at-cluster"]);
        assert_eq!(names(&ListFilter::parse(Some("atScope() and assignedTo('p1')")).unwrap(), rg), ["at-sub"]);
        assert_eq!(names(&ListFilter::default(), sub).len(), 4);
    }

    #[test]
    fn an_unsupported_filter_is_refused_with_the_ones_that_work() {
        for bad in ["roleDefinitionId eq 'x'", "principalId eq ''", "atScope() or principalId eq 'x'", "principalId eq 'a'b'"] {
            let e = ListFilter::parse(Some(bad)).unwrap_err();
            assert!(e.contains("is not supported") && e.contains("atScope()"), "{bad}: {e}");
        }
        assert_eq!(ListFilter::parse(Some("  ")).unwrap(), ListFilter::default());
    }
    use proptest::prelude::*;

    #[test]
    fn built_in_roles() {
        let w = "Microsoft.Resources/subscriptions/resourceGroups/write";
        let r = "Microsoft.Resources/subscriptions/resourceGroups/read";
        assert!(role_allows(role("Owner").unwrap(), w));
        assert!(role_allows(role("Contributor").unwrap(), w));
        assert!(!role_allows(role("Contributor").unwrap(), "Microsoft.Authorization/roleAssignments/write"));
        assert!(role_allows(role("Reader").unwrap(), r));
        assert!(!role_allows(role("Reader").unwrap(), w));
    }

    #[test]
    fn scopes_cover_what_is_below_them_only() {
        assert!(scope_covers("/subscriptions/S", "/subscriptions/s/resourceGroups/rg"));
        assert!(scope_covers("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourcegroups/RG"));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/rg", "/subscriptions/s/resourceGroups/rg2"));
        assert!(!scope_covers("/subscriptions/s/resourceGroups/rg", "/subscriptions/s"));
    }

    proptest! {
        #[test]
        fn star_matches_everything_and_literals_match_themselves_in_any_case(action in "[A-Za-z./]{1,40}") {
            prop_assert!(action_matches("*", &action));
            prop_assert!(action_matches(&action.to_uppercase(), &action));
            let longer = format!("{}x", action);
            prop_assert!(!action_matches(&longer, &action));
        }

        #[test]
        fn a_trailing_star_matches_any_suffix(prefix in "[a-z/]{0,10}", suffix in "[a-z/]{0,10}") {
            let pattern = format!("{}*", prefix);
            let action = format!("{}{}", prefix, suffix);
            prop_assert!(action_matches(&pattern, &action));
        }
    }
}
