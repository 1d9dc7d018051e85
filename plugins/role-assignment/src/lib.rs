//! `role-assignment`: what `az role assignment create --assignee WHO --role ROLE --scope SCOPE`
//! does. [protocols.md §C.5]
//!
//! 1. The assignee to an object id, as az resolves it: a name with `@` is a user
//!    (`GET /v1.0/users/{upn}`); a GUID is looked up with `POST /v1.0/directoryObjects/getByIds`,
//!    then as a service principal's appId. With `assignee-principal-type` the GUID is taken
//!    as the object id without asking Graph (az's `--assignee-object-id
//!    --assignee-principal-type`, Microsoft's fix for a principal Graph has not replicated yet).
//! 2. The role by name: `GET /subscriptions/{sid}/providers/Microsoft.Authorization/roleDefinitions
//!    ?$filter=roleName eq '…'`; a GUID is taken as the role definition's name.
//! 3. `PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}`. az picks a random
//!    name; this step derives it from the assignment (a name-based UUID), so the same
//!    assignment has the same name in every run. `principalType` is sent only when the flow
//!    gave it; otherwise ARM looks the principal up, and a principal too new for it is
//!    `PrincipalNotFound`, which the step retries (`attempts`), as az aks does.

use aksflow_sdk::graph::{self, is_guid};
use aksflow_sdk::*;
use serde_json::{Value, json};

const API_VERSION: &str = "2022-04-01";
/// The namespace of the names this step gives assignments.
const NAME_SPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_3e2c_9a4d_4c55_8f0e_2d7a_1c3b_5e90);

struct RoleAssignment;

inputs! {
    struct Args {
        assignee: String = "assignee" => "Who: a user's UPN, or the object id or appId of a user, group or service principal",
        role: String = "role" => "The role's name (e.g. \"Azure Kubernetes Service Cluster User Role\") or its id",
        scope: Option<String> = "scope" => "Resource id the role applies to (default: the run's subscription)",
        principal_type: Option<String> = "assignee-principal-type" => "User, Group or ServicePrincipal: take `assignee` as an object id of that type without asking Graph, and tell ARM the type (no lookup there either)",
        attempts: Option<i64> = "attempts" => "Tries while ARM answers PrincipalNotFound (a principal not replicated yet), waiting 2, 4, 6 … s between them (default 10, as az aks does; 1: no retry)",
    }
}

struct Principal {
    id: String,
    kind: String,
    /// Whether the flow said the type (then ARM is told it and does not look the principal up).
    declared: bool,
}

/// `#microsoft.graph.user` → `User`.
fn principal_kind(odata_type: &str) -> String {
    match odata_type.rsplit('.').next().unwrap_or_default() {
        "servicePrincipal" => "ServicePrincipal".into(),
        "group" => "Group".into(),
        "user" => "User".into(),
        other => other.to_string(),
    }
}

fn not_found(assignee: &str) -> StepError {
    StepError::new("PrincipalNotFound", format!("Cannot find user or service principal in graph database for '{assignee}'. If the assignee is an appId, make sure the corresponding service principal is created with 'az ad sp create --id {assignee}'."))
        .with_hint("check the name; for a principal made moments ago, give its object id with assignee-principal-type")
}

