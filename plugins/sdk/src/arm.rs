//! Azure Resource Manager conventions: `api-version`, the error body, long-running operations.

use crate::{Call, Response, Service, StepError};

/// A call to ARM at `path` with the given `api-version`.
pub fn call(method: &str, path: &str, api_version: &str) -> Call {
    Call::new(Service::Arm, method, path).query("api-version", api_version)
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Sends a call and turns any non-2xx answer into ARM's own error (see [`error`]).
pub fn send(call: Call) -> Result<Response, StepError> {
    let resp = call.send()?;
    if resp.is_success() { Ok(resp) } else { Err(error(&resp)) }
}

/// Turns an ARM error response (`{"error":{"code","message"}}`) into a step error that
/// carries ARM's own code, so a flow can `expect` it.
pub fn error(resp: &Response) -> StepError {
    match serde_json::from_slice::<ErrorBody>(&resp.body) {
        Ok(b) => StepError::new(b.error.code, b.error.message),
        Err(_) => StepError::new(format!("HTTP{}", resp.status), format!("ARM answered {} with: {}", resp.status, resp.text())),
    }
}

/// The subscription-relative path of a resource group.
pub fn resource_group_path(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourcegroups/{name}")
}

/// The subscription-relative path of an AKS managed cluster.
pub fn managed_cluster_path(subscription: &str, resource_group: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.ContainerService/managedClusters/{name}")
}

/// The header an ARM long-running operation names its status URL in.
///
/// # Why waiting is cheap in a simulation
///
/// A PUT of a managed cluster answers at once with `provisioningState: Creating` and this
/// header; the client then polls the URL every `Retry-After` seconds until the operation is
/// `Succeeded`, `Failed` or `Canceled` (real AKS takes minutes). The waits here are plain
/// [`std::thread::sleep`] calls. Inside a step that is a WASI `monotonic-clock` subscription
/// that the host answers from the run's clock: against the simulator the clock is virtual, so
/// a sleep advances it instantly (and the simulated operation, which is driven by the same
/// clock, makes its progress), while against Azure the same call really waits. One code
/// path, real pacing in production, zero wall-clock cost in tests, and deterministic
/// transcripts, because the number of polls depends only on virtual time.
pub const AZURE_ASYNC: &str = "Azure-AsyncOperation";

/// Seconds between polls when the service sends no `Retry-After`.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 10;

/// At most this many status polls for one operation (about 20 minutes at the default pace).
pub const MAX_POLLS: u32 = 120;

/// Longest single wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER_SECS: u64 = 300;

/// An operation-status resource (`GET` on an `Azure-AsyncOperation` URL).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct OperationStatus {
    #[serde(default)]
    pub name: Option<String>,
    pub status: String,
    #[serde(default)]
    pub error: Option<OperationError>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct OperationError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl OperationStatus {
    fn is_terminal(&self) -> bool {
        ["succeeded", "failed", "canceled", "cancelled"].contains(&self.status.to_ascii_lowercase().as_str())
    }
}

/// Splits an absolute ARM URL (`https://management.azure.com/subscriptions/…?api-version=…`)
/// into the path below the origin and its decoded query parameters. A path-only URL is
/// accepted as is.
pub fn split_url(url: &str) -> Result<(String, Vec<(String, String)>), StepError> {
    let url = url.trim();
    let without_fragment = url.split('#').next().unwrap_or("");
    let rest = match without_fragment.find("://") {
        Some(i) => {
            let after = &without_fragment[i + 3..];
            match after.find(['/', '?']) {
                Some(j) => &after[j..],
                None => "/",
            }
        }
        None => without_fragment,
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, q),
        None => (rest, ""),
    };
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') {
        return Err(StepError::new("UnexpectedResponse", format!("ARM named an operation URL that is not a URL: `{url}`")));
    }
    let query = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    Ok((path.to_string(), query))
}

/// `Retry-After` in seconds (ARM sends whole seconds), or the default.
pub fn retry_after(resp: &Response) -> u64 {
    resp.header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(DEFAULT_RETRY_AFTER_SECS)
        .min(MAX_RETRY_AFTER_SECS)
}

