//! `kube-apply`: what `kubectl apply -f manifest.yaml` does, for the built-in kinds.
//!
//! For each object of the (multi-document) manifest: `GET` it; 404 → `POST` it to its
//! collection (`created`); found and already as the manifest says → `unchanged`; otherwise
//! `PUT` it back with the manifest's fields merged in and the server's `resourceVersion`
//! (`configured`). Like kubectl, it records the manifest in the
//! `kubectl.kubernetes.io/last-applied-configuration` annotation, goes on after a failed
//! object and fails at the end with the first error. [protocols.md §E]

use aksflow_sdk::kube::{self, Client, Kubeconfig, ObjectRef};
use aksflow_sdk::*;
use serde_json::{Map, Value};

struct KubeApply;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// JSON with object keys sorted, as Go marshals unstructured objects.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&o[k]))).collect::<Map<_, _>>())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The object to send: the manifest with its namespace filled in and the last-applied
/// annotation (the manifest itself, without that annotation) added.
fn desired(obj: &Value, r: &ObjectRef) -> Value {
    let mut o = obj.clone();
    if !o["metadata"].is_object() {
        o["metadata"] = Value::Object(Map::new());
    }
    if let Some(ns) = &r.namespace {
        o["metadata"]["namespace"] = Value::String(ns.clone());
    }
    if !o["metadata"]["annotations"].is_object() {
        o["metadata"]["annotations"] = Value::Object(Map::new());
    }
    if let Some(a) = o["metadata"]["annotations"].as_object_mut() {
        a.remove(LAST_APPLIED);
    }
    let recorded = format!("{}\n", sorted(&o));
    o["metadata"]["annotations"][LAST_APPLIED] = Value::String(recorded);
    o
}

enum Outcome {
    Created,
    Configured,
    Unchanged,
}

fn apply_one(client: &Client, obj: &Value, r: &ObjectRef) -> Result<Outcome, StepError> {
    let want = desired(obj, r);
    let resp = client.call("GET", &r.item_path()).header("accept", "application/json").send()?;
    match resp.status {
        404 => {
            let resp = client.call("POST", &r.collection_path()).json(&want).send()?;
            if !resp.is_success() {
                return Err(failed(&resp, &format!("error when creating {}", r.display())));
            }
            Ok(Outcome::Created)
        }
        s if (200..300).contains(&s) => {
            let existing: Value = resp.json()?;
            if kube::is_subset(&want, &existing) {
                return Ok(Outcome::Unchanged);
            }
            let mut merged = kube::merge(&existing, &want);
            if let Some(rv) = existing.pointer("/metadata/resourceVersion") {
                merged["metadata"]["resourceVersion"] = rv.clone();
            }
            let resp = client.call("PUT", &r.item_path()).json(&merged).send()?;
            if !resp.is_success() {
                return Err(failed(&resp, &format!("error when applying {}", r.display())));
            }
            Ok(Outcome::Configured)
        }
        _ => Err(failed(&resp, &format!("error when retrieving current configuration of {}", r.display()))),
    }
}

fn failed(resp: &Response, doing: &str) -> StepError {
    let (reason, message) = kube::status_of(resp);
    if resp.status == 401 {
        return StepError::new(reason, kube::kubectl_message(401, "Unauthorized", &message));
    }
    StepError::new(reason.clone(), kube::kubectl_message(resp.status, &reason, &format!("{doing}: {message}")))
}

inputs! {
    struct Args {
        kubeconfig: Secret = "kubeconfig" => "Kubeconfig of the cluster (its current context is used)",
        manifest: String = "manifest" => "The YAML manifest; several documents separated by ---",
        token: Option<Secret> = "token" => "A bearer token (e.g. kube-login's) instead of the kubeconfig user's credentials",
        namespace: Option<String> = "namespace" => "Namespace for namespaced objects that name none (default: the context's, else default)",
        kubectl_version: Option<String> = "kubectl-version" => "The kubectl this step acts as (default: the flow's era's, 1.37.0 today, 1.15.12 in 2019); from 1.26 on it refuses kubeconfigs of the removed azure auth-provider",
    }
}

impl Guest for KubeApply {
    fn describe() -> StepInfo {
        StepInfo::new("kube-apply", "Create or update Kubernetes objects from YAML manifests (kubectl apply -f)")
            .takes::<Args>()
            .output("applied", "How many objects were applied")
            .output("summary", "What kubectl would print, one line per object")
            .uses(Service::Kube)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let kc = Kubeconfig::parse(&args.kubeconfig)?;
        aksflow_sdk::kube::check_kubeconfig(&kc, args.kubectl_version.as_deref())?;
        let client = Client::from_kubeconfig(&kc, args.token.as_deref())?;
        let explicit_ns = args.namespace.given();
        let namespace = kc.working_namespace(explicit_ns);
        let objects = kube::parse_manifests(&args.manifest)?;
        if objects.is_empty() {
            return Err(StepError::new("InvalidManifest", "no objects passed to apply"));
        }
        let mut refs = vec![];
        for obj in &objects {
            let r = ObjectRef::from_manifest(obj, &namespace)?;
            if let (Some(want), Some(got)) = (explicit_ns, obj.pointer("/metadata/namespace").and_then(Value::as_str)) {
                if r.namespace.is_some() && !got.is_empty() && got != want {
                    return Err(StepError::new(
                        "BadRequest",
                        format!("the namespace from the provided object \"{got}\" does not match the namespace \"{want}\". You must pass '--namespace={got}' to perform this operation."),
                    ));
                }
            }
            refs.push(r);
        }
        log::info(&format!("applying {} object(s) to {}", refs.len(), client.server));
        let mut lines = vec![];
        let mut first_error: Option<StepError> = None;
        let mut errors = vec![];
        for (obj, r) in objects.iter().zip(&refs) {
            match apply_one(&client, obj, r) {
                Ok(outcome) => {
                    let word = match outcome {
                        Outcome::Created => "created",
                        Outcome::Configured => "configured",
                        Outcome::Unchanged => "unchanged",
                    };
                    let line = format!("{} {word}", r.display());
                    log::info(&line);
                    lines.push(line);
                }
                Err(e) => {
                    log::warn(&e.message);
                    errors.push(e.message.clone());
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(mut e) = first_error {
            if errors.len() > 1 {
                e.message = errors.join("\n");
            }
            return Err(e);
        }
        Ok(Outputs::new().text("applied", lines.len().to_string()).text("summary", lines.join("\n")).into())
    }
}

export!(KubeApply with_types_in aksflow_sdk::bindings);
