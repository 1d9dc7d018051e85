//! AKS managed clusters: what a cluster is, what a PUT may change, and the limitations the
//! AKS documentation states (AAD needs RBAC; legacy AAD only at creation; managed AAD can be
//! neither disabled nor turned back to legacy; legacy → managed migration works; local
//! accounts can be disabled only with AAD). Plain Rust: the wire is in `aks_routes`.

use serde::{Deserialize, Serialize};

use super::error::ArmError;
use crate::directory::hash;
use crate::era::Era;
use crate::ids::IdSource;

/// Kubernetes versions the simulated region offers in each era; the first is the default.
/// Today's follow AKS's support window of late 2026 (kubectl 1.37 is within one minor of
/// the newest); 2019's are those of seed 000's time (heapster and tunnelfront in its pod
/// list), all before 1.24, when `azure` was still the user kubeconfig's default format.
pub fn versions(era: Era) -> &'static [&'static str] {
    match era {
        Era::Today => &["1.35.3", "1.36.1", "1.34.6"],
        Era::Y2019 => &["1.14.8", "1.15.5", "1.13.12"],
    }
}
/// Virtual seconds a create / an update takes.
pub const CREATE_SECONDS: i64 = 300;
pub const UPDATE_SECONDS: i64 = 120;
pub const DELETE_SECONDS: i64 = 180;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AadProfile {
    pub managed: bool,
    pub enable_azure_rbac: bool,
    pub admin_group_object_ids: Vec<String>,
    pub client_app_id: Option<String>,
    pub server_app_id: Option<String>,
    /// Legacy clusters call Graph with the server app's secret (group overage). AKS keeps it
    /// and never returns it; the simulator only checks it against the directory, so it keeps
    /// its SHA-256 alone.
    pub server_app_secret_sha256: Option<String>,
    pub tenant_id: String,
}

