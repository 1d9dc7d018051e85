//! The authorizer chain of an AKS cluster's API server: Azure RBAC for Kubernetes (clusters
//! with `enableAzureRBAC`), where the AKS RBAC roles assigned in ARM on the cluster or above
//! decide first; then Kubernetes RBAC over the cluster's own objects, with the binding AKS
//! makes for managed AAD's admin groups.

use super::authn::Authenticated;
use super::model::KubeCluster;
use super::rbac::{Attributes, Decision, RbacStore, Target};
use crate::arm::aks::ManagedCluster;
use crate::arm::rbac::{AKS_RBAC_CLUSTER_ADMIN, AKS_RBAC_READER, RoleAssignment, scope_covers};

/// Azure RBAC for Kubernetes (clusters with `enableAzureRBAC`): the AKS RBAC roles assigned
/// on the cluster or above decide before Kubernetes RBAC.
fn azure_decision(assignments: &[RoleAssignment], c: &ManagedCluster, who: &Authenticated, attrs: &Attributes) -> Option<Decision> {
    let aad = c.aad.as_ref()?;
    let oid = who.object_id.as_ref()?;
    if !aad.enable_azure_rbac {
        return None;
    }
    let scope = c.id();
    let mut principals = vec![oid.clone()];
    principals.extend(who.user.groups.iter().cloned());
    let has = |role: &str| {
        assignments.iter().any(|a| a.role == role && scope_covers(&a.scope, &scope) && principals.iter().any(|p| p.eq_ignore_ascii_case(&a.principal_id)))
    };
    if has(AKS_RBAC_CLUSTER_ADMIN) {
        return Some(Decision::allow("Access allowed by Azure RBAC Role Assignment (Azure Kubernetes Service RBAC Cluster Admin)".into()));
    }
    let reading = matches!(attrs.verb.as_str(), "get" | "list" | "watch");
    let secret = matches!(&attrs.target, Target::Resource(r) if r.resource == "secrets");
    if has(AKS_RBAC_READER) && reading && !secret {
        return Some(Decision::allow("Access allowed by Azure RBAC Role Assignment (Azure Kubernetes Service RBAC Reader)".into()));
    }
    None
}

/// The Kubernetes RBAC policy in force: the cluster's RBAC objects, and AKS's binding of a
/// managed-AAD cluster's admin groups to cluster-admin.
pub fn kubernetes_rbac(c: &ManagedCluster, kc: &KubeCluster) -> std::sync::Arc<RbacStore> {
    let admin_groups = c.aad.as_ref().filter(|a| a.managed).map(|a| a.admin_group_object_ids.clone()).unwrap_or_default();
    kc.rbac(&admin_groups)
}

/// Whether the cluster's API server lets `who` do what `attrs` name: Azure RBAC first (when
/// the cluster has it), then Kubernetes RBAC with AKS's binding of the admin groups.
pub fn authorize(assignments: &[RoleAssignment], c: &ManagedCluster, kc: &KubeCluster, who: &Authenticated, attrs: &Attributes) -> Decision {
    if let Some(d) = azure_decision(assignments, c, who, attrs) {
        return d;
    }
    let d = kubernetes_rbac(c, kc).authorize(attrs);
    if !d.allowed && c.aad.as_ref().is_some_and(|a| a.enable_azure_rbac) {
        return Decision { allowed: false, reason: "User does not have access to the resource in Azure. Update role assignment to allow access.".into(), evaluation_error: None };
    }
    d
}
