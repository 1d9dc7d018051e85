//! The AKS resource provider's wire: managedClusters PUT/GET/PATCH/DELETE/list, the
//! credential actions, operation status, versions; and role assignments. [protocols.md §C.3, §C.4]

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::aks::{self, AadSpec, AgentPool, ClusterSpec, ManagedCluster};
use super::error::ArmError;
use super::kubeconfig::{self, Format};
use super::model::{ArmCaller, OperationKind};
use super::rbac::{self, RoleAssignment};
use crate::router::Sim;
use crate::clock::rfc3339_ms;
use crate::login::caller::Caller;
use crate::state::Shared;

const PROVIDER: &str = "/subscriptions/{sid}/resourcegroups/{rg}/providers/microsoft.containerservice/managedclusters";
const RETRY_AFTER: u64 = 15;

type Q = Query<HashMap<String, String>>;

pub(crate) fn routes() -> Router {
    Router::new()
        .route(PROVIDER, get(list_in_group))
        .route("/subscriptions/{sid}/providers/microsoft.containerservice/managedclusters", get(list_in_subscription))
        .route(&format!("{PROVIDER}/{{name}}"), get(get_cluster).put(put_cluster).patch(patch_cluster).delete(delete_cluster))
        .route(&format!("{PROVIDER}/{{name}}/listclusteradmincredential"), post(admin_credential))
        .route(&format!("{PROVIDER}/{{name}}/listclusterusercredential"), post(user_credential))
        .route(&format!("{PROVIDER}/{{name}}/rotateclustercertificates"), post(rotate_certificates))
        .route("/subscriptions/{sid}/providers/microsoft.containerservice/locations/{loc}/operations/{op}", get(operation_status))
        .route("/subscriptions/{sid}/providers/microsoft.containerservice/locations/{loc}/kubernetesversions", get(versions))
        .route("/subscriptions/{sid}/providers/microsoft.authorization/roleassignments", get(list_assignments))
        .route("/subscriptions/{sid}/providers/microsoft.authorization/roleassignments/{ra}", put(put_sub_assignment).get(get_sub_assignment).delete(delete_sub_assignment))
        .route("/subscriptions/{sid}/resourcegroups/{rg}/providers/microsoft.authorization/roleassignments", get(list_rg_assignments))
        .route(
            "/subscriptions/{sid}/resourcegroups/{rg}/providers/microsoft.authorization/roleassignments/{ra}",
            put(put_rg_assignment).get(get_rg_assignment).delete(delete_rg_assignment),
        )
        .route(&format!("{PROVIDER}/{{name}}/providers/microsoft.authorization/roleassignments"), get(list_cluster_assignments))
        .route(
            &format!("{PROVIDER}/{{name}}/providers/microsoft.authorization/roleassignments/{{ra}}"),
            put(put_cluster_assignment).get(get_cluster_assignment).delete(delete_cluster_assignment),
        )
        .route("/subscriptions/{sid}/providers/microsoft.authorization/roledefinitions", get(list_role_definitions))
        .route("/subscriptions/{sid}/resourcegroups/{rg}/providers/microsoft.authorization/roledefinitions", get(list_rg_role_definitions))
        .route(&format!("{PROVIDER}/{{name}}/providers/microsoft.authorization/roledefinitions"), get(list_cluster_role_definitions))
}

fn cluster_scope(sid: &str, rg: &str, name: &str) -> String {
    format!("/subscriptions/{sid}/resourceGroups/{rg}/providers/Microsoft.ContainerService/managedClusters/{name}")
}

const ACTION: &str = "Microsoft.ContainerService/managedClusters";

/// The name AKS gives the cluster's outbound IP (a GUID), derived from the cluster's id so
/// it takes nothing from the seeded id stream.
fn outbound_ip_name(c: &ManagedCluster) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(c.id().to_ascii_lowercase().as_bytes());
    uuid::Builder::from_random_bytes(h[..16].try_into().expect("16 bytes")).into_uuid().to_string()
}