fn sleep_secs(secs: u64) {
    std::thread::sleep(std::time::Duration::from_secs(secs));
}

/// A `GET` of an absolute ARM URL (an operation's status or `Location`).
fn get_url(url: &str) -> Result<Call, StepError> {
    let (path, query) = split_url(url)?;
    let mut call = Call::get(Service::Arm, &path);
    for (k, v) in &query {
        call = call.query(k, v);
    }
    Ok(call)
}

/// Waits for the long-running operation `resp` (the answer to a PUT, POST or DELETE) started,
/// if it started one: polls its `Azure-AsyncOperation` URL, or its `Location` URL when it
/// answered 202 without one. Returns the final `Location` response in that second case.
/// `what` names the operation in progress lines, e.g. `creating cluster myaks`.
pub fn wait(resp: &Response, what: &str) -> Result<Option<Response>, StepError> {
    if let Some(url) = resp.header(AZURE_ASYNC) {
        wait_async_operation(url, retry_after(resp), what)?;
        return Ok(None);
    }
    if resp.status == 202
        && let Some(url) = resp.header("location")
    {
        return wait_location(url, retry_after(resp), what).map(Some);
    }
    Ok(None)
}

/// Polls an `Azure-AsyncOperation` URL, sleeping `Retry-After` seconds (default
/// [`DEFAULT_RETRY_AFTER_SECS`]) before each poll, until the operation is `Succeeded`
/// (returned), `Failed` (a step error with the operation's own `error.code` and message) or
/// `Canceled`. Gives up after [`MAX_POLLS`] polls.
pub fn wait_async_operation(url: &str, first_wait_secs: u64, what: &str) -> Result<OperationStatus, StepError> {
    let mut wait = first_wait_secs;
    for poll in 1..=MAX_POLLS {
        sleep_secs(wait);
        let resp = send(get_url(url)?)?;
        let status: OperationStatus = resp.json()?;
        crate::log::info(&format!("{what}: {} (poll {poll})", status.status));
        if status.is_terminal() {
            return match status.status.to_ascii_lowercase().as_str() {
                "succeeded" => Ok(status),
                "failed" => Err(match &status.error {
                    Some(e) if !e.code.is_empty() => StepError::new(e.code.clone(), e.message.clone()),
                    _ => StepError::new("OperationFailed", format!("{what}: the operation failed without saying why")),
                }),
                _ => Err(match &status.error {
                    Some(e) if !e.code.is_empty() => StepError::new(e.code.clone(), e.message.clone()),
                    _ => StepError::new("OperationCanceled", format!("{what}: the operation was canceled")),
                }),
            };
        }
        wait = retry_after(&resp);
    }
    Err(gave_up(what))
}

/// Polls a `Location` URL (the 202 pattern of DELETE and POST actions) until it stops
/// answering 202; returns that final response, or ARM's error when it is one.
pub fn wait_location(url: &str, first_wait_secs: u64, what: &str) -> Result<Response, StepError> {
    let mut wait = first_wait_secs;
    for poll in 1..=MAX_POLLS {
        sleep_secs(wait);
        let resp = get_url(url)?.send()?;
        match resp.status {
            202 => crate::log::info(&format!("{what}: InProgress (poll {poll})")),
            s if (200..300).contains(&s) => {
                crate::log::info(&format!("{what}: Succeeded (poll {poll})"));
                return Ok(resp);
            }
            _ => return Err(error(&resp)),
        }
        wait = retry_after(&resp);
    }
    Err(gave_up(what))
}

fn gave_up(what: &str) -> StepError {
    StepError::new("OperationTimedOut", format!("{what}: still not finished after {MAX_POLLS} status polls"))
        .with_hint("the operation may still finish; check the resource's provisioningState and run the step again")
}

