//! `kube-can-i`: what `kubectl auth can-i VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NS | -A]`
//! does: `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews` and read
//! `status.allowed`. A resource starting with `/` is a non-resource URL
//! (`kubectl auth can-i get /healthz`). The step succeeds with `allowed = false` when the
//! answer is no, as the review itself worked. [protocols.md §E.5]

use aksflow_sdk::kube::{self, Client, Kubeconfig};
use aksflow_sdk::*;
use serde_json::{Value, json};

struct KubeCanI;

inputs! {
    struct Args {
        kubeconfig: Secret = "kubeconfig" => "Kubeconfig of the cluster (its current context is used)",
        token: Option<Secret> = "token" => "A bearer token (e.g. kube-login's) instead of the kubeconfig user's credentials",
        verb: String = "verb" => "get, list, watch, create, update, patch, delete, … or * ",
        resource: String = "resource" => "Resource (pods, deployments.apps, pods/log, …) or a non-resource URL such as /healthz",
        name: Option<String> = "name" => "A resource name",
        namespace: Option<String> = "namespace" => "Namespace (default: the context's, else default)",
        all_namespaces: Option<bool> = "all-namespaces" => "Ask for all namespaces (-A)",
        group: Option<String> = "group" => "API group (default: the resource's own; \"\" is the core group)",
        kubectl_version: Option<String> = "kubectl-version" => "The kubectl this step acts as (default: the flow's era's, 1.37.0 today, 1.15.12 in 2019); from 1.26 on it refuses kubeconfigs of the removed azure auth-provider",
    }
}

impl Guest for KubeCanI {
    fn describe() -> StepInfo {
        StepInfo::new("kube-can-i", "Ask the API server whether the caller may do something (kubectl auth can-i)")
            .takes::<Args>()
            .output("allowed", "true or false")
            .output("reason", "The authorizer's reason, if it gave one")
            .output("answer", "What kubectl prints: yes, no, or no - REASON")
            .uses(Service::Kube)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let kc = Kubeconfig::parse(&args.kubeconfig)?;
        aksflow_sdk::kube::check_kubeconfig(&kc, args.kubectl_version.as_deref())?;
        let client = Client::from_kubeconfig(&kc, args.token.as_deref())?;
        let verb = args.verb.trim().to_string();
        let resource_arg = args.resource.trim().to_string();
        let name = args.name.as_deref().map(str::trim).unwrap_or("").to_string();
        let all = args.all_namespaces.unwrap_or(false);
        let namespace = if all { String::new() } else { kc.working_namespace(args.namespace.given()) };

        let spec = if resource_arg.starts_with('/') {
            log::info(&format!("kubectl auth can-i {verb} {resource_arg}"));
            json!({ "nonResourceAttributes": { "path": resource_arg, "verb": verb } })
        } else {
            let (res, sub) = match resource_arg.split_once('/') {
                Some((r, s)) => (r.to_string(), s.to_string()),
                None => (resource_arg.clone(), String::new()),
            };
            let known = kube::resource_by_name(&res);
            let group = match args.group.as_deref() {
                Some(g) => g.trim().to_string(),
                None => match known {
                    Some(r) => r.group.to_string(),
                    None => res.split_once('.').map(|(_, g)| g.to_string()).unwrap_or_default(),
                },
            };
            let plural = match known {
                Some(r) => r.plural.to_string(),
                None => {
                    if res != "*" {
                        log::warn(&format!("Warning: the server doesn't have a resource type '{res}'"));
                    }
                    res.split('.').next().unwrap_or(&res).to_string()
                }
            };
            log::info(&format!(
                "kubectl auth can-i {verb} {resource_arg}{}{}",
                if name.is_empty() { String::new() } else { format!(" {name}") },
                if all { " --all-namespaces".to_string() } else { format!(" -n {namespace}") }
            ));
            json!({ "resourceAttributes": {
                "namespace": namespace,
                "verb": verb,
                "group": group,
                "resource": plural,
                "subresource": sub,
                "name": name,
            } })
        };
        let review = json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": { "creationTimestamp": null },
            "spec": spec,
            "status": { "allowed": false },
        });
        let call = client.call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").json(&review);
        let body: Value = kube::send(call).inspect_err(|e| log::warn(&e.message))?.json()?;
        let status = &body["status"];
        let allowed = status["allowed"].as_bool().unwrap_or(false);
        let reason = status["reason"].as_str().unwrap_or("").to_string();
        let evaluation_error = status["evaluationError"].as_str().unwrap_or("");
        let answer = if allowed {
            "yes".to_string()
        } else if !reason.is_empty() {
            format!("no - {reason}")
        } else if !evaluation_error.is_empty() {
            format!("no - {evaluation_error}")
        } else {
            "no".to_string()
        };
        log::info(&answer);
        Ok(Outputs::new().text("allowed", allowed.to_string()).text("reason", reason).text("answer", answer).into())
    }
}

export!(KubeCanI with_types_in aksflow_sdk::bindings);
