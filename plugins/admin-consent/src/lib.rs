//! `admin-consent`: tenant-wide admin consent for everything an application requires, the
//! Graph-native way (§B.8; az CLI calls the portal's internal API instead).
//!
//! For each `requiredResourceAccess` entry: the `Scope` permissions become (or are merged into,
//! with `PATCH`) the client's `AllPrincipals` oauth2PermissionGrant on that API, and each `Role`
//! permission becomes an app role assignment, `POST /servicePrincipals/{api}/appRoleAssignedTo`.
//! The client's service principal is created when it is missing. Consent that already exists is
//! left as it is, so a rerun changes nothing.

use aksflow_sdk::graph::{self, AppRoleAssignment, PermissionGrant, ServicePrincipal};
use aksflow_sdk::*;
use serde_json::json;

struct AdminConsent;

inputs! {
    struct Args {
        app_id: String = "app-id" => "The application's appId (or identifier URI or object id)",
    }
}

impl Guest for AdminConsent {
    fn describe() -> StepInfo {
        StepInfo::new("admin-consent", "Grant tenant-wide admin consent for every permission an application requires (az ad app permission admin-consent)")
            .takes::<Args>()
            .output("service-principal-id", "Object id of the application's service principal")
            .output("scopes", "The delegated permissions consented, space-separated (e.g. User.Read Directory.Read.All)")
            .output("roles", "The application permissions assigned, space-separated")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let app = graph::application(args.app_id.trim())?;
        let (client, fresh) = match graph::find_service_principal(&app.app_id)? {
            Some(sp) => (sp, false),
            None => {
                log::info(&format!("creating the service principal of {}", app.display_name));
                (graph::create_service_principal(&app.app_id)?, true)
            }
        };
        if app.required_resource_access.is_empty() {
            log::warn(&format!("{} requires no permissions: nothing to consent to", app.display_name));
        }

        let grants: Vec<PermissionGrant> = graph::list("/oauth2PermissionGrants", &[("$filter", &format!("clientId eq {}", graph::quote(&client.id)))])?;
        let needs_roles = app.required_resource_access.iter().any(|r| r.resource_access.iter().any(|a| a.kind == "Role"));
        let assigned: Vec<AppRoleAssignment> =
            if needs_roles { graph::list(&format!("/servicePrincipals/{}/appRoleAssignments", client.id), &[])? } else { vec![] };

        let (mut all_scopes, mut all_roles) = (Vec::new(), Vec::new());
        for rra in &app.required_resource_access {
            let resource = graph::find_service_principal(&rra.resource_app_id)?.ok_or_else(|| {
                StepError::new("ServicePrincipalNotFound", format!("The API '{}' that {} requires has no service principal in this tenant", rra.resource_app_id, app.display_name))
                    .with_hint("create the API's service principal first (the `service-principal` step), or remove the permission")
            })?;
            let mut scopes = Vec::new();
            for access in rra.resource_access.iter().filter(|a| a.kind == "Scope") {
                let scope = resource.oauth2_permission_scopes.iter().find(|s| s.id.eq_ignore_ascii_case(&access.id)).ok_or_else(|| unknown(&resource, &access.id, "delegated permission"))?;
                scopes.push(scope.value.clone());
            }
            if !scopes.is_empty() {
                consent_scopes(&client, &resource, &grants, &scopes, fresh)?;
                all_scopes.extend(scopes);
            }
            for access in rra.resource_access.iter().filter(|a| a.kind == "Role") {
                let role = resource.app_roles.iter().find(|r| r.id.eq_ignore_ascii_case(&access.id)).ok_or_else(|| unknown(&resource, &access.id, "application permission"))?;
                let exists = assigned.iter().any(|a| a.resource_id.eq_ignore_ascii_case(&resource.id) && a.app_role_id.eq_ignore_ascii_case(&role.id));
                if exists {
                    log::info(&format!("{} already has {} on {}", client.display_name, role.value, resource.display_name));
                } else {
                    assign_role(&client, &resource, &role.id, &role.value, fresh)?;
                }
                all_roles.push(role.value.clone());
            }
        }
        Ok(Outputs::new().text("service-principal-id", &client.id).text("scopes", all_scopes.join(" ")).text("roles", all_roles.join(" ")).into())
    }
}

/// Creates the client's AllPrincipals grant on `resource`, or adds the missing scopes to it.
/// `fresh`: the client's service principal was created moments ago.
fn consent_scopes(client: &ServicePrincipal, resource: &ServicePrincipal, grants: &[PermissionGrant], scopes: &[String], fresh: bool) -> Result<(), StepError> {
    let existing = grants.iter().find(|g| g.consent_type == "AllPrincipals" && g.resource_id.eq_ignore_ascii_case(&resource.id));
    match existing {
        Some(g) => {
            let mut merged: Vec<&str> = g.scope.split_whitespace().collect();
            for s in scopes {
                if !merged.iter().any(|m| m.eq_ignore_ascii_case(s)) {
                    merged.push(s);
                }
            }
            let merged = merged.join(" ");
            if merged == g.scope.split_whitespace().collect::<Vec<_>>().join(" ") {
                log::info(&format!("{} already has admin consent for `{}` on {}", client.display_name, scopes.join(" "), resource.display_name));
                return Ok(());
            }
            log::info(&format!("extending the admin consent of {} on {} to `{merged}`", client.display_name, resource.display_name));
            graph::send(graph::call("PATCH", &format!("/oauth2PermissionGrants/{}", g.id)).json(&json!({ "scope": merged })))?;
        }
        None => {
            log::info(&format!("consenting `{}` on {} for all users of {}", scopes.join(" "), resource.display_name, client.display_name));
            let body = json!({
                "clientId": client.id,
                "consentType": "AllPrincipals",
                "principalId": null,
                "resourceId": resource.id,
                "scope": scopes.join(" "),
            });
            let create = || graph::call("POST", "/oauth2PermissionGrants").json(&body);
            if fresh { graph::send_fresh(create)? } else { graph::send(create())? };
        }
    }
    Ok(())
}

/// Assigns an application permission; one that already exists is not an error.
fn assign_role(client: &ServicePrincipal, resource: &ServicePrincipal, role_id: &str, role_name: &str, fresh: bool) -> Result<(), StepError> {
    log::info(&format!("assigning {role_name} on {} to {}", resource.display_name, client.display_name));
    let body = json!({ "principalId": client.id, "resourceId": resource.id, "appRoleId": role_id });
    let assign = || graph::call("POST", &format!("/servicePrincipals/{}/appRoleAssignedTo", resource.id)).json(&body);
    match if fresh { graph::send_fresh(assign) } else { graph::send(assign()) } {
        Ok(_) => Ok(()),
        Err(e) if e.message.contains("already exists") => {
            log::info(&format!("{} already has {role_name} on {}", client.display_name, resource.display_name));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn unknown(resource: &ServicePrincipal, id: &str, what: &str) -> StepError {
    StepError::new("PermissionNotFound", format!("{} exposes no {what} with id {id}", resource.display_name))
        .with_hint("check the ids given to app-permission-add (Scope ids are delegated permissions, Role ids application permissions)")
}

export!(AdminConsent with_types_in aksflow_sdk::bindings);
