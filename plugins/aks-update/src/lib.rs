//! `aks-update`: what `az aks update` does on the wire — `GET` the cluster, change the model,
//! `PUT` the whole object back, follow the long-running operation. [protocols.md §C.3]
//!
//! Besides az's own flags (`--enable-aad` — which is also the legacy → AKS-managed
//! migration —, `--aad-admin-group-object-ids`, `--enable-azure-rbac`/`--disable-azure-rbac`,
//! `--aad-tenant-id`, `--disable-local-accounts`/`--enable-local-accounts`), the step can send
//! what az has no flag for, so flows can show how the resource provider answers: turning
//! managed AAD off, setting legacy server/client apps on an existing cluster, toggling
//! Kubernetes RBAC.

use aksflow_sdk::arm::{self, ClusterSummary};
use aksflow_sdk::*;
use serde_json::{Value, json};

struct AksUpdate;

inputs! {
    struct Args {
        name: String = "name" => "Cluster name",
        resource_group: String = "resource-group" => "Resource group of the cluster",
        enable_managed_aad: Option<bool> = "enable-managed-aad" => "Turn on AKS-managed AAD (--enable-aad); on a legacy-AAD cluster this is the migration",
        admin_group_ids: Option<Vec<String>> = "admin-group-ids" => "Comma-separated group object ids bound to cluster-admin (managed AAD)",
        enable_azure_rbac: Option<bool> = "enable-azure-rbac" => "true = --enable-azure-rbac, false = --disable-azure-rbac (managed AAD)",
        tenant_id: Option<String> = "tenant-id" => "AAD tenant (--aad-tenant-id)",
        disable_local_accounts: Option<bool> = "disable-local-accounts" => "true = --disable-local-accounts, false = --enable-local-accounts",
        disable_managed_aad: Option<bool> = "disable-managed-aad" => "Send aadProfile.managed = false (AKS refuses: managed AAD can't be disabled)",
        server_app_id: Option<String> = "server-app-id" => "Send a legacy aadProfile with this server app (AKS allows legacy AAD only at creation)",
        server_app_secret: Option<Secret> = "server-app-secret" => "Legacy server app secret to send with server-app-id",
        client_app_id: Option<String> = "client-app-id" => "Legacy client app to send with server-app-id",
        enable_rbac: Option<bool> = "enable-rbac" => "Set enableRBAC (AKS refuses to toggle it after creation)",
    }
}

impl Guest for AksUpdate {
    fn describe() -> StepInfo {
        let info = StepInfo::new("aks-update", "Update an AKS cluster's AAD, RBAC or local accounts and wait for it (az aks update)").takes::<Args>();
        ClusterSummary::describe_outputs(info).uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();
        let name = args.name.as_str();
        let rg = args.resource_group.as_str();
        let enable_managed = args.enable_managed_aad.unwrap_or(false);
        let disable_managed = args.disable_managed_aad.unwrap_or(false);
        let admin_groups = &args.admin_group_ids;
        let azure_rbac = args.enable_azure_rbac;
        let tenant = args.tenant_id.given();
        let disable_local = args.disable_local_accounts;
        let enable_rbac = args.enable_rbac;
        let legacy_aad = arm::LegacyAad {
            client_app_id: args.client_app_id.as_deref(),
            server_app_id: args.server_app_id.as_deref(),
            server_app_secret: args.server_app_secret.as_deref(),
        };
        let legacy = legacy_aad.is_given();
        let update_aad_profile = admin_groups.is_some() || azure_rbac.is_some() || tenant.is_some();

        if !(enable_managed || disable_managed || update_aad_profile || disable_local.is_some() || enable_rbac.is_some() || legacy) {
            return Err(StepError::new(
                "RequiredArgumentMissingError",
                "nothing to update: give enable-managed-aad, admin-group-ids, enable-azure-rbac, tenant-id, disable-local-accounts, disable-managed-aad, server-app-id or enable-rbac",
            ));
        }
        if enable_managed && legacy {
            return Err(StepError::new(
                "MutuallyExclusiveArgumentError",
                "\"--enable-aad\" cannot be used together with \"--aad-client-app-id/--aad-server-app-id/--aad-server-app-secret\"",
            ));
        }
        if enable_managed && disable_managed {
            return Err(StepError::bad_input("disable-managed-aad", "cannot be used together with enable-managed-aad"));
        }

        log::info(&format!("reading cluster {name} in {rg}"));
        let current = arm::get_cluster(&ctx.subscription_id, rg, name)?;
        let before = ClusterSummary::from_json(&current);
        let mut cluster = arm::cluster_for_put(&current);
        let props = cluster
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| StepError::new("UnexpectedResponse", "the cluster ARM returned has no properties"))?;
        let is_managed = before.aad_mode() == "managed";
        let mut changes = vec![];