impl AadProfile {
    pub fn is_legacy(&self) -> bool {
        !self.managed
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPool {
    pub name: String,
    pub count: u32,
    pub vm_size: String,
    pub mode: String,
    /// `tags` and `nodeLabels` as sent on create (ARM keeps and returns them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_labels: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedCluster {
    pub subscription_id: String,
    pub resource_group: String,
    pub name: String,
    pub location: String,
    pub tags: serde_json::Map<String, serde_json::Value>,
    pub dns_prefix: String,
    pub fqdn: String,
    pub kubernetes_version: String,
    pub enable_rbac: bool,
    pub aad: Option<AadProfile>,
    pub disable_local_accounts: bool,
    pub agent_pools: Vec<AgentPool>,
    pub provisioning_state: String,
    pub identity_principal_id: String,
    pub kubelet_identity_id: String,
    /// The static token of the admin kubeconfig (local account).
    pub admin_token: String,
    /// Properties sent that the simulator keeps as given (linuxProfile, networkProfile, …).
    pub extra: serde_json::Map<String, serde_json::Value>,
    pub created_ms: i64,
    /// The service principal the cluster runs as, when not a managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_principal: Option<String>,
    /// How many times its certificates were rotated (`rotateClusterCertificates`): each
    /// rotation gives the cluster a new CA, so every certificate issued before is refused.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub certificate_generation: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl ManagedCluster {
    /// Whether this is the cluster ARM names so (names are case-insensitive).
    pub fn is_named(&self, sid: &str, rg: &str, name: &str) -> bool {
        self.subscription_id.eq_ignore_ascii_case(sid) && self.resource_group.eq_ignore_ascii_case(rg) && self.name.eq_ignore_ascii_case(name)
    }

    pub fn id(&self) -> String {
        format!(
            "/subscriptions/{}/resourcegroups/{}/providers/Microsoft.ContainerService/managedClusters/{}",
            self.subscription_id, self.resource_group, self.name
        )
    }

    /// What the cluster's CA is derived from: the cluster, when it was made, and how many
    /// times its certificates were rotated (a cluster deleted and made again gets a new CA).
    pub fn pki_key(&self) -> String {
        format!("{}:{}:{}", self.id().to_ascii_lowercase(), self.created_ms, self.certificate_generation)
    }

    pub fn node_count(&self) -> u32 {
        self.agent_pools.iter().map(|p| p.count).sum()
    }

    /// What Azure did to the legacy clusters left in December 2023: the same cluster with
    /// AKS-managed Azure AD, its server and client apps forgotten. True if it was legacy.
    pub fn migrate_legacy_aad(&mut self) -> bool {
        match &mut self.aad {
            Some(a) if a.is_legacy() => {
                a.managed = true;
                a.client_app_id = None;
                a.server_app_id = None;
                a.server_app_secret_sha256 = None;
                true
            }
            _ => false,
        }
    }

    pub fn node_resource_group(&self) -> String {
        format!("MC_{}_{}_{}", self.resource_group, self.name, self.location)
    }
}

/// What a PUT asks for, read from its body.
#[derive(Debug, Clone, Default)]
pub struct ClusterSpec {
    /// `servicePrincipalProfile.clientId` when it names a service principal (not `msi`).
    pub service_principal: Option<String>,
    pub location: Option<String>,
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    pub kubernetes_version: Option<String>,
    pub dns_prefix: Option<String>,
    pub enable_rbac: Option<bool>,
    /// `None`: no aadProfile in the body.
    pub aad: Option<AadSpec>,
    pub disable_local_accounts: Option<bool>,
    pub agent_pools: Vec<AgentPool>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AadSpec {
    pub managed: Option<bool>,
    pub enable_azure_rbac: Option<bool>,
    pub admin_group_object_ids: Option<Vec<String>>,
    pub client_app_id: Option<String>,
    pub server_app_id: Option<String>,
    pub server_app_secret: Option<String>,
    pub tenant_id: Option<String>,
}

impl AadSpec {
    fn names_legacy_apps(&self) -> bool {
        self.client_app_id.as_deref().is_some_and(|s| !s.is_empty()) || self.server_app_id.as_deref().is_some_and(|s| !s.is_empty())
    }
}

fn bad(message: impl Into<String>) -> ArmError {
    ArmError::BadRequest { code: "BadRequest", message: message.into() }
}

fn change_not_allowed(property: &str) -> ArmError {
    ArmError::BadRequest { code: "PropertyChangeNotAllowed", message: format!("Changing property '{property}' is not allowed.") }
}

fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let alnum = |c: &u8| c.is_ascii_alphanumeric();
    match b.len() {
        1 => alnum(&b[0]),
        2..=63 => alnum(&b[0]) && alnum(&b[b.len() - 1]) && b.iter().all(|c| alnum(c) || *c == b'-' || *c == b'_'),
        _ => false,
    }
}

/// A requested version ("" = default, "1.30" = newest patch of 1.30, or exact).
pub fn resolve_version(v: Option<&str>, location: &str, era: Era) -> Result<String, ArmError> {
    let v = v.unwrap_or("").trim();
    if v.is_empty() {
        return Ok(versions(era)[0].into());
    }
    versions(era)
        .iter()
        .find(|known| **known == v || known.starts_with(&format!("{v}.")))
        .map(|s| s.to_string())
        .ok_or_else(|| ArmError::BadRequest {
            code: "K8sVersionNotSupported",
            message: format!("Version {v} is not supported in this region ({location}). Please use [az aks get-versions] command to get the supported version list in this region."),
        })
}

fn minor(v: &str) -> u32 {
    v.split('.').nth(1).and_then(|m| m.parse().ok()).unwrap_or(0)
}

/// The aadProfile a create asks for, checked.
fn new_aad(spec: Option<&AadSpec>, enable_rbac: bool, tenant: &str) -> Result<Option<AadProfile>, ArmError> {
    let Some(a) = spec else { return Ok(None) };
    if !enable_rbac {
        return Err(bad("Azure AD integration requires Kubernetes RBAC: clusters without Kubernetes RBAC enabled aren't supported for Microsoft Entra integration. Enable RBAC (enableRBAC: true)."));
    }
    let managed = a.managed.unwrap_or(false);
    if managed {
        if a.names_legacy_apps() || a.server_app_secret.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(bad("clientAppID, serverAppID and serverAppSecret cannot be set when aadProfile.managed is true."));
        }
    } else {
        let missing: Vec<&str> = [("clientAppID", &a.client_app_id), ("serverAppID", &a.server_app_id), ("serverAppSecret", &a.server_app_secret)]
            .iter()
            .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(bad(format!("Legacy Azure AD integration needs aadProfile.{}; or set aadProfile.managed to true for AKS-managed Azure AD.", missing.join(", aadProfile."))));
        }
        if a.admin_group_object_ids.as_ref().is_some_and(|g| !g.is_empty()) || a.enable_azure_rbac == Some(true) {
            return Err(bad("adminGroupObjectIDs and enableAzureRBAC are only supported with AKS-managed Azure AD (aadProfile.managed: true)."));
        }
    }
    Ok(Some(AadProfile {
        managed,
        enable_azure_rbac: a.enable_azure_rbac.unwrap_or(false),
        admin_group_object_ids: a.admin_group_object_ids.clone().unwrap_or_default(),
        client_app_id: a.client_app_id.clone().filter(|s| !s.is_empty()),
        server_app_id: a.server_app_id.clone().filter(|s| !s.is_empty()),
        server_app_secret_sha256: a.server_app_secret.as_deref().filter(|s| !s.is_empty()).map(hash),
        tenant_id: a.tenant_id.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| tenant.to_string()),
    }))
}

