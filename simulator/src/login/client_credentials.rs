//! The client-credentials grant: an app-only token for a confidential client that proves
//! itself with its secret. [protocols.md §A.4.1]

use super::error::LoginError;
use super::target::Target;
use super::tokens::{AccessClaims, GroupClaims};
use crate::directory::{ClientAuthError, Directory};

/// Lifetime of an app-only access token (Entra gives 3599 seconds).
pub const APP_TOKEN_SECONDS: i64 = 3599;

/// An issued access token and what the response reports about it.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Without their `uti`: the caller draws it, unless the same claims were answered in
    /// the same second (`instant_tokens.rs`), and signs after it lets go of the state.
    pub claims: AccessClaims,
    pub expires_in: i64,
    /// The resource as requested (v1 `resource`, or the scope without `/.default`).
    pub resource: String,
}

/// The OpenID Connect scopes MSAL-based clients (kubelogin, the Go and .NET libraries) add
/// to every request. Entra lets them ride along with a client-credentials `.default` scope
/// and issues the token; it never issues an id token or refresh token for them.
const OIDC_SCOPES: &[&str] = &["openid", "offline_access", "profile", "email"];

/// The resource of a client-credentials scope list: exactly one `<resource>/.default`, plus
/// any of the OpenID Connect scopes. Anything else is refused (AADSTS1002012).
fn default_scope_resource(scopes: &str) -> Option<String> {
    let mut resource = None;
    for scope in scopes.split_whitespace() {
        if OIDC_SCOPES.contains(&scope) {
            continue;
        }
        match scope.strip_suffix("/.default") {
            Some(r) if !r.is_empty() && resource.is_none() => resource = Some(r.to_string()),
            _ => return None,
        }
    }
    resource
}

/// Who gets an app-only token, and what it carries.
pub fn client_credentials(
    dir: &Directory,
    now_secs: i64,
    tenant: &str,
    client_id: Option<&str>,
    secret: Option<&str>,
    target: Target,
    token_lag_ms: i64,
) -> Result<Issued, LoginError> {
    let tenant_rec = dir.tenant(tenant).ok_or_else(|| LoginError::TenantNotFound { tenant: tenant.into() })?;
    let client_id = client_id.filter(|c| !c.is_empty()).ok_or(LoginError::MissingParameter { name: "client_id" })?;
    // The client proves itself before its request is judged: a wrong secret is 401
    // invalid_client whatever the scope says.
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
    // Replication: the token service has not yet heard of a new app, or of a new secret.
    let now_ms = now_secs * 1000;
    let (sp_id, sp_made) = dir.service_principal(&tenant_rec.id, client_id).map(|sp| (sp.id.clone(), sp.created_ms)).unwrap_or_default();
    if dir.replicating(&sp_id, sp_made, token_lag_ms, now_ms) {
        return Err(LoginError::UnknownClient { client_id: client_id.into(), tenant: tenant_rec.id.clone() });
    }
    if secret.and_then(|s| dir.secret_added_ms(&tenant_rec.id, client_id, s)).is_some_and(|added| dir.replicating(&sp_id, added, token_lag_ms, now_ms)) {
        return Err(LoginError::InvalidSecret { client_id: client_id.into() });
    }
    let resource = match &target {
        Target::Resource(r) => r.clone(),
        Target::Scope(s) => default_scope_resource(s).ok_or_else(|| LoginError::ClientCredentialsScope { scope: s.trim().into() })?,
    };
    let Some(resource_sp) = dir.resource(&tenant_rec.id, &resource) else {
        return Err(LoginError::UnknownResource { resource, tenant: tenant_rec.id.clone() });
    };
    // Application permissions granted by admin consent travel as `roles`.
    let roles = dir.assigned_roles(&client.object_id, resource_sp);
    // A service principal in groups carries them when the resource asks for group claims
    // (AKS's server app does): that is how a CI identity in a cluster's admin group gets in.
    let GroupClaims { groups, claim_names, claim_sources } = GroupClaims::of(dir, &tenant_rec.id, resource_sp, "servicePrincipals", &client.object_id);
    let claims = AccessClaims {
        roles: (!roles.is_empty()).then_some(roles),
        groups,
        _claim_names: claim_names,
        _claim_sources: claim_sources,
        ..AccessClaims::app_only(&resource, &client.tenant_id, &client.object_id, &client.app_id, now_secs, now_secs + APP_TOKEN_SECONDS, String::new())
    };
    Ok(Issued { expires_in: APP_TOKEN_SECONDS, resource, claims })
}

#[cfg(test)]
mod tests {
    use super::default_scope_resource;

    #[test]
    fn one_default_scope_is_needed_and_the_oidc_scopes_may_ride_along() {
        let graph = Some("https://graph.microsoft.com".to_string());
        assert_eq!(default_scope_resource("https://graph.microsoft.com/.default"), graph);
        // As kubelogin and Microsoft's Go libraries send it.
        assert_eq!(default_scope_resource("6dae42f8-4368-4678-94ff-3960e28e3630/.default openid offline_access profile"), Some("6dae42f8-4368-4678-94ff-3960e28e3630".into()));
        assert_eq!(default_scope_resource("  openid https://graph.microsoft.com/.default  email "), graph);
        for refused in ["", "openid profile", "https://graph.microsoft.com/User.Read", "/.default", "a/.default b/.default", "https://graph.microsoft.com/.default User.Read"] {
            assert_eq!(default_scope_resource(refused), None, "{refused:?}");
        }
    }
}
