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

fn split_ids(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect()
}

fn cli_error(code: &str, message: &str) -> StepError {
    StepError::new(code, message)
}

impl Guest for AksCreate {
    fn describe() -> StepInfo {
        let info = StepInfo::new("aks-create", "Create an AKS cluster and wait until it is provisioned (az aks create)")
            .input("name", "Cluster name")
            .input("resource-group", "Resource group of the cluster")
            .optional("location", "Azure region (default: the resource group's location)")
            .typed("node-count", "Nodes in the system pool (default 3, as az)", ValueKind::Integer, false)
            .optional("node-vm-size", "VM size of the nodes (default Standard_DS2_v2)")
            .optional("kubernetes-version", "Kubernetes version; empty = the region's default")
            .optional("dns-prefix", "DNS prefix of the API server (default: az's name-group-subscription prefix)")
            .optional("aad", "AAD integration: managed (default), legacy or none")
            .optional("server-app-id", "legacy: the server application's appId (--aad-server-app-id)")
            .secret_input("server-app-secret", "legacy: the server application's secret (--aad-server-app-secret)", false)
            .optional("client-app-id", "legacy: the client application's appId (--aad-client-app-id)")
            .optional("tenant-id", "AAD tenant (--aad-tenant-id; legacy default: the run's tenant)")
            .optional("admin-group-ids", "managed: comma-separated group object ids bound to cluster-admin")
            .typed("enable-azure-rbac", "managed: use Azure RBAC for Kubernetes authorization", ValueKind::Boolean, false)
            .typed("enable-rbac", "Kubernetes RBAC (default true; false = --disable-rbac)", ValueKind::Boolean, false)
            .typed("disable-local-accounts", "Disable local accounts (admin kubeconfig)", ValueKind::Boolean, false)
            .typed("tags", "Tags as a JSON object of strings", ValueKind::Json, false);
        ClusterSummary::describe_outputs(info).uses(Service::Arm)
    }

    fn run(inputs: Vec<Field>) -> Result<StepOutput, StepError> {
        let inputs = Inputs::from(inputs);
        let ctx = context();
        let name = inputs.req("name")?;
        let rg = inputs.req("resource-group")?;
        let aad = inputs.opt("aad").map(str::trim).filter(|s| !s.is_empty()).unwrap_or("managed").to_ascii_lowercase();
        if !["managed", "legacy", "none"].contains(&aad.as_str()) {
            return Err(StepError::bad_input("aad", format!("expected managed, legacy or none, got `{aad}`")));
        }
        let node_count = inputs.opt_int("node-count")?.unwrap_or(DEFAULT_NODE_COUNT);
        let vm_size = inputs.opt("node-vm-size").filter(|s| !s.is_empty()).unwrap_or(DEFAULT_VM_SIZE);
        let version = inputs.opt("kubernetes-version").unwrap_or("").trim();
        let enable_rbac = inputs.opt_bool("enable-rbac")?.unwrap_or(true);
        let enable_azure_rbac = inputs.opt_bool("enable-azure-rbac")?;
        let disable_local = inputs.opt_bool("disable-local-accounts")?.unwrap_or(false);
        let admin_groups = inputs.opt("admin-group-ids").map(split_ids);
        let tenant = inputs.opt("tenant-id").map(str::trim).filter(|s| !s.is_empty());
        let legacy_given = ["server-app-id", "server-app-secret", "client-app-id"].iter().any(|k| inputs.opt(k).is_some_and(|v| !v.is_empty()));
        let tags: Option<serde_json::Map<String, Value>> = inputs.opt_json("tags")?;

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

        let location = match inputs.opt("location").map(str::trim).filter(|s| !s.is_empty()) {
            Some(l) => l.to_string(),
            None => {
                let resp = arm::call("GET", &arm::resource_group_path(&ctx.subscription_id, rg), "2024-11-01").send()?;
                if !resp.is_success() {
                    return Err(arm::error(&resp));
                }
                let group: Value = resp.json()?;
                group["location"].as_str().map(String::from).unwrap_or_else(|| ctx.default_location.clone())
            }
        };
        let dns_prefix = inputs
            .opt("dns-prefix")
            .filter(|s| !s.is_empty())
            .map(String::from)
            .unwrap_or_else(|| arm::default_dns_prefix(name, rg, &ctx.subscription_id));

        let aad_profile = match aad.as_str() {
            "managed" => {
                let mut p = json!({ "managed": true, "enableAzureRBAC": enable_azure_rbac.unwrap_or(false) });
                if let Some(g) = &admin_groups {
                    p["adminGroupObjectIDs"] = json!(g);
                }
                if let Some(t) = tenant {
                    p["tenantID"] = json!(t);
                }
                Some(p)
            }
            "legacy" => Some(json!({
                "clientAppID": inputs.opt("client-app-id").unwrap_or(""),
                "serverAppID": inputs.opt("server-app-id").unwrap_or(""),
                "serverAppSecret": inputs.opt("server-app-secret").unwrap_or(""),
                "tenantID": tenant.unwrap_or(&ctx.tenant_id),
            })),
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
        if let Some(t) = tags {
            body["tags"] = Value::Object(t);
        }

        log::info(&format!(
            "creating AKS cluster {name} in {rg} ({location}): Kubernetes {}, {node_count} x {vm_size}, AAD {aad}{}, RBAC {}{}",
            if version.is_empty() { "default" } else { version },
            if enable_azure_rbac == Some(true) { " + Azure RBAC" } else { "" },
            if enable_rbac { "on" } else { "off" },
            if disable_local { ", local accounts disabled" } else { "" },
        ));
        let cluster = arm::put_cluster(&ctx.subscription_id, rg, name, &body, &format!("creating cluster {name}"))?;
        let summary = ClusterSummary::from_json(&cluster);
        log::info(&format!("cluster {} is {} (Kubernetes {}) at {}", summary.name, summary.provisioning_state, summary.kubernetes_version, summary.fqdn));
        Ok(summary.outputs().into())
    }
}

export!(AksCreate with_types_in aksflow_sdk::bindings);

