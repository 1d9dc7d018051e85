//! Changes to the directory, each with the rule Entra ID applies. Every function takes the
//! caller so privileges are checked where the change is made.

use super::error::DirError;
use super::model::*;
use super::seed::YEAR_MS;
use crate::ids::IdSource;

/// Why a client could not authenticate with a secret.
/// What a `PATCH` of a user changes (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub account_enabled: Option<bool>,
    pub display_name: Option<String>,
    pub given_name: Option<Option<String>>,
    pub surname: Option<Option<String>>,
    pub job_title: Option<Option<String>>,
    pub mail_nickname: Option<String>,
    /// A new password (kept only as its hash).
    pub password: Option<String>,
}

/// What a `PATCH` of a service principal changes (`None`: left as it is).
#[derive(Debug, Clone, Default)]
pub struct ServicePrincipalChanges {
    pub tags: Option<Vec<String>>,
    pub notes: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub app_role_assignment_required: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuthError {
    TenantNotFound,
    UnknownApplication,
    MissingSecret,
    InvalidSecret,
    Disabled,
}

/// Who a client-credentials token is issued to.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub tenant_id: String,
    pub app_id: String,
    pub object_id: String,
    pub display_name: String,
}

/// Why a user could not sign in with a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAuthError {
    NoSuchUser,
    WrongPassword,
    Disabled,
}

/// What Graph gives an application registered without a `signInAudience`.
///
/// Every `az ad app create` recorded against Microsoft Graph (azure-cli's role recordings,
/// 2022) got `AzureADandPersonalMicrosoftAccount` and `api.requestedAccessTokenVersion: 2`.
/// Seed 000's az (2019) registered through Azure AD Graph, whose applications were
/// single-tenant unless `availableToOtherTenants` was set: `AzureADMyOrg`, v1 tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewApplicationDefaults {
    pub sign_in_audience: &'static str,
}

impl NewApplicationDefaults {
    /// Microsoft Graph's default today.
    pub const GRAPH: NewApplicationDefaults = NewApplicationDefaults { sign_in_audience: "AzureADandPersonalMicrosoftAccount" };
    /// Azure AD Graph's, which seed 000's az used.
    pub const AAD_GRAPH: NewApplicationDefaults = NewApplicationDefaults { sign_in_audience: "AzureADMyOrg" };

    pub fn for_era(era: crate::era::Era) -> Self {
        match era {
            crate::era::Era::Today => Self::GRAPH,
            crate::era::Era::Y2019 => Self::AAD_GRAPH,
        }
    }
}

/// Whether a sign-in audience lets personal Microsoft accounts sign in (these need v2 tokens).
pub fn admits_personal_accounts(audience: &str) -> bool {
    matches!(audience, "AzureADandPersonalMicrosoftAccount" | "PersonalMicrosoftAccount")
}

/// The fields of an application a create or PATCH sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ApplicationChanges {
    pub display_name: Option<String>,
    pub identifier_uris: Option<Vec<String>>,
    pub sign_in_audience: Option<String>,
    pub group_membership_claims: Option<Option<String>>,
    pub is_fallback_public_client: Option<Option<bool>>,
    pub public_client_redirect_uris: Option<Vec<String>>,
    pub requested_access_token_version: Option<Option<i64>>,
    pub oauth2_permission_scopes: Option<Vec<PermissionScope>>,
    pub app_roles: Option<Vec<AppRole>>,
    pub required_resource_access: Option<Vec<RequiredResourceAccess>>,
    /// `keyCredentials`, replacing the application's (Graph has no add for them on v1.0
    /// applications but `addKey`, which needs proof of possession).
    pub key_credentials: Option<Vec<KeyCredential>>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

const GROUP_CLAIM_VALUES: &[&str] = &["None", "SecurityGroup", "DirectoryRole", "ApplicationGroup", "All"];

impl Directory {
    /// Checks a client id and secret the way the token service does: the secret may belong
    /// to the application or to its service principal in that tenant.
    pub fn authenticate_client(&self, tenant: &str, client_id: &str, secret: Option<&str>, now_ms: i64) -> Result<ClientIdentity, ClientAuthError> {
        let tenant_id = self.tenant(tenant).ok_or(ClientAuthError::TenantNotFound)?.id.clone();
        self.service_principal(&tenant_id, client_id).ok_or(ClientAuthError::UnknownApplication)?;
        let secret = secret.filter(|s| !s.is_empty()).ok_or(ClientAuthError::MissingSecret)?;
        self.authenticate_client_by_hash(&tenant_id, client_id, &hash(secret), now_ms)
    }

    /// As [`authenticate_client`](Self::authenticate_client), for a holder that kept only the
    /// secret's SHA-256 (a legacy cluster's server app secret).
    pub fn authenticate_client_by_hash(&self, tenant: &str, client_id: &str, secret_sha256: &str, now_ms: i64) -> Result<ClientIdentity, ClientAuthError> {
        let tenant = self.tenant(tenant).ok_or(ClientAuthError::TenantNotFound)?;
        let sp = self.service_principal(&tenant.id, client_id).ok_or(ClientAuthError::UnknownApplication)?;
        let app_creds = self.application_by_app_id(client_id).map(|a| a.password_credentials.as_slice()).unwrap_or_default();
        if !app_creds.iter().chain(&sp.password_credentials).any(|c| c.matches_hash(secret_sha256, now_ms)) {
            return Err(ClientAuthError::InvalidSecret);
        }
        if !sp.account_enabled {
            return Err(ClientAuthError::Disabled);
        }
        Ok(ClientIdentity { tenant_id: tenant.id.clone(), app_id: sp.app_id.clone(), object_id: sp.id.clone(), display_name: sp.display_name.clone() })
    }

    /// Checks a user's sign-in name and password in a tenant.
    pub fn authenticate_user(&self, tenant_id: &str, name: &str, password: &str) -> Result<&User, UserAuthError> {
        let user = self.user_by_sign_in(tenant_id, name).ok_or(UserAuthError::NoSuchUser)?;
        if user.password_sha256 != hash(password) {
            return Err(UserAuthError::WrongPassword);
        }
        if !user.account_enabled {
            return Err(UserAuthError::Disabled);
        }
        Ok(user)
    }

    /// Registering applications: any member user may (the tenant default), and service
    /// principals that are administrators; guests may not.
    fn may_register(&self, caller: &Caller) -> bool {
        self.is_admin(caller) || self.is_member_user(caller)
    }