/// az's `_get_default_dns_prefix`: up to 10 characters of the name (starting with a letter),
/// 16 of the resource group, 6 of the subscription id.
pub fn default_dns_prefix(name: &str, resource_group: &str, subscription: &str) -> String {
    let clean = |s: &str, n: usize| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(n).collect::<String>();
    let mut name_part = clean(name, 10);
    if !name_part.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        name_part = format!("a{name_part}").chars().take(10).collect();
    }
    let rg_part = clean(resource_group, 16);
    let sub_part: String = subscription.chars().take(6).collect();
    format!("{name_part}-{rg_part}-{sub_part}")
}

/// A managed cluster as `az aks update` sends it back after a GET: the SDK model serialised,
/// so read-only properties and `null` values left out (a `null` `serverAppSecret` is "not
/// sent", not "changed to nothing").
pub fn cluster_for_put(cluster: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn drop_nulls(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.retain(|_, x| !x.is_null());
                o.values_mut().for_each(drop_nulls);
            }
            Value::Array(a) => a.iter_mut().for_each(drop_nulls),
            _ => {}
        }
    }
    let mut v = cluster.clone();
    if let Some(o) = v.as_object_mut() {
        for k in ["id", "name", "type", "systemData"] {
            o.remove(k);
        }
    }
    if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
        for k in ["provisioningState", "powerState", "fqdn", "azurePortalFQDN", "privateFQDN", "currentKubernetesVersion", "maxAgentPools", "resourceUID"] {
            p.remove(k);
        }
        if let Some(pools) = p.get_mut("agentPoolProfiles").and_then(Value::as_array_mut) {
            for pool in pools.iter_mut().filter_map(Value::as_object_mut) {
                for k in ["provisioningState", "powerState", "currentOrchestratorVersion", "nodeImageVersion"] {
                    pool.remove(k);
                }
            }
        }
    }
    if let Some(i) = v.get_mut("identity").and_then(Value::as_object_mut) {
        i.remove("principalId");
        i.remove("tenantId");
    }
    drop_nulls(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_prefix_like_az() {
        assert_eq!(default_dns_prefix("myAKSCluster", "myResourceGroup", "0123456789"), "myAKSClust-myResourceGroup-012345");
        assert_eq!(default_dns_prefix("1aks", "rg_1.x", "abcdef0"), "a1aks-rg1x-abcdef");
    }

    #[test]
    fn put_bodies_leave_out_read_only_and_null_values() {
        let got = serde_json::json!({
            "id": "/x", "name": "a", "type": "Microsoft.ContainerService/ManagedClusters", "location": "eastus",
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {"provisioningState": "Succeeded", "fqdn": "f", "enableRBAC": true,
                "agentPoolProfiles": [{"name": "nodepool1", "count": 3, "provisioningState": "Succeeded"}],
                "aadProfile": {"managed": false, "serverAppID": "s", "serverAppSecret": null, "adminUsers": null}}
        });
        assert_eq!(
            cluster_for_put(&got),
            serde_json::json!({
                "location": "eastus", "identity": {"type": "SystemAssigned"},
                "properties": {"enableRBAC": true, "agentPoolProfiles": [{"name": "nodepool1", "count": 3}], "aadProfile": {"managed": false, "serverAppID": "s"}}
            })
        );
    }

    #[test]
    fn cluster_summaries() {
        let managed = ClusterSummary::from_json(&serde_json::json!({"id": "/x", "name": "a", "properties": {
            "provisioningState": "Succeeded", "kubernetesVersion": "1.31", "currentKubernetesVersion": "1.31.2", "fqdn": "f",
            "aadProfile": {"managed": true, "tenantID": "t"}, "enableRBAC": true}}));
        assert_eq!((managed.aad_mode(), managed.kubernetes_version.as_str(), managed.enable_rbac), ("managed", "1.31.2", Some(true)));
        let legacy = ClusterSummary::from_json(&serde_json::json!({"properties": {"aadProfile": {"serverAppID": "s", "serverAppSecret": "shh"}}}));
        assert_eq!(legacy.aad_mode(), "legacy");
        assert!(legacy.aad_profile.get("serverAppSecret").is_none(), "the secret never reaches an output");
        assert_eq!(ClusterSummary::from_json(&serde_json::json!({"properties": {}})).aad_mode(), "none");
    }

    #[test]
    fn splits_operation_urls() {
        let (p, q) = split_url(
            "https://management.azure.com/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/ab-c?api-version=2016-03-30&x=a%20b",
        )
        .unwrap();
        assert_eq!(p, "/subscriptions/s/providers/Microsoft.ContainerService/locations/eastus/operations/ab-c");
        assert_eq!(q, vec![("api-version".into(), "2016-03-30".into()), ("x".into(), "a b".into())]);
        let (p, q) = split_url("https://127.0.0.1:8443/subscriptions/s/operationresults/1").unwrap();
        assert_eq!(p, "/subscriptions/s/operationresults/1");
        assert!(q.is_empty());
        assert_eq!(split_url("/a/b?c=d").unwrap().0, "/a/b");
        assert_eq!(split_url("https://h").unwrap().0, "/");
    }
}

