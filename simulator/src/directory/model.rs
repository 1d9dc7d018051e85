//! Directory objects and read-only queries over them. Changes with rules are in `ops`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use crate::copy_on_write::CopyOnWrite;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    pub id: String,
    pub default_domain: String,
    pub display_name: String,
}

/// A client secret. Only its hash is kept: the directory can check a secret, never show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordCredential {
    pub key_id: String,
    pub display_name: Option<String>,
    pub hint: String,
    pub secret_sha256: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl PasswordCredential {
    pub fn new(key_id: String, display_name: Option<String>, secret: &str, start_ms: i64, end_ms: i64) -> Self {
        PasswordCredential { key_id, display_name, hint: secret.chars().take(3).collect(), secret_sha256: hash(secret), start_ms, end_ms }
    }

    /// Is `secret` this credential's, and valid now? A secret works from the moment it is
    /// created: its start is allowed five minutes of clock skew, as Entra allows tokens.
    pub fn matches(&self, secret: &str, now_ms: i64) -> bool {
        self.matches_hash(&hash(secret), now_ms)
    }

    /// As [`matches`](Self::matches), given the secret's SHA-256 (hex).
    pub fn matches_hash(&self, secret_sha256: &str, now_ms: i64) -> bool {
        self.secret_sha256 == secret_sha256 && self.start_ms - SKEW_MS <= now_ms && now_ms < self.end_ms
    }
}

const SKEW_MS: i64 = 5 * 60 * 1000;

/// SHA-256, lowercase hex: how secrets and passwords are kept. Every client-credentials
/// token request hashes the secret it brings, so this is on the token endpoint's hot path.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserType {
    Member,
    Guest,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    /// The tenant whose directory holds this object.
    pub tenant_id: String,
    pub user_principal_name: String,
    pub display_name: String,
    pub given_name: Option<String>,
    pub surname: Option<String>,
    pub mail_nickname: String,
    pub user_type: UserType,
    /// A guest's home tenant and sign-in name there.
    pub home_tenant_id: String,
    pub home_upn: String,
    pub account_enabled: bool,
    pub password_sha256: String,
    /// Holds the Global Administrator directory role.
    pub tenant_admin: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub mail_nickname: String,
    pub description: Option<String>,
    pub security_enabled: bool,
    pub mail_enabled: bool,
    /// Object ids of direct members (users, groups, service principals).
    pub members: Vec<String>,
    pub owners: Vec<String>,
    pub created_ms: i64,
}

/// An OAuth2 permission scope an API exposes (`api.oauth2PermissionScopes`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PermissionScope {
    pub id: String,
    pub value: String,
    /// `User` (users may consent) or `Admin` (only an administrator may).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "yes")]
    pub is_enabled: bool,
    #[serde(default)]
    pub admin_consent_display_name: Option<String>,
    #[serde(default)]
    pub admin_consent_description: Option<String>,
    #[serde(default)]
    pub user_consent_display_name: Option<String>,
    #[serde(default)]
    pub user_consent_description: Option<String>,
}

fn yes() -> bool {
    true
}

