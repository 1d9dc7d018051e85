//! The built-in resource types: how kubectl names them and where their REST paths are.

/// A built-in resource type: how `kubectl` names it and where it lives.
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceType {
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    /// `""` for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
}

macro_rules! rt {
    ($kind:literal, $plural:literal, $singular:literal, [$($s:literal),*], $group:literal, $version:literal, $ns:literal) => {
        ResourceType { kind: $kind, plural: $plural, singular: $singular, short_names: &[$($s),*], group: $group, version: $version, namespaced: $ns }
    };
}

/// The resource types the kube steps know without discovery.
pub const RESOURCES: &[ResourceType] = &[
    rt!("Namespace", "namespaces", "namespace", ["ns"], "", "v1", false),
    rt!("Node", "nodes", "node", ["no"], "", "v1", false),
    rt!("Pod", "pods", "pod", ["po"], "", "v1", true),
    rt!("Service", "services", "service", ["svc"], "", "v1", true),
    rt!("ServiceAccount", "serviceaccounts", "serviceaccount", ["sa"], "", "v1", true),
    rt!("ConfigMap", "configmaps", "configmap", ["cm"], "", "v1", true),
    rt!("Secret", "secrets", "secret", [], "", "v1", true),
    rt!("Event", "events", "event", ["ev"], "", "v1", true),
    rt!("Endpoints", "endpoints", "endpoints", ["ep"], "", "v1", true),
    rt!("PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", ["pvc"], "", "v1", true),
    rt!("PersistentVolume", "persistentvolumes", "persistentvolume", ["pv"], "", "v1", false),
    rt!("Deployment", "deployments", "deployment", ["deploy"], "apps", "v1", true),
    rt!("ReplicaSet", "replicasets", "replicaset", ["rs"], "apps", "v1", true),
    rt!("DaemonSet", "daemonsets", "daemonset", ["ds"], "apps", "v1", true),
    rt!("StatefulSet", "statefulsets", "statefulset", ["sts"], "apps", "v1", true),
    rt!("Job", "jobs", "job", [], "batch", "v1", true),
    rt!("CronJob", "cronjobs", "cronjob", ["cj"], "batch", "v1", true),
    rt!("Role", "roles", "role", [], "rbac.authorization.k8s.io", "v1", true),
    rt!("RoleBinding", "rolebindings", "rolebinding", [], "rbac.authorization.k8s.io", "v1", true),
    rt!("ClusterRole", "clusterroles", "clusterrole", [], "rbac.authorization.k8s.io", "v1", false),
    rt!("ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", [], "rbac.authorization.k8s.io", "v1", false),
];

impl ResourceType {
    /// `/api/v1` or `/apis/{group}/{version}`.
    pub fn api_prefix(&self, version: Option<&str>) -> String {
        let v = version.unwrap_or(self.version);
        if self.group.is_empty() { format!("/api/{v}") } else { format!("/apis/{}/{v}", self.group) }
    }

    /// The collection path, in `namespace` when the type is namespaced (`None` = all
    /// namespaces).
    pub fn collection_path(&self, version: Option<&str>, namespace: Option<&str>) -> String {
        match namespace {
            Some(ns) if self.namespaced => format!("{}/namespaces/{ns}/{}", self.api_prefix(version), self.plural),
            _ => format!("{}/{}", self.api_prefix(version), self.plural),
        }
    }

    /// `pods`, `clusterrolebindings.rbac.authorization.k8s.io` (a Forbidden message's form).
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// `pod`, `clusterrolebinding.rbac.authorization.k8s.io` (what `kubectl apply` prints).
    pub fn qualified_singular(&self) -> String {
        if self.group.is_empty() { self.singular.to_string() } else { format!("{}.{}", self.singular, self.group) }
    }
}

/// A resource type by what a person types after `kubectl get`: plural, singular, short
/// name or kind, optionally `.group`-qualified, case-insensitively.
pub fn resource_by_name(name: &str) -> Option<&'static ResourceType> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, group) = match lower.split_once('.') {
        Some((b, g)) => (b.to_string(), Some(g.to_string())),
        None => (lower.clone(), None),
    };
    RESOURCES.iter().find(|r| {
        let names = base == r.plural || base == r.singular || base == r.kind.to_ascii_lowercase() || r.short_names.contains(&base.as_str());
        names && group.as_deref().is_none_or(|g| g == r.group || r.group.starts_with(&format!("{g}.")))
    })
}

/// A resource type by a manifest's `apiVersion` and `kind`.
pub fn resource_by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceType> {
    let group = api_version.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
    RESOURCES.iter().find(|r| r.kind == kind && r.group == group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_resolve_like_kubectl() {
        for n in ["pods", "pod", "po", "Pod", "PODS"] {
            assert_eq!(resource_by_name(n).map(|r| r.plural), Some("pods"), "{n}");
        }
        assert_eq!(resource_by_name("deploy").unwrap().group, "apps");
        assert_eq!(resource_by_name("clusterrolebindings.rbac.authorization.k8s.io").unwrap().kind, "ClusterRoleBinding");
        assert_eq!(resource_by_name("clusterrolebindings.rbac").unwrap().kind, "ClusterRoleBinding");
        assert!(resource_by_name("widgets").is_none());
        let pods = resource_by_name("pods").unwrap();
        assert_eq!(pods.collection_path(None, Some("kube-system")), "/api/v1/namespaces/kube-system/pods");
        assert_eq!(pods.collection_path(None, None), "/api/v1/pods");
        assert_eq!(resource_by_name("nodes").unwrap().collection_path(None, Some("default")), "/api/v1/nodes");
    }
}
