//! `signed-in-user`: what `az ad signed-in-user show` does (§B.9): `GET /v1.0/me` as the
//! signed-in user: the step's `as` user, or a user's Graph token given as `token`. As the
//! operator (a service principal, as after `az login --service-principal`) it gets Graph's
//! 400 `BadRequest`, as az does.

use aksflow_sdk::graph;
use aksflow_sdk::*;
use serde::Deserialize;

struct SignedInUser;

inputs! {
    struct Args {
        token: Option<Secret> = "token" => "A user's access token for Microsoft Graph (delegated); default: the identity the step acts as (`as = \"alice@…\"`)",
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
        let call = match args.token.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => graph::get("/me").bearer(token),
            None => graph::get("/me"),
        };
        let me: Me = graph::send_json(call)?;
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
