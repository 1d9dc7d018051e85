//! `aks-create`: what `az aks create` does on the wire. [protocols.md §C.3]
//!
//! 1. Without a location, `GET` the resource group for its location (as az does).
//! 2. `PUT …/managedClusters/{name}` with the whole cluster: agent pool, `enableRBAC`,
//!    `aadProfile` (AKS-managed, legacy server/client apps, or none), `disableLocalAccounts`.
//! 3. Follow the `Azure-AsyncOperation` URL until the operation succeeds or fails, then `GET`
//!    the cluster.
//!
//! The resource provider decides what is allowed (AAD without RBAC, legacy AAD after its
//! deprecation, local accounts without AAD…); its `error.code` becomes the step's code.
//! Only the argument combinations az itself refuses are refused here, with az's words.

use aksflow_sdk::arm::{self, ClusterSummary};
use aksflow_sdk::*;
use serde_json::{Value, json};

struct AksCreate;

const DEFAULT_NODE_COUNT: i64 = 3;
const DEFAULT_VM_SIZE: &str = "Standard_DS2_v2";

fn cli_error(code: &str, message: &str) -> StepError {
    StepError::new(code, message)
}

inputs! {
    struct Args {
        name: String = "name" => "Cluster name",
        resource_group: String = "resource-group" => "Resource group of the cluster",
        location: Option<String> = "location" => "Azure region (default: the resource group's location)",
        node_count: Option<i64> = "node-count" => "Nodes in the system pool (default 3, as az)",
        node_vm_size: Option<String> = "node-vm-size" => "VM size of the nodes (default Standard_DS2_v2)",
        kubernetes_version: Option<String> = "kubernetes-version" => "Kubernetes version; empty = the region's default",
        dns_prefix: Option<String> = "dns-prefix" => "DNS prefix of the API server (default: az's name-group-subscription prefix)",
        aad: Option<String> = "aad" => "AAD integration: managed (default), legacy or none",
        server_app_id: Option<String> = "server-app-id" => "legacy: the server application's appId (--aad-server-app-id)",
        server_app_secret: Option<Secret> = "server-app-secret" => "legacy: the server application's secret (--aad-server-app-secret)",
        client_app_id: Option<String> = "client-app-id" => "legacy: the client application's appId (--aad-client-app-id)",
        tenant_id: Option<String> = "tenant-id" => "AAD tenant (--aad-tenant-id; legacy default: the run's tenant)",
        admin_group_ids: Option<Vec<String>> = "admin-group-ids" => "managed: comma-separated group object ids bound to cluster-admin",
        enable_azure_rbac: Option<bool> = "enable-azure-rbac" => "managed: use Azure RBAC for Kubernetes authorization",
        enable_rbac: Option<bool> = "enable-rbac" => "Kubernetes RBAC (default true; false = --disable-rbac)",
        disable_local_accounts: Option<bool> = "disable-local-accounts" => "Disable local accounts (admin kubeconfig)",
        tags: Option<Json<serde_json::Map<String, Value>>> = "tags" => "Tags as a JSON object of strings",
        service_principal: Option<String> = "service-principal" => "Run the cluster as this service principal (its appId, --service-principal) instead of a managed identity",
        client_secret: Option<Secret> = "client-secret" => "The service principal's secret (--client-secret)",
        attempts: Option<i64> = "attempts" => "Tries while AKS answers ServicePrincipalNotFound (a service principal not replicated yet), waiting 2, 4, 6 … s between them (default 30; 1: no retry)",
    }
}