fn cluster_json(c: &ManagedCluster, tenant: &str) -> Value {
    let aad = c.aad.as_ref().map(|a| {
        if a.managed {
            json!({ "managed": true, "enableAzureRBAC": a.enable_azure_rbac, "adminGroupObjectIDs": a.admin_group_object_ids, "adminUsers": null, "tenantID": a.tenant_id })
        } else {
            // AKS never returns the server app's secret, not even as null (as recorded).
            json!({ "adminGroupObjectIDs": null, "adminUsers": null, "clientAppID": a.client_app_id, "serverAppID": a.server_app_id, "tenantID": a.tenant_id })
        }
    });
    let pools: Vec<Value> = c
        .agent_pools
        .iter()
        .map(|p| {
            let mut pool = json!({
                "name": p.name, "count": p.count, "vmSize": p.vm_size, "osDiskSizeGB": 128, "osDiskType": "Managed", "kubeletDiskType": "OS",
                "workloadRuntime": "OCIContainer", "maxPods": 110, "type": "VirtualMachineScaleSets", "enableAutoScaling": false,
                "provisioningState": c.provisioning_state, "powerState": { "code": "Running" }, "orchestratorVersion": c.kubernetes_version,
                "currentOrchestratorVersion": c.kubernetes_version, "enableNodePublicIP": false, "mode": p.mode, "enableEncryptionAtHost": false,
                "enableUltraSSD": false, "osType": "Linux", "osSKU": "Ubuntu", "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202510.01.0", "enableFIPS": false,
                // AKS's default surge for a new pool.
                "upgradeSettings": { "maxSurge": "10%" },
            });
            if let Some(t) = &p.tags {
                pool["tags"] = Value::Object(t.clone());
            }
            if let Some(l) = &p.node_labels {
                pool["nodeLabels"] = Value::Object(l.clone());
            }
            pool
        })
        .collect();
    let mut props = json!({
        "provisioningState": c.provisioning_state,
        "powerState": { "code": "Running" },
        "kubernetesVersion": c.kubernetes_version,
        "currentKubernetesVersion": c.kubernetes_version,
        "dnsPrefix": c.dns_prefix,
        "fqdn": c.fqdn,
        "azurePortalFQDN": c.fqdn.replacen(".hcp.", ".portal.hcp.", 1),
        "agentPoolProfiles": pools,
        "servicePrincipalProfile": { "clientId": c.service_principal.as_deref().unwrap_or("msi") },
        "nodeResourceGroup": c.node_resource_group(),
        "enableRBAC": c.enable_rbac,
        "supportPlan": "KubernetesOfficial",
        "maxAgentPools": 100,
        "disableLocalAccounts": c.disable_local_accounts,
        "identityProfile": { "kubeletidentity": {
            "resourceId": format!("/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}-agentpool", c.subscription_id, c.node_resource_group(), c.name),
            "clientId": c.kubelet_identity_id, "objectId": c.kubelet_identity_id } },
        "networkProfile": {
            "networkPlugin": "kubenet", "podCidr": "10.244.0.0/16", "serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "outboundType": "loadBalancer", "loadBalancerSku": "standard",
            "podCidrs": ["10.244.0.0/16"], "serviceCidrs": ["10.0.0.0/16"], "ipFamilies": ["IPv4"],
            // A standard load balancer with one managed outbound IP, in the node resource group.
            "loadBalancerProfile": {
                "managedOutboundIPs": { "count": 1 },
                "effectiveOutboundIPs": [{ "id": format!("/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Network/publicIPAddresses/{}", c.subscription_id, c.node_resource_group(), outbound_ip_name(c)) }],
                "backendPoolType": "nodeIPConfiguration",
            },
        },
        "oidcIssuerProfile": { "enabled": false },
        // What AKS fills in when the request says nothing (as recorded responses show).
        "securityProfile": {},
        "storageProfile": { "diskCSIDriver": { "enabled": true }, "fileCSIDriver": { "enabled": true }, "snapshotController": { "enabled": true } },
        "workloadAutoScalerProfile": {},
    });
    for (k, v) in &c.extra {
        match (k.as_str(), v) {
            ("networkProfile", Value::Object(sent)) => props[k] = network_profile(&props[k], sent),
            // A profile AKS fills in keeps its defaults under what the request sent
            // (`storageProfile: {}` still reads back with the CSI drivers, as recorded).
            (_, Value::Object(sent)) if props[k].is_object() => {
                let mut merged = props[k].as_object().cloned().unwrap_or_default();
                merged.extend(sent.clone());
                props[k] = Value::Object(merged);
            }
            _ => props[k] = v.clone(),
        }
    }
    // While AKS creates a cluster it has no kubelet identity and no outbound IP to report yet
    // (the create response recorded by azure-cli has neither; the reads after it have both).
    // Once provisioned, AKS reports the load balancer SKU in its own spelling (`standard` sent,
    // `Standard` read back, as recorded).
    if c.provisioning_state != "Creating" {
        if let Some(sku) = props["networkProfile"]["loadBalancerSku"].as_str().and_then(capitalised_sku) {
            props["networkProfile"]["loadBalancerSku"] = json!(sku);
        }
    }
    if c.provisioning_state == "Creating" {
        if let Some(p) = props.as_object_mut() {
            p.remove("identityProfile");
        }
        if let Some(lb) = props["networkProfile"]["loadBalancerProfile"].as_object_mut() {
            lb.remove("effectiveOutboundIPs");
        }
    }
    if let Some(a) = aad {
        props["aadProfile"] = a;
    }
    let mut v = json!({
        "id": c.id(),
        "location": c.location,
        "name": c.name,
        "type": "Microsoft.ContainerService/ManagedClusters",
        "properties": props,
        "identity": { "type": "SystemAssigned", "principalId": c.identity_principal_id, "tenantId": tenant },
        "sku": { "name": "Base", "tier": "Free" },
    });
    if !c.tags.is_empty() {
        v["tags"] = json!(c.tags);
    }
    v
}

fn capitalised_sku(sku: &str) -> Option<&'static str> {
    match sku.to_ascii_lowercase().as_str() {
        "standard" => Some("Standard"),
        "basic" => Some("Basic"),
        _ => None,
    }
}