    /// Changing an application or group: its owners and administrators.
    fn may_change(&self, caller: &Caller, owners: &[String]) -> bool {
        self.is_admin(caller) || owners.iter().any(|o| *o == caller.object_id)
    }

    fn check_identifier_uris(&self, tenant_id: &str, uris: &[String], except_app: Option<&str>) -> Result<(), DirError> {
        let verified: Vec<String> = self.tenants.iter().filter(|t| t.id == tenant_id).map(|t| t.default_domain.to_ascii_lowercase()).collect();
        for uri in uris {
            let lower = uri.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")) {
                let host = rest.split(['/', ':']).next().unwrap_or_default();
                let ok = verified.iter().any(|d| host == d || host.ends_with(&format!(".{d}")));
                if !ok {
                    return Err(DirError::UnverifiedDomain { uri: uri.clone() });
                }
            } else if !(lower.starts_with("api://") || lower.starts_with("urn:") || lower.starts_with("ms-appx://")) {
                return Err(DirError::InvalidValue { property: "identifierUris".into(), entity: "Application", detail: None });
            }
            let taken = self
                .applications
                .iter()
                .any(|a| a.tenant_id == tenant_id && Some(a.id.as_str()) != except_app && a.identifier_uris.iter().any(|u| u.eq_ignore_ascii_case(uri)));
            if taken {
                return Err(DirError::Duplicate {
                    property: "identifierUris",
                    message: "Another object with the same value for property identifierUris already exists.".into(),
                });
            }
        }
        Ok(())
    }

    fn apply(&self, tenant_id: &str, app: &mut Application, c: ApplicationChanges) -> Result<(), DirError> {
        if let Some(uris) = &c.identifier_uris {
            self.check_identifier_uris(tenant_id, uris, Some(&app.id))?;
        }
        if let Some(Some(g)) = &c.group_membership_claims {
            if !g.split(',').all(|v| GROUP_CLAIM_VALUES.iter().any(|ok| ok.eq_ignore_ascii_case(v.trim()))) {
                return Err(DirError::InvalidValue { property: "groupMembershipClaims".into(), entity: "Application", detail: None });
            }
        }
        if let Some(Some(v)) = c.requested_access_token_version {
            if !(1..=2).contains(&v) {
                return Err(DirError::InvalidValue { property: "api.requestedAccessTokenVersion".into(), entity: "Application", detail: None });
            }
        }
        if let Some(scopes) = &c.oauth2_permission_scopes {
            for (i, s) in scopes.iter().enumerate() {
                if scopes[..i].iter().any(|o| o.value.eq_ignore_ascii_case(&s.value) || o.id == s.id) {
                    return Err(DirError::InvalidValue {
                        property: "api.oauth2PermissionScopes".into(),
                        entity: "Application",
                        detail: Some(format!("Permission (scope or role) cannot be duplicated: '{}'.", s.value)),
                    });
                }
            }
        }
        if let Some(v) = c.display_name {
            if v.trim().is_empty() {
                return Err(DirError::InvalidValue { property: "displayName".into(), entity: "Application", detail: None });
            }
            app.display_name = v;
        }
        if let Some(v) = c.identifier_uris {
            app.identifier_uris = v;
        }
        if let Some(v) = c.sign_in_audience {
            app.sign_in_audience = v;
        }
        if let Some(v) = c.group_membership_claims {
            app.group_membership_claims = v;
        }
        if let Some(v) = c.is_fallback_public_client {
            app.is_fallback_public_client = v;
        }
        if let Some(v) = c.public_client_redirect_uris {
            app.public_client_redirect_uris = v;
        }
        if let Some(v) = c.requested_access_token_version {
            app.requested_access_token_version = v;
        }
        if let Some(v) = c.oauth2_permission_scopes {
            app.oauth2_permission_scopes = v;
        }
        if let Some(v) = c.app_roles {
            app.app_roles = v;
        }
        if let Some(v) = c.required_resource_access {
            app.required_resource_access = v;
        }
        if let Some(v) = c.key_credentials {
            app.key_credentials = v;
        }
        for (k, v) in c.extra {
            app.extra.insert(k, v);
        }
        Ok(())
    }

    /// Keeps an application's service principal in step with it (names, scopes, roles).
    fn sync_service_principal(&mut self, app_id: &str) {
        let Some(app) = self.application_by_app_id(app_id).cloned() else { return };
        for sp in self.service_principals.iter_mut().filter(|sp| sp.app_id.eq_ignore_ascii_case(app_id)) {
            sp.display_name = app.display_name.clone();
            sp.service_principal_names = std::iter::once(app.app_id.clone()).chain(app.identifier_uris.iter().cloned()).collect();
            sp.oauth2_permission_scopes = app.oauth2_permission_scopes.clone();
            sp.app_roles = app.app_roles.clone();
            sp.group_membership_claims = app.group_membership_claims.clone();
            sp.public_client = app.is_fallback_public_client == Some(true);
        }
    }

    /// Registers an application. Without a `signInAudience` Graph fills in its era's default
    /// (see [`NewApplicationDefaults`]); an audience that admits personal Microsoft accounts
    /// needs v2 access tokens, so such an app gets `api.requestedAccessTokenVersion: 2`
    /// unless the request set it.
    pub fn create_application(&mut self, ids: &mut IdSource, caller: &Caller, mut changes: ApplicationChanges, now_ms: i64, defaults: NewApplicationDefaults) -> Result<Application, DirError> {
        if changes.sign_in_audience.is_none() {
            changes.sign_in_audience = Some(defaults.sign_in_audience.to_string());
        }
        if changes.requested_access_token_version.is_none() && changes.sign_in_audience.as_deref().is_some_and(admits_personal_accounts) {
            changes.requested_access_token_version = Some(Some(2));
        }
        if !self.may_register(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        if changes.display_name.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(DirError::InvalidValue { property: "displayName".into(), entity: "Application", detail: None });
        }
        let id = ids.guid().to_string();
        let app_id = ids.guid().to_string();
        let owners = if caller.is_app { vec![] } else { vec![caller.object_id.clone()] };
        let mut app = Application::new(id, app_id, &caller.tenant_id, "", owners, now_ms);
        self.apply(&caller.tenant_id, &mut app, changes)?;
        self.applications.push(app.clone());
        Ok(app)
    }

    pub fn update_application(&mut self, caller: &Caller, id: &str, changes: ApplicationChanges) -> Result<(), DirError> {
        let idx = self.app_index(&caller.tenant_id, id)?;
        if !self.may_change(caller, &self.applications[idx].owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        let mut app = self.applications[idx].clone();
        self.apply(&caller.tenant_id, &mut app, changes)?;
        let app_id = app.app_id.clone();
        self.applications[idx] = app;
        self.sync_service_principal(&app_id);
        Ok(())
    }

    pub fn delete_application(&mut self, caller: &Caller, id: &str, now_ms: i64) -> Result<(), DirError> {
        let idx = self.app_index(&caller.tenant_id, id)?;
        if !self.may_change(caller, &self.applications[idx].owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        let app = self.applications.remove(idx);
        // Deleting an application deletes its service principal in the home tenant.
        self.service_principals.retain(|sp| !(sp.tenant_id == app.tenant_id && sp.app_id == app.app_id));
        self.deleted.push(Deleted { deleted_ms: now_ms, object: DeletedObject::Application(app) });
        Ok(())
    }

    /// A user of the tenant by object id or UPN.
    fn user_index(&self, tenant_id: &str, id_or_upn: &str) -> Result<usize, DirError> {
        self.users
            .iter()
            .position(|u| u.tenant_id == tenant_id && (u.id.eq_ignore_ascii_case(id_or_upn) || u.user_principal_name.eq_ignore_ascii_case(id_or_upn)))
            .ok_or_else(|| DirError::NotFound { id: id_or_upn.into() })
    }

    /// `DELETE /users/{id}`: administrators only; the user goes to the deleted items.
    pub fn delete_user(&mut self, caller: &Caller, id_or_upn: &str, now_ms: i64) -> Result<(), DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let idx = self.user_index(&caller.tenant_id, id_or_upn)?;
        let user = self.users.remove(idx);
        for g in self.groups.iter_mut() {
            g.members.retain(|m| !m.eq_ignore_ascii_case(&user.id));
        }
        self.deleted.push(Deleted { deleted_ms: now_ms, object: DeletedObject::User(user) });
        Ok(())
    }

    /// A deleted item, if the caller may see it (directory readers).
    pub fn deleted_item(&self, tenant_id: &str, id: &str) -> Option<&Deleted> {
        self.deleted.iter().find(|d| d.tenant_id() == tenant_id && d.id().eq_ignore_ascii_case(id))
    }

    /// `DELETE /directory/deletedItems/{id}`: gone for good. Administrators, or an owner of
    /// a deleted application or group.
    pub fn purge_deleted(&mut self, caller: &Caller, id: &str) -> Result<(), DirError> {
        let d = self.deleted_item(&caller.tenant_id, id).ok_or_else(|| DirError::NotFound { id: id.into() })?;
        let owners = match &d.object {
            DeletedObject::Application(a) => a.owners.clone(),
            DeletedObject::Group(g) => g.owners.clone(),
            DeletedObject::User(_) => Vec::new(),
        };
        if !self.may_change(caller, &owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        self.deleted.retain(|x| !(x.tenant_id() == caller.tenant_id && x.id().eq_ignore_ascii_case(id)));
        Ok(())
    }

    /// `POST /directory/deletedItems/{id}/restore`: back where it was (an application's
    /// service principal is not restored with it, as in Entra ID).
    pub fn restore_deleted(&mut self, caller: &Caller, id: &str) -> Result<DeletedObject, DirError> {
        let d = self.deleted_item(&caller.tenant_id, id).ok_or_else(|| DirError::NotFound { id: id.into() })?.clone();
        self.purge_deleted(caller, id)?;
        match d.object.clone() {
            DeletedObject::Application(a) => self.applications.push(a),
            DeletedObject::Group(g) => self.groups.push(g),
            DeletedObject::User(u) => self.users.push(u),
        }
        Ok(d.object)
    }

    /// Deletes a service principal: tenant administrators only.
    /// `PATCH /servicePrincipals/{id}`: administrators and the application's owners.
    pub fn update_service_principal(&mut self, caller: &Caller, id: &str, account_enabled: Option<bool>, settings: ServicePrincipalChanges) -> Result<(), DirError> {
        let idx = self.sp_index(&caller.tenant_id, id)?;
        let owners = self.application_by_app_id(&self.service_principals[idx].app_id).map(|a| a.owners.clone()).unwrap_or_default();
        if !self.may_change(caller, &owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        let sp = &mut self.service_principals[idx];
        if let Some(e) = account_enabled {
            sp.account_enabled = e;
        }
        let s = &mut sp.settings;
        if let Some(t) = settings.tags {
            s.tags = t;
        }
        if let Some(n) = settings.notes {
            s.notes = n;
        }
        if let Some(d) = settings.description {
            s.description = d;
        }
        if let Some(r) = settings.app_role_assignment_required {
            s.app_role_assignment_required = r;
        }
        Ok(())
    }

    pub fn delete_service_principal(&mut self, caller: &Caller, id: &str) -> Result<(), DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let before = self.service_principals.len();
        self.service_principals.retain(|sp| !(sp.tenant_id == caller.tenant_id && sp.id.eq_ignore_ascii_case(id)));
        if self.service_principals.len() == before {
            return Err(DirError::NotFound { id: id.into() });
        }
        Ok(())
    }

    /// Deletes a group, and its membership in other groups: administrators and its owners.
    pub fn delete_group(&mut self, caller: &Caller, id: &str, now_ms: i64) -> Result<(), DirError> {
        let g = self.group(&caller.tenant_id, id).ok_or_else(|| DirError::NotFound { id: id.into() })?.clone();
        if !(self.is_admin(caller) || g.owners.contains(&caller.object_id)) {
            return Err(DirError::InsufficientPrivileges);
        }
        self.groups.retain(|x| x.id != g.id);
        for other in self.groups.iter_mut() {
            other.members.retain(|m| !m.eq_ignore_ascii_case(&g.id));
        }
        self.deleted.push(Deleted { deleted_ms: now_ms, object: DeletedObject::Group(g) });
        Ok(())
    }

    fn app_index(&self, tenant_id: &str, id: &str) -> Result<usize, DirError> {
        self.applications
            .iter()
            .position(|a| a.tenant_id == tenant_id && a.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| DirError::NotFound { id: id.into() })
    }

    fn sp_index(&self, tenant_id: &str, id: &str) -> Result<usize, DirError> {
        self.service_principals
            .iter()
            .position(|s| s.tenant_id == tenant_id && s.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| DirError::NotFound { id: id.into() })
    }

    /// `addPassword` on an application or service principal: a new secret, returned once.
    pub fn add_password(
        &mut self,
        ids: &mut IdSource,
        caller: &Caller,
        on_service_principal: bool,
        id: &str,
        display_name: Option<String>,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<(PasswordCredential, String), DirError> {
        let secret = ids.client_secret();
        let start = start_ms.unwrap_or(now_ms);
        let cred = PasswordCredential::new(ids.guid().to_string(), display_name, &secret, start, end_ms.unwrap_or(start + 2 * YEAR_MS));
        if on_service_principal {
            let idx = self.sp_index(&caller.tenant_id, id)?;
            let owners = self.application_by_app_id(&self.service_principals[idx].app_id).map(|a| a.owners.clone()).unwrap_or_default();
            if !self.may_change(caller, &owners) {
                return Err(DirError::InsufficientPrivileges);
            }
            self.service_principals[idx].password_credentials.push(cred.clone());
        } else {
            let idx = self.app_index(&caller.tenant_id, id)?;
            if !self.may_change(caller, &self.applications[idx].owners) {
                return Err(DirError::InsufficientPrivileges);
            }
            self.applications[idx].password_credentials.push(cred.clone());
        }
        Ok((cred, secret))
    }

    pub fn remove_password(&mut self, caller: &Caller, on_service_principal: bool, id: &str, key_id: &str) -> Result<(), DirError> {
        let creds = if on_service_principal {
            let idx = self.sp_index(&caller.tenant_id, id)?;
            let owners = self.application_by_app_id(&self.service_principals[idx].app_id).map(|a| a.owners.clone()).unwrap_or_default();
            if !self.may_change(caller, &owners) {
                return Err(DirError::InsufficientPrivileges);
            }
            &mut self.service_principals[idx].password_credentials
        } else {
            let idx = self.app_index(&caller.tenant_id, id)?;
            if !self.may_change(caller, &self.applications[idx].owners) {
                return Err(DirError::InsufficientPrivileges);
            }
            &mut self.applications[idx].password_credentials
        };
        let before = creds.len();
        creds.retain(|c| !c.key_id.eq_ignore_ascii_case(key_id));
        if creds.len() == before {
            return Err(DirError::NoSuchKey { key_id: key_id.into() });
        }
        Ok(())
    }

    /// `POST /servicePrincipals {"appId"}`: one per application per tenant.
    pub fn create_service_principal(&mut self, ids: &mut IdSource, caller: &Caller, app_id: &str, now_ms: i64) -> Result<ServicePrincipal, DirError> {
        if !self.may_register(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let app = self.application_by_app_id(app_id).cloned().ok_or_else(|| DirError::NoSuchApplication { app_id: app_id.into() })?;
        if app.tenant_id != caller.tenant_id && app.sign_in_audience == "AzureADMyOrg" {
            return Err(DirError::NoSuchApplication { app_id: app_id.into() });
        }
        if self.service_principal(&caller.tenant_id, app_id).is_some() {
            return Err(DirError::Duplicate {
                property: "servicePrincipalNames",
                message: format!("The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."),
            });
        }
        let sp = ServicePrincipal {
            id: ids.guid().to_string(),
            app_id: app.app_id.clone(),
            tenant_id: caller.tenant_id.clone(),
            app_owner_tenant_id: app.tenant_id.clone(),
            display_name: app.display_name.clone(),
            account_enabled: true,
            service_principal_names: std::iter::once(app.app_id.clone()).chain(app.identifier_uris.iter().cloned()).collect(),
            password_credentials: vec![],
            tenant_admin: false,
            oauth2_permission_scopes: app.oauth2_permission_scopes.clone(),
            app_roles: app.app_roles.clone(),
            group_membership_claims: app.group_membership_claims.clone(),
            public_client: app.is_fallback_public_client == Some(true),
            created_ms: now_ms,
            settings: Default::default(),
            owners: vec![],
        };
        self.service_principals.push(sp.clone());
        Ok(sp)
    }

    /// A delegated permission grant. Consent for all principals (admin consent) takes an
    /// administrator; a user may consent for themself to scopes users may consent to.
    pub fn create_grant(&mut self, ids: &mut IdSource, caller: &Caller, mut grant: PermissionGrant) -> Result<PermissionGrant, DirError> {
        let client = self.service_principal_by_id(&caller.tenant_id, &grant.client_id).ok_or_else(|| DirError::NotFound { id: grant.client_id.clone() })?;
        let _ = client;
        let resource = self.service_principal_by_id(&caller.tenant_id, &grant.resource_id).cloned().ok_or_else(|| DirError::NotFound { id: grant.resource_id.clone() })?;
        match grant.consent_type.as_str() {
            "AllPrincipals" => {
                if !self.is_admin(caller) {
                    return Err(DirError::InsufficientPrivileges);
                }
                grant.principal_id = None;
            }
            "Principal" => {
                let principal = grant.principal_id.clone().ok_or(DirError::Required { property: "principalId", entity: "OAuth2PermissionGrant" })?;
                let own = principal == caller.object_id && !caller.is_app;
                let user_consentable = grant
                    .scope
                    .split_whitespace()
                    .all(|s| resource.oauth2_permission_scopes.iter().any(|p| p.value.eq_ignore_ascii_case(s) && p.kind == "User"));
                if !(self.is_admin(caller) || (own && user_consentable)) {
                    return Err(DirError::InsufficientPrivileges);
                }
            }
            other => {
                return Err(DirError::InvalidValue { property: "consentType".into(), entity: "OAuth2PermissionGrant", detail: Some(format!("'{other}' is not AllPrincipals or Principal.")) });
            }
        }
        grant.id = PermissionGrant::new_id(ids, &grant.client_id, &grant.resource_id, grant.principal_id.as_deref());
        if self.grants.iter().any(|g| g.id == grant.id) {
            return Err(DirError::GrantExists);
        }
        self.grants.push(grant.clone());
        Ok(grant)
    }

    pub fn update_grant_scope(&mut self, caller: &Caller, id: &str, scope: String) -> Result<(), DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let g = self.grants.iter_mut().find(|g| g.id == id).ok_or_else(|| DirError::NotFound { id: id.into() })?;
        g.scope = scope;
        Ok(())
    }

    pub fn delete_grant(&mut self, caller: &Caller, id: &str) -> Result<(), DirError> {
        let g = self.grants.iter().position(|g| g.id == id).ok_or_else(|| DirError::NotFound { id: id.into() })?;
        let own = self.grants[g].principal_id.as_deref() == Some(caller.object_id.as_str());
        if !(self.is_admin(caller) || own) {
            return Err(DirError::InsufficientPrivileges);
        }
        self.grants.remove(g);
        Ok(())
    }

    /// Assigns an app role of `resource_sp` (application permission) to a principal: admin consent.
    pub fn assign_app_role(&mut self, ids: &mut IdSource, caller: &Caller, resource_sp: &str, principal_id: &str, app_role_id: &str, now_ms: i64) -> Result<AppRoleAssignment, DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let resource = self.service_principal_by_id(&caller.tenant_id, resource_sp).cloned().ok_or_else(|| DirError::NotFound { id: resource_sp.into() })?;
        if !resource.app_roles.iter().any(|r| r.id.eq_ignore_ascii_case(app_role_id)) && app_role_id != "00000000-0000-0000-0000-000000000000" {
            return Err(DirError::InvalidValue {
                property: "appRoleId".into(),
                entity: "AppRoleAssignment",
                detail: Some("Permission being assigned was not found on application".into()),
            });
        }
        let (ptype, pname) = match self.object(&caller.tenant_id, principal_id) {
            Some(DirectoryObject::ServicePrincipal(sp)) => ("ServicePrincipal", sp.display_name.clone()),
            Some(DirectoryObject::User(u)) => ("User", u.display_name.clone()),
            Some(DirectoryObject::Group(g)) => ("Group", g.display_name.clone()),
            _ => return Err(DirError::NotFound { id: principal_id.into() }),
        };
        if let Some(existing) = self.app_role_assignments.iter().find(|a| a.principal_id == principal_id && a.resource_id == resource.id && a.app_role_id.eq_ignore_ascii_case(app_role_id)) {
            let _ = existing;
            return Err(DirError::Duplicate { property: "appRoleAssignment", message: "Permission being assigned already exists on the object".into() });
        }
        let a = AppRoleAssignment {
            id: ids.base64url(43),
            principal_id: principal_id.into(),
            principal_type: ptype.into(),
            principal_display_name: pname,
            resource_id: resource.id.clone(),
            resource_display_name: resource.display_name.clone(),
            app_role_id: app_role_id.to_ascii_lowercase(),
            created_ms: now_ms,
        };
        self.app_role_assignments.push(a.clone());
        Ok(a)
    }

    /// Admin consent for an application, as the portal's "Grant admin consent" does: every
    /// delegated permission it requires becomes an AllPrincipals grant, every application
    /// permission an app-role assignment.
    pub fn admin_consent(&mut self, ids: &mut IdSource, caller: &Caller, app_id: &str, now_ms: i64) -> Result<(), DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let app = self.application_by_app_id(app_id).cloned().ok_or_else(|| DirError::NotFound { id: app_id.into() })?;
        let client = match self.service_principal(&caller.tenant_id, app_id) {
            Some(sp) => sp.clone(),
            None => self.create_service_principal(ids, caller, app_id, now_ms)?,
        };
        for rra in &app.required_resource_access {
            let Some(resource) = self.service_principal(&caller.tenant_id, &rra.resource_app_id).cloned() else { continue };
            let scopes: Vec<String> = rra
                .resource_access
                .iter()
                .filter(|a| a.kind == "Scope")
                .filter_map(|a| resource.oauth2_permission_scopes.iter().find(|s| s.id.eq_ignore_ascii_case(&a.id)).map(|s| s.value.clone()))
                .collect();
            if !scopes.is_empty() {
                match self.grants.iter_mut().find(|g| g.client_id == client.id && g.resource_id == resource.id && g.consent_type == "AllPrincipals") {
                    Some(g) => {
                        for s in scopes {
                            if !g.scope.split_whitespace().any(|x| x.eq_ignore_ascii_case(&s)) {
                                g.scope = format!("{} {s}", g.scope).trim().to_string();
                            }
                        }
                    }
                    None => {
                        let id = PermissionGrant::new_id(ids, &client.id, &resource.id, None);
                        self.grants.push(PermissionGrant { id, client_id: client.id.clone(), consent_type: "AllPrincipals".into(), principal_id: None, resource_id: resource.id.clone(), scope: scopes.join(" ") });
                    }
                }
            }
            for role in rra.resource_access.iter().filter(|a| a.kind == "Role") {
                if resource.app_roles.iter().any(|r| r.id.eq_ignore_ascii_case(&role.id)) {
                    match self.assign_app_role(ids, caller, &resource.id, &client.id, &role.id, now_ms) {
                        Ok(_) | Err(DirError::Duplicate { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    pub fn create_group(&mut self, ids: &mut IdSource, caller: &Caller, display_name: String, mail_nickname: String, description: Option<String>, security_enabled: bool, mail_enabled: bool, now_ms: i64) -> Result<Group, DirError> {
        if !self.may_register(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        if display_name.trim().is_empty() {
            return Err(DirError::Required { property: "displayName", entity: "Group" });
        }
        if mail_nickname.trim().is_empty() {
            return Err(DirError::Required { property: "mailNickname", entity: "Group" });
        }
        let g = Group {
            id: ids.guid().to_string(),
            tenant_id: caller.tenant_id.clone(),
            display_name,
            mail_nickname,
            description,
            security_enabled,
            mail_enabled,
            members: vec![],
            owners: if caller.is_app { vec![] } else { vec![caller.object_id.clone()] },
            created_ms: now_ms,
        };
        self.groups.push(g.clone());
        Ok(g)
    }

    pub fn add_member(&mut self, caller: &Caller, group_id: &str, member_id: &str) -> Result<(), DirError> {
        let gi = self.groups.iter().position(|g| g.tenant_id == caller.tenant_id && g.id.eq_ignore_ascii_case(group_id)).ok_or_else(|| DirError::NotFound { id: group_id.into() })?;
        if !self.may_change(caller, &self.groups[gi].owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        if self.object(&caller.tenant_id, member_id).is_none() {
            return Err(DirError::NotFound { id: member_id.into() });
        }
        let g = &mut self.groups[gi];
        if g.members.iter().any(|m| m.eq_ignore_ascii_case(member_id)) {
            return Err(DirError::AlreadyMember);
        }
        g.members.push(member_id.to_ascii_lowercase());
        Ok(())
    }

    /// The owners of an application or a group (by object id), for reading or changing.
    fn owners_mut(&mut self, tenant_id: &str, kind: Owned, id: &str) -> Option<&mut Vec<String>> {
        match kind {
            Owned::Application => self.applications.iter_mut().find(|a| a.tenant_id == tenant_id && a.id.eq_ignore_ascii_case(id)).map(|a| &mut a.owners),
            Owned::Group => self.groups.iter_mut().find(|g| g.tenant_id == tenant_id && g.id.eq_ignore_ascii_case(id)).map(|g| &mut g.owners),
            Owned::ServicePrincipal => self.service_principals.iter_mut().find(|sp| sp.tenant_id == tenant_id && sp.id.eq_ignore_ascii_case(id)).map(|sp| &mut sp.owners),
        }
    }

    /// The owners of an application or a group, as object ids.
    pub fn owners(&self, tenant_id: &str, kind: Owned, id: &str) -> Result<Vec<String>, DirError> {
        let owners = match kind {
            Owned::Application => self.application(tenant_id, id).map(|a| &a.owners),
            Owned::Group => self.group(tenant_id, id).map(|g| &g.owners),
            Owned::ServicePrincipal => self.service_principal_by_id(tenant_id, id).map(|sp| &sp.owners),
        };
        owners.cloned().ok_or_else(|| DirError::NotFound { id: id.into() })
    }

    /// Adds a user or service principal as an owner: the object's owners and administrators may.
    pub fn add_owner(&mut self, caller: &Caller, kind: Owned, id: &str, owner_id: &str) -> Result<(), DirError> {
        let owners = self.owners(&caller.tenant_id, kind, id)?;
        if !self.may_change(caller, &owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        match self.object(&caller.tenant_id, owner_id) {
            Some(DirectoryObject::User(_) | DirectoryObject::ServicePrincipal(_)) => {}
            _ => return Err(DirError::NotFound { id: owner_id.into() }),
        }
        if owners.iter().any(|o| o.eq_ignore_ascii_case(owner_id)) {
            return Err(DirError::AlreadyOwner);
        }
        self.owners_mut(&caller.tenant_id, kind, id).expect("found above").push(owner_id.to_ascii_lowercase());
        Ok(())
    }

    pub fn remove_owner(&mut self, caller: &Caller, kind: Owned, id: &str, owner_id: &str) -> Result<(), DirError> {
        let owners = self.owners(&caller.tenant_id, kind, id)?;
        if !self.may_change(caller, &owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        let list = self.owners_mut(&caller.tenant_id, kind, id).expect("found above");
        let before = list.len();
        list.retain(|o| !o.eq_ignore_ascii_case(owner_id));
        if list.len() == before {
            return Err(DirError::NotFound { id: owner_id.into() });
        }
        Ok(())
    }

    pub fn remove_member(&mut self, caller: &Caller, group_id: &str, member_id: &str) -> Result<(), DirError> {
        let gi = self.groups.iter().position(|g| g.tenant_id == caller.tenant_id && g.id.eq_ignore_ascii_case(group_id)).ok_or_else(|| DirError::NotFound { id: group_id.into() })?;
        if !self.may_change(caller, &self.groups[gi].owners) {
            return Err(DirError::InsufficientPrivileges);
        }
        let g = &mut self.groups[gi];
        let before = g.members.len();
        g.members.retain(|m| !m.eq_ignore_ascii_case(member_id));
        if g.members.len() == before {
            return Err(DirError::NotFound { id: member_id.into() });
        }
        Ok(())
    }

    /// `PATCH /users/{id}`: administrators only.
    pub fn update_user(&mut self, caller: &Caller, id_or_upn: &str, changes: UserChanges) -> Result<(), DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let idx = self.user_index(&caller.tenant_id, id_or_upn)?;
        let u = &mut self.users[idx];
        if let Some(e) = changes.account_enabled {
            u.account_enabled = e;
        }
        if let Some(n) = changes.display_name {
            u.display_name = n;
        }
        if let Some(g) = changes.given_name {
            u.given_name = g;
        }
        if let Some(sn) = changes.surname {
            u.surname = sn;
        }
        if let Some(j) = changes.job_title {
            u.job_title = j;
        }
        if let Some(m) = changes.mail_nickname {
            u.mail_nickname = m;
        }
        if let Some(p) = changes.password {
            u.password_sha256 = hash(&p);
        }
        Ok(())
    }

    pub fn create_user(&mut self, ids: &mut IdSource, caller: &Caller, upn: String, display_name: String, mail_nickname: String, password: &str, enabled: bool) -> Result<User, DirError> {
        if !self.is_admin(caller) {
            return Err(DirError::InsufficientPrivileges);
        }
        let domain = upn.split('@').nth(1).unwrap_or_default().to_ascii_lowercase();
        let verified = self.tenants.iter().any(|t| t.id == caller.tenant_id && t.default_domain.eq_ignore_ascii_case(&domain));
        if !verified {
            return Err(DirError::InvalidValue {
                property: "userPrincipalName".into(),
                entity: "User",
                detail: Some("The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.".into()),
            });
        }
        if self.user(&caller.tenant_id, &upn).is_some() {
            return Err(DirError::Duplicate { property: "userPrincipalName", message: "Another object with the same value for property userPrincipalName already exists.".into() });
        }
        let u = User {
            id: ids.guid().to_string(),
            tenant_id: caller.tenant_id.clone(),
            user_principal_name: upn.clone(),
            display_name,
            given_name: None,
            surname: None,
            mail_nickname,
            user_type: UserType::Member,
            home_tenant_id: caller.tenant_id.clone(),
            home_upn: upn,
            account_enabled: enabled,
            password_sha256: hash(password),
            tenant_admin: false,
            job_title: None,
        };
        self.users.push(u.clone());
        Ok(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::seed::persona_password;

    fn setup() -> (Directory, IdSource) {
        let mut ids = IdSource::new(5);
        (Directory::seeded(&mut ids, 0), ids)
    }

    fn as_user(d: &Directory, upn: &str) -> Caller {
        let u = d.users.iter().find(|u| u.user_principal_name == upn).unwrap();
        Caller { tenant_id: u.tenant_id.clone(), object_id: u.id.clone(), is_app: false }
    }

    fn app(name: &str, uris: &[&str]) -> ApplicationChanges {
        ApplicationChanges { display_name: Some(name.into()), identifier_uris: Some(uris.iter().map(|s| s.to_string()).collect()), ..Default::default() }
    }

    #[test]
    fn identifier_uris_need_api_scheme_or_a_verified_domain_and_must_be_unique() {
        let (mut d, mut ids) = setup();
        let alice = as_user(&d, "alice@contoso.onmicrosoft.com");
        assert_eq!(
            d.create_application(&mut ids, &alice, app("S", &["https://myAKSServer"]), 0, NewApplicationDefaults::GRAPH).unwrap_err(),
            DirError::UnverifiedDomain { uri: "https://myAKSServer".into() }
        );
        assert!(d.create_application(&mut ids, &alice, app("S", &["https://contoso.onmicrosoft.com/s"]), 0, NewApplicationDefaults::GRAPH).is_ok());
        assert!(d.create_application(&mut ids, &alice, app("S2", &["api://myAKSServer"]), 0, NewApplicationDefaults::GRAPH).is_ok());
        assert!(matches!(d.create_application(&mut ids, &alice, app("S3", &["api://myAKSServer"]), 0, NewApplicationDefaults::GRAPH).unwrap_err(), DirError::Duplicate { .. }));
    }

    #[test]
    fn an_administrator_changes_a_users_mail_nickname() {
        let (mut d, _) = setup();
        let admin = as_user(&d, "admin@contoso.onmicrosoft.com");
        let changes = UserChanges { mail_nickname: Some("bobby".into()), ..Default::default() };
        d.update_user(&admin, "bob@contoso.onmicrosoft.com", changes).unwrap();
        assert_eq!(d.users.iter().find(|u| u.user_principal_name == "bob@contoso.onmicrosoft.com").unwrap().mail_nickname, "bobby");
    }

    #[test]
    fn an_application_without_an_audience_gets_the_eras_default_and_v2_tokens_with_personal_accounts() {
        let (mut d, mut ids) = setup();
        let alice = as_user(&d, "alice@contoso.onmicrosoft.com");
        // Microsoft Graph (every recorded `az ad app create`): personal accounts too, v2 tokens.
        let a = d.create_application(&mut ids, &alice, app("A", &[]), 0, NewApplicationDefaults::GRAPH).unwrap();
        assert_eq!((a.sign_in_audience.as_str(), a.requested_access_token_version), ("AzureADandPersonalMicrosoftAccount", Some(2)));
        // Azure AD Graph (seed 000's az): single tenant, v1 tokens.
        let b = d.create_application(&mut ids, &alice, app("B", &[]), 0, NewApplicationDefaults::AAD_GRAPH).unwrap();
        assert_eq!((b.sign_in_audience.as_str(), b.requested_access_token_version), ("AzureADMyOrg", None));
        // An audience the request names is kept; a work-or-school one leaves the version unset.
        let mine = ApplicationChanges { sign_in_audience: Some("AzureADMyOrg".into()), ..app("C", &[]) };
        let c = d.create_application(&mut ids, &alice, mine, 0, NewApplicationDefaults::GRAPH).unwrap();
        assert_eq!((c.sign_in_audience.as_str(), c.requested_access_token_version), ("AzureADMyOrg", None));
        let multi = ApplicationChanges { sign_in_audience: Some("AzureADMultipleOrgs".into()), ..app("D", &[]) };
        assert_eq!(d.create_application(&mut ids, &alice, multi, 0, NewApplicationDefaults::GRAPH).unwrap().requested_access_token_version, None);
        // Personal accounts named explicitly need v2 as well; a version the request sets stays.
        let personal = ApplicationChanges { sign_in_audience: Some("PersonalMicrosoftAccount".into()), ..app("E", &[]) };
        assert_eq!(d.create_application(&mut ids, &alice, personal, 0, NewApplicationDefaults::AAD_GRAPH).unwrap().requested_access_token_version, Some(2));
        let v1 = ApplicationChanges { requested_access_token_version: Some(Some(1)), ..app("F", &[]) };
        assert_eq!(d.create_application(&mut ids, &alice, v1, 0, NewApplicationDefaults::GRAPH).unwrap().requested_access_token_version, Some(1));
        // An update without an audience leaves it alone.
        d.update_application(&alice, &c.id, ApplicationChanges { display_name: Some("C2".into()), ..Default::default() }).unwrap();
        assert_eq!(d.application(&c.tenant_id, &c.id).unwrap().sign_in_audience, "AzureADMyOrg");
    }

    /// A directory where alice made a client app and its service principal; alice, the admin,
    /// the client's service principal and Microsoft Graph's service principal id.
    fn client_of_graph() -> (Directory, IdSource, Caller, Caller, ServicePrincipal, String) {
        let (mut d, mut ids) = setup();
        let home = d.home_tenant.clone();
        let alice = as_user(&d, "alice@contoso.onmicrosoft.com");
        let admin = as_user(&d, "admin@contoso.onmicrosoft.com");
        let created = d.create_application(&mut ids, &alice, app("client", &[]), 0, NewApplicationDefaults::GRAPH).unwrap();
        let sp = d.create_service_principal(&mut ids, &alice, &created.app_id, 0).unwrap();
        let graph = d.service_principal(&home, crate::directory::well_known::MICROSOFT_GRAPH).unwrap().id.clone();
        (d, ids, alice, admin, sp, graph)
    }

    /// A grant of Graph `scope` to the client, for everyone or for `principal`.
    fn grant_to_graph(sp: &ServicePrincipal, graph: &str, consent: &str, principal: Option<String>, scope: &str) -> PermissionGrant {
        PermissionGrant { id: String::new(), client_id: sp.id.clone(), consent_type: consent.into(), principal_id: principal, resource_id: graph.to_string(), scope: scope.into() }
    }

    #[test]
    fn only_an_admin_consents_for_everyone_and_users_consent_for_themselves_to_user_scopes() {
        let (mut d, mut ids, alice, admin, sp, graph) = client_of_graph();
        let grant = |consent: &str, principal: Option<String>, scope: &str| grant_to_graph(&sp, &graph, consent, principal, scope);
        assert_eq!(d.create_grant(&mut ids, &alice, grant("AllPrincipals", None, "User.Read")).unwrap_err(), DirError::InsufficientPrivileges);
        assert_eq!(
            d.create_grant(&mut ids, &alice, grant("Principal", Some(alice.object_id.clone()), "Directory.Read.All")).unwrap_err(),
            DirError::InsufficientPrivileges,
            "an admin-only scope"
        );
        assert!(d.create_grant(&mut ids, &alice, grant("Principal", Some(alice.object_id.clone()), "User.Read")).is_ok());
        assert!(d.create_grant(&mut ids, &admin, grant("AllPrincipals", None, "User.Read Directory.Read.All")).is_ok());
        let bob = as_user(&d, "bob@contoso.onmicrosoft.com");
        assert_eq!(d.granted_scopes(&sp.id, &graph, &bob.object_id), vec!["User.Read", "Directory.Read.All"]);
    }

    #[test]
    fn one_grant_per_client_resource_and_principal_and_its_id_survives_a_remake() {
        let (mut d, mut ids, alice, admin, sp, graph) = client_of_graph();
        let grant = |consent: &str, principal: Option<String>, scope: &str| grant_to_graph(&sp, &graph, consent, principal, scope);
        let first = d.create_grant(&mut ids, &admin, grant("AllPrincipals", None, "User.Read")).unwrap();
        assert_eq!(first.id, PermissionGrant::id_for(&sp.id, &graph, None));
        assert_eq!(d.create_grant(&mut ids, &admin, grant("AllPrincipals", None, "Directory.Read.All")).unwrap_err(), DirError::GrantExists);
        // Consent for one user is another grant, with the user's id in its own.
        let mine = d.create_grant(&mut ids, &alice, grant("Principal", Some(alice.object_id.clone()), "User.Read")).unwrap();
        assert_eq!(mine.id, PermissionGrant::id_for(&sp.id, &graph, Some(&alice.object_id)));
        d.delete_grant(&admin, &first.id).unwrap();
        let again = d.create_grant(&mut ids, &admin, grant("AllPrincipals", None, "User.Read Directory.Read.All")).unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(d.grants.iter().filter(|g| g.client_id == sp.id).count(), 2);
    }

    #[test]
    fn admin_consent_turns_required_access_into_grants_and_role_assignments() {
        let (mut d, mut ids) = setup();
        let home = d.home_tenant.clone();
        let admin = as_user(&d, "admin@contoso.onmicrosoft.com");
        let alice = as_user(&d, "alice@contoso.onmicrosoft.com");
        let mut c = app("server", &["api://server"]);
        c.required_resource_access = Some(vec![RequiredResourceAccess {
            resource_app_id: crate::directory::well_known::MICROSOFT_GRAPH.into(),
            resource_access: vec![
                ResourceAccess { id: crate::directory::well_known::GRAPH_USER_READ.into(), kind: "Scope".into() },
                ResourceAccess { id: crate::directory::well_known::GRAPH_DIRECTORY_READ_ALL_ROLE.into(), kind: "Role".into() },
            ],
        }]);
        let server = d.create_application(&mut ids, &alice, c, 0, NewApplicationDefaults::GRAPH).unwrap();
        assert_eq!(d.admin_consent(&mut ids, &alice, &server.app_id, 0).unwrap_err(), DirError::InsufficientPrivileges);
        d.admin_consent(&mut ids, &admin, &server.app_id, 0).unwrap();
        let sp = d.service_principal(&home, &server.app_id).unwrap().clone();
        let graph = d.service_principal(&home, crate::directory::well_known::MICROSOFT_GRAPH).unwrap().clone();
        assert_eq!(d.granted_scopes(&sp.id, &graph.id, "anyone"), vec!["User.Read"]);
        assert_eq!(d.assigned_roles(&sp.id, &graph), vec!["Directory.Read.All"]);
    }

    #[test]
    fn groups_membership_is_transitive_and_duplicates_are_refused() {
        let (mut d, mut ids) = setup();
        let alice = as_user(&d, "alice@contoso.onmicrosoft.com");
        let outer = d.create_group(&mut ids, &alice, "outer".into(), "outer".into(), None, true, false, 0).unwrap();
        let inner = d.create_group(&mut ids, &alice, "inner".into(), "inner".into(), None, true, false, 0).unwrap();
        d.add_member(&alice, &inner.id, &alice.object_id).unwrap();
        d.add_member(&alice, &outer.id, &inner.id).unwrap();
        assert_eq!(d.add_member(&alice, &inner.id, &alice.object_id).unwrap_err(), DirError::AlreadyMember);
        assert_eq!(d.transitive_groups(&alice.tenant_id, &alice.object_id), vec![outer.id.clone(), inner.id.clone()]);
        let bob = as_user(&d, "bob@contoso.onmicrosoft.com");
        assert_eq!(d.add_member(&bob, &inner.id, &bob.object_id).unwrap_err(), DirError::InsufficientPrivileges, "bob owns neither group");
        d.remove_member(&alice, &inner.id, &alice.object_id).unwrap();
        assert!(d.transitive_groups(&alice.tenant_id, &alice.object_id).is_empty());
    }

    #[test]
    fn personas_sign_in_with_their_seeded_passwords() {
        let (d, _) = setup();
        let home = d.home_tenant.clone();
        let pw = persona_password(5, "alice@contoso.onmicrosoft.com");
        assert!(d.authenticate_user(&home, "alice@contoso.onmicrosoft.com", &pw).is_ok());
        assert_eq!(d.authenticate_user(&home, "alice@contoso.onmicrosoft.com", "nope").unwrap_err(), UserAuthError::WrongPassword);
        assert_eq!(d.authenticate_user(&home, "zed@contoso.onmicrosoft.com", &pw).unwrap_err(), UserAuthError::NoSuchUser);
        // Carol signs in to Contoso as a guest with her Fabrikam name.
        let carol = d.authenticate_user(&home, "carol@fabrikam.onmicrosoft.com", &persona_password(5, "carol@fabrikam.onmicrosoft.com")).unwrap();
        assert_eq!(carol.user_type, UserType::Guest);
        let crowded = d.users.iter().find(|u| u.user_principal_name.starts_with("crowded@")).unwrap();
        assert_eq!(d.transitive_groups(&home, &crowded.id).len(), 201);
    }
}
