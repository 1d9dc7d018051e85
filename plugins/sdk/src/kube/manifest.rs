//! Manifests: multi-document YAML split into objects, each located by its REST path.

use serde::Deserialize;
use serde_json::Value as Json;

use super::{ResourceType, resource_by_kind};
use crate::StepError;

/// Splits multi-document YAML (or JSON) into objects; `kind: List` documents are expanded
/// into their items and empty documents skipped.
pub fn parse_manifests(text: &str) -> Result<Vec<Json>, StepError> {
    let mut out = vec![];
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Json::deserialize(doc)
            .map_err(|e| StepError::new("InvalidManifest", format!("document {} of the manifest is not valid YAML: {e}", i + 1)))?;
        match value {
            Json::Null => continue,
            Json::Object(ref o) => {
                let is_list = o.get("kind").and_then(Json::as_str).is_some_and(|k| k.ends_with("List")) && o.get("items").is_some_and(Json::is_array);
                if is_list {
                    for item in o["items"].as_array().into_iter().flatten() {
                        out.push(item.clone());
                    }
                } else {
                    out.push(value);
                }
            }
            _ => return Err(StepError::new("InvalidManifest", format!("document {} of the manifest is not an object", i + 1))),
        }
    }
    Ok(out)
}

/// One object of a manifest, located.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectRef {
    pub resource: &'static ResourceType,
    pub api_version: String,
    pub name: String,
    /// `Some` for namespaced types.
    pub namespace: Option<String>,
}

impl ObjectRef {
    /// Where a manifest object lives: its type from `apiVersion`/`kind`, its namespace from
    /// `metadata.namespace` or `default_namespace`. Errors read like kubectl's.
    pub fn from_manifest(obj: &Json, default_namespace: &str) -> Result<Self, StepError> {
        let api_version = obj.get("apiVersion").and_then(Json::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
        let mut missing = vec![];
        if api_version.is_empty() {
            missing.push("apiVersion not set");
        }
        if kind.is_empty() {
            missing.push("kind not set");
        }
        if !missing.is_empty() {
            return Err(StepError::new("InvalidManifest", format!("error validating data: [{}]", missing.join(", "))));
        }
        let name = obj.pointer("/metadata/name").and_then(Json::as_str).unwrap_or("");
        if name.is_empty() {
            return Err(StepError::new("InvalidManifest", format!("error when retrieving current configuration of a {kind}: resource name may not be empty")));
        }
        let resource = resource_by_kind(api_version, kind).ok_or_else(|| {
            let ns = obj.pointer("/metadata/namespace").and_then(Json::as_str).unwrap_or("");
            StepError::new(
                "ResourceMappingNotFound",
                format!("resource mapping not found for name: {name:?} namespace: {ns:?} from \"manifest\": no matches for kind {kind:?} in version {api_version:?}\nensure CRDs are installed first"),
            )
        })?;
        let namespace = resource.namespaced.then(|| {
            obj.pointer("/metadata/namespace").and_then(Json::as_str).filter(|n| !n.is_empty()).unwrap_or(default_namespace).to_string()
        });
        Ok(ObjectRef { resource, api_version: api_version.to_string(), name: name.to_string(), namespace })
    }

    fn version(&self) -> &str {
        self.api_version.rsplit('/').next().unwrap_or(self.resource.version)
    }

    pub fn collection_path(&self) -> String {
        self.resource.collection_path(Some(self.version()), self.namespace.as_deref())
    }

    pub fn item_path(&self) -> String {
        format!("{}/{}", self.collection_path(), self.name)
    }

    /// `clusterrolebinding.rbac.authorization.k8s.io/contoso-cluster-admins`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.resource.qualified_singular(), self.name)
    }
}