/// The network profile AKS reports: what the request sent, over the defaults it fills in,
/// with the plural forms (`podCidrs`, `serviceCidrs`) following the singular ones sent.
/// A managed outbound IPv6 count of 0 is not reported: `az aks update` sends back
/// `managedOutboundIPs: {count: 1, countIPv6: 0}` and AKS answers `{count: 1}` (as recorded
/// in azure-cli's test_aks_create_aadv1_and_update_with_managed_aad).
fn network_profile(defaults: &Value, sent: &Map<String, Value>) -> Value {
    let mut out = defaults.as_object().cloned().unwrap_or_default();
    for (k, v) in sent {
        out.insert(k.clone(), v.clone());
    }
    for (one, many) in [("podCidr", "podCidrs"), ("serviceCidr", "serviceCidrs")] {
        if !sent.contains_key(many) {
            if let Some(v) = sent.get(one).filter(|v| v.is_string()) {
                out.insert(many.into(), json!([v]));
            }
        }
    }
    if let Some(ips) = out.get_mut("loadBalancerProfile").and_then(|lb| lb.get_mut("managedOutboundIPs")).and_then(Value::as_object_mut) {
        if ips.get("countIPv6").and_then(Value::as_u64) == Some(0) {
            ips.remove("countIPv6");
        }
    }
    Value::Object(out)
}

fn invalid(detail: impl std::fmt::Display) -> ArmError {
    ArmError::InvalidRequestContent { detail: detail.to_string() }
}

/// Reads a managedCluster PUT body.
fn spec(body: &[u8]) -> Result<ClusterSpec, ArmError> {
    let v: Value = serde_json::from_slice(body).map_err(invalid)?;
    let obj = v.as_object().ok_or_else(|| invalid("the body must be a JSON object"))?;
    let props = obj.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let text = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(String::from);
    let aad = match props.get("aadProfile") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some(AadSpec {
            managed: a.get("managed").and_then(Value::as_bool),
            enable_azure_rbac: a.get("enableAzureRBAC").and_then(Value::as_bool),
            admin_group_object_ids: a.get("adminGroupObjectIDs").and_then(Value::as_array).map(|x| x.iter().filter_map(|g| g.as_str().map(String::from)).collect()),
            client_app_id: text(a, "clientAppID"),
            server_app_id: text(a, "serverAppID"),
            server_app_secret: text(a, "serverAppSecret"),
            tenant_id: text(a, "tenantID"),
        }),
        Some(_) => return Err(invalid("properties.aadProfile must be an object")),
    };
    let pools = props
        .get("agentPoolProfiles")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| AgentPool {
                    name: text(p.as_object().unwrap_or(&Map::new()), "name").unwrap_or_else(|| "nodepool1".into()),
                    count: p.get("count").and_then(Value::as_u64).unwrap_or(1) as u32,
                    vm_size: p.get("vmSize").and_then(Value::as_str).unwrap_or("Standard_DS2_v2").into(),
                    mode: p.get("mode").and_then(Value::as_str).unwrap_or("System").into(),
                    tags: p.get("tags").and_then(Value::as_object).cloned(),
                    node_labels: p.get("nodeLabels").and_then(Value::as_object).cloned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut extra = Map::new();
    for k in ["linuxProfile", "addonProfiles", "networkProfile", "autoUpgradeProfile", "securityProfile", "storageProfile", "oidcIssuerProfile", "enablePodSecurityPolicy"] {
        let Some(v) = props.get(k) else { continue };
        // Each is an object but `enablePodSecurityPolicy`, a boolean; anything else is refused
        // here, as ARM's schema validation does, before the cluster is stored.
        let (well_typed, expected) = if k == "enablePodSecurityPolicy" { (v.is_boolean(), "a boolean") } else { (v.is_object(), "an object") };
        if !(well_typed || v.is_null()) {
            return Err(ArmError::BadRequest {
                code: "InvalidRequestContent",
                message: format!("The request content was invalid and could not be deserialized: 'properties.{k}' must be {expected}."),
            });
        }
        // AKS does not echo an empty `addonProfiles` (`{}`), as az sends it on create.
        if !(k == "addonProfiles" && v.as_object().is_some_and(Map::is_empty)) {
            extra.insert(k.into(), v.clone());
        }
    }
    Ok(ClusterSpec {
        location: text(obj, "location"),
        tags: obj.get("tags").and_then(Value::as_object).cloned(),
        kubernetes_version: text(&props, "kubernetesVersion"),
        dns_prefix: text(&props, "dnsPrefix"),
        enable_rbac: props.get("enableRBAC").and_then(Value::as_bool),
        aad,
        disable_local_accounts: props.get("disableLocalAccounts").and_then(Value::as_bool),
        service_principal: props
            .get("servicePrincipalProfile")
            .and_then(|p| p.get("clientId"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("msi"))
            .map(String::from),
        agent_pools: pools,
        extra,
    })
}

fn async_headers(resp: &mut Response, s: &Shared, sid: &str, location: &str, op: &str) {
    let url = format!("{}/subscriptions/{sid}/providers/Microsoft.ContainerService/locations/{location}/operations/{op}?api-version=2016-03-30", s.config.base_url);
    if let Ok(v) = HeaderValue::from_str(&url) {
        resp.headers_mut().insert("azure-asyncoperation", v);
    }
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after(s)));
}

/// 202 for an operation that has no body to return: `Location` (its result) and the
/// operation's status URL.
fn accepted(s: &Shared, sid: &str, location: &str, op: &str) -> Response {
    let mut resp = StatusCode::ACCEPTED.into_response();
    let result = format!("{}/subscriptions/{sid}/providers/Microsoft.ContainerService/locations/{location}/operationresults/{op}?api-version=2016-03-30", s.config.base_url);
    if let Ok(v) = HeaderValue::from_str(&result) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    async_headers(&mut resp, s, sid, location, op);
    resp
}

