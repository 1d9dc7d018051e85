//! Directory state and its rules, in plain Rust: no HTTP here.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::well_known::FIRST_PARTY;
use crate::ids::IdSource;

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
        PasswordCredential {
            key_id,
            display_name,
            hint: secret.chars().take(3).collect(),
            secret_sha256: hash_secret(secret),
            start_ms,
            end_ms,
        }
    }

    pub fn matches(&self, secret: &str, now_ms: i64) -> bool {
        self.secret_sha256 == hash_secret(secret) && self.start_ms <= now_ms && now_ms < self.end_ms
    }
}

fn hash_secret(secret: &str) -> String {
    hex_lower(&Sha256::digest(secret.as_bytes()))
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Application {
    /// The object id (Graph `id`).
    pub id: String,
    pub app_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub identifier_uris: Vec<String>,
    pub password_credentials: Vec<PasswordCredential>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServicePrincipal {
    pub id: String,
    pub app_id: String,
    pub tenant_id: String,
    pub display_name: String,
    pub account_enabled: bool,
    pub service_principal_names: Vec<String>,
    pub password_credentials: Vec<PasswordCredential>,
    /// Holds the Global Administrator directory role.
    pub tenant_admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Directory {
    pub home_tenant: String,
    pub tenants: Vec<Tenant>,
    pub applications: Vec<Application>,
    pub service_principals: Vec<ServicePrincipal>,
}

/// Why a client could not authenticate with a secret.
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
}

impl Directory {
    /// A fresh directory: the home tenant, a second tenant (for guests), and the first-party
    /// service principals every tenant has.
    pub fn seeded(ids: &mut IdSource) -> Self {
        let home = Tenant {
            id: ids.guid().to_string(),
            default_domain: "contoso.onmicrosoft.com".into(),
            display_name: "Contoso".into(),
        };
        let other = Tenant {
            id: ids.guid().to_string(),
            default_domain: "fabrikam.onmicrosoft.com".into(),
            display_name: "Fabrikam".into(),
        };
        let mut dir = Directory {
            home_tenant: home.id.clone(),
            tenants: vec![home, other],
            applications: vec![],
            service_principals: vec![],
        };
        for tenant in dir.tenants.clone() {
            for fp in FIRST_PARTY {
                dir.service_principals.push(ServicePrincipal {
                    id: ids.guid().to_string(),
                    app_id: fp.app_id.into(),
                    tenant_id: tenant.id.clone(),
                    display_name: fp.display_name.into(),
                    account_enabled: true,
                    service_principal_names: std::iter::once(fp.app_id).chain(fp.names.iter().copied()).map(String::from).collect(),
                    password_credentials: vec![],
                    tenant_admin: false,
                });
            }
        }
        dir
    }

    /// Finds a tenant by GUID or by domain name, as the token service's `{tenant}` segment.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(id_or_domain) || t.default_domain.eq_ignore_ascii_case(id_or_domain))
    }

    pub fn home(&self) -> &Tenant {
        self.tenant(&self.home_tenant.clone()).expect("the home tenant exists")
    }

    /// Registers a confidential application with a service principal and one secret.
    pub fn register_app(
        &mut self,
        ids: &mut IdSource,
        tenant_id: &str,
        display_name: &str,
        secret: &str,
        now_ms: i64,
        tenant_admin: bool,
    ) -> (Application, ServicePrincipal) {
        let app_id = ids.guid().to_string();
        let cred = PasswordCredential::new(ids.guid().to_string(), Some("aksflow".into()), secret, now_ms, now_ms + YEAR_MS * 2);
        let app = Application {
            id: ids.guid().to_string(),
            app_id: app_id.clone(),
            tenant_id: tenant_id.into(),
            display_name: display_name.into(),
            identifier_uris: vec![],
            password_credentials: vec![cred],
        };
        let sp = ServicePrincipal {
            id: ids.guid().to_string(),
            app_id: app_id.clone(),
            tenant_id: tenant_id.into(),
            display_name: display_name.into(),
            account_enabled: true,
            service_principal_names: vec![app_id],
            password_credentials: vec![],
            tenant_admin,
        };
        self.applications.push(app.clone());
        self.service_principals.push(sp.clone());
        (app, sp)
    }

    pub fn service_principal(&self, tenant_id: &str, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .iter()
            .find(|sp| sp.tenant_id == tenant_id && sp.app_id.eq_ignore_ascii_case(app_id))
    }

    /// Checks a client id and secret the way the token service does: the secret may belong
    /// to the application or to its service principal in that tenant.
    pub fn authenticate_client(
        &self,
        tenant: &str,
        client_id: &str,
        secret: Option<&str>,
        now_ms: i64,
    ) -> Result<ClientIdentity, ClientAuthError> {
        let tenant = self.tenant(tenant).ok_or(ClientAuthError::TenantNotFound)?;
        let app = self.applications.iter().find(|a| a.app_id.eq_ignore_ascii_case(client_id));
        let sp = self.service_principal(&tenant.id, client_id).ok_or(ClientAuthError::UnknownApplication)?;
        let secret = secret.filter(|s| !s.is_empty()).ok_or(ClientAuthError::MissingSecret)?;
        let app_creds = app.map(|a| a.password_credentials.as_slice()).unwrap_or_default();
        let ok = app_creds.iter().chain(&sp.password_credentials).any(|c| c.matches(secret, now_ms));
        if !ok {
            return Err(ClientAuthError::InvalidSecret);
        }
        if !sp.account_enabled {
            return Err(ClientAuthError::Disabled);
        }
        Ok(ClientIdentity { tenant_id: tenant.id.clone(), app_id: sp.app_id.clone(), object_id: sp.id.clone() })
    }

    /// The service principal a token `resource` names, by any of its service principal names
    /// or its appId, ignoring a trailing slash.
    pub fn resource(&self, tenant_id: &str, resource: &str) -> Option<&ServicePrincipal> {
        let want = resource.trim_end_matches('/');
        self.service_principals.iter().find(|sp| {
            sp.tenant_id == tenant_id
                && (sp.app_id.eq_ignore_ascii_case(want)
                    || sp.service_principal_names.iter().any(|n| n.trim_end_matches('/').eq_ignore_ascii_case(want)))
        })
    }
}

pub const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (Directory, IdSource) {
        let mut ids = IdSource::new(5);
        (Directory::seeded(&mut ids), ids)
    }

    #[test]
    fn a_registered_client_authenticates_only_with_its_secret() {
        let (mut d, mut ids) = dir();
        let home = d.home_tenant.clone();
        let (app, _) = d.register_app(&mut ids, &home, "ci", "s3cret", 0, false);
        assert!(d.authenticate_client(&home, &app.app_id, Some("s3cret"), 10).is_ok());
        assert!(d.authenticate_client("contoso.onmicrosoft.com", &app.app_id, Some("s3cret"), 10).is_ok());
        assert_eq!(d.authenticate_client(&home, &app.app_id, Some("wrong"), 10).unwrap_err(), ClientAuthError::InvalidSecret);
        assert_eq!(d.authenticate_client(&home, &app.app_id, None, 10).unwrap_err(), ClientAuthError::MissingSecret);
        assert_eq!(d.authenticate_client(&home, "nope", Some("s3cret"), 10).unwrap_err(), ClientAuthError::UnknownApplication);
        assert_eq!(d.authenticate_client("nowhere", &app.app_id, Some("s3cret"), 10).unwrap_err(), ClientAuthError::TenantNotFound);
        // expired two years on
        assert_eq!(d.authenticate_client(&home, &app.app_id, Some("s3cret"), YEAR_MS * 3).unwrap_err(), ClientAuthError::InvalidSecret);
    }

    #[test]
    fn resources_resolve_by_name_or_app_id() {
        let (d, _) = dir();
        let home = d.home_tenant.clone();
        for r in ["https://management.azure.com", "https://management.core.windows.net/", "https://graph.microsoft.com", super::super::well_known::AKS_AAD_SERVER] {
            assert!(d.resource(&home, r).is_some(), "{r}");
        }
        assert!(d.resource(&home, "https://example.com").is_none());
    }

    #[test]
    fn secrets_are_kept_only_as_hashes() {
        let c = PasswordCredential::new("k".into(), None, "abcdef", 0, 10);
        let json = serde_json::to_string(&c).unwrap();
        assert!(!json.contains("abcdef"));
        assert_eq!(c.hint, "abc");
    }
}