/// An app role (`appRoles`), e.g. Graph's application permission Directory.Read.All.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    pub id: String,
    pub value: Option<String>,
    #[serde(default)]
    pub allowed_member_types: Vec<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub is_enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceAccess {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequiredResourceAccess {
    pub resource_app_id: String,
    pub resource_access: Vec<ResourceAccess>,
}

/// A certificate credential as Graph shows it (the key itself is never returned).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyCredential {
    pub key_id: String,
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    pub usage: String,
    pub start_date_time: String,
    pub end_date_time: String,
    pub custom_key_identifier: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    /// The object id (Graph `id`).
    pub id: String,
    pub app_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub identifier_uris: Vec<String>,
    pub sign_in_audience: String,
    /// `None`, `SecurityGroup`, `All`, … on the resource app: which groups its tokens carry.
    pub group_membership_claims: Option<String>,
    pub is_fallback_public_client: Option<bool>,
    pub public_client_redirect_uris: Vec<String>,
    /// `api.requestedAccessTokenVersion`: None/1 → v1 tokens, 2 → v2.
    pub requested_access_token_version: Option<i64>,
    pub oauth2_permission_scopes: Vec<PermissionScope>,
    pub app_roles: Vec<AppRole>,
    pub required_resource_access: Vec<RequiredResourceAccess>,
    pub password_credentials: Vec<PasswordCredential>,
    /// Certificates (`keyCredentials`); their key is write-only, as in Graph.
    #[serde(default)]
    pub key_credentials: Vec<KeyCredential>,
    pub owners: Vec<String>,
    pub created_ms: i64,
    /// Other Graph properties, kept as given (web, spa, info, optionalClaims, notes, …).
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Application {
    /// A new single-tenant application with Graph's defaults and nothing else set.
    pub fn new(id: String, app_id: String, tenant_id: &str, display_name: &str, owners: Vec<String>, now_ms: i64) -> Self {
        Application {
            id,
            app_id,
            tenant_id: tenant_id.into(),
            display_name: display_name.into(),
            identifier_uris: vec![],
            sign_in_audience: "AzureADMyOrg".into(),
            group_membership_claims: None,
            is_fallback_public_client: None,
            public_client_redirect_uris: vec![],
            requested_access_token_version: None,
            oauth2_permission_scopes: vec![],
            app_roles: vec![],
            required_resource_access: vec![],
            password_credentials: vec![],
            key_credentials: vec![],
            owners,
            created_ms: now_ms,
            extra: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub tenant_id: String,
    /// The tenant of the application it instantiates.
    pub app_owner_tenant_id: String,
    pub display_name: String,
    pub account_enabled: bool,
    pub service_principal_names: Vec<String>,
    pub password_credentials: Vec<PasswordCredential>,
    pub tenant_admin: bool,
    /// First-party APIs carry their scopes and roles here; for our own apps they mirror
    /// the application's.
    pub oauth2_permission_scopes: Vec<PermissionScope>,
    pub app_roles: Vec<AppRole>,
    pub group_membership_claims: Option<String>,
    /// A public client (device code, ROPC) that needs no secret.
    pub public_client: bool,
    pub created_ms: i64,
    /// What `PATCH /servicePrincipals/{id}` may set besides `accountEnabled`.
    #[serde(default)]
    pub settings: ServicePrincipalSettings,
    /// Its owners (users or service principals), as object ids.
    #[serde(default)]
    pub owners: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct ServicePrincipalSettings {
    pub tags: Vec<String>,
    pub notes: Option<String>,
    pub description: Option<String>,
    pub app_role_assignment_required: bool,
}

/// Delegated consent: `clientId` (a service principal) may call `resourceId` with `scope`,
/// for everyone (`AllPrincipals`) or one user (`Principal`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PermissionGrant {
    pub id: String,
    pub client_id: String,
    pub consent_type: String,
    pub principal_id: Option<String>,
    pub resource_id: String,
    pub scope: String,
}

impl PermissionGrant {
    /// Entra's id for a grant: base64url, unpadded, of the client's and the resource's object
    /// ids (each a GUID in its little-endian byte order) and, for consent for one user, the
    /// user's. So one client, resource and principal have one grant, and a grant deleted and
    /// made again gets the same id (az's `permission grant` does so in the recording
    /// test_app_permission_grant: `35MyBBmb…` both times).
    /// [`id_for`](Self::id_for), for a grant being made: a random id is still drawn and left
    /// unused, so the ids drawn after it stay what they were before grant ids were Entra's.
    pub fn new_id(ids: &crate::ids::IdSource, client_id: &str, resource_id: &str, principal_id: Option<&str>) -> String {
        let _ = ids.base64url(43);
        Self::id_for(client_id, resource_id, principal_id)
    }

    pub fn id_for(client_id: &str, resource_id: &str, principal_id: Option<&str>) -> String {
        use base64::Engine as _;
        let mut raw = Vec::with_capacity(48);
        for id in [Some(client_id), Some(resource_id), principal_id].into_iter().flatten() {
            match uuid::Uuid::parse_str(id) {
                Ok(u) => raw.extend_from_slice(&u.to_bytes_le()),
                Err(_) => raw.extend_from_slice(id.as_bytes()),
            }
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }
}

/// An app role given to a principal (application permissions when the principal is a
/// service principal).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppRoleAssignment {
    pub id: String,
    pub principal_id: String,
    pub principal_type: String,
    pub principal_display_name: String,
    pub resource_id: String,
    pub resource_display_name: String,
    pub app_role_id: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Directory {
    pub home_tenant: String,
    pub tenants: Vec<Tenant>,
    // The parts a run's snapshots share until they change (copy_on_write.rs): the seeded
    // ones are most of the directory, and rarely change.
    pub users: CopyOnWrite<Vec<User>>,
    pub groups: CopyOnWrite<Vec<Group>>,
    pub applications: Vec<Application>,
    pub service_principals: CopyOnWrite<Vec<ServicePrincipal>>,
    pub grants: Vec<PermissionGrant>,
    pub app_role_assignments: Vec<AppRoleAssignment>,
    /// Tokens carry `groups` up to this many; past it, the overage claim instead.
    pub group_claim_limit: usize,
    /// Deleted applications, groups and users, kept for 30 days as Entra ID keeps them
    /// (`/directory/deletedItems`): they can be restored or deleted for good.
    #[serde(default)]
    pub deleted: Vec<Deleted>,
    /// The objects the simulator was seeded with (and its operator): they have replicated
    /// everywhere long since, whatever the clock says.
    #[serde(default)]
    pub seeded_ids: CopyOnWrite<std::collections::BTreeSet<String>>,
}

/// Any object by id, as `directoryObjects` sees it.
/// A soft-deleted object and when it was deleted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted_ms: i64,
    pub object: DeletedObject,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DeletedObject {
    Application(Application),
    Group(Group),
    User(User),
}

impl Deleted {
    pub fn id(&self) -> &str {
        match &self.object {
            DeletedObject::Application(a) => &a.id,
            DeletedObject::Group(g) => &g.id,
            DeletedObject::User(u) => &u.id,
        }
    }

    pub fn tenant_id(&self) -> &str {
        match &self.object {
            DeletedObject::Application(a) => &a.tenant_id,
            DeletedObject::Group(g) => &g.tenant_id,
            DeletedObject::User(u) => &u.tenant_id,
        }
    }
}

/// What can have owners through Graph's `owners` navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owned {
    Application,
    Group,
    ServicePrincipal,
}

#[derive(Debug, Clone, Copy)]
pub enum DirectoryObject<'a> {
    User(&'a User),
    Group(&'a Group),
    ServicePrincipal(&'a ServicePrincipal),
    Application(&'a Application),
}

/// Who is calling, as a token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub tenant_id: String,
    pub object_id: String,
    pub is_app: bool,
}

impl Directory {
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id.eq_ignore_ascii_case(id_or_domain) || t.default_domain.eq_ignore_ascii_case(id_or_domain))
    }

    pub fn home(&self) -> &Tenant {
        self.tenants.iter().find(|t| t.id == self.home_tenant).expect("the home tenant exists")
    }

    pub fn user(&self, tenant_id: &str, id_or_upn: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.tenant_id == tenant_id && (u.id.eq_ignore_ascii_case(id_or_upn) || u.user_principal_name.eq_ignore_ascii_case(id_or_upn))
        })
    }

    /// A sign-in name as typed at a login prompt: a member's UPN in `tenant_id`, or a
    /// guest's home sign-in name.
    pub fn user_by_sign_in(&self, tenant_id: &str, name: &str) -> Option<&User> {
        self.users.iter().find(|u| {
            u.tenant_id == tenant_id && (u.user_principal_name.eq_ignore_ascii_case(name) || u.home_upn.eq_ignore_ascii_case(name))
        })
    }

    pub fn group(&self, tenant_id: &str, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.tenant_id == tenant_id && g.id.eq_ignore_ascii_case(id))
    }

    pub fn application(&self, tenant_id: &str, id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.tenant_id == tenant_id && a.id.eq_ignore_ascii_case(id))
    }

    /// The sign-in audience a service principal reports: its application's, when the
    /// application is registered in the service principal's own tenant; another tenant's
    /// application (Microsoft's first-party ones among them) is multi-tenant.
    pub fn sign_in_audience_of(&self, sp: &ServicePrincipal) -> &str {
        if sp.app_owner_tenant_id != sp.tenant_id {
            return "AzureADMultipleOrgs";
        }
        self.applications
            .iter()
            .find(|a| a.app_id == sp.app_id && a.tenant_id == sp.tenant_id)
            .map_or("AzureADMyOrg", |a| a.sign_in_audience.as_str())
    }

    pub fn application_by_app_id(&self, app_id: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.app_id.eq_ignore_ascii_case(app_id))
    }

    pub fn service_principal(&self, tenant_id: &str, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|sp| sp.tenant_id == tenant_id && sp.app_id.eq_ignore_ascii_case(app_id))
    }

    pub fn service_principal_by_id(&self, tenant_id: &str, id: &str) -> Option<&ServicePrincipal> {
        self.service_principals.iter().find(|sp| sp.tenant_id == tenant_id && sp.id.eq_ignore_ascii_case(id))
    }

    pub fn object(&self, tenant_id: &str, id: &str) -> Option<DirectoryObject<'_>> {
        if let Some(u) = self.users.iter().find(|u| u.tenant_id == tenant_id && u.id.eq_ignore_ascii_case(id)) {
            return Some(DirectoryObject::User(u));
        }
        if let Some(g) = self.group(tenant_id, id) {
            return Some(DirectoryObject::Group(g));
        }
        if let Some(sp) = self.service_principal_by_id(tenant_id, id) {
            return Some(DirectoryObject::ServicePrincipal(sp));
        }
        self.application(tenant_id, id).map(DirectoryObject::Application)
    }

    /// Whether an object made at `created_ms` is still unknown, at `now_ms`, to a reader that
    /// lags `lag_ms` behind. Seeded objects are known everywhere.
    pub fn replicating(&self, id: &str, created_ms: i64, lag_ms: i64, now_ms: i64) -> bool {
        lag_ms > 0 && !self.seeded_ids.contains(&id.to_ascii_lowercase()) && crate::faults::replication::hides(lag_ms, created_ms, now_ms)
    }

    /// Marks everything in the directory now as seeded (see [`replicating`](Self::replicating)).
    pub fn mark_seeded(&mut self) {
        let ids = self.groups.iter().map(|g| &g.id).chain(self.service_principals.iter().map(|s| &s.id)).chain(self.applications.iter().map(|a| &a.id));
        self.seeded_ids = ids.map(|i| i.to_ascii_lowercase()).collect();
    }

    /// When the secret an app authenticates with was added (its credential's start).
    pub fn secret_added_ms(&self, tenant_id: &str, client_id: &str, secret: &str) -> Option<i64> {
        let sp = self.service_principal(tenant_id, client_id)?;
        let app = self.application_by_app_id(client_id).map(|a| a.password_credentials.as_slice()).unwrap_or_default();
        let h = hash(secret);
        app.iter().chain(&sp.password_credentials).filter(|c| c.secret_sha256 == h).map(|c| c.start_ms).max()
    }

    /// Microsoft Graph is also named `url` (a served simulator's own address), so a client
    /// that was told Graph is there asks for tokens for it and gets them. A name from an
    /// earlier address (another port) is replaced; Graph's own names stay.
    pub fn name_graph_also(&mut self, url: &str) {
        let own = format!("{}/", url.trim_end_matches('/'));
        for sp in self.service_principals.iter_mut().filter(|sp| sp.app_id == super::well_known::MICROSOFT_GRAPH) {
            sp.service_principal_names.retain(|n| n.starts_with("https://graph.microsoft.com") || n.starts_with("https://canary.graph.microsoft.com") || !n.starts_with("https://"));
            sp.service_principal_names.push(own.clone());
        }
    }

    /// The service principal a token `resource` names: by appId, by any of its service
    /// principal names (identifier URIs), or `spn:<appId>`, ignoring a trailing slash.
    pub fn resource(&self, tenant_id: &str, resource: &str) -> Option<&ServicePrincipal> {
        let want = resource.strip_prefix("spn:").unwrap_or(resource).trim_end_matches('/');
        self.service_principals.iter().find(|sp| {
            sp.tenant_id == tenant_id
                && (sp.app_id.eq_ignore_ascii_case(want)
                    || sp.service_principal_names.iter().any(|n| n.trim_end_matches('/').eq_ignore_ascii_case(want)))
        })
    }

    /// The groups the object is a direct member of (Graph's `memberOf`), in directory order.
    pub fn direct_groups(&self, tenant_id: &str, object_id: &str) -> Vec<&Group> {
        self.groups.iter().filter(|g| g.tenant_id == tenant_id && g.members.iter().any(|m| m.eq_ignore_ascii_case(object_id))).collect()
    }

    /// Every group the object is in, directly or through other groups (Graph's
    /// getMemberGroups), in a stable order.
    pub fn transitive_groups(&self, tenant_id: &str, object_id: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut frontier = vec![object_id.to_ascii_lowercase()];
        while let Some(member) = frontier.pop() {
            for g in self.groups.iter().filter(|g| g.tenant_id == tenant_id) {
                if g.members.iter().any(|m| m.eq_ignore_ascii_case(&member)) && !found.contains(&g.id) {
                    found.push(g.id.clone());
                    frontier.push(g.id.to_ascii_lowercase());
                }
            }
        }
        // Directory order, so tokens and Graph answers repeat exactly.
        self.groups.iter().filter(|g| found.contains(&g.id)).map(|g| g.id.clone()).collect()
    }

    /// Is the caller a tenant administrator (Global Administrator)?
    pub fn is_admin(&self, caller: &Caller) -> bool {
        if caller.is_app {
            self.service_principal_by_id(&caller.tenant_id, &caller.object_id).is_some_and(|sp| sp.tenant_admin)
        } else {
            self.users.iter().any(|u| u.tenant_id == caller.tenant_id && u.id == caller.object_id && u.tenant_admin)
        }
    }

    /// Is the caller a member user (not a guest) of the tenant?
    pub fn is_member_user(&self, caller: &Caller) -> bool {
        !caller.is_app && self.users.iter().any(|u| u.tenant_id == caller.tenant_id && u.id == caller.object_id && u.user_type == UserType::Member)
    }

    /// The delegated scopes `client` holds on `resource` for `user`: admin-consented
    /// grants plus the user's own.
    pub fn granted_scopes(&self, client_sp: &str, resource_sp: &str, user_id: &str) -> Vec<String> {
        let mut scopes: Vec<String> = Vec::new();
        for g in &self.grants {
            let applies = g.client_id == client_sp
                && g.resource_id == resource_sp
                && (g.consent_type == "AllPrincipals" || g.principal_id.as_deref() == Some(user_id));
            if applies {
                for s in g.scope.split_whitespace() {
                    if !scopes.iter().any(|x| x.eq_ignore_ascii_case(s)) {
                        scopes.push(s.to_string());
                    }
                }
            }
        }
        scopes
    }

    /// App roles (by value) assigned to a principal on a resource.
    pub fn assigned_roles(&self, principal_id: &str, resource_sp: &ServicePrincipal) -> Vec<String> {
        self.app_role_assignments
            .iter()
            .filter(|a| a.principal_id == principal_id && a.resource_id == resource_sp.id)
            .filter_map(|a| resource_sp.app_roles.iter().find(|r| r.id == a.app_role_id).and_then(|r| r.value.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{PermissionGrant, hash};

    #[test]
    fn secrets_are_kept_as_lowercase_hex_sha256() {
        // FIPS 180-2's test vector: saved states keep these hashes, so the form must not move.
        assert_eq!(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn a_grant_id_is_the_base64url_of_the_ids_it_joins() {
        // Recorded (azure-cli's test_app_permission_grant): consent for all principals.
        assert_eq!(
            PermissionGrant::id_for("043293df-9b19-46aa-962f-65f957d7bcc8", "a3efc889-f1b7-4532-9e01-91e32d1039f4", None),
            "35MyBBmbqkaWL2X5V9e8yInI76O38TJFngGR4y0QOfQ"
        );
        // As Azure/azure-cli#20974 lists them: consent for one user appends the user's id.
        assert_eq!(
            PermissionGrant::id_for("b25985a8-9d2b-4fde-9fa7-6c4e43a8ddec", "a3efc889-f1b7-4532-9e01-91e32d1039f4", Some("182c8534-f413-487c-91a3-7addc80e35d5")),
            "qIVZsiud3k-fp2xOQ6jd7InI76O38TJFngGR4y0QOfQ0hSwYE_R8SJGjet3IDjXV"
        );
    }

    #[test]
    fn graph_is_also_named_by_the_served_address_and_only_the_latest_one() {
        let mut ids = crate::ids::IdSource::new(1);
        let mut d = super::Directory::seeded(&mut ids, 0);
        let home = d.home_tenant.clone();
        d.name_graph_also("https://127.0.0.1:8443");
        let graph = |d: &super::Directory, name: &str| d.resource(&home, name).map(|sp| sp.app_id.clone());
        assert_eq!(graph(&d, "https://127.0.0.1:8443/").as_deref(), Some(crate::directory::well_known::MICROSOFT_GRAPH));
        d.name_graph_also("https://127.0.0.1:9443/");
        assert_eq!(graph(&d, "https://127.0.0.1:8443"), None, "an earlier port is forgotten");
        assert!(graph(&d, "https://127.0.0.1:9443").is_some());
        assert!(graph(&d, "https://graph.microsoft.com").is_some(), "Graph's own names stay");
    }
}
