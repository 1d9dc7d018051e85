//! `kubeconfig-convert`: what `kubelogin convert-kubeconfig -l MODE` does. [protocols.md §D.3]
//!
//! Every user that is kubectl's removed `azure` auth-provider or a kubelogin `exec` (or only
//! the `context`'s user) becomes a kubelogin `exec` user for the login mode, with the args
//! kubelogin builds: `--server-id`, then per mode `--client-id`, `--tenant-id`,
//! `--environment` and `--legacy` (when the auth-provider's `config-mode` was "" or "0").
//! Other users are left alone. No cloud calls.

use aksflow_sdk::kube::{self, ConvertOptions, Kubeconfig};
use aksflow_sdk::*;

struct KubeconfigConvert;

impl Guest for KubeconfigConvert {
    fn describe() -> StepInfo {
        StepInfo::new("kubeconfig-convert", "Convert a kubeconfig's Azure users to kubelogin exec users (kubelogin convert-kubeconfig)")
            .secret_input("kubeconfig", "The kubeconfig YAML to convert", true)
            .optional("login", "Login mode: devicecode (default), spn, ropc, azurecli, interactive, msi, workloadidentity, azd")
            .optional("server-id", "AAD server application id (--server-id); default: from the kubeconfig")
            .optional("client-id", "AAD client application id (--client-id); default: from the kubeconfig")
            .optional("tenant-id", "AAD tenant id (--tenant-id); default: from the kubeconfig")
            .optional("environment", "Azure environment (--environment); default: from the kubeconfig")
            .typed("legacy", "Add --legacy (v1 tokens with the spn: audience)", ValueKind::Boolean, false)
            .optional("context", "Convert only this context's user (--context)")
            .optional("file", "Write the converted kubeconfig to this path below the run's output directory")
            .secret_output("kubeconfig", "The converted kubeconfig YAML")
            .output("converted", "Comma-separated names of the users converted")
            .output("file", "Where the kubeconfig was written below the output directory (empty when not written)")
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let inputs = Inputs::from(inputs);
        let mut kc = Kubeconfig::parse(inputs.req("kubeconfig")?)?;
        let text = |k: &str| inputs.opt(k).map(|s| s.trim().to_string());
        let opts = ConvertOptions {
            login: text("login").filter(|s| !s.is_empty()),
            server_id: text("server-id"),
            client_id: text("client-id"),
            tenant_id: text("tenant-id"),
            environment: text("environment"),
            legacy: inputs.opt_bool("legacy")?,
            context: text("context").filter(|s| !s.is_empty()),
            ..Default::default()
        };
        let file = inputs.opt("file").map(str::trim).filter(|f| !f.is_empty());
        if let Some(f) = file {
            if f.starts_with('/') || f.split(['/', '\\']).any(|seg| seg == "..") {
                return Err(StepError::bad_input("file", "must be a relative path below the output directory, without `..`"));
            }
        }
        let login = opts.login.clone().unwrap_or_else(|| "devicecode".into());
        let converted = kube::convert_kubeconfig(&mut kc, &opts)?;
        if converted.is_empty() {
            log::warn("no user in the kubeconfig uses the azure auth-provider or kubelogin; nothing to convert");
        }
        for name in &converted {
            let args = kc.user(name).and_then(|u| u.exec.as_ref()).map(|e| e.args.join(" ")).unwrap_or_default();
            log::info(&format!("converted user {name} to kubelogin {login}: kubelogin {args}"));
        }
        let yaml = kc.to_yaml();
        let mut out = Outputs::new().secret("kubeconfig", yaml.clone()).text("converted", converted.join(",")).text("file", file.unwrap_or(""));
        if let Some(f) = file {
            log::info(&format!("writing the kubeconfig to {f}"));
            out = out.file(f, yaml, true);
        }
        Ok(out.into())
    }
}

export!(KubeconfigConvert with_types_in aksflow_sdk::bindings);
