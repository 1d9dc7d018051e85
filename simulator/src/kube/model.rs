//! A cluster's objects. At first contact a cluster holds what a fresh AKS cluster has: the
//! system namespaces, one node per agent-pool node, the kube-system pods of E.6, the
//! bootstrap RBAC policy; then whatever clients create.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::KubeError;
use std::sync::Arc;

use super::rbac::{self, RbacStore};
use super::rbac_cache::RbacCache;
use crate::clock::rfc3339;
use crate::copy_on_write::CopyOnWrite;
use crate::ids::IdSource;

/// A resource type the API server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub resource: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    /// Nodes and pods are the cluster's own; clients may only read them here.
    pub writable: bool,
}

pub const KINDS: &[Kind] = &[
    Kind { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, short_names: &["ns"], writable: true },
    Kind { group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false, short_names: &["no"], writable: false },
    Kind { group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, short_names: &["po"], writable: false },
    Kind { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, short_names: &["svc"], writable: true },
    Kind { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, short_names: &["cm"], writable: true },
    Kind { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, short_names: &[], writable: true },
    Kind { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, short_names: &["sa"], writable: true },
    Kind { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, short_names: &["deploy"], writable: true },
    Kind { group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true, short_names: &["ds"], writable: true },
    Kind { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true, short_names: &[], writable: true },
    Kind { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true, short_names: &[], writable: true },
    Kind { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false, short_names: &[], writable: true },
    Kind { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false, short_names: &[], writable: true },
];

pub fn kind(group: &str, resource: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.group == group && k.resource == resource)
}