/// The `api-version` the AKS steps use for `Microsoft.ContainerService/managedClusters`.
pub const AKS_API_VERSION: &str = "2024-09-01";

/// What the AKS steps report about a managed cluster (from a GET or PUT body).
#[derive(Debug, Clone, Default)]
pub struct ClusterSummary {
    pub id: String,
    pub name: String,
    pub location: String,
    pub fqdn: String,
    pub provisioning_state: String,
    pub kubernetes_version: String,
    /// `aadProfile` as ARM returns it (`null` when the cluster has no AAD).
    pub aad_profile: serde_json::Value,
    pub enable_rbac: Option<bool>,
    pub disable_local_accounts: Option<bool>,
}

impl ClusterSummary {
    pub fn from_json(v: &serde_json::Value) -> Self {
        let s = |p: &str| v.pointer(p).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        let mut aad = v.pointer("/properties/aadProfile").cloned().unwrap_or(serde_json::Value::Null);
        if let Some(o) = aad.as_object_mut() {
            // Write-only, and secret when it is there at all.
            o.remove("serverAppSecret");
        }
        ClusterSummary {
            id: s("/id"),
            name: s("/name"),
            location: s("/location"),
            fqdn: s("/properties/fqdn"),
            provisioning_state: s("/properties/provisioningState"),
            kubernetes_version: {
                let current = s("/properties/currentKubernetesVersion");
                if current.is_empty() { s("/properties/kubernetesVersion") } else { current }
            },
            aad_profile: aad,
            enable_rbac: v.pointer("/properties/enableRBAC").and_then(serde_json::Value::as_bool),
            disable_local_accounts: v.pointer("/properties/disableLocalAccounts").and_then(serde_json::Value::as_bool),
        }
    }

    /// `none`, `legacy` or `managed`.
    pub fn aad_mode(&self) -> &'static str {
        match self.aad_profile.get("managed").and_then(serde_json::Value::as_bool) {
            _ if !self.aad_profile.is_object() => "none",
            Some(true) => "managed",
            _ => "legacy",
        }
    }

    /// The outputs aks-create and aks-update give.
    pub fn outputs(&self) -> crate::Outputs {
        crate::Outputs::new()
            .text("id", &self.id)
            .text("name", &self.name)
            .text("location", &self.location)
            .text("fqdn", &self.fqdn)
            .text("provisioning-state", &self.provisioning_state)
            .text("kubernetes-version", &self.kubernetes_version)
            .text("aad", self.aad_mode())
            .text("aad-profile", self.aad_profile.to_string())
            .text("enable-rbac", self.enable_rbac.map(|b| b.to_string()).unwrap_or_default())
            .text("disable-local-accounts", self.disable_local_accounts.map(|b| b.to_string()).unwrap_or_default())
    }

    /// Declares [`ClusterSummary::outputs`] in a `describe`.
    pub fn describe_outputs(info: crate::StepInfo) -> crate::StepInfo {
        info.output("id", "Resource id of the cluster")
            .output("name", "Cluster name as ARM stores it")
            .output("location", "Region of the cluster")
            .output("fqdn", "API server FQDN")
            .output("provisioning-state", "provisioningState after the operation (Succeeded)")
            .output("kubernetes-version", "Kubernetes version the cluster runs")
            .output("aad", "AAD integration: none, legacy or managed")
            .output("aad-profile", "aadProfile as JSON (the server app secret is never included)")
            .output("enable-rbac", "Whether Kubernetes RBAC is enabled")
            .output("disable-local-accounts", "Whether local accounts (admin credentials) are disabled")
    }
}

