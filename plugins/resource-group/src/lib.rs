//! `resource-group`: what `az group create -n NAME -l LOCATION` does.
//! `PUT /subscriptions/{sid}/resourcegroups/{name}` answers 201 when it creates the group and
//! 200 when it already exists in that location; a different location is ARM's 409.

use aksflow_sdk::*;
use serde::Deserialize;

const API_VERSION: &str = "2024-11-01";

struct ResourceGroup;

inputs! {
    struct Args {
        name: String = "name" => "Resource group name",
        location: Option<String> = "location" => "Azure region, e.g. eastus (default: the run's default location)",
        tags: Option<Json<serde_json::Map<String, serde_json::Value>>> = "tags" => "Tags as a JSON object of strings",
    }
}

#[derive(Deserialize)]
struct Group {
    id: String,
    name: String,
    location: String,
}

impl Guest for ResourceGroup {
    fn describe() -> StepInfo {
        StepInfo::new("resource-group", "Create a resource group, or confirm it exists in that location (az group create)")
            .takes::<Args>()
            .output("id", "Resource id of the group")
            .output("name", "Name as ARM stores it")
            .output("location", "Region of the group")
            .output("created", "true if this run created the group")
            .uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();
        let name = &args.name;
        let location = args.location.unwrap_or(ctx.default_location);

        log::info(&format!("creating resource group {name} in {location}"));
        let path = arm::resource_group_path(&ctx.subscription_id, name);
        let mut body = serde_json::json!({ "location": location });
        if let Some(Json(tags)) = args.tags {
            body["tags"] = serde_json::Value::Object(tags);
        }
        let resp = arm::send(arm::call("PUT", &path, API_VERSION).json(&body))?;
        let group: Group = resp.json()?;
        Ok(Outputs::new()
            .text("id", group.id)
            .text("name", group.name)
            .text("location", group.location)
            .text("created", (resp.status == 201).to_string())
            .into())
    }
}

export!(ResourceGroup with_types_in aksflow_sdk::bindings);
