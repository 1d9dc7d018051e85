//! `kubeconfig-convert`: what `kubelogin convert-kubeconfig -l MODE` does. [protocols.md §D.3]
//!
//! Every user that is kubectl's removed `azure` auth-provider or a kubelogin `exec` (or only
//! the `context`'s user) becomes a kubelogin `exec` user for the login mode, with the args
//! kubelogin builds: `--server-id`, then per mode `--client-id`, `--tenant-id`,
//! `--environment` and `--legacy` (when the auth-provider's `config-mode` was "" or "0").
//! Other users are left alone. No cloud calls.

use aksflow_sdk::kube::Kubeconfig;
use aksflow_sdk::kube::convert::{self, ConvertOptions};
use aksflow_sdk::*;

struct KubeconfigConvert;

inputs! {
    struct Args {
        kubeconfig: Secret = "kubeconfig" => "The kubeconfig YAML to convert",
        login: Option<String> = "login" => "Login mode: devicecode (default), spn, ropc, azurecli, interactive, msi, workloadidentity, azd",
        server_id: Option<String> = "server-id" => "AAD server application id (--server-id); default: from the kubeconfig",
        client_id: Option<String> = "client-id" => "AAD client application id (--client-id); default: from the kubeconfig",
        tenant_id: Option<String> = "tenant-id" => "AAD tenant id (--tenant-id); default: from the kubeconfig",
        environment: Option<String> = "environment" => "Azure environment (--environment); default: from the kubeconfig",
        legacy: Option<bool> = "legacy" => "Add --legacy (v1 tokens with the spn: audience)",
        context: Option<String> = "context" => "Convert only this context's user (--context)",
        file: Option<String> = "file" => "Write the converted kubeconfig to this path below the run's output directory",
    }
}

impl Guest for KubeconfigConvert {
    fn describe() -> StepInfo {
        StepInfo::new("kubeconfig-convert", "Convert a kubeconfig's Azure users to kubelogin exec users (kubelogin convert-kubeconfig)")
            .takes::<Args>()
            .secret_output("kubeconfig", "The converted kubeconfig YAML")
            .output("converted", "Comma-separated names of the users converted")
            .output("file", "Where the kubeconfig was written below the output directory (empty when not written)")
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let mut kc = Kubeconfig::parse(&args.kubeconfig)?;
        // A flag given empty is kept: kubelogin tells "set" from "not given" the same way.
        let text = |v: &Option<String>| v.as_deref().map(|s| s.trim().to_string());
        let opts = ConvertOptions {
            login: args.login.given().map(String::from),
            server_id: text(&args.server_id),
            client_id: text(&args.client_id),
            tenant_id: text(&args.tenant_id),
            environment: text(&args.environment),
            legacy: args.legacy,
            context: args.context.given().map(String::from),
            ..Default::default()
        };
        let file = args.file.given();
        if let Some(f) = file {
            check_file_path("file", f)?;
        }
        let login = opts.login.clone().unwrap_or_else(|| "devicecode".into());
        let converted = convert::convert_kubeconfig(&mut kc, &opts)?;
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