impl Guest for AksCreate {
    fn describe() -> StepInfo {
        let info = StepInfo::new("aks-create", "Create an AKS cluster and wait until it is provisioned (az aks create)").takes::<Args>();
        ClusterSummary::describe_outputs(info).uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let args = Args::from_fields(inputs)?;
        let ctx = context();
        let name = args.name.as_str();
        let rg = args.resource_group.as_str();
        let aad = args.aad.given().unwrap_or("managed").to_ascii_lowercase();
        if !["managed", "legacy", "none"].contains(&aad.as_str()) {
            return Err(StepError::bad_input("aad", format!("expected managed, legacy or none, got `{aad}`")));
        }
        let node_count = args.node_count.unwrap_or(DEFAULT_NODE_COUNT);
        let vm_size = args.node_vm_size.as_deref().filter(|s| !s.is_empty()).unwrap_or(DEFAULT_VM_SIZE);
        let version = args.kubernetes_version.as_deref().unwrap_or("").trim();
        let enable_rbac = args.enable_rbac.unwrap_or(true);
        let enable_azure_rbac = args.enable_azure_rbac;
        let disable_local = args.disable_local_accounts.unwrap_or(false);
        let admin_groups = &args.admin_group_ids;
        let tenant = args.tenant_id.given();
        let legacy = arm::LegacyAad {
            client_app_id: args.client_app_id.as_deref(),
            server_app_id: args.server_app_id.as_deref(),
            server_app_secret: args.server_app_secret.as_deref(),
        };
        let legacy_given = legacy.is_given();

        // What az refuses before calling anything.
        if aad == "managed" && legacy_given {
            return Err(cli_error(
                "MutuallyExclusiveArgumentError",
                "\"--enable-aad\" cannot be used together with \"--aad-client-app-id/--aad-server-app-id/--aad-server-app-secret\"",
            ));
        }
        if aad != "managed" && admin_groups.is_some() {
            return Err(cli_error("InvalidArgumentValueError", "\"--aad-admin-group-object-ids\" can only be used together with \"--enable-aad\""));
        }
        if aad != "managed" && enable_azure_rbac == Some(true) {
            return Err(cli_error("InvalidArgumentValueError", "\"--enable-azure-rbac\" can only be used together with \"--enable-aad\""));
        }
        if enable_azure_rbac == Some(true) && !enable_rbac {
            return Err(cli_error("MutuallyExclusiveArgumentError", "\"--enable-azure-rbac\" can not be used together with \"--disable-rbac\""));
        }

        let location = match args.location.given() {
            Some(l) => l.to_string(),
            None => {
                let group: Value = arm::send(arm::call("GET", &arm::resource_group_path(&ctx.subscription_id, rg), "2024-11-01"))?.json()?;
                group["location"].as_str().map(String::from).unwrap_or_else(|| ctx.default_location.clone())
            }
        };
        let dns_prefix = args
            .dns_prefix
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(String::from)
            .unwrap_or_else(|| arm::default_dns_prefix(name, rg, &ctx.subscription_id));

        let aad_profile = match aad.as_str() {
            "managed" => {
                let mut p = json!({ "managed": true, "enableAzureRBAC": enable_azure_rbac.unwrap_or(false) });
                if let Some(g) = admin_groups {
                    p["adminGroupObjectIDs"] = json!(g);
                }
                if let Some(t) = tenant {
                    p["tenantID"] = json!(t);
                }
                Some(p)
            }
            "legacy" => Some(legacy.profile(tenant.unwrap_or(&ctx.tenant_id))),
            _ => None,
        };

        let mut properties = json!({
            "kubernetesVersion": version,
            "dnsPrefix": dns_prefix,
            "agentPoolProfiles": [{
                "count": node_count,
                "vmSize": vm_size,
                "osType": "Linux",
                "type": "VirtualMachineScaleSets",
                "mode": "System",
                "enableAutoScaling": false,
                "orchestratorVersion": version,
                "name": "nodepool1",
            }],
            "addonProfiles": {},
            "enableRBAC": enable_rbac,
            "disableLocalAccounts": disable_local,
        });
        if let Some(p) = aad_profile {
            properties["aadProfile"] = p;
        }
        let mut body = json!({ "location": location, "identity": { "type": "SystemAssigned" }, "properties": properties });
        if let Some(sp) = args.service_principal.given() {
            let secret = args.client_secret.as_deref().filter(|s| !s.is_empty()).ok_or_else(|| StepError::bad_input("client-secret", "is required with service-principal"))?;
            body["properties"]["servicePrincipalProfile"] = json!({ "clientId": sp, "secret": secret });
            body.as_object_mut().map(|b| b.remove("identity"));
        }
        if let Some(Json(t)) = args.tags {
            body["tags"] = Value::Object(t);
        }

        log::info(&format!(
            "creating AKS cluster {name} in {rg} ({location}): Kubernetes {}, {node_count} x {vm_size}, AAD {aad}{}, RBAC {}{}",
            if version.is_empty() { "default" } else { version },
            if enable_azure_rbac == Some(true) { " + Azure RBAC" } else { "" },
            if enable_rbac { "on" } else { "off" },
            if disable_local { ", local accounts disabled" } else { "" },
        ));
        // az aks create retries while a new service principal has not reached AKS.
        let attempts = u32::try_from(args.attempts.unwrap_or(30).clamp(1, 60)).unwrap_or(30);
        let cluster = aksflow_sdk::retry::with_retries("cluster create", attempts, &["ServicePrincipalNotFound"], || {
            arm::put_cluster(&ctx.subscription_id, rg, name, &body, &format!("creating cluster {name}"))
        })?;
        let summary = ClusterSummary::from_json(&cluster);
        log::info(&format!("cluster {} is {} (Kubernetes {}) at {}", summary.name, summary.provisioning_state, summary.kubernetes_version, summary.fqdn));
        Ok(summary.outputs().into())
    }
}

export!(AksCreate with_types_in aksflow_sdk::bindings);

