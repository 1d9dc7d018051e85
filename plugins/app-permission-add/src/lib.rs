//! `app-permission-add`: what `az ad app permission add --id APP --api API --api-permissions
//! ID=Scope ID=Role …` does on Graph (§B.6): read the application, merge the permissions into
//! its `requiredResourceAccess` (duplicates skipped) and `PATCH` the whole array back (204).
//! Nothing is granted yet: that is `app-permission-grant` or `admin-consent`.

use aksflow_sdk::graph::{self, RequiredResourceAccess, ResourceAccess};
use aksflow_sdk::*;
use serde_json::json;

const FORMAT: &str = "permissions are space-separated ID=Scope (delegated) or ID=Role (application) pairs, where ID is the permission's GUID, \
                      e.g. e1fe6dd8-ba31-4d61-89e7-88639da4683d=Scope";

struct PermissionAdd;

inputs! {
    struct Args {
        app_id: String = "app-id" => "The client application's appId (or identifier URI or object id)",
        api: String = "api" => "The API's appId, e.g. 00000003-0000-0000-c000-000000000000 for Microsoft Graph (or an identifier URI of it)",
        permissions: String = "permissions" => "Space-separated ID=Scope | ID=Role, e.g. e1fe6dd8-ba31-4d61-89e7-88639da4683d=Scope",
    }
}

impl Guest for PermissionAdd {
    fn describe() -> StepInfo {
        StepInfo::new("app-permission-add", "Add API permissions an application requires (az ad app permission add)")
            .takes::<Args>()
            .output("app-id", "The client application's appId")
            .output("object-id", "Object id of the client application")
            .output("added", "How many of the permissions were new")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let wanted = parse(&args.permissions)?;
        let app = graph::application(args.app_id.trim())?;
        let api = resource_app_id(args.api.trim())?;

        let mut rra = app.required_resource_access.clone();
        let idx = match rra.iter().position(|r| r.resource_app_id.eq_ignore_ascii_case(&api)) {
            Some(i) => i,
            None => {
                rra.push(RequiredResourceAccess { resource_app_id: api.clone(), resource_access: vec![] });
                rra.len() - 1
            }
        };
        let mut added = 0;
        for p in wanted {
            let entry = &mut rra[idx].resource_access;
            if entry.iter().any(|e| e.id.eq_ignore_ascii_case(&p.id) && e.kind == p.kind) {
                log::info(&format!("{} already requires {}={}", app.display_name, p.id, p.kind));
            } else {
                entry.push(p);
                added += 1;
            }
        }
        if added > 0 {
            log::info(&format!("adding {added} permission(s) on API {api} to {}", app.display_name));
            graph::send(graph::call("PATCH", &format!("/applications/{}", app.id)).json(&json!({ "requiredResourceAccess": rra })))?;
            log::info("a grant (app-permission-grant or admin-consent) is needed to make the change effective");
        }
        Ok(Outputs::new().text("app-id", &app.app_id).text("object-id", &app.id).text("added", added.to_string()).into())
    }
}

/// `ID=Scope ID=Role …` into resource accesses, in order, without repeats.
fn parse(text: &str) -> Result<Vec<ResourceAccess>, StepError> {
    let mut out: Vec<ResourceAccess> = Vec::new();
    for token in text.split(|c: char| c.is_whitespace() || c == ',').filter(|t| !t.is_empty()) {
        let bad = || StepError::bad_input("permissions", format!("`{token}` is not ID=Scope or ID=Role: {FORMAT}"));
        let (id, kind) = token.split_once('=').ok_or_else(bad)?;
        let kind = match kind.to_ascii_lowercase().as_str() {
            "scope" => "Scope",
            "role" => "Role",
            _ => return Err(bad()),
        };
        if !graph::is_guid(id) {
            return Err(bad());
        }
        let p = ResourceAccess { id: id.to_ascii_lowercase(), kind: kind.into() };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(StepError::bad_input("permissions", format!("no permission given: {FORMAT}")));
    }
    Ok(out)
}

/// The API's appId: a GUID as given; an identifier URI through the API's service principal.
fn resource_app_id(api: &str) -> Result<String, StepError> {
    if graph::is_guid(api) {
        return Ok(api.to_string());
    }
    match graph::find_service_principal(api)? {
        Some(sp) => Ok(sp.app_id),
        None => Ok(graph::application(api)?.app_id),
    }
}

export!(PermissionAdd with_types_in aksflow_sdk::bindings);