fn retry_after(s: &Shared) -> u64 {
    if s.config.is_served() { 1 } else { RETRY_AFTER }
}

/// How long an operation takes, in seconds of the simulator's clock: its virtual duration
/// (or the fault profile's, `[faults.operations]`). Served to real clients on the wall clock,
/// it is scaled down to a few seconds, still long enough for a poller to see it in progress
/// and to be told to come back.
fn duration(s: &Shared, kind: Op) -> i64 {
    let ops = s.config.faults.as_ref().map(|f| &f.operations);
    let (given, default) = match kind {
        Op::Create => (ops.and_then(|o| o.create.clone()), aks::CREATE_SECONDS),
        Op::Update => (ops.and_then(|o| o.update.clone()), aks::UPDATE_SECONDS),
        Op::Delete => (ops.and_then(|o| o.delete.clone()), aks::DELETE_SECONDS),
    };
    let seconds = match given {
        Some(_) => crate::faults::profile::millis(&given) / 1000,
        None => default,
    };
    if s.config.is_served() { (seconds / SERVED_TIME_SCALE).max(1) } else { seconds }
}

/// A served operation takes 1/150 of its virtual time (a 5-minute create: 2 s).
const SERVED_TIME_SCALE: i64 = 150;

#[derive(Clone, Copy)]
enum Op {
    Create,
    Update,
    Delete,
}

async fn put_cluster(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>, body: Bytes) -> Result<Response, ArmError> {
    let spec = spec(&body)?;
    let now = s.clock.now_ms();
    let mut w = s.world();
    let w = &mut *w;
    let sub_tenant = w.arm.subscription(&sid)?.tenant_id.clone();
    w.arm.resource_group(&sid, &rg)?;
    w.arm.authorize(&caller, &format!("{ACTION}/write"), &cluster_scope(&sid, &rg, &name))?;
    let existing = w.arm.cluster(&sid, &rg, &name).ok().cloned();
    if let (None, Some(client_id)) = (&existing, &spec.service_principal) {
        aks::check_service_principal(&w.directory, &sub_tenant, client_id, s.config.replication_lag().principal_ms, now)?;
    }
    let (cluster, status, seconds) = match &existing {
        None => (aks::create(&mut w.ids, &sid, &rg, &name, spec, &sub_tenant, now, s.config.era)?, StatusCode::CREATED, duration(&s, Op::Create)),
        Some(c) => (aks::update(c, spec, &sub_tenant, s.config.era)?, StatusCode::OK, duration(&s, Op::Update)),
    };
    let id = cluster.id();
    w.arm.clusters.retain(|c| !c.id().eq_ignore_ascii_case(&id));
    w.arm.clusters.push(cluster.clone());
    let op = w.arm.start_operation(&mut w.ids, &sid, OperationKind::ClusterProvision { cluster_id: id }, now, seconds);
    let mut resp = (status, Json(cluster_json(&cluster, &sub_tenant))).into_response();
    async_headers(&mut resp, &s, &sid, &cluster.location, &op.id);
    Ok(resp)
}

async fn get_cluster(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let tenant = w.arm.subscription(&sid)?.tenant_id.clone();
    w.arm.resource_group(&sid, &rg)?;
    w.arm.authorize(&caller, &format!("{ACTION}/read"), &cluster_scope(&sid, &rg, &name))?;
    Ok(Json(cluster_json(w.arm.cluster(&sid, &rg, &name)?, &tenant)).into_response())
}

/// PATCH updates tags only.
async fn patch_cluster(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>, body: Bytes) -> Result<Response, ArmError> {
    let v: Value = serde_json::from_slice(&body).map_err(invalid)?;
    let tags = v.get("tags").and_then(Value::as_object).cloned().ok_or_else(|| invalid("only `tags` can be patched on a managed cluster"))?;
    let mut w = s.world();
    let tenant = w.arm.subscription(&sid)?.tenant_id.clone();
    w.arm.authorize(&caller, &format!("{ACTION}/write"), &cluster_scope(&sid, &rg, &name))?;
    let c = w.arm.cluster_mut(&sid, &rg, &name)?;
    c.tags = tags;
    Ok(Json(cluster_json(c, &tenant)).into_response())
}

async fn delete_cluster(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let now = s.clock.now_ms();
    let mut w = s.world();
    let w = &mut *w;
    w.arm.subscription(&sid)?;
    w.arm.authorize(&caller, &format!("{ACTION}/delete"), &cluster_scope(&sid, &rg, &name))?;
    let Ok(stored) = w.arm.cluster_mut(&sid, &rg, &name) else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    stored.provisioning_state = "Deleting".into();
    let c = stored.clone();
    let op = w.arm.start_operation(&mut w.ids, &sid, OperationKind::ClusterDelete { cluster_id: c.id() }, now, duration(&s, Op::Delete));
    Ok(accepted(&s, &sid, &c.location, &op.id))
}

async fn list_in_group(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let tenant = w.arm.subscription(&sid)?.tenant_id.clone();
    w.arm.resource_group(&sid, &rg)?;
    let value: Vec<Value> = w
        .arm
        .clusters
        .iter()
        .filter(|c| c.subscription_id.eq_ignore_ascii_case(&sid) && c.resource_group.eq_ignore_ascii_case(&rg))
        .filter(|c| w.arm.authorize(&caller, &format!("{ACTION}/read"), &cluster_scope(&sid, &rg, &c.name)).is_ok())
        .map(|c| cluster_json(c, &tenant))
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}

