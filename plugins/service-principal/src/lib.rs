//! `service-principal`: what `az ad sp create --id APP` and `az ad sp credential reset --id APP
//! --display-name NAME` do on Graph (§B.4, §B.5).
//!
//! The application's existing service principal is reused; otherwise `POST /servicePrincipals
//! {"appId","accountEnabled":true}`. A reset removes every secret of the service principal
//! (`removePassword`) and adds a new one with `POST /servicePrincipals/{id}/addPassword`: today's
//! az CLI puts the secret on the service principal, not on the application.

use aksflow_sdk::graph::{self, PasswordCredential, ServicePrincipal};
use aksflow_sdk::*;
use serde_json::json;

struct Sp;

inputs! {
    struct Args {
        app_id: String = "app-id" => "The application's appId (or an identifier URI of it)",
        reset_credential: Option<bool> = "reset-credential" => "Replace the service principal's secrets with a new one and output it",
        credential_name: Option<String> = "credential-name" => "Display name of the new secret, e.g. AKSPassword",
    }
}

impl Guest for Sp {
    fn describe() -> StepInfo {
        StepInfo::new("service-principal", "Create an application's service principal, or reuse it, and optionally reset its secret (az ad sp create / credential reset)")
            .takes::<Args>()
            .output("object-id", "Object id of the service principal")
            .output("app-id", "The application's appId")
            .output("tenant", "Tenant id the service principal lives in")
            .secret_output("password", "The new client secret (only when reset-credential is true)")
            .output("created", "true if this run created the service principal")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let id = args.app_id.trim();
        let reset = args.reset_credential.unwrap_or(false);
        let credential_name = args.credential_name.given();

        // As az CLI does: resolve the application; one it cannot see (another tenant's) is
        // taken by the appId given.
        let app_id = match graph::find_application(id)? {
            Some(app) => app.app_id,
            None if graph::is_guid(id) => id.to_string(),
            None => return Err(graph::application_not_found(id)),
        };

        let (sp, created) = match graph::find_service_principal(&app_id)? {
            Some(sp) => {
                log::info(&format!("application {app_id} already has service principal {}", sp.id));
                (sp, false)
            }
            None => {
                log::info(&format!("creating the service principal of application {app_id}"));
                let sp = graph::create_service_principal(&app_id)?;
                log::info(&format!("created service principal {}", sp.id));
                (sp, true)
            }
        };

        let mut out = Outputs::new()
            .text("object-id", &sp.id)
            .text("app-id", &sp.app_id)
            .text("tenant", context().tenant_id)
            .text("created", created.to_string());
        if reset {
            out = out.secret("password", reset_credential(&sp, credential_name, created)?);
        }
        Ok(out.into())
    }
}

/// Removes every secret of the service principal, then adds one and returns its text.
/// `fresh`: the service principal was created moments ago.
fn reset_credential(sp: &ServicePrincipal, name: Option<&str>, fresh: bool) -> Result<String, StepError> {
    for key in &sp.password_credentials {
        log::info(&format!("removing secret {} of service principal {}", key.key_id, sp.id));
        graph::send(graph::call("POST", &format!("/servicePrincipals/{}/removePassword", sp.id)).json(&json!({ "keyId": key.key_id })))?;
    }
    let mut credential = serde_json::Map::new();
    if let Some(n) = name {
        credential.insert("displayName".into(), json!(n));
    }
    log::info(&format!("adding a new secret to service principal {}", sp.id));
    let body = json!({ "passwordCredential": credential });
    let add = || graph::call("POST", &format!("/servicePrincipals/{}/addPassword", sp.id)).json(&body);
    let added: PasswordCredential = if fresh { graph::send_fresh(add)? } else { graph::send(add())? }.json()?;
    added
        .secret_text
        .filter(|s| !s.is_empty())
        .ok_or_else(|| StepError::new("UnexpectedResponse", "Graph's addPassword answer carries no secretText"))
}

export!(Sp with_types_in aksflow_sdk::bindings);