        if enable_managed {
            if is_managed {
                return Err(StepError::new("InvalidArgumentValueError", "Cannot specify \"--enable-aad\" if managed AAD is already enabled"));
            }
            // A new profile: the legacy app ids (if any) are dropped, which is the migration.
            let mut p = json!({ "managed": true });
            if let Some(g) = admin_groups {
                p["adminGroupObjectIDs"] = json!(g);
            }
            if let Some(r) = azure_rbac {
                p["enableAzureRBAC"] = json!(r);
            }
            let old_tenant = before.aad_profile.get("tenantID").and_then(Value::as_str).filter(|t| !t.is_empty());
            if let Some(t) = tenant.or(old_tenant) {
                p["tenantID"] = json!(t);
            }
            changes.push(if before.aad_mode() == "legacy" { "migrating legacy AAD to AKS-managed AAD" } else { "enabling AKS-managed AAD" }.to_string());
            props.insert("aadProfile".into(), p);
        } else if update_aad_profile {
            if !is_managed {
                return Err(StepError::new(
                    "InvalidArgumentValueError",
                    "Cannot specify \"--aad-tenant-id/--aad-admin-group-object-ids/--enable-azure-rbac/--disable-azure-rbac\" if managed AAD is not enabled",
                ));
            }
            let p = props.entry("aadProfile").or_insert_with(|| json!({}));
            if let Some(g) = admin_groups {
                p["adminGroupObjectIDs"] = json!(g);
                changes.push(format!("admin groups [{}]", g.join(", ")));
            }
            if let Some(r) = azure_rbac {
                p["enableAzureRBAC"] = json!(r);
                changes.push(format!("Azure RBAC {}", if r { "on" } else { "off" }));
            }
            if let Some(t) = tenant {
                p["tenantID"] = json!(t);
                changes.push(format!("tenant {t}"));
            }
        }
        if disable_managed {
            let p = props.entry("aadProfile").or_insert_with(|| json!({}));
            p["managed"] = json!(false);
            changes.push("setting aadProfile.managed to false".into());
        }
        if legacy {
            props.insert("aadProfile".into(), legacy_aad.profile(tenant.unwrap_or(&ctx.tenant_id)));
            changes.push("setting a legacy AAD profile (server and client apps)".into());
        }
        if let Some(d) = disable_local {
            props.insert("disableLocalAccounts".into(), json!(d));
            changes.push(format!("local accounts {}", if d { "disabled" } else { "enabled" }));
        }
        if let Some(r) = enable_rbac {
            props.insert("enableRBAC".into(), json!(r));
            changes.push(format!("enableRBAC {r}"));
        }

        log::info(&format!("updating cluster {name}: {}", changes.join("; ")));
        let updated = arm::put_cluster(&ctx.subscription_id, rg, name, &cluster, &format!("updating cluster {name}"))?;
        let summary = ClusterSummary::from_json(&updated);
        log::info(&format!(
            "cluster {} is {}: AAD {}, RBAC {}, local accounts {}",
            summary.name,
            summary.provisioning_state,
            summary.aad_mode(),
            if summary.enable_rbac == Some(false) { "off" } else { "on" },
            if summary.disable_local_accounts == Some(true) { "disabled" } else { "enabled" },
        ));
        Ok(summary.outputs().into())
    }
}

export!(AksUpdate with_types_in aksflow_sdk::bindings);