/// The ClusterRoleBinding AKS makes for managed AAD's admin groups.
pub const ADMIN_GROUPS_BINDING: &str = "aks-cluster-admin-binding-aad";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KObject {
    pub group: String,
    pub resource: String,
    pub namespace: String,
    pub name: String,
    pub body: Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KubeCluster {
    /// Shared with the run's snapshots until it changes (copy_on_write.rs): most of it is
    /// the system objects every cluster starts with.
    objects: CopyOnWrite<Vec<KObject>>,
    pub resource_version: u64,
    pub created_ms: i64,
    pub kubernetes_version: String,
    /// The RBAC policy built from `objects`; every change to them clears it.
    #[serde(skip)]
    rbac_cache: RbacCache,
}

fn ts(ms: i64) -> String {
    rfc3339(time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// (name prefix, per node?, replicas, containers ready of, owner kind)
const SYSTEM_PODS: &[(&str, bool, u32, u32, &str)] = &[
    ("azure-ip-masq-agent", true, 1, 1, "DaemonSet"),
    ("cloud-node-manager", true, 1, 1, "DaemonSet"),
    ("coredns", false, 2, 1, "ReplicaSet"),
    ("coredns-autoscaler", false, 1, 1, "ReplicaSet"),
    ("csi-azuredisk-node", true, 1, 3, "DaemonSet"),
    ("csi-azurefile-node", true, 1, 3, "DaemonSet"),
    ("konnectivity-agent", false, 2, 1, "ReplicaSet"),
    ("kube-proxy", true, 1, 1, "DaemonSet"),
    ("metrics-server", false, 2, 2, "ReplicaSet"),
];

impl KubeCluster {
    /// A fresh AKS cluster with `nodes` nodes.
    pub fn new(ids: &mut IdSource, nodes: u32, kubernetes_version: &str, created_ms: i64) -> Self {
        let mut c = KubeCluster { objects: Default::default(), resource_version: 1000, created_ms, kubernetes_version: kubernetes_version.into(), rbac_cache: RbacCache::default() };
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            c.seed(ids, "", "namespaces", "", ns, json!({ "spec": { "finalizers": ["kubernetes"] }, "status": { "phase": "Active" } }));
            c.seed(ids, "", "serviceaccounts", ns, "default", json!({}));
        }
        c.seed(ids, "", "services", "default", "kubernetes", json!({ "spec": { "clusterIP": "10.0.0.1", "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": 443 }], "type": "ClusterIP" } }));
        let pool = ids.hex(8).chars().filter(|c| c.is_ascii_digit()).chain("12345678".chars()).take(8).collect::<String>();
        let node_names: Vec<String> = (0..nodes.max(1)).map(|i| format!("aks-nodepool1-{pool}-vmss{i:06}")).collect();
        for (i, n) in node_names.iter().enumerate() {
            c.seed(ids, "", "nodes", "", n, json!({
                "metadata": { "labels": { "kubernetes.io/hostname": n, "kubernetes.io/os": "linux", "kubernetes.azure.com/agentpool": "nodepool1", "node-role.kubernetes.io/agent": "" } },
                "spec": { "podCIDR": format!("10.244.{i}.0/24"), "providerID": format!("azure:///subscriptions/.../virtualMachineScaleSets/aks-nodepool1-{pool}-vmss/virtualMachines/{i}") },
                "status": {
                    "conditions": [{ "type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status" }],
                    "addresses": [{ "type": "InternalIP", "address": format!("10.224.0.{}", 4 + i) }, { "type": "Hostname", "address": n }],
                    "nodeInfo": { "kubeletVersion": format!("v{kubernetes_version}"), "osImage": "Ubuntu 22.04.5 LTS", "kernelVersion": "5.15.0-1074-azure", "containerRuntimeVersion": "containerd://1.7.25-1", "operatingSystem": "linux", "architecture": "amd64" },
                },
            }));
        }
        let mut pod_ip = 2;
        for (prefix, per_node, replicas, containers, owner) in SYSTEM_PODS {
            let count = if *per_node { node_names.len() as u32 } else { *replicas };
            let rs = ids.hex(10);
            let owner_uid = ids.guid().to_string();
            for i in 0..count {
                let suffix = ids.hex(5);
                let name = if *per_node { format!("{prefix}-{suffix}") } else { format!("{prefix}-{rs}-{suffix}") };
                let node = &node_names[(i as usize) % node_names.len()];
                let statuses: Vec<Value> = (0..*containers)
                    .map(|k| {
                        let image = format!("mcr.microsoft.com/oss/kubernetes/{prefix}:v1");
                        json!({
                            "name": format!("{prefix}-{k}"), "ready": true, "restartCount": 0, "started": true,
                            "state": { "running": { "startedAt": ts(created_ms) } },
                            "image": image, "imageID": format!("{image}@sha256:{}", ids.hex(64)), "containerID": format!("containerd://{}", ids.hex(64)),
                        })
                    })
                    .collect();
                let owner_name = if *per_node { prefix.to_string() } else { format!("{prefix}-{rs}") };
                c.seed(ids, "", "pods", "kube-system", &name, json!({
                    "metadata": { "labels": { "k8s-app": prefix }, "ownerReferences": [{ "apiVersion": "apps/v1", "kind": owner, "name": owner_name, "uid": owner_uid, "controller": true, "blockOwnerDeletion": true }] },
                    "spec": { "nodeName": node, "containers": (0..*containers).map(|k| json!({ "name": format!("{prefix}-{k}"), "image": format!("mcr.microsoft.com/oss/kubernetes/{prefix}:v1") })).collect::<Vec<_>>(), "priorityClassName": "system-node-critical" },
                    "status": { "phase": "Running", "conditions": [{ "type": "Ready", "status": "True" }], "hostIP": "10.224.0.4", "podIP": format!("10.244.0.{pod_ip}"), "startTime": ts(created_ms), "containerStatuses": statuses, "qosClass": "Burstable" },
                }));
                pod_ip += 1;
            }
        }
        let defaults = RbacStore::defaults();
        for r in &defaults.cluster_roles {
            let mut body = json!({ "rules": r.rules });
            if !r.labels.is_empty() {
                body["metadata"] = json!({ "labels": r.labels, "annotations": { "rbac.authorization.kubernetes.io/autoupdate": "true" } });
            }
            if let Some(a) = &r.aggregation_rule {
                body["aggregationRule"] = json!(a);
            }
            c.seed(ids, "rbac.authorization.k8s.io", "clusterroles", "", &r.name, body);
        }
        for b in &defaults.cluster_role_bindings {
            c.seed(ids, "rbac.authorization.k8s.io", "clusterrolebindings", "", &b.name, json!({ "roleRef": b.role_ref, "subjects": b.subjects }));
        }
        c
    }

    fn seed(&mut self, ids: &mut IdSource, group: &str, resource: &str, namespace: &str, name: &str, extra: Value) {
        let k = kind(group, resource).expect("seeded kinds are served");
        let body = self.stamp(ids, k, namespace, name, extra, self.created_ms);
        self.objects.push(KObject { group: group.into(), resource: resource.into(), namespace: namespace.into(), name: name.into(), body });
    }

    /// Fills in apiVersion, kind and the server-set metadata.
    fn stamp(&mut self, ids: &mut IdSource, k: &Kind, namespace: &str, name: &str, mut body: Value, now_ms: i64) -> Value {
        self.rbac_cache.clear();
        self.resource_version += 1;
        let api_version = if k.group.is_empty() { k.version.to_string() } else { format!("{}/{}", k.group, k.version) };
        let mut meta = body.get("metadata").cloned().unwrap_or(json!({}));
        meta["name"] = json!(name);
        if k.namespaced {
            meta["namespace"] = json!(namespace);
        } else if let Some(m) = meta.as_object_mut() {
            m.remove("namespace");
        }
        meta["uid"] = json!(ids.guid().to_string());
        meta["resourceVersion"] = json!(self.resource_version.to_string());
        meta["creationTimestamp"] = json!(ts(now_ms));
        body["apiVersion"] = json!(api_version);
        body["kind"] = json!(k.kind);
        body["metadata"] = meta;
        body
    }

    pub fn get(&self, k: &Kind, namespace: &str, name: &str) -> Result<&KObject, KubeError> {
        self.objects
            .iter()
            .find(|o| o.group == k.group && o.resource == k.resource && o.namespace == namespace && o.name == name)
            .ok_or_else(|| KubeError::not_found(k.resource, k.group, name))
    }

    /// Objects of a kind, in one namespace or (`None`) all.
    pub fn list(&self, k: &Kind, namespace: Option<&str>) -> Vec<&KObject> {
        let mut v: Vec<&KObject> = self
            .objects
            .iter()
            .filter(|o| o.group == k.group && o.resource == k.resource && namespace.is_none_or(|n| o.namespace == n))
            .collect();
        v.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        v
    }

    pub fn create(&mut self, ids: &mut IdSource, k: &Kind, namespace: &str, body: Value, now_ms: i64) -> Result<Value, KubeError> {
        let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
        if name.is_empty() {
            return Err(KubeError::invalid(k.kind, "", "metadata.name: Required value: name or generateName is required"));
        }
        if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.' || c == ':') {
            return Err(KubeError::invalid(k.kind, &name, &format!("metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'")));
        }
        if k.namespaced && self.get(kind("", "namespaces").expect("namespaces"), "", namespace).is_err() {
            return Err(KubeError::not_found("namespaces", "", namespace));
        }
        if self.get(k, namespace, &name).is_ok() {
            return Err(KubeError::already_exists(k.resource, k.group, &name));
        }
        validate(k, &name, &body)?;
        let mut body = body;
        if k.resource == "namespaces" && body["status"]["phase"].is_null() {
            body["status"] = json!({ "phase": "Active" });
        }
        let stamped = self.stamp(ids, k, namespace, &name, body, now_ms);
        self.objects.push(KObject { group: k.group.into(), resource: k.resource.into(), namespace: namespace.into(), name, body: stamped.clone() });
        Ok(stamped)
    }

    /// Replaces an object; a `resourceVersion` in the body must match the stored one.
    pub fn update(&mut self, k: &Kind, namespace: &str, name: &str, mut body: Value) -> Result<Value, KubeError> {
        let existing = self.get(k, namespace, name)?.body.clone();
        if let Some(rv) = body["metadata"]["resourceVersion"].as_str() {
            if rv != existing["metadata"]["resourceVersion"].as_str().unwrap_or_default() {
                return Err(KubeError::conflict(k.resource, k.group, name));
            }
        }
        validate(k, name, &body)?;
        self.rbac_cache.clear();
        self.resource_version += 1;
        let mut meta = existing["metadata"].clone();
        if let Some(labels) = body["metadata"].get("labels") {
            meta["labels"] = labels.clone();
        }
        if let Some(ann) = body["metadata"].get("annotations") {
            meta["annotations"] = ann.clone();
        }
        meta["resourceVersion"] = json!(self.resource_version.to_string());
        body["metadata"] = meta;
        body["apiVersion"] = existing["apiVersion"].clone();
        body["kind"] = existing["kind"].clone();
        let o = self.objects.iter_mut().find(|o| o.group == k.group && o.resource == k.resource && o.namespace == namespace && o.name == name).expect("found above");
        o.body = body.clone();
        Ok(body)
    }

    pub fn delete(&mut self, k: &Kind, namespace: &str, name: &str) -> Result<Value, KubeError> {
        let o = self.get(k, namespace, name)?.body.clone();
        self.rbac_cache.clear();
        self.objects.retain(|o| !(o.group == k.group && o.resource == k.resource && o.namespace == namespace && o.name == name));
        if k.resource == "namespaces" {
            self.objects.retain(|o| o.namespace != name);
        }
        Ok(o)
    }

    /// The RBAC policy in force: the stored RBAC objects, plus AKS's binding of the managed
    /// AAD admin groups to cluster-admin.
    pub fn rbac(&self, admin_groups: &[String]) -> Arc<RbacStore> {
        self.rbac_cache.get_or_build(admin_groups, || self.build_rbac(admin_groups))
    }

    fn build_rbac(&self, admin_groups: &[String]) -> RbacStore {
        let mut store = RbacStore::default();
        for o in &self.objects {
            let b = &o.body;
            let labels = Deserialize::deserialize(&b["metadata"]["labels"]).unwrap_or_default();
            match o.resource.as_str() {
                "roles" => store.roles.push(rbac::Role { name: o.name.clone(), namespace: o.namespace.clone(), labels, rules: Deserialize::deserialize(&b["rules"]).unwrap_or_default() }),
                "clusterroles" => store.cluster_roles.push(rbac::ClusterRole {
                    name: o.name.clone(),
                    labels,
                    rules: Deserialize::deserialize(&b["rules"]).unwrap_or_default(),
                    aggregation_rule: Deserialize::deserialize(&b["aggregationRule"]).ok(),
                }),
                "rolebindings" => store.role_bindings.push(rbac::RoleBinding {
                    name: o.name.clone(),
                    namespace: o.namespace.clone(),
                    role_ref: Deserialize::deserialize(&b["roleRef"]).unwrap_or_default(),
                    subjects: Deserialize::deserialize(&b["subjects"]).unwrap_or_default(),
                }),
                "clusterrolebindings" => store.cluster_role_bindings.push(rbac::ClusterRoleBinding {
                    name: o.name.clone(),
                    role_ref: Deserialize::deserialize(&b["roleRef"]).unwrap_or_default(),
                    subjects: Deserialize::deserialize(&b["subjects"]).unwrap_or_default(),
                }),
                _ => {}
            }
        }
        if !admin_groups.is_empty() {
            store.cluster_role_bindings.push(rbac::ClusterRoleBinding {
                name: ADMIN_GROUPS_BINDING.into(),
                role_ref: rbac::RoleRef::cluster_role("cluster-admin"),
                subjects: admin_groups.iter().map(|g| rbac::Subject::group(g)).collect(),
            });
        }
        store.aggregate();
        store
    }
}

