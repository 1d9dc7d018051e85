//! The API server's OpenAPI documents. v3, for kubectl's schema validation (`kubectl apply`
//! with `--validate`, its default): `/openapi/v3` lists a document per group-version and
//! `/openapi/v3/<group-version>` serves it. v2, for the clients that still read it:
//! `/openapi/v2` is one swagger 2.0 document for every served group-version, the served
//! kinds' collection and object paths as published with every definition they refer to
//! ([`v2_document`], with its entity tag [`v2_etag`]; served as JSON only, see routes.rs).
//! The schemas are Kubernetes' own, generated from the published spec by
//! `scripts/openapi-subset.py` (simulator/openapi/SOURCE.md); the v3 documents carry the
//! write operations' query parameters: kubectl finds `fieldValidation` there and has the
//! server check fields (`fieldValidation=Strict`), which [`unknown_fields`] does against the
//! same schemas.

use std::sync::OnceLock;

use sha2::{Digest, Sha256, Sha512};

/// (group-version path, document)
const DOCUMENTS: &[(&str, &str)] = &[
    ("api/v1", include_str!("../../openapi/api__v1.json")),
    ("apis/apps/v1", include_str!("../../openapi/apis__apps__v1.json")),
    ("apis/rbac.authorization.k8s.io/v1", include_str!("../../openapi/apis__rbac.authorization.k8s.io__v1.json")),
];

/// `/openapi/v2`: one swagger 2.0 document for every served group-version.
const V2: &str = include_str!("../../openapi/v2.json");

/// The `/openapi/v2` document, as JSON.
pub fn v2_document() -> &'static str {
    V2
}

/// The `/openapi/v2` document's `ETag`, as kube-openapi's handler makes it: the document's
/// SHA-512 in upper-case hex, in double quotes.
pub fn v2_etag() -> &'static str {
    static E: OnceLock<String> = OnceLock::new();
    E.get_or_init(|| format!("\"{}\"", Sha512::digest(V2.as_bytes()).iter().map(|b| format!("{b:02X}")).collect::<String>()))
}

/// Each document's hash, as the index's `?hash=` names it (clients cache by it).
fn hashes() -> &'static Vec<String> {
    static H: OnceLock<Vec<String>> = OnceLock::new();
    H.get_or_init(|| DOCUMENTS.iter().map(|(_, doc)| Sha256::digest(doc.as_bytes()).iter().map(|b| format!("{b:02X}")).collect()).collect())
}

/// `/openapi/v3`: every group-version's document, by its server-relative URL.
pub fn index() -> serde_json::Value {
    let paths: serde_json::Map<String, serde_json::Value> = DOCUMENTS
        .iter()
        .zip(hashes())
        .map(|((gv, _), hash)| (gv.to_string(), serde_json::json!({ "serverRelativeURL": format!("/openapi/v3/{gv}?hash={hash}") })))
        .collect();
    serde_json::json!({ "paths": paths })
}

/// The document of `group_version` (`api/v1`, `apis/rbac.authorization.k8s.io/v1`), if served.
pub fn document(group_version: &str) -> Option<&'static str> {
    DOCUMENTS.iter().find(|(gv, _)| *gv == group_version.trim_matches('/')).map(|(_, doc)| *doc)
}

/// The parsed document of a group-version.
fn parsed(group_version: &str) -> Option<&'static serde_json::Value> {
    static P: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    let all = P.get_or_init(|| DOCUMENTS.iter().map(|(_, doc)| serde_json::from_str(doc).expect("the generated documents are JSON")).collect());
    DOCUMENTS.iter().position(|(gv, _)| *gv == group_version).map(|i| &all[i])
}

/// The fields of `body` that `kind`'s schema does not declare, as the API server's strict
/// decoding names them (`spec.foo`, `subjects[0].nme`). Keys a strategic-merge patch adds
/// (`$patch`, `$setElementOrder/…`) are the patch's own, not the object's.
pub fn unknown_fields(group: &str, version: &str, kind: &str, body: &serde_json::Value) -> Vec<String> {
    let gv = if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") };
    let Some(doc) = parsed(&gv) else { return vec![] };
    let schemas = &doc["components"]["schemas"];
    let Some(schema) = schemas.as_object().and_then(|m| m.values().find(|s| s["x-kubernetes-group-version-kind"].as_array().is_some_and(|g| g.iter().any(|g| g["kind"] == kind && g["group"] == group && g["version"] == version)))) else {
        return vec![];
    };
    let mut out = Vec::new();
    walk(schemas, schema, body, "", &mut out);
    out
}

fn resolve<'a>(schemas: &'a serde_json::Value, mut schema: &'a serde_json::Value) -> &'a serde_json::Value {
    loop {
        if let Some(r) = schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            schema = &schemas[r];
        } else if let Some([only]) = schema["allOf"].as_array().map(Vec::as_slice) {
            schema = only;
        } else {
            return schema;
        }
    }
}

