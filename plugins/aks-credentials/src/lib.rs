//! `aks-credentials`: what `az aks get-credentials [--admin] [--format azure|exec] -f FILE`
//! does on the wire. [protocols.md §C.3 "Credentials", §D]
//!
//! `POST …/listClusterAdminCredential` or `…/listClusterUserCredential[?format=…]`, then the
//! base64 kubeconfig in `kubeconfigs[0].value`. The kubeconfig (it holds the admin client key
//! and token, or the AAD app ids) is a secret output and, with `file`, a secret file.

use aksflow_sdk::arm;
use aksflow_sdk::kube::{Credential, Kubeconfig};
use aksflow_sdk::*;
use base64::Engine as _;
use serde::Deserialize;

struct AksCredentials;

#[derive(Deserialize)]
struct CredentialResults {
    #[serde(default)]
    kubeconfigs: Option<Vec<CredentialResult>>,
}

#[derive(Deserialize)]
struct CredentialResult {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

inputs! {
    struct Args {
        name: String = "name" => "Cluster name",
        resource_group: String = "resource-group" => "Resource group of the cluster",
        admin: Option<bool> = "admin" => "Get the cluster admin (local account) kubeconfig (--admin)",
        format: Option<String> = "format" => "User kubeconfig format: azure (auth-provider) or exec (kubelogin); default: what AKS picks",
        file: Option<String> = "file" => "Write the kubeconfig to this path below the run's output directory, e.g. admin.kubeconfig",
    }
}

impl Guest for AksCredentials {
    fn describe() -> StepInfo {
        StepInfo::new("aks-credentials", "Get an AKS cluster's admin or user kubeconfig (az aks get-credentials)")
            .takes::<Args>()
            .secret_output("kubeconfig", "The kubeconfig YAML")
            .output("server", "API server URL of the current context")
            .output("context", "Name of the current context")
            .output("user", "Name of the current context's user")
            .output("auth", "How the user authenticates: certificate, token, exec (kubelogin) or azure (auth-provider)")
            .output("file", "Where the kubeconfig was written below the output directory (empty when not written)")
            .uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();
        let name = args.name.as_str();
        let rg = args.resource_group.as_str();
        let admin = args.admin.unwrap_or(false);
        let format = args.format.given().map(str::to_ascii_lowercase);
        let file = args.file.given();

        if let Some(f) = &format {
            if admin {
                return Err(StepError::new("InvalidArgumentValueError", "--format can only be specified when requesting clusterUser credential."));
            }
            if f != "azure" && f != "exec" {
                return Err(StepError::new("InvalidArgumentValueError", format!("argument --format: invalid choice: '{f}' (choose from 'azure', 'exec')")));
            }
        }
        if let Some(f) = file {
            check_file_path("file", f)?;
        }

        let action = if admin { "listClusterAdminCredential" } else { "listClusterUserCredential" };
        let path = format!("{}/{action}", arm::managed_cluster_path(&ctx.subscription_id, rg, name));
        log::info(&format!(
            "getting the {} credentials of cluster {name}{}",
            if admin { "admin" } else { "user" },
            format.as_deref().map(|f| format!(" (format {f})")).unwrap_or_default()
        ));
        let mut call = arm::call("POST", &path, arm::AKS_API_VERSION);
        if let Some(f) = &format {
            call = call.query("format", f);
        }
        let results: CredentialResults = arm::send(call)?.json()?;
        let first = results
            .kubeconfigs
            .unwrap_or_default()
            .into_iter()
            .find(|k| k.value.as_deref().is_some_and(|v| !v.is_empty()))
            .ok_or_else(|| StepError::new("CLIError", "No Kubernetes credentials found."))?;
        let raw = first.value.unwrap_or_default();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(raw.trim())
            .map_err(|e| StepError::new("UnexpectedResponse", format!("kubeconfigs[0].value is not base64: {e}")))?;
        let yaml = String::from_utf8(bytes).map_err(|_| StepError::new("UnexpectedResponse", "the kubeconfig is not UTF-8 text"))?;
        let mut kc = Kubeconfig::parse(&yaml)?;
        // az's merge step renames an admin context `NAME-admin`, so that it does not
        // overwrite the user context of the same cluster (protocols.md §D.4).
        let yaml = if admin_contexts_renamed(&mut kc) { kc.to_yaml() } else { yaml };
        let cur = kc.current()?;
        let auth = match cur.user.credential()? {
            Credential::Static { identity: Some(_), .. } => "certificate",
            Credential::Static { .. } => "token",
            Credential::Exec(_) => "exec",
            Credential::AuthProvider(_) => "azure",
            Credential::None => "none",
        };
        log::info(&format!(
            "got {} kubeconfig: context {}, server {}, user {} ({auth})",
            first.name.as_deref().unwrap_or(if admin { "clusterAdmin" } else { "clusterUser" }),
            cur.context_name,
            cur.server(),
            cur.user_name
        ));
        let (server, context_name, user) = (cur.server().to_string(), cur.context_name.to_string(), cur.user_name.to_string());
        let mut out = Outputs::new()
            .secret("kubeconfig", yaml.clone())
            .text("server", server)
            .text("context", context_name)
            .text("user", user)
            .text("auth", auth)
            .text("file", file.unwrap_or(""));
        if let Some(f) = file {
            log::info(&format!("writing the kubeconfig to {f}"));
            out = out.file(f, yaml, true);
        }
        Ok(out.into())
    }
}

export!(AksCredentials with_types_in aksflow_sdk::bindings);

/// What az's `merge_kubernetes_configurations` does to an admin kubeconfig: the first context
/// whose user is a `clusterAdmin_…` gets `-admin` appended and becomes the current context.
fn admin_contexts_renamed(kc: &mut Kubeconfig) -> bool {
    let Some(ctx) = kc.contexts.iter_mut().find(|c| c.context.user.starts_with("clusterAdmin")) else { return false };
    ctx.name = format!("{}-admin", ctx.name);
    kc.current_context = ctx.name.clone();
    true
}
