//! `app-permission-grant`: what `az ad app permission grant --id APP --api API --scope "…"` does
//! on Graph (§B.7): find both service principals, delete the client's existing grant for that
//! API (same consent type and principal), then `POST /oauth2PermissionGrants` (201).

use aksflow_sdk::graph::{self, PermissionGrant};
use aksflow_sdk::*;
use serde_json::json;

struct PermissionGrantStep;

inputs! {
    struct Args {
        app_id: String = "app-id" => "The client application's appId",
        api: String = "api" => "The API's appId, e.g. 00000003-0000-0000-c000-000000000000 for Microsoft Graph",
        scope: String = "scope" => "Space-separated scope names (not ids), e.g. \"User.Read Directory.Read.All\" or user_impersonation",
        consent_type: Option<String> = "consent-type" => "AllPrincipals (default: for every user, needs an administrator) or Principal (for one user)",
        principal_id: Option<String> = "principal-id" => "Object id of the user the grant is for, with consent-type Principal",
    }
}

impl Guest for PermissionGrantStep {
    fn describe() -> StepInfo {
        StepInfo::new("app-permission-grant", "Grant an application delegated permissions on an API (az ad app permission grant)")
            .takes::<Args>()
            .output("grant-id", "Id of the oauth2PermissionGrant")
            .output("client-id", "Object id of the client's service principal")
            .output("resource-id", "Object id of the API's service principal")
            .output("scope", "The scopes granted")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let app_id = args.app_id.trim();
        let api = args.api.trim();
        let scope = args.scope.split_whitespace().collect::<Vec<_>>().join(" ");
        if scope.is_empty() {
            return Err(StepError::bad_input("scope", "name at least one scope, e.g. User.Read"));
        }
        let consent_type = match args.consent_type.as_deref().map(str::trim).unwrap_or("AllPrincipals") {
            t if t.eq_ignore_ascii_case("AllPrincipals") => "AllPrincipals",
            t if t.eq_ignore_ascii_case("Principal") => "Principal",
            other => return Err(StepError::bad_input("consent-type", format!("must be AllPrincipals or Principal, got `{other}`"))),
        };
        let principal_id = args.principal_id.given();
        match (consent_type, principal_id) {
            ("Principal", None) => return Err(StepError::bad_input("principal-id", "is required with consent-type Principal")),
            ("AllPrincipals", Some(_)) => return Err(StepError::bad_input("principal-id", "is only for consent-type Principal")),
            _ => {}
        }

        let client = graph::service_principal(app_id)?;
        let resource = graph::find_service_principal(api)?.ok_or_else(|| {
            StepError::new("ServicePrincipalNotFound", format!("The API '{api}' has no service principal in this tenant"))
                .with_hint("run the `service-principal` step for the API's application first")
        })?;

        let filter = format!("clientId eq {}", graph::quote(&client.id));
        let existing: Vec<PermissionGrant> = graph::list("/oauth2PermissionGrants", &[("$filter", &filter)])?;
        for g in existing.iter().filter(|g| {
            g.resource_id.eq_ignore_ascii_case(&resource.id) && g.consent_type == consent_type && g.principal_id.as_deref() == principal_id
        }) {
            log::info(&format!("replacing the existing grant of {} on {} ({})", client.display_name, resource.display_name, g.scope));
            graph::send(graph::call("DELETE", &format!("/oauth2PermissionGrants/{}", g.id)))?;
        }

        log::info(&format!("granting {} `{scope}` on {} ({consent_type})", client.display_name, resource.display_name));
        let body = json!({
            "clientId": client.id,
            "consentType": consent_type,
            "principalId": principal_id,
            "resourceId": resource.id,
            "scope": scope,
        });
        let grant: PermissionGrant = graph::send_json(graph::call("POST", "/oauth2PermissionGrants").json(&body))?;
        Ok(Outputs::new()
            .text("grant-id", grant.id)
            .text("client-id", client.id)
            .text("resource-id", resource.id)
            .text("scope", grant.scope)
            .into())
    }
}

export!(PermissionGrantStep with_types_in aksflow_sdk::bindings);