fn walk(schemas: &serde_json::Value, schema: &serde_json::Value, value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    let schema = resolve(schemas, schema);
    if schema["x-kubernetes-preserve-unknown-fields"] == true {
        return;
    }
    match value {
        serde_json::Value::Object(fields) => {
            if let Some(props) = schema["properties"].as_object() {
                for (k, v) in fields {
                    if k.starts_with('$') {
                        continue;
                    }
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    match props.get(k) {
                        Some(s) => walk(schemas, s, v, &p, out),
                        None => out.push(p),
                    }
                }
            } else if schema["additionalProperties"].is_object() {
                for (k, v) in fields {
                    walk(schemas, &schema["additionalProperties"], v, &if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, out);
                }
            }
        }
        serde_json::Value::Array(items) if schema["items"].is_object() => {
            for (i, v) in items.iter().enumerate() {
                walk(schemas, &schema["items"], v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_names_every_document_and_each_holds_its_kinds() {
        let index = index();
        for (gv, _) in DOCUMENTS {
            let url = index["paths"][gv]["serverRelativeURL"].as_str().unwrap();
            assert!(url.starts_with(&format!("/openapi/v3/{gv}?hash=")), "{url}");
        }
        let rbac: serde_json::Value = serde_json::from_str(document("apis/rbac.authorization.k8s.io/v1").unwrap()).unwrap();
        let crb = &rbac["components"]["schemas"]["io.k8s.api.rbac.v1.ClusterRoleBinding"];
        assert_eq!(crb["x-kubernetes-group-version-kind"][0]["kind"], "ClusterRoleBinding");
        assert_eq!(crb["properties"]["roleRef"]["allOf"][0]["$ref"].as_str().or(crb["properties"]["roleRef"]["$ref"].as_str()), Some("#/components/schemas/io.k8s.api.rbac.v1.RoleRef"));
        // Every reference resolves within its own document.
        for (_, doc) in DOCUMENTS {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            let text = doc.to_string();
            for r in text.split("\"#/components/schemas/").skip(1) {
                let name = &r[..r.find('"').unwrap()];
                assert!(v["components"]["schemas"].get(name).is_some(), "{name} is referred to but missing");
            }
        }
        assert!(document("apis/batch/v1").is_none());
    }

    #[test]
    fn the_v2_document_holds_the_served_kinds_and_every_reference_resolves() {
        let v: serde_json::Value = serde_json::from_str(v2_document()).unwrap();
        assert_eq!(v["swagger"], "2.0");
        assert_eq!(v["info"]["title"], "Kubernetes");
        let defs = v["definitions"].as_object().unwrap();
        for name in ["io.k8s.api.rbac.v1.ClusterRoleBinding", "io.k8s.api.core.v1.ConfigMap", "io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.Namespace"] {
            assert!(defs.contains_key(name), "{name} is missing");
        }
        assert_eq!(defs["io.k8s.api.rbac.v1.ClusterRoleBinding"]["properties"]["roleRef"]["$ref"], "#/definitions/io.k8s.api.rbac.v1.RoleRef");
        // The served kinds' collection and object paths, as published; no subresources.
        let paths = v["paths"].as_object().unwrap();
        let cm = &paths["/api/v1/namespaces/{namespace}/configmaps/{name}"];
        assert_eq!(cm["get"]["x-kubernetes-group-version-kind"]["kind"], "ConfigMap");
        assert_eq!(cm["get"]["responses"]["200"]["schema"]["$ref"], "#/definitions/io.k8s.api.core.v1.ConfigMap");
        assert!(paths.contains_key("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"));
        assert!(!paths.contains_key("/api/v1/namespaces/{namespace}/pods/{name}/log"));
        assert!(!paths.contains_key("/api/v1/namespaces/{namespace}/events"));
        // Every reference resolves within the document, definitions and shared parameters alike.
        let mut refs = 0;
        for r in v2_document().split("\"$ref\":\"").skip(1) {
            let r = &r[..r.find('"').unwrap()];
            let found = match (r.strip_prefix("#/definitions/"), r.strip_prefix("#/parameters/")) {
                (Some(d), _) => v["definitions"].get(d).is_some(),
                (_, Some(p)) => v["parameters"].get(p).is_some(),
                _ => false,
            };
            assert!(found, "{r} is referred to but missing");
            refs += 1;
        }
        assert!(refs > 100, "{refs} references");
    }

    #[test]
    fn the_v2_etag_is_the_quoted_sha512_of_the_document() {
        let etag = v2_etag();
        assert_eq!(etag.len(), 2 + 128, "{etag}");
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        let hex = &etag[1..etag.len() - 1];
        assert!(hex.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)), "{etag}");
        assert_eq!(hex[..16], Sha512::digest(v2_document().as_bytes()).iter().take(8).map(|b| format!("{b:02X}")).collect::<String>());
    }

    #[test]
    fn strict_decoding_names_every_undeclared_field() {
        let ok = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b", "labels": {"a": "b"}}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}, "subjects": [{"kind": "User", "name": "alice"}]});
        assert!(unknown_fields("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", &ok).is_empty());
        let mut bad = ok.clone();
        bad["roleReff"] = serde_json::json!({});
        bad["subjects"][0]["nme"] = serde_json::json!("x");
        bad["metadata"]["lables"] = serde_json::json!({});
        bad["$setElementOrder/subjects"] = serde_json::json!([]);
        let mut found = unknown_fields("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", &bad);
        found.sort();
        assert_eq!(found, ["metadata.lables", "roleReff", "subjects[0].nme"]);
        let cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"any": "key"}, "dta": {}});
        assert_eq!(unknown_fields("", "v1", "ConfigMap", &cm), ["dta"]);
    }
}