async fn list_in_subscription(Sim(s): Sim, Path(sid): Path<String>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let tenant = w.arm.subscription(&sid)?.tenant_id.clone();
    let value: Vec<Value> = w
        .arm
        .clusters
        .iter()
        .filter(|c| c.subscription_id.eq_ignore_ascii_case(&sid))
        .filter(|c| w.arm.authorize(&caller, &format!("{ACTION}/read"), &cluster_scope(&sid, &c.resource_group, &c.name)).is_ok())
        .map(|c| cluster_json(c, &tenant))
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}

fn kubeconfigs(name: &str, yaml: &str) -> Response {
    Json(json!({ "kubeconfigs": [{ "name": name, "value": base64::engine::general_purpose::STANDARD.encode(yaml) }] })).into_response()
}

async fn admin_credential(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, headers: axum::http::HeaderMap, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.resource_group(&sid, &rg)?;
    w.arm.authorize(&caller, &format!("{ACTION}/listClusterAdminCredential/action"), &cluster_scope(&sid, &rg, &name))?;
    let c = w.arm.cluster(&sid, &rg, &name)?;
    if c.disable_local_accounts {
        return Err(ArmError::BadRequest { code: "BadRequest", message: "Getting static credential is not allowed because this cluster is set to disable local accounts.".into() });
    }
    let pki = s.cluster_pki(c);
    let cert = pki.client("admin", "masterclient", "system:masters");
    let cas = kubeconfig::Authorities { cluster: &pki.ca.cert_pem, simulator: &s.pki.ca.cert_pem };
    Ok(kubeconfigs("clusterAdmin", &kubeconfig::admin(c, &crate::origin::of(&headers, &s.config.base_url), &cas, &cert)))
}

async fn user_credential(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Query(q): Q, headers: axum::http::HeaderMap, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let format = match q.get("format").map(|f| f.to_ascii_lowercase()) {
        None => None,
        Some(f) if f == "exec" => Some(Format::Exec),
        Some(f) if f == "azure" => Some(Format::Azure),
        Some(other) => {
            return Err(ArmError::BadRequest { code: "InvalidParameter", message: format!("The value '{other}' of parameter 'format' is invalid: it must be 'azure' or 'exec'.") });
        }
    };
    let w = s.world();
    w.arm.subscription(&sid)?;
    w.arm.resource_group(&sid, &rg)?;
    w.arm.authorize(&caller, &format!("{ACTION}/listClusterUserCredential/action"), &cluster_scope(&sid, &rg, &name))?;
    let c = w.arm.cluster(&sid, &rg, &name)?;
    if c.aad.is_none() && c.disable_local_accounts {
        return Err(ArmError::BadRequest { code: "BadRequest", message: "Getting static credential is not allowed because this cluster is set to disable local accounts.".into() });
    }
    let pki = s.cluster_pki(c);
    let cert = pki.client("user", "masterclient", "system:masters");
    let cas = kubeconfig::Authorities { cluster: &pki.ca.cert_pem, simulator: &s.pki.ca.cert_pem };
    Ok(kubeconfigs("clusterUser", &kubeconfig::user(c, &crate::origin::of(&headers, &s.config.base_url), &cas, &cert, format, &s.config.exec_command)))
}

/// `rotateClusterCertificates`: the cluster gets a new CA, so every client certificate and
/// kubeconfig issued before is refused, and a new static token. This is how an
/// administrator revokes local-account certificates after disabling local accounts.
async fn rotate_certificates(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let now = s.clock.now_ms();
    let mut w = s.world();
    let w = &mut *w;
    w.arm.subscription(&sid)?;
    w.arm.resource_group(&sid, &rg)?;
    w.arm.authorize(&caller, &format!("{ACTION}/rotateClusterCertificates/action"), &cluster_scope(&sid, &rg, &name))?;
    let stored = w.arm.cluster_mut(&sid, &rg, &name)?;
    aks::rotate_certificates(stored, &mut w.ids)?;
    let c = stored.clone();
    let op = w.arm.start_operation(&mut w.ids, &sid, OperationKind::ClusterProvision { cluster_id: c.id() }, now, duration(&s, Op::Update));
    Ok(accepted(&s, &sid, &c.location, &op.id))
}

async fn operation_status(Sim(s): Sim, Path((sid, _loc, op)): Path<(String, String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let o = w.arm.operation(&sid, &op).ok_or_else(|| ArmError::NotFound { path: format!("operations/{op}") })?;
    let ms = rfc3339_ms;
    let started = o.started_ms.unwrap_or_else(|| {
        o.completes_at_ms
            - match o.kind {
                OperationKind::ClusterDelete { .. } => aks::DELETE_SECONDS,
                _ => aks::CREATE_SECONDS,
            } * 1000
    });
    let mut body = json!({ "name": o.id, "status": if o.done { "Succeeded" } else { "InProgress" }, "startTime": ms(started) });
    if o.done {
        body["endTime"] = json!(ms(o.completes_at_ms));
    }
    let mut resp = Json(body).into_response();
    if !o.done {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after(&s)));
    }
    Ok(resp)
}

