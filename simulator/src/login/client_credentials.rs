//! The client-credentials grant: an app-only token for a confidential client that proves
//! itself with its secret. [protocols.md §A.4.1]

use super::error::LoginError;
use super::target::Target;
use super::tokens::AccessClaims;
use crate::directory::{ClientAuthError, Directory};
use crate::ids::IdSource;

/// Lifetime of an app-only access token (Entra gives 3599 seconds).
pub const APP_TOKEN_SECONDS: i64 = 3599;

/// An issued access token and what the response reports about it.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Signed by the caller after it lets go of the state: signing is the slow part.
    pub claims: AccessClaims,
    pub expires_in: i64,
    pub expires_on: i64,
    pub not_before: i64,
    /// The resource as requested (v1 `resource`, or the scope without `/.default`).
    pub resource: String,
}

/// Who gets an app-only token, and what it carries.
pub fn client_credentials(
    dir: &Directory,
    ids: &mut IdSource,
    now_secs: i64,
    tenant: &str,
    client_id: Option<&str>,
    secret: Option<&str>,
    target: Target,
) -> Result<Issued, LoginError> {
    let tenant_rec = dir.tenant(tenant).ok_or_else(|| LoginError::TenantNotFound { tenant: tenant.into() })?;
    let client_id = client_id.filter(|c| !c.is_empty()).ok_or(LoginError::MissingParameter { name: "client_id" })?;
    let resource = match &target {
        Target::Resource(r) => r.clone(),
        Target::Scope(s) => {
            let s = s.trim();
            match s.strip_suffix("/.default") {
                Some(r) if !r.is_empty() && !s.contains(' ') => r.to_string(),
                _ => return Err(LoginError::ClientCredentialsScope { scope: s.into() }),
            }
        }
    };
    let client = dir.authenticate_client(&tenant_rec.id, client_id, secret, now_secs * 1000).map_err(|e| match e {
        ClientAuthError::TenantNotFound => LoginError::TenantNotFound { tenant: tenant.into() },
        ClientAuthError::UnknownApplication => LoginError::UnknownClient { client_id: client_id.into(), tenant: tenant_rec.id.clone() },
        ClientAuthError::MissingSecret => LoginError::MissingSecret,
        ClientAuthError::InvalidSecret => LoginError::InvalidSecret { client_id: client_id.into() },
        ClientAuthError::Disabled => LoginError::DisabledClient {
            client_id: client_id.into(),
            name: dir.service_principal(&tenant_rec.id, client_id).map(|s| s.display_name.clone()).unwrap_or_default(),
        },
    })?;
    let Some(resource_sp) = dir.resource(&tenant_rec.id, &resource) else {
        return Err(LoginError::UnknownResource { resource, tenant: tenant_rec.id.clone() });
    };
    // Application permissions granted by admin consent travel as `roles`.
    let roles = dir.assigned_roles(&client.object_id, resource_sp);
    let claims = AccessClaims {
        roles: (!roles.is_empty()).then_some(roles),
        ..AccessClaims::app_only(&resource, &client.tenant_id, &client.object_id, &client.app_id, now_secs, now_secs + APP_TOKEN_SECONDS, ids.opaque(22))
    };
    Ok(Issued { expires_in: APP_TOKEN_SECONDS, expires_on: claims.exp, not_before: claims.nbf, resource, claims })
}