/// The aadProfile an update leads to, with the limitations enforced.
fn updated_aad(old: Option<&AadProfile>, spec: Option<&AadSpec>, tenant: &str) -> Result<Option<AadProfile>, ArmError> {
    match (old, spec) {
        (None, None) => Ok(None),
        (None, Some(a)) if a.managed == Some(true) => new_aad(Some(a), true, tenant),
        // Legacy AAD can only be enabled during cluster creation.
        (None, Some(_)) => Err(change_not_allowed("aadProfile")),
        (Some(o), None) if o.managed => Err(change_not_allowed("aadProfile.managed")),
        (Some(_), None) => Err(change_not_allowed("aadProfile")),
        (Some(o), Some(a)) if o.managed => {
            if a.managed == Some(false) {
                return Err(change_not_allowed("aadProfile.managed"));
            }
            if a.names_legacy_apps() {
                // Changing a managed cluster back to legacy is not supported.
                return Err(bad("Operation 'resetAADProfile' is not allowed for managed AAD enabled cluster."));
            }
            Ok(Some(AadProfile {
                managed: true,
                enable_azure_rbac: a.enable_azure_rbac.unwrap_or(o.enable_azure_rbac),
                admin_group_object_ids: a.admin_group_object_ids.clone().unwrap_or_else(|| o.admin_group_object_ids.clone()),
                client_app_id: None,
                server_app_id: None,
                server_app_secret_sha256: None,
                tenant_id: a.tenant_id.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| o.tenant_id.clone()),
            }))
        }
        // Legacy → managed: the migration AKS supports.
        (Some(o), Some(a)) if a.managed == Some(true) => {
            let mut migrated = a.clone();
            migrated.client_app_id = None;
            migrated.server_app_id = None;
            migrated.server_app_secret = None;
            migrated.tenant_id = a.tenant_id.clone().or(Some(o.tenant_id.clone()));
            new_aad(Some(&migrated), true, tenant)
        }
        (Some(o), Some(a)) => {
            if a.server_app_secret.as_deref().is_some_and(|s| !s.is_empty() && Some(hash(s)) != o.server_app_secret_sha256) {
                return Err(change_not_allowed("aadProfile.serverAppSecret"));
            }
            for (name, new, old) in [("aadProfile.serverAppID", &a.server_app_id, &o.server_app_id), ("aadProfile.clientAppID", &a.client_app_id, &o.client_app_id)] {
                if new.as_deref().is_some_and(|n| !n.is_empty() && Some(n) != old.as_deref()) {
                    return Err(change_not_allowed(name));
                }
            }
            Ok(Some(o.clone()))
        }
    }
}

/// A new cluster's service principal must be one AKS finds in the tenant's directory, which
/// may not have it yet (replication).
pub fn check_service_principal(dir: &crate::directory::Directory, tenant: &str, client_id: &str, lag_ms: i64, now_ms: i64) -> Result<(), ArmError> {
    match dir.service_principal(tenant, client_id) {
        Some(sp) if !dir.replicating(&sp.id, sp.created_ms, lag_ms, now_ms) => Ok(()),
        _ => Err(ArmError::ServicePrincipalNotFound { client_id: client_id.into(), tenant: tenant.into() }),
    }
}

/// Today's answer to a new cluster with the legacy integration. [docs/fidelity.md: era]
fn legacy_aad_retired() -> ArmError {
    bad(LEGACY_AAD_RETIRED)
}

/// No public record holds AKS's exact answer; the words are those of the AKS release notes
/// from 2023-08-27 on (see docs/fidelity.md).
pub const LEGACY_AAD_RETIRED: &str = "No new clusters can be created with Azure AD Integration (legacy). Use AKS-managed Azure AD integration instead: set aadProfile.managed to true (az aks create --enable-aad). See https://aka.ms/aks/managed-aad";