async fn versions(Sim(s): Sim, Path((sid, _loc)): Path<(String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    s.world().arm.subscription(&sid)?;
    let values: Vec<Value> = aks::versions(s.config.era)
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let minor = v.rsplitn(2, '.').nth(1).unwrap_or(v);
            json!({ "version": minor, "isDefault": i == 0, "capabilities": { "supportPlan": ["KubernetesOfficial"] }, "patchVersions": { *v: { "upgrades": [] } } })
        })
        .collect();
    Ok(Json(json!({ "values": values })).into_response())
}

// ---------- role assignments ----------

fn assignment_json(a: &RoleAssignment, sid: &str) -> Value {
    json!({
        "id": format!("{}/providers/Microsoft.Authorization/roleAssignments/{}", a.scope, a.name),
        "name": a.name,
        "type": "Microsoft.Authorization/roleAssignments",
        "properties": {
            "roleDefinitionId": format!("/subscriptions/{sid}/providers/Microsoft.Authorization/roleDefinitions/{}", a.role),
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "scope": a.scope,
            "condition": a.condition,
            "conditionVersion": a.condition_version,
            "description": a.description,
            "createdOn": rfc3339_ms(a.created_ms),
            "updatedOn": rfc3339_ms(a.created_ms),
            "createdBy": (!a.created_by.is_empty()).then_some(&a.created_by),
            "updatedBy": (!a.created_by.is_empty()).then_some(&a.created_by),
            "delegatedManagedIdentityResourceId": null,
        }
    })
}

fn put_assignment(s: &Shared, caller: &ArmCaller, sid: &str, scope: String, name: &str, body: &[u8]) -> Result<Response, ArmError> {
    let v: Value = serde_json::from_slice(body).map_err(invalid)?;
    let p = v.get("properties").ok_or_else(|| invalid("properties is required"))?;
    let role_id = p.get("roleDefinitionId").and_then(Value::as_str).ok_or_else(|| invalid("properties.roleDefinitionId is required"))?;
    let principal = p.get("principalId").and_then(Value::as_str).ok_or_else(|| invalid("properties.principalId is required"))?;
    let given_type = p.get("principalType").and_then(Value::as_str);
    let role_guid = role_id.rsplit('/').next().unwrap_or_default();
    let role = rbac::role(role_guid).ok_or_else(|| ArmError::RoleDefinitionNotFound { id: role_guid.into() })?;
    let mut w = s.world();
    w.arm.subscription(sid)?;
    w.arm.authorize(caller, "Microsoft.Authorization/roleAssignments/write", &scope)?;
    let tenant = w.arm.subscription(sid)?.tenant_id.clone();
    let ptype = rbac::assignment_principal_type(&w.directory, &tenant, principal, given_type, s.config.replication_lag().principal_ms, s.clock.now_ms())?;
    let exists = w.arm.role_assignments.iter().any(|a| a.principal_id.eq_ignore_ascii_case(principal) && a.role == role.name && a.scope.eq_ignore_ascii_case(&scope));
    if exists {
        return Err(ArmError::RoleAssignmentExists);
    }
    let text = |k: &str| p.get(k).and_then(Value::as_str).map(String::from);
    let a = RoleAssignment {
        name: name.into(),
        principal_id: principal.into(),
        principal_type: ptype,
        role: role.name.into(),
        scope,
        description: text("description"),
        condition: text("condition"),
        condition_version: text("conditionVersion"),
        created_ms: s.clock.now_ms(),
        created_by: caller.object_id.clone(),
    };
    w.arm.role_assignments.push(a.clone());
    Ok((StatusCode::CREATED, Json(assignment_json(&a, sid))).into_response())
}

async fn put_sub_assignment(Sim(s): Sim, Path((sid, ra)): Path<(String, String)>, Caller(caller): Caller<ArmCaller>, body: Bytes) -> Result<Response, ArmError> {
    put_assignment(&s, &caller, &sid, format!("/subscriptions/{sid}"), &ra, &body)
}

/// The group is looked for before the token is checked.
async fn put_rg_assignment(
    Sim(s): Sim,
    Path((sid, rg, ra)): Path<(String, String, String)>,
    caller: Result<Caller<ArmCaller>, ArmError>,
    body: Bytes,
) -> Result<Response, ArmError> {
    s.world().arm.resource_group(&sid, &rg)?;
    let Caller(caller) = caller?;
    put_assignment(&s, &caller, &sid, format!("/subscriptions/{sid}/resourceGroups/{rg}"), &ra, &body)
}

/// The cluster is looked for before the token is checked.
async fn put_cluster_assignment(
    Sim(s): Sim,
    Path((sid, rg, name, ra)): Path<(String, String, String, String)>,
    caller: Result<Caller<ArmCaller>, ArmError>,
    body: Bytes,
) -> Result<Response, ArmError> {
    s.world().arm.cluster(&sid, &rg, &name)?;
    let Caller(caller) = caller?;
    put_assignment(&s, &caller, &sid, cluster_scope(&sid, &rg, &name), &ra, &body)
}

