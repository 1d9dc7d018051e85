//! `account-show`: the facts `az account show` prints about the run's subscription. az reads
//! them from its profile on disk; a step asks ARM: `GET /subscriptions/{id}?api-version=2022-12-01`
//! with the operator's token (§C.1).

use aksflow_sdk::*;
use serde::Deserialize;

const API_VERSION: &str = "2022-12-01";

struct AccountShow;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    subscription_id: String,
    tenant_id: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    state: String,
}

impl Guest for AccountShow {
    fn describe() -> StepInfo {
        StepInfo::new("account-show", "Show the run's subscription and tenant (az account show)")
            .output("subscription-id", "Subscription id")
            .output("tenant-id", "Tenant id of the subscription")
            .output("name", "Display name of the subscription")
            .output("state", "Enabled, Disabled, Warned, PastDue or Deleted")
            .uses(Service::Arm)
    }

    fn run(_inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let ctx = context();
        if ctx.subscription_id.is_empty() {
            return Err(StepError::new("NoSubscription", "the run has no subscription").with_hint("set AZURE_SUBSCRIPTION_ID, or `az account set -s …`"));
        }
        let sub: Subscription = arm::send(arm::call("GET", &format!("/subscriptions/{}", ctx.subscription_id), API_VERSION))?.json()?;
        log::info(&format!("subscription {} ({}) in tenant {}, {}", sub.display_name, sub.subscription_id, sub.tenant_id, sub.state));
        Ok(Outputs::new()
            .text("subscription-id", sub.subscription_id)
            .text("tenant-id", sub.tenant_id)
            .text("name", sub.display_name)
            .text("state", sub.state)
            .into())
    }
}

export!(AccountShow with_types_in aksflow_sdk::bindings);