fn resolve(assignee: &str, principal_type: Option<&str>) -> Result<Principal, StepError> {
    if let Some(kind) = principal_type {
        let kind = match kind.to_ascii_lowercase().as_str() {
            "user" => "User",
            "group" => "Group",
            "serviceprincipal" => "ServicePrincipal",
            _ => return Err(StepError::bad_input("assignee-principal-type", format!("`{kind}` is not User, Group or ServicePrincipal"))),
        };
        if !is_guid(assignee) {
            return Err(StepError::bad_input("assignee", "must be an object id when assignee-principal-type is given"));
        }
        return Ok(Principal { id: assignee.to_ascii_lowercase(), kind: kind.into(), declared: true });
    }
    if assignee.contains('@') {
        let resp = graph::get(&format!("/users/{}", graph::segment(assignee))).send()?;
        if resp.status == 404 {
            return Err(not_found(assignee));
        }
        let user: Value = if resp.is_success() { resp.json()? } else { return Err(graph::error(&resp)) };
        return Ok(Principal { id: user["id"].as_str().unwrap_or_default().into(), kind: "User".into(), declared: false });
    }
    if is_guid(assignee) {
        let found: Value = graph::send_json(graph::call("POST", "/directoryObjects/getByIds").json(&json!({ "ids": [assignee] })))?;
        if let Some(o) = found["value"].as_array().and_then(|v| v.first()) {
            return Ok(Principal { id: o["id"].as_str().unwrap_or_default().into(), kind: principal_kind(o["@odata.type"].as_str().unwrap_or_default()), declared: false });
        }
    }
    let sps: Vec<Value> = graph::list("/servicePrincipals", &[("$filter", &format!("servicePrincipalNames/any(c:c eq {})", graph::quote(assignee)))])?;
    match sps.first() {
        Some(sp) => Ok(Principal { id: sp["id"].as_str().unwrap_or_default().into(), kind: "ServicePrincipal".into(), declared: false }),
        None => Err(not_found(assignee)),
    }
}

/// The role definition's full id.
fn role_definition_id(subscription: &str, role: &str) -> Result<String, StepError> {
    let base = format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions");
    if is_guid(role) {
        return Ok(format!("{base}/{}", role.to_ascii_lowercase()));
    }
    let found: Value = arm::send(arm::call("GET", &base, API_VERSION).query("$filter", &format!("roleName eq {}", graph::quote(role))))?.json()?;
    let id = found["value"].as_array().and_then(|v| v.first()).and_then(|d| d["id"].as_str()).map(String::from);
    id.ok_or_else(|| StepError::new("RoleDefinitionNotFound", format!("Role '{role}' doesn't exist.")).with_hint("role names are those of `az role definition list`, e.g. \"Azure Kubernetes Service Cluster User Role\""))
}

impl Guest for RoleAssignment {
    fn describe() -> StepInfo {
        StepInfo::new("role-assignment", "Assign an Azure role to a user, group or service principal at a scope (az role assignment create)")
            .takes::<Args>()
            .output("id", "Resource id of the role assignment")
            .output("name", "Its name (a GUID)")
            .output("principal-id", "Object id of the assignee")
            .output("principal-type", "User, Group or ServicePrincipal")
            .output("role-definition-id", "Resource id of the role definition")
            .uses(Service::Graph)
            .uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();
        let scope = args.scope.given().map(|s| s.trim_end_matches('/').to_string()).unwrap_or_else(|| format!("/subscriptions/{}", ctx.subscription_id));
        if !scope.starts_with("/subscriptions/") {
            return Err(StepError::bad_input("scope", format!("`{scope}` is not a resource id (/subscriptions/…)")));
        }
        let principal = resolve(args.assignee.trim(), args.principal_type.given())?;
        let role_id = role_definition_id(&ctx.subscription_id, args.role.trim())?;
        let name = uuid::Uuid::new_v5(&NAME_SPACE, format!("{}|{role_id}|{}", scope.to_ascii_lowercase(), principal.id).as_bytes()).to_string();
        log::info(&format!("assigning `{}` to {} {} at {scope}", args.role.trim(), principal.kind, principal.id));
        let mut properties = json!({ "roleDefinitionId": role_id, "principalId": principal.id });
        if principal.declared {
            properties["principalType"] = json!(principal.kind);
        }
        let body = json!({ "properties": properties });
        let path = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
        let attempts = u32::try_from(args.attempts.unwrap_or(10).clamp(1, 60)).unwrap_or(10);
        let created: Value = aksflow_sdk::retry::with_retries("role assignment", attempts, &["PrincipalNotFound"], || arm::send(arm::call("PUT", &path, API_VERSION).json(&body)))?.json()?;
        Ok(Outputs::new()
            .text("id", created["id"].as_str().unwrap_or_default())
            .text("name", created["name"].as_str().unwrap_or(&name))
            .text("principal-id", principal.id)
            .text("principal-type", principal.kind)
            .text("role-definition-id", role_id)
            .into())
    }
}

export!(RoleAssignment with_types_in aksflow_sdk::bindings);