async fn get_sub_assignment(Sim(s): Sim, Path((sid, ra)): Path<(String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    let w = s.world();
    let a = w.arm.role_assignments.iter().find(|a| a.name.eq_ignore_ascii_case(&ra)).ok_or_else(|| ArmError::NotFound { path: format!("roleAssignments/{ra}") })?;
    Ok(Json(assignment_json(a, &sid)).into_response())
}

async fn delete_sub_assignment(Sim(s): Sim, Path((sid, ra)): Path<(String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    let mut w = s.world();
    let Some(a) = w.arm.role_assignments.iter().find(|a| a.name.eq_ignore_ascii_case(&ra)).cloned() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    w.arm.authorize(&caller, "Microsoft.Authorization/roleAssignments/delete", &a.scope)?;
    w.arm.role_assignments.retain(|x| x.name != a.name);
    Ok(Json(assignment_json(&a, &sid)).into_response())
}

/// The list at `scope`, as `{scope}/providers/Microsoft.Authorization/roleAssignments` answers it.
fn list_at(s: &Shared, sid: &str, scope: &str, q: &std::collections::HashMap<String, String>) -> Result<Response, ArmError> {
    let filter = rbac::ListFilter::parse(q.get("$filter").map(String::as_str)).map_err(|message| ArmError::BadRequest { code: "UnsupportedQuery", message })?;
    let w = s.world();
    w.arm.subscription(sid)?;
    let value: Vec<Value> = rbac::listed(&w.arm.role_assignments, scope, &filter).into_iter().map(|a| assignment_json(a, sid)).collect();
    Ok(Json(json!({ "value": value })).into_response())
}

/// One assignment at exactly `scope`.
fn get_at(s: &Shared, sid: &str, scope: &str, ra: &str) -> Result<Response, ArmError> {
    let w = s.world();
    let a = w.arm.role_assignments.iter().find(|a| a.name.eq_ignore_ascii_case(ra) && a.scope.eq_ignore_ascii_case(scope)).ok_or_else(|| ArmError::RoleAssignmentNotFound { name: ra.into() })?;
    Ok(Json(assignment_json(a, sid)).into_response())
}

/// Deletes one assignment at exactly `scope`: 200 with what was deleted, 204 when there was none.
fn delete_at(s: &Shared, caller: &ArmCaller, sid: &str, scope: &str, ra: &str) -> Result<Response, ArmError> {
    let mut w = s.world();
    let Some(a) = w.arm.role_assignments.iter().find(|a| a.name.eq_ignore_ascii_case(ra) && a.scope.eq_ignore_ascii_case(scope)).cloned() else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    w.arm.authorize(caller, "Microsoft.Authorization/roleAssignments/delete", &a.scope)?;
    w.arm.role_assignments.retain(|x| x.name != a.name);
    Ok(Json(assignment_json(&a, sid)).into_response())
}

async fn list_assignments(Sim(s): Sim, Path(sid): Path<String>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    list_at(&s, &sid, &format!("/subscriptions/{sid}"), &q)
}

async fn list_rg_assignments(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    s.world().arm.resource_group(&sid, &rg)?;
    list_at(&s, &sid, &format!("/subscriptions/{sid}/resourceGroups/{rg}"), &q)
}

async fn get_rg_assignment(Sim(s): Sim, Path((sid, rg, ra)): Path<(String, String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    get_at(&s, &sid, &format!("/subscriptions/{sid}/resourceGroups/{rg}"), &ra)
}

async fn delete_rg_assignment(Sim(s): Sim, Path((sid, rg, ra)): Path<(String, String, String)>, Caller(caller): Caller<ArmCaller>) -> Result<Response, ArmError> {
    delete_at(&s, &caller, &sid, &format!("/subscriptions/{sid}/resourceGroups/{rg}"), &ra)
}

async fn list_cluster_assignments(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    s.world().arm.cluster(&sid, &rg, &name)?;
    list_at(&s, &sid, &cluster_scope(&sid, &rg, &name), &q)
}

async fn get_cluster_assignment(Sim(s): Sim, Path((sid, rg, name, ra)): Path<(String, String, String, String)>, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    get_at(&s, &sid, &cluster_scope(&sid, &rg, &name), &ra)
}

async fn delete_cluster_assignment(
    Sim(s): Sim,
    Path((sid, rg, name, ra)): Path<(String, String, String, String)>,
    Caller(caller): Caller<ArmCaller>,
) -> Result<Response, ArmError> {
    delete_at(&s, &caller, &sid, &cluster_scope(&sid, &rg, &name), &ra)
}

async fn list_role_definitions(Path(sid): Path<String>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    role_definitions(&sid, &q)
}

/// Role definitions read at a resource group (`az role assignment create -g` looks the role
/// up there): the built-in roles, whose ids still name the subscription, as recorded.
async fn list_rg_role_definitions(Sim(s): Sim, Path((sid, rg)): Path<(String, String)>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    s.world().arm.resource_group(&sid, &rg)?;
    role_definitions(&sid, &q)
}

/// Role definitions read at a cluster (`az role assignment create --scope <cluster id>`).
async fn list_cluster_role_definitions(Sim(s): Sim, Path((sid, rg, name)): Path<(String, String, String)>, Query(q): Q, _: Caller<ArmCaller>) -> Result<Response, ArmError> {
    s.world().arm.cluster(&sid, &rg, &name)?;
    role_definitions(&sid, &q)
}

/// The built-in roles, or the one `$filter=roleName eq '…'` names.
fn role_definitions(sid: &str, q: &HashMap<String, String>) -> Result<Response, ArmError> {
    let wanted = q.get("$filter").and_then(|f| f.split('\'').nth(1)).map(|n| n.to_ascii_lowercase());
    let value: Vec<Value> = rbac::BUILT_IN_ROLES
        .iter()
        .filter(|r| wanted.as_ref().is_none_or(|n| r.role_name.to_ascii_lowercase() == *n))
        .map(|r| {
            json!({
                "id": format!("/subscriptions/{sid}/providers/Microsoft.Authorization/roleDefinitions/{}", r.name),
                "name": r.name,
                "type": "Microsoft.Authorization/roleDefinitions",
                "properties": {
                    "roleName": r.role_name,
                    "type": "BuiltInRole",
                    "description": r.description,
                    "assignableScopes": ["/"],
                    "permissions": [{ "actions": r.actions, "notActions": r.not_actions, "dataActions": [], "notDataActions": [] }],
                    "createdOn": rbac::BUILT_IN_CREATED_ON,
                    "updatedOn": rbac::BUILT_IN_UPDATED_ON,
                    "createdBy": null,
                    "updatedBy": null,
                },
            })
        })
        .collect();
    Ok(Json(json!({ "value": value })).into_response())
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_network_profile_keeps_the_defaults_it_leaves_out_and_its_cidrs_become_lists() {
        let defaults = json!({ "networkPlugin": "kubenet", "podCidrs": ["10.244.0.0/16"], "serviceCidrs": ["10.0.0.0/16"], "ipFamilies": ["IPv4"], "loadBalancerProfile": { "managedOutboundIPs": { "count": 1 } } });
        let sent = json!({ "networkPlugin": "azure", "podCidr": "10.10.0.0/16", "serviceCidr": "10.1.0.0/16" });
        let got = network_profile(&defaults, sent.as_object().unwrap());
        assert_eq!(got["networkPlugin"], "azure");
        assert_eq!(got["podCidrs"], json!(["10.10.0.0/16"]));
        assert_eq!(got["serviceCidrs"], json!(["10.1.0.0/16"]));
        assert_eq!(got["ipFamilies"], json!(["IPv4"]));
        assert_eq!(got["loadBalancerProfile"]["managedOutboundIPs"]["count"], 1);
        // Lists the request sends win over the singular forms.
        let sent = json!({ "podCidr": "10.10.0.0/16", "podCidrs": ["10.20.0.0/16"] });
        assert_eq!(network_profile(&defaults, sent.as_object().unwrap())["podCidrs"], json!(["10.20.0.0/16"]));
    }

    #[test]
    fn a_profile_that_is_not_an_object_is_refused_before_anything_is_stored() {
        for (k, v) in [("networkProfile", json!("x")), ("linuxProfile", json!([])), ("addonProfiles", json!(1)), ("enablePodSecurityPolicy", json!("yes"))] {
            let body = json!({ "location": "eastus", "properties": { "dnsPrefix": "a", k: v } });
            match spec(body.to_string().as_bytes()) {
                Err(ArmError::BadRequest { code, message }) => {
                    assert_eq!(code, "InvalidRequestContent");
                    assert!(message.contains(&format!("properties.{k}")), "{message}");
                }
                _ => panic!("{k} = {v} was taken"),
            }
        }
        let fine = json!({ "location": "eastus", "properties": { "dnsPrefix": "a", "networkProfile": { "networkPlugin": "azure" }, "enablePodSecurityPolicy": false } });
        assert!(spec(fine.to_string().as_bytes()).is_ok());
    }

    #[test]
    fn a_sent_zero_ipv6_outbound_count_is_not_reported_and_a_nonzero_one_is() {
        let defaults = json!({ "loadBalancerProfile": { "managedOutboundIPs": { "count": 1 } } });
        // As az aks update sends it back (recorded): AKS answers without countIPv6.
        let sent = json!({ "loadBalancerProfile": { "managedOutboundIPs": { "count": 1, "countIPv6": 0 }, "effectiveOutboundIPs": [{ "id": "ip" }] } });
        let got = network_profile(&defaults, sent.as_object().unwrap());
        assert_eq!(got["loadBalancerProfile"]["managedOutboundIPs"], json!({ "count": 1 }));
        assert_eq!(got["loadBalancerProfile"]["effectiveOutboundIPs"], json!([{ "id": "ip" }]));
        // A dual-stack cluster's IPv6 outbound IPs are kept as sent.
        let sent = json!({ "loadBalancerProfile": { "managedOutboundIPs": { "count": 1, "countIPv6": 1 } } });
        assert_eq!(network_profile(&defaults, sent.as_object().unwrap())["loadBalancerProfile"]["managedOutboundIPs"], json!({ "count": 1, "countIPv6": 1 }));
    }

    #[test]
    fn load_balancer_skus_are_read_back_in_azures_spelling() {
        assert_eq!(capitalised_sku("standard"), Some("Standard"));
        assert_eq!(capitalised_sku("BASIC"), Some("Basic"));
        assert_eq!(capitalised_sku("other"), None);
    }

    #[test]
    fn an_empty_addon_profiles_is_not_kept_and_a_filled_one_is() {
        let empty = spec(br#"{"location": "westus2", "properties": {"addonProfiles": {}}}"#).unwrap();
        assert!(!empty.extra.contains_key("addonProfiles"));
        let filled = spec(br#"{"location": "westus2", "properties": {"addonProfiles": {"azurepolicy": {"enabled": true}}}}"#).unwrap();
        assert_eq!(filled.extra["addonProfiles"]["azurepolicy"]["enabled"], true);
    }
}
