//! `group`: what `az ad group create --display-name G --mail-nickname G` and `az ad group member
//! add` do on Graph (§B.9). A group with the same displayName and mailNickname is reused;
//! members given by UPN are looked up with `GET /users/{upn}`; members already in the group
//! are left alone.

use aksflow_sdk::graph;
use aksflow_sdk::*;
use serde::Deserialize;
use serde_json::json;

struct Group;

inputs! {
    struct Args {
        display_name: String = "display-name" => "Display name of the group",
        mail_nickname: Option<String> = "mail-nickname" => "Mail nickname (default: the display name without spaces or punctuation)",
        description: Option<String> = "description" => "Description of a new group",
        members: Option<Vec<String>> = "members" => "Members to add, comma-separated: user principal names or object ids",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupJson {
    id: String,
    display_name: String,
}

#[derive(Deserialize)]
struct ObjectId {
    id: String,
}

impl Guest for Group {
    fn describe() -> StepInfo {
        StepInfo::new("group", "Create a security group, or reuse the one with that name, and add members (az ad group create / member add)")
            .takes::<Args>()
            .output("object-id", "Object id of the group")
            .output("display-name", "Display name of the group")
            .output("created", "true if this run created the group")
            .output("added", "How many members this run added")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let name = args.display_name.trim();
        if name.is_empty() {
            return Err(StepError::bad_input("display-name", "must not be empty"));
        }
        let nickname = match args.mail_nickname.given() {
            Some(n) => n.to_string(),
            None => name.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect(),
        };
        if nickname.is_empty() {
            return Err(StepError::bad_input("mail-nickname", format!("cannot be derived from `{name}`: give one")));
        }
        let members = args.members.unwrap_or_default();

        let filter = format!("displayName eq {} and mailNickname eq {}", graph::quote(name), graph::quote(&nickname));
        let found: Vec<GroupJson> = graph::list("/groups", &[("$filter", &filter)])?;
        let (group, created) = match found.into_iter().next() {
            Some(g) => {
                log::info(&format!("group {name} exists ({})", g.id));
                (g, false)
            }
            None => {
                log::info(&format!("creating security group {name}"));
                let mut body = json!({ "displayName": name, "mailNickname": nickname, "mailEnabled": false, "securityEnabled": true });
                if let Some(d) = args.description.given() {
                    body["description"] = json!(d);
                }
                (graph::send_json::<GroupJson>(graph::call("POST", "/groups").json(&body))?, true)
            }
        };

        let mut added = 0;
        if !members.is_empty() {
            let current: Vec<ObjectId> = if created { vec![] } else { graph::list(&format!("/groups/{}/members", group.id), &[("$select", "id")])? };
            for m in &members {
                let id = member_id(m)?;
                if current.iter().any(|c| c.id.eq_ignore_ascii_case(&id)) {
                    log::info(&format!("{m} is already a member of {name}"));
                    continue;
                }
                if add_member(&group.id, &id, created)? {
                    log::info(&format!("added {m} to {name}"));
                    added += 1;
                } else {
                    log::info(&format!("{m} is already a member of {name}"));
                }
            }
        }
        Ok(Outputs::new()
            .text("object-id", &group.id)
            .text("display-name", &group.display_name)
            .text("created", created.to_string())
            .text("added", added.to_string())
            .into())
    }
}

/// An object id as given; a user principal name through `GET /users/{upn}`.
fn member_id(member: &str) -> Result<String, StepError> {
    if graph::is_guid(member) {
        return Ok(member.to_string());
    }
    let resp = graph::get(&format!("/users/{}", graph::segment(member))).query("$select", "id").send()?;
    match resp.status {
        404 => Err(StepError::new("Request_ResourceNotFound", format!("No user with the name '{member}' exists in this tenant"))
            .with_hint("members are user principal names (alice@contoso.onmicrosoft.com) or object ids")),
        _ if resp.is_success() => Ok(resp.json::<ObjectId>()?.id),
        _ => Err(graph::error(&resp)),
    }
}

/// `POST /groups/{id}/members/$ref`; false when the object was already a member.
/// `fresh`: the group was created moments ago.
fn add_member(group_id: &str, object_id: &str, fresh: bool) -> Result<bool, StepError> {
    let body = json!({ "@odata.id": format!("{}/{object_id}", graph::DIRECTORY_OBJECTS) });
    let add = || graph::call("POST", &format!("/groups/{group_id}/members/$ref")).json(&body);
    match if fresh { graph::send_fresh(add) } else { graph::send(add()) } {
        Ok(_) => Ok(true),
        Err(e) if e.code == "Request_BadRequest" && e.message.contains("already exist") => Ok(false),
        Err(e) => Err(e),
    }
}

export!(Group with_types_in aksflow_sdk::bindings);
