//! `signed-in-user`: what `az ad signed-in-user show` does (§B.9): `GET /v1.0/me` with a user's
//! Graph token (not the operator's). An app-only token gets Graph's 400 `BadRequest`.

use aksflow_sdk::graph;
use aksflow_sdk::*;
use serde::Deserialize;

struct SignedInUser;

inputs! {
    struct Args {
        token: Secret = "token" => "A user's access token for Microsoft Graph (delegated)",
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: String,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

impl Guest for SignedInUser {
    fn describe() -> StepInfo {
        StepInfo::new("signed-in-user", "Show the user a Graph access token belongs to (az ad signed-in-user show)")
            .takes::<Args>()
            .output("user-principal-name", "The user's principal name, e.g. alice@contoso.onmicrosoft.com")
            .output("object-id", "The user's object id")
            .output("display-name", "The user's display name")
            .uses(Service::Graph)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let token = args.token.trim();
        let me: Me = graph::send_json(graph::get("/me").bearer(token))?;
        let upn = me.user_principal_name.unwrap_or_default();
        log::info(&format!("signed in as {upn} ({})", me.id));
        Ok(Outputs::new()
            .text("user-principal-name", upn)
            .text("object-id", me.id)
            .text("display-name", me.display_name.unwrap_or_default())
            .into())
    }
}

export!(SignedInUser with_types_in aksflow_sdk::bindings);