/// The schema checks that matter for RBAC objects (a binding needs a roleRef).
fn validate(k: &Kind, name: &str, body: &Value) -> Result<(), KubeError> {
    match k.resource {
        "rolebindings" | "clusterrolebindings" => {
            let rr = &body["roleRef"];
            if rr["name"].as_str().unwrap_or_default().is_empty() {
                return Err(KubeError::invalid(k.kind, name, "roleRef.name: Required value"));
            }
            match rr["kind"].as_str() {
                Some("ClusterRole") => {}
                Some("Role") if k.resource == "rolebindings" => {}
                other => {
                    return Err(KubeError::invalid(k.kind, name, &format!("roleRef.kind: Unsupported value: {}", serde_json::to_string(&other.unwrap_or("")).unwrap_or_default())));
                }
            }
            for (i, s) in body["subjects"].as_array().cloned().unwrap_or_default().iter().enumerate() {
                if s["name"].as_str().unwrap_or_default().is_empty() {
                    return Err(KubeError::invalid(k.kind, name, &format!("subjects[{i}].name: Required value")));
                }
                if !matches!(s["kind"].as_str(), Some("User" | "Group" | "ServiceAccount")) {
                    return Err(KubeError::invalid(k.kind, name, &format!("subjects[{i}].kind: Unsupported value: {}", s["kind"])));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod rbac_cache_tests {
    use super::*;

    /// A binding made, changed or deleted shows in the very next decision: the kept policy
    /// never outlives a change.
    #[test]
    fn the_policy_follows_every_change_to_the_bindings() {
        let mut ids = IdSource::new(1);
        let mut c = KubeCluster::new(&mut ids, 1, "1.35.3", 0);
        let alice = rbac::UserInfo::new("alice@contoso.com", &[]);
        let can_list = |c: &KubeCluster| !c.rbac(&[]).rules_for(&alice, "default").0.is_empty();
        assert!(!can_list(&c));
        let crb = kind("rbac.authorization.k8s.io", "clusterrolebindings").unwrap();
        let binding = |user: &str| json!({ "metadata": { "name": "b" }, "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view" }, "subjects": [{ "apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user }] });
        c.create(&mut ids, crb, "", binding("alice@contoso.com"), 0).unwrap();
        assert!(can_list(&c), "created");
        c.update(crb, "", "b", binding("bob@contoso.com")).unwrap();
        assert!(!can_list(&c), "changed to bob");
        c.update(crb, "", "b", binding("alice@contoso.com")).unwrap();
        assert!(can_list(&c));
        c.delete(crb, "", "b").unwrap();
        assert!(!can_list(&c), "deleted");
        // Admin groups are part of what the policy was built with.
        let admins = rbac::UserInfo::new("x", &["g1"]);
        assert!(c.rbac(&["g1".to_string()]).rules_for(&admins, "default").0.len() > c.rbac(&[]).rules_for(&admins, "default").0.len());
    }
}