fn check_local_accounts(disable: bool, aad: &Option<AadProfile>, version: &str) -> Result<(), ArmError> {
    if disable && aad.is_none() && minor(version) >= 25 {
        return Err(bad("Since kubernetes version 1.25, disableLocalAccounts can only be set on Azure AD integration enabled cluster. Please integrate your cluster with AAD."));
    }
    Ok(())
}

/// Creates a cluster from a PUT body.
#[allow(clippy::too_many_arguments)]
pub fn create(ids: &mut IdSource, sid: &str, rg: &str, name: &str, spec: ClusterSpec, tenant: &str, now_ms: i64, era: Era) -> Result<ManagedCluster, ArmError> {
    if !valid_name(name) {
        return Err(ArmError::BadRequest {
            code: "InvalidParameter",
            message: format!("The value of parameter name '{name}' is invalid: it must match ^[a-zA-Z0-9]$|^[a-zA-Z0-9][-_a-zA-Z0-9]{{0,61}}[a-zA-Z0-9]$."),
        });
    }
    let location = super::location::normalize_location(spec.location.as_deref().ok_or(ArmError::LocationRequired)?);
    let version = resolve_version(spec.kubernetes_version.as_deref(), &location, era)?;
    let enable_rbac = spec.enable_rbac.unwrap_or(true);
    let aad = new_aad(spec.aad.as_ref(), enable_rbac, tenant)?;
    if aad.as_ref().is_some_and(AadProfile::is_legacy) && !era.creates_legacy_aad() {
        return Err(legacy_aad_retired());
    }
    let disable_local = spec.disable_local_accounts.unwrap_or(false);
    check_local_accounts(disable_local, &aad, &version)?;
    let dns_prefix = spec.dns_prefix.clone().filter(|d| !d.is_empty()).unwrap_or_else(|| format!("{name}-{rg}-{}", &sid[..6]));
    let hash = ids.hex(8);
    let pools = if spec.agent_pools.is_empty() {
        vec![AgentPool { name: "nodepool1".into(), count: 3, vm_size: "Standard_DS2_v2".into(), mode: "System".into(), tags: None, node_labels: None }]
    } else {
        spec.agent_pools.clone()
    };
    if let Some(p) = pools.iter().find(|p| p.count == 0 || p.count > 100) {
        return Err(bad(format!("The value of parameter agentPoolProfile.count is invalid for agent pool '{}': it must be between 1 and 100.", p.name)));
    }
    Ok(ManagedCluster {
        subscription_id: sid.into(),
        resource_group: rg.into(),
        name: name.into(),
        fqdn: format!("{}-{hash}.hcp.{location}.azmk8s.io", dns_prefix.to_ascii_lowercase()),
        location,
        tags: spec.tags.unwrap_or_default(),
        dns_prefix,
        kubernetes_version: version,
        enable_rbac,
        aad,
        disable_local_accounts: disable_local,
        agent_pools: pools,
        provisioning_state: "Creating".into(),
        identity_principal_id: ids.guid().to_string(),
        kubelet_identity_id: ids.guid().to_string(),
        admin_token: ids.hex(128),
        extra: spec.extra,
        created_ms: now_ms,
        service_principal: spec.service_principal,
        certificate_generation: 0,
    })
}

/// An operation may start only on a cluster that is not busy with another.
fn not_busy(c: &ManagedCluster) -> Result<(), ArmError> {
    if c.provisioning_state != "Succeeded" && c.provisioning_state != "Failed" {
        return Err(ArmError::Conflict {
            code: "OperationNotAllowed",
            message: format!("Operation is not allowed because there's an in progress operation on the managed cluster (provisioning state '{}'). Please wait for it to finish before sending a new one.", c.provisioning_state),
        });
    }
    Ok(())
}

/// `rotateClusterCertificates`: a new CA (so every certificate issued before names nobody)
/// and a new static token; the cluster is `Updating` until the operation completes.
pub fn rotate_certificates(c: &mut ManagedCluster, ids: &mut IdSource) -> Result<(), ArmError> {
    not_busy(c)?;
    c.certificate_generation += 1;
    c.admin_token = ids.hex(128);
    c.provisioning_state = "Updating".into();
    Ok(())
}