/// The applications of legacy AAD integration (az's `--aad-server-app-id`,
/// `--aad-server-app-secret` and `--aad-client-app-id`), as a step was given them.
#[derive(Debug, Clone, Copy)]
pub struct LegacyAad<'a> {
    pub client_app_id: Option<&'a str>,
    pub server_app_id: Option<&'a str>,
    pub server_app_secret: Option<&'a str>,
}

impl LegacyAad<'_> {
    /// Whether any of them was given a value.
    pub fn is_given(&self) -> bool {
        [self.server_app_id, self.server_app_secret, self.client_app_id].iter().any(|v| v.is_some_and(|v| !v.is_empty()))
    }

    /// The `aadProfile` az sends for them.
    pub fn profile(&self, tenant_id: &str) -> serde_json::Value {
        serde_json::json!({
            "clientAppID": self.client_app_id.unwrap_or(""),
            "serverAppID": self.server_app_id.unwrap_or(""),
            "serverAppSecret": self.server_app_secret.unwrap_or(""),
            "tenantID": tenant_id,
        })
    }
}

/// Fetches a managed cluster; ARM's 404 (`ResourceNotFound`) and every other error come back
/// as step errors with ARM's code.
pub fn get_cluster(subscription: &str, resource_group: &str, name: &str) -> Result<serde_json::Value, StepError> {
    send(call("GET", &managed_cluster_path(subscription, resource_group, name), AKS_API_VERSION))?.json()
}

/// PUTs a whole managed cluster, waits for the operation, and returns the cluster as a GET
/// then shows it (what azure-core's poller returns).
pub fn put_cluster(subscription: &str, resource_group: &str, name: &str, body: &serde_json::Value, what: &str) -> Result<serde_json::Value, StepError> {
    let path = managed_cluster_path(subscription, resource_group, name);
    let resp = send(call("PUT", &path, AKS_API_VERSION).json(body))?;
    let started: serde_json::Value = resp.json().unwrap_or(serde_json::Value::Null);
    let state = started.pointer("/properties/provisioningState").and_then(serde_json::Value::as_str).unwrap_or("");
    crate::log::info(&format!("{what}: ARM accepted the request ({}), provisioningState {}", resp.status, if state.is_empty() { "unknown" } else { state }));
    let terminal = ["Succeeded", "Failed", "Canceled"].contains(&state);
    if resp.header(AZURE_ASYNC).is_some() || resp.status == 202 {
        wait(&resp, what)?;
    } else if !terminal {
        // No operation URL to follow: poll the resource itself.
        let mut pace = retry_after(&resp);
        for poll in 1..=MAX_POLLS {
            std::thread::sleep(std::time::Duration::from_secs(pace));
            let r = send(call("GET", &path, AKS_API_VERSION))?;
            let v: serde_json::Value = r.json()?;
            let s = v.pointer("/properties/provisioningState").and_then(serde_json::Value::as_str).unwrap_or("").to_string();
            crate::log::info(&format!("{what}: {s} (poll {poll})"));
            match s.as_str() {
                "Succeeded" => return Ok(v),
                "Failed" | "Canceled" => {
                    return Err(StepError::new(format!("Provisioning{s}"), format!("{what}: provisioningState is {s}")));
                }
                _ => pace = retry_after(&r),
            }
        }
        return Err(gave_up(what));
    }
    let cluster = get_cluster(subscription, resource_group, name)?;
    let final_state = cluster.pointer("/properties/provisioningState").and_then(serde_json::Value::as_str).unwrap_or("");
    if final_state == "Failed" {
        return Err(StepError::new("ProvisioningFailed", format!("{what}: the operation finished but the cluster's provisioningState is Failed")));
    }
    Ok(cluster)
}
