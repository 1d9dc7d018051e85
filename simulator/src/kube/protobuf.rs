//! The few Kubernetes protobuf bodies clients send that this API server reads: kubectl sends
//! `SelfSubjectAccessReview` (`kubectl auth can-i`) and `SelfSubjectReview` (`kubectl auth
//! whoami`) as `application/vnd.kubernetes.protobuf`.
//! A body is the magic `k8s\0` and a `runtime.Unknown` wrapping the object's own message;
//! the field numbers below are those of k8s.io/api's generated.proto.

use prost::Message;
use serde_json::{Value, json};

const MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, Message)]
struct ResourceAttributes {
    #[prost(string, optional, tag = "1")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
    #[prost(string, optional, tag = "3")]
    group: Option<String>,
    #[prost(string, optional, tag = "4")]
    version: Option<String>,
    #[prost(string, optional, tag = "5")]
    resource: Option<String>,
    #[prost(string, optional, tag = "6")]
    subresource: Option<String>,
    #[prost(string, optional, tag = "7")]
    name: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct NonResourceAttributes {
    #[prost(string, optional, tag = "1")]
    path: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
}

#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReviewSpec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ResourceAttributes>,
    #[prost(message, optional, tag = "2")]
    non_resource_attributes: Option<NonResourceAttributes>,
}

#[derive(Clone, PartialEq, Message)]
struct SelfSubjectAccessReview {
    #[prost(message, optional, tag = "2")]
    spec: Option<SelfSubjectAccessReviewSpec>,
}

/// A protobuf review (`SelfSubjectAccessReview` or `SelfSubjectReview`) as the JSON object
/// the JSON path reads.
pub fn review(body: &[u8]) -> Result<Value, String> {
    let rest = body.strip_prefix(MAGIC).ok_or("the protobuf body does not start with the Kubernetes magic number")?;
    let unknown = Unknown::decode(rest).map_err(|e| format!("not a Kubernetes protobuf envelope: {e}"))?;
    let kind = unknown.type_meta.as_ref().and_then(|t| t.kind.clone()).unwrap_or_default();
    match kind.as_str() {
        // Its spec is empty: who is asking is the whole question.
        "SelfSubjectReview" => Ok(json!({ "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1", "metadata": { "creationTimestamp": null }, "status": {} })),
        "SelfSubjectAccessReview" => self_subject_access_review(&unknown.raw.unwrap_or_default()),
        _ => Err(format!("protobuf bodies of kind `{kind}` are not supported here; send JSON")),
    }
}

/// A `SelfSubjectAccessReview` message (the envelope's `raw`) as JSON.
fn self_subject_access_review(raw: &[u8]) -> Result<Value, String> {
    let review = SelfSubjectAccessReview::decode(raw).map_err(|e| format!("not a SelfSubjectAccessReview: {e}"))?;
    let spec = review.spec.unwrap_or_default();
    let mut out = json!({ "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1", "metadata": { "creationTimestamp": null }, "spec": {} });
    if let Some(r) = spec.resource_attributes {
        out["spec"]["resourceAttributes"] = json!({
            "namespace": r.namespace.unwrap_or_default(), "verb": r.verb.unwrap_or_default(), "group": r.group.unwrap_or_default(),
            "version": r.version.unwrap_or_default(), "resource": r.resource.unwrap_or_default(), "subresource": r.subresource.unwrap_or_default(),
            "name": r.name.unwrap_or_default(),
        });
    }
    if let Some(n) = spec.non_resource_attributes {
        out["spec"]["nonResourceAttributes"] = json!({ "path": n.path.unwrap_or_default(), "verb": n.verb.unwrap_or_default() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kubectl_review_decodes() {
        let access = SelfSubjectAccessReview {
            spec: Some(SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes { namespace: Some("default".into()), verb: Some("list".into()), resource: Some("pods".into()), ..Default::default() }),
                non_resource_attributes: None,
            }),
        };
        let unknown = Unknown {
            type_meta: Some(TypeMeta { api_version: Some("authorization.k8s.io/v1".into()), kind: Some("SelfSubjectAccessReview".into()) }),
            raw: Some(access.encode_to_vec()),
        };
        let mut body = MAGIC.to_vec();
        body.extend(unknown.encode_to_vec());
        let v = review(&body).unwrap();
        assert_eq!(v["spec"]["resourceAttributes"]["verb"], "list");
        assert_eq!(v["spec"]["resourceAttributes"]["resource"], "pods");
        assert!(review(b"nope").is_err());
    }

    #[test]
    fn a_whoami_review_decodes_and_other_kinds_do_not() {
        let envelope = |kind: &str| {
            let unknown = Unknown { type_meta: Some(TypeMeta { api_version: Some("authentication.k8s.io/v1".into()), kind: Some(kind.into()) }), raw: Some(vec![]) };
            let mut body = MAGIC.to_vec();
            body.extend(unknown.encode_to_vec());
            body
        };
        assert_eq!(review(&envelope("SelfSubjectReview")).unwrap()["kind"], "SelfSubjectReview");
        assert!(review(&envelope("Pod")).unwrap_err().contains("`Pod`"));
    }
}
