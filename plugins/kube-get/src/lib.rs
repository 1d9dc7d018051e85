//! `kube-get`: what `kubectl get RESOURCE [NAME] [-n NS | -A]` does and prints.
//!
//! `GET` the collection (or the object) with kubectl's `Accept` for server-side tables,
//! `limit=500` as kubectl's chunking sends; print the `Table`'s priority-0 columns (NAMESPACE
//! first with all-namespaces) as kubectl's tabwriter does, or NAME/AGE for a plain list.
//! Errors carry the `Status` reason as the code and kubectl's text (`Error from server
//! (Forbidden): …`, `You must be logged in to the server (Unauthorized)`). [protocols.md §E.3, §E.6]

mod table;

use aksflow_sdk::kube::{self, Client, Kubeconfig};
use aksflow_sdk::*;
use serde_json::Value;

struct KubeGet;

inputs! {
    struct Args {
        kubeconfig: Secret = "kubeconfig" => "Kubeconfig of the cluster (its current context is used)",
        token: Option<Secret> = "token" => "A bearer token (e.g. kube-login's) instead of the kubeconfig user's credentials",
        resource: String = "resource" => "Resource type: pods, nodes, namespaces, deployments, clusterrolebindings, … (short names work)",
        name: Option<String> = "name" => "Get only this object",
        namespace: Option<String> = "namespace" => "Namespace (default: the context's, else default)",
        all_namespaces: Option<bool> = "all-namespaces" => "List across all namespaces (-A)",
        kubectl_version: Option<String> = "kubectl-version" => "The kubectl this step acts as (default: the flow's era's, 1.37.0 today, 1.15.12 in 2019); from 1.26 on it refuses kubeconfigs of the removed azure auth-provider",
    }
}

impl Guest for KubeGet {
    fn describe() -> StepInfo {
        StepInfo::new("kube-get", "List Kubernetes resources and print them as kubectl does (kubectl get)")
            .takes::<Args>()
            .output("table", "The table kubectl prints")
            .output("count", "Number of rows")
            .output("names", "Comma-separated NAME column")
            .uses(Service::Kube)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let kc = Kubeconfig::parse(&args.kubeconfig)?;
        aksflow_sdk::kube::check_kubeconfig(&kc, args.kubectl_version.as_deref())?;
        let client = Client::from_kubeconfig(&kc, args.token.as_deref())?;
        let resource_name = args.resource.trim();
        let resource = kube::resource_by_name(resource_name).ok_or_else(|| {
            StepError::new("UnknownResourceType", format!("the server doesn't have a resource type \"{resource_name}\""))
        })?;
        let name = args.name.given();
        let all = args.all_namespaces.unwrap_or(false) && name.is_none();
        let namespace = kc.working_namespace(args.namespace.given());
        let ns = if all || !resource.namespaced { None } else { Some(namespace.as_str()) };
        let mut path = resource.collection_path(None, ns);
        if let Some(n) = name {
            path = format!("{path}/{n}");
        }

        log::info(&format!(
            "kubectl get {}{}{}",
            resource.plural,
            name.map(|n| format!(" {n}")).unwrap_or_default(),
            if all { " --all-namespaces".to_string() } else if let Some(n) = ns { format!(" -n {n}") } else { String::new() }
        ));
        let mut call = client.call("GET", &path).header("accept", table::ACCEPT_TABLE);
        if name.is_none() {
            call = call.query("limit", "500");
        }
        let body: Value = kube::send(call).inspect_err(|e| log::warn(&e.message))?.json()?;
        // A single object that is not a Table prints like a one-item list.
        let body = if body.get("kind").and_then(Value::as_str) != Some("Table") && body.get("items").is_none() && body.get("metadata").is_some() {
            serde_json::json!({ "kind": "List", "items": [body] })
        } else {
            body
        };
        // kubectl prints NAMESPACE with -A only for namespaced resources.
        let table = table::table_from_response(&body, all && resource.namespaced, now_secs())?;
        if table.rows.is_empty() {
            let msg = match ns {
                Some(n) => format!("No resources found in {n} namespace."),
                None => "No resources found".to_string(),
            };
            log::info(&msg);
            return Ok(Outputs::new().text("table", "").text("count", "0").text("names", "").into());
        }
        let text = table.render();
        for line in text.lines() {
            log::info(line.trim_end());
        }
        let name_col = table.headers.iter().position(|h| h == "NAME").unwrap_or(0);
        let names: Vec<&str> = table.rows.iter().filter_map(|r| r.get(name_col).map(String::as_str)).collect();
        Ok(Outputs::new()
            .text("table", text.clone())
            .text("count", table.rows.len().to_string())
            .text("names", names.join(","))
            .into())
    }
}

export!(KubeGet with_types_in aksflow_sdk::bindings);