/// Whether every field `desired` sets has that value in `actual` (objects recursively,
/// arrays element by element). What makes `kubectl apply` print `unchanged`.
pub fn is_subset(desired: &Json, actual: &Json) -> bool {
    match (desired, actual) {
        (Json::Object(d), Json::Object(a)) => d.iter().all(|(k, v)| match a.get(k) {
            Some(av) => is_subset(v, av),
            None => v.is_null(),
        }),
        (Json::Array(d), Json::Array(a)) => d.len() == a.len() && d.iter().zip(a).all(|(x, y)| is_subset(x, y)),
        (Json::Null, Json::Null) => true,
        (d, a) => d == a,
    }
}

/// `desired` merged over `base`: objects key by key, everything else replaced.
pub fn merge(base: &Json, desired: &Json) -> Json {
    match (base, desired) {
        (Json::Object(b), Json::Object(d)) => {
            let mut out = b.clone();
            for (k, v) in d {
                let merged = match b.get(k) {
                    Some(bv) => merge(bv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Json::Object(out)
        }
        (_, d) => d.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_manifests_to_rest_paths() {
        let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: contoso-cluster-admins
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: alice@contoso.com
---
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  namespace: team
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: team}}
- {apiVersion: v1, kind: ServiceAccount, metadata: {name: bot}}
"#;
        let objs = parse_manifests(yaml).unwrap();
        assert_eq!(objs.len(), 5);
        let refs: Vec<ObjectRef> = objs.iter().map(|o| ObjectRef::from_manifest(o, "default").unwrap()).collect();
        assert_eq!(refs[0].item_path(), "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/contoso-cluster-admins");
        assert_eq!(refs[0].collection_path(), "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings");
        assert_eq!(refs[0].display(), "clusterrolebinding.rbac.authorization.k8s.io/contoso-cluster-admins");
        assert_eq!(refs[0].namespace, None);
        assert_eq!(refs[1].item_path(), "/api/v1/namespaces/team/configmaps/c");
        assert_eq!(refs[1].display(), "configmap/c");
        assert_eq!(refs[2].item_path(), "/apis/apps/v1/namespaces/default/deployments/web");
        assert_eq!(refs[2].display(), "deployment.apps/web");
        assert_eq!(refs[3].item_path(), "/api/v1/namespaces/team");
        assert_eq!(refs[4].item_path(), "/api/v1/namespaces/default/serviceaccounts/bot");
    }

    #[test]
    fn manifest_errors_read_like_kubectl() {
        let e = ObjectRef::from_manifest(&serde_json::json!({"metadata": {"name": "x"}}), "default").unwrap_err();
        assert_eq!(e.message, "error validating data: [apiVersion not set, kind not set]");
        let e = ObjectRef::from_manifest(&serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}), "default").unwrap_err();
        assert_eq!(e.code, "ResourceMappingNotFound");
        assert!(e.message.contains("no matches for kind \"Widget\" in version \"example.com/v1\""));
        assert_eq!(parse_manifests("- a\n- b\n").unwrap_err().code, "InvalidManifest");
        assert_eq!(parse_manifests("a: [").unwrap_err().code, "InvalidManifest");
    }

    #[test]
    fn subset_and_merge() {
        let actual = serde_json::json!({"metadata": {"name": "a", "resourceVersion": "5", "uid": "u"}, "roleRef": {"kind": "ClusterRole"}, "subjects": [{"kind": "User", "name": "x"}]});
        assert!(is_subset(&serde_json::json!({"metadata": {"name": "a"}, "subjects": [{"kind": "User", "name": "x"}]}), &actual));
        assert!(!is_subset(&serde_json::json!({"subjects": [{"kind": "User", "name": "y"}]}), &actual));
        assert!(!is_subset(&serde_json::json!({"subjects": []}), &actual));
        let merged = merge(&actual, &serde_json::json!({"metadata": {"labels": {"a": "b"}}, "subjects": []}));
        assert_eq!(merged["metadata"]["resourceVersion"], "5");
        assert_eq!(merged["metadata"]["labels"]["a"], "b");
        assert_eq!(merged["subjects"], serde_json::json!([]));
    }
}