/// Applies a PUT to an existing cluster (az aks update sends the whole object back).
pub fn update(c: &ManagedCluster, spec: ClusterSpec, tenant: &str, era: Era) -> Result<ManagedCluster, ArmError> {
    not_busy(c)?;
    if let Some(loc) = &spec.location {
        if super::location::normalize_location(loc) != c.location {
            return Err(change_not_allowed("location"));
        }
    }
    if let Some(rbac) = spec.enable_rbac {
        if rbac != c.enable_rbac {
            return Err(change_not_allowed("enableRBAC"));
        }
    }
    let mut next = c.clone();
    next.aad = updated_aad(c.aad.as_ref(), spec.aad.as_ref(), tenant)?;
    if next.aad.is_some() && !c.enable_rbac {
        return Err(bad("Azure AD integration requires Kubernetes RBAC: clusters without Kubernetes RBAC enabled aren't supported for Microsoft Entra integration."));
    }
    if let Some(v) = spec.kubernetes_version.as_deref().filter(|v| !v.is_empty()) {
        let v = resolve_version(Some(v), &c.location, era)?;
        if minor(&v) < minor(&c.kubernetes_version) {
            return Err(bad(format!("Downgrading Kubernetes version from {} to {v} is not allowed.", c.kubernetes_version)));
        }
        next.kubernetes_version = v;
    }
    next.disable_local_accounts = spec.disable_local_accounts.unwrap_or(c.disable_local_accounts);
    check_local_accounts(next.disable_local_accounts, &next.aad, &next.kubernetes_version)?;
    if let Some(tags) = spec.tags {
        next.tags = tags;
    }
    if !spec.agent_pools.is_empty() {
        next.agent_pools = spec.agent_pools;
    }
    for (k, v) in spec.extra {
        next.extra.insert(k, v);
    }
    next.provisioning_state = "Updating".into();
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_gives_a_new_ca_and_token_and_waits_for_a_busy_cluster() {
        let mut ids = IdSource::new(3);
        let spec = ClusterSpec { location: Some("eastus".into()), ..Default::default() };
        let mut c = create(&mut ids, "00000000-aaaa", "rg", "aks", spec, "t", 0, Era::Today).unwrap();
        assert!(matches!(rotate_certificates(&mut c, &mut ids), Err(ArmError::Conflict { code: "OperationNotAllowed", .. })), "still Creating");
        assert_eq!(c.certificate_generation, 0);
        c.provisioning_state = "Succeeded".into();
        let (key, token) = (c.pki_key(), c.admin_token.clone());
        rotate_certificates(&mut c, &mut ids).unwrap();
        assert_ne!(c.pki_key(), key, "a new CA");
        assert_ne!(c.admin_token, token, "a new static token");
        assert_eq!(c.provisioning_state, "Updating");
        assert!(rotate_certificates(&mut c, &mut ids).is_err(), "one rotation at a time");
    }

    fn spec(aad: Option<AadSpec>) -> ClusterSpec {
        ClusterSpec { location: Some("eastus".into()), aad, ..Default::default() }
    }

    fn managed() -> AadSpec {
        AadSpec { managed: Some(true), ..Default::default() }
    }

    fn legacy() -> AadSpec {
        AadSpec { client_app_id: Some("c".into()), server_app_id: Some("s".into()), server_app_secret: Some("x".into()), ..Default::default() }
    }

    /// A cluster as it stands after its create: legacy ones in the era that still made them.
    fn made(aad: Option<AadSpec>) -> ManagedCluster {
        let mut ids = IdSource::new(1);
        let era = if aad.as_ref().is_some_and(|a| a.managed != Some(true)) { Era::Y2019 } else { Era::Today };
        let mut c = create(&mut ids, "00000000-aaaa", "rg", "aks", spec(aad), "t", 0, era).unwrap();
        c.provisioning_state = "Succeeded".into();
        c
    }

    fn code(e: ArmError) -> &'static str {
        e.parts().1
    }

    #[test]
    fn today_refuses_a_new_legacy_cluster_and_serves_old_ones_as_managed() {
        let mut ids = IdSource::new(1);
        let e = create(&mut ids, "00000000-aaaa", "rg", "aks", spec(Some(legacy())), "t", 0, Era::Today).unwrap_err();
        assert_eq!(e.parts().1, "BadRequest");
        assert_eq!(e.parts().2, LEGACY_AAD_RETIRED);
        assert!(create(&mut ids, "00000000-aaaa", "rg", "aks", spec(Some(AadSpec { managed: Some(true), ..Default::default() })), "t", 0, Era::Today).is_ok());
        let mut old = made(Some(legacy()));
        assert!(old.migrate_legacy_aad());
        let a = old.aad.as_ref().unwrap();
        assert!(a.managed && a.server_app_id.is_none() && a.client_app_id.is_none() && a.server_app_secret_sha256.is_none());
        assert_eq!(a.tenant_id, "t");
        assert!(!old.migrate_legacy_aad(), "a managed cluster stays as it is");
    }

    #[test]
    fn aad_needs_rbac() {
        let mut ids = IdSource::new(1);
        let mut s = spec(Some(managed()));
        s.enable_rbac = Some(false);
        assert_eq!(code(create(&mut ids, "00000000-aaaa", "rg", "aks", s, "t", 0, Era::Y2019).unwrap_err()), "BadRequest");
    }

    #[test]
    fn managed_aad_can_be_neither_disabled_nor_made_legacy() {
        let c = made(Some(managed()));
        assert_eq!(update(&c, spec(None), "t", Era::Today).unwrap_err(), change_not_allowed("aadProfile.managed"));
        assert_eq!(update(&c, spec(Some(AadSpec { managed: Some(false), ..Default::default() })), "t", Era::Today).unwrap_err(), change_not_allowed("aadProfile.managed"));
        let e = update(&c, spec(Some(AadSpec { managed: Some(true), ..legacy() })), "t", Era::Today).unwrap_err();
        assert!(e.parts().2.contains("resetAADProfile"), "{e:?}");
    }

    #[test]
    fn legacy_only_at_creation_and_migration_to_managed_works() {
        let plain = made(None);
        assert_eq!(update(&plain, spec(Some(legacy())), "t", Era::Today).unwrap_err(), change_not_allowed("aadProfile"));
        let enabled = update(&plain, spec(Some(managed())), "t", Era::Today).unwrap();
        assert!(enabled.aad.unwrap().managed, "managed AAD on an existing cluster");

        let old = made(Some(legacy()));
        assert!(old.aad.as_ref().unwrap().is_legacy());
        let migrated = update(&old, spec(Some(AadSpec { managed: Some(true), admin_group_object_ids: Some(vec!["g".into()]), ..Default::default() })), "t", Era::Today).unwrap();
        let aad = migrated.aad.unwrap();
        assert!(aad.managed && aad.server_app_id.is_none() && aad.admin_group_object_ids == vec!["g".to_string()]);
        assert_eq!(update(&old, spec(Some(AadSpec { server_app_secret: Some("other".into()), ..legacy() })), "t", Era::Today).unwrap_err(), change_not_allowed("aadProfile.serverAppSecret"));
    }

    #[test]
    fn rbac_cannot_be_toggled_and_local_accounts_need_aad() {
        let c = made(None);
        let mut s = spec(None);
        s.enable_rbac = Some(false);
        assert_eq!(update(&c, s, "t", Era::Today).unwrap_err(), change_not_allowed("enableRBAC"));
        let mut s = spec(None);
        s.disable_local_accounts = Some(true);
        assert!(update(&c, s, "t", Era::Today).unwrap_err().parts().2.contains("disableLocalAccounts can only be set on Azure AD integration enabled cluster"));
        let mut s = spec(Some(managed()));
        s.disable_local_accounts = Some(true);
        assert!(update(&made(Some(managed())), s, "t", Era::Today).unwrap().disable_local_accounts);
    }

    #[test]
    fn names_and_versions() {
        let mut ids = IdSource::new(1);
        assert_eq!(code(create(&mut ids, "00000000-aaaa", "rg", "-bad", spec(None), "t", 0, Era::Y2019).unwrap_err()), "InvalidParameter");
        let mut s = spec(None);
        s.kubernetes_version = Some("1.19".into());
        assert_eq!(code(create(&mut ids, "00000000-aaaa", "rg", "aks", s, "t", 0, Era::Y2019).unwrap_err()), "K8sVersionNotSupported");
        assert_eq!(resolve_version(Some("1.36"), "eastus", Era::Today).unwrap(), "1.36.1");
        assert_eq!(resolve_version(None, "eastus", Era::Today).unwrap(), versions(Era::Today)[0]);
        assert_eq!(resolve_version(None, "eastus", Era::Y2019).unwrap(), "1.14.8");
        assert!(resolve_version(Some("1.14"), "eastus", Era::Today).is_err(), "2019's versions are long gone");
    }
}
