//! Authentication as AKS does it: a client certificate from the cluster's CA (`x509`), the
//! local account's static token (`system:masters`), or an
//! Entra ID token checked the way the AKS AAD webhook (guard) checks it — signature,
//! `https://sts.windows.net/{tid}/` issuer, the server app audience, expiry — with the
//! username from `upn`, or `oid` when there is none (guests, other tenants, service
//! principals), and groups from the token or, past the overage limit, from Graph. Legacy
//! clusters ask Graph for every sign-in instead, as their webhook did (`legacy_webhook`).
//! [protocols.md §E.1, §E.2]

use super::rbac::{SYSTEM_AUTHENTICATED, SYSTEM_MASTERS, UserInfo};
use crate::arm::aks::ManagedCluster;
use crate::directory::Directory;
use crate::directory::well_known::AKS_AAD_SERVER;
use crate::keys::SigningKey;
use crate::login::tokens;

/// Who the request is, and their directory object id when they came with an AAD token.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserInfo,
    pub object_id: Option<String>,
}

/// Why authentication failed (the client only sees 401; the reason is for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnError {
    #[error("no credentials")]
    NoCredentials,
    #[error("local accounts are disabled on this cluster")]
    LocalAccountsDisabled,
    #[error("the cluster has no Azure AD integration and the token is not its local account")]
    NotAadCluster,
    #[error("failed to verify token for azure: {0}")]
    Token(String),
    #[error("service principal with group membership exceeding 200 is not supported. See https://learn.microsoft.com/en-us/azure/aks/kubelogin-authentication#kubelogin-authentication-in-aks-limitations")]
    ServicePrincipalOverage,
    /// The legacy webhook's Graph lookup failed (guard: "failed to get groups: request …").
    #[error("failed to get groups: request {request} failed with status code: {status}")]
    LegacyGraph { request: String, status: u16 },
}

/// kube-apiserver's union of authenticators, in its order: a client certificate that chains
/// to the cluster's CA names the user; otherwise (none, or one that does not verify) the
/// bearer token is tried. A certificate stays valid when local accounts are disabled, until
/// the cluster's certificates are rotated, as AKS documents.
pub fn authenticate_request(
    dir: &Directory,
    key: &SigningKey,
    cluster: &ManagedCluster,
    client_ca_der: &[u8],
    peer: Option<&super::x509::PeerCertificate>,
    bearer: Option<&str>,
    now_secs: i64,
) -> Result<Authenticated, AuthnError> {
    if let Some(peer) = peer {
        match super::x509::authenticate(client_ca_der, &peer.0, now_secs) {
            Ok(user) => return Ok(Authenticated { user, object_id: None }),
            Err(e) => tracing::debug!("client certificate refused, trying the token: {e}"),
        }
    }
    authenticate(dir, key, cluster, bearer, now_secs)
}

pub fn authenticate(dir: &Directory, key: &SigningKey, cluster: &ManagedCluster, bearer: Option<&str>, now_secs: i64) -> Result<Authenticated, AuthnError> {
    let token = bearer.map(str::trim).filter(|t| !t.is_empty()).ok_or(AuthnError::NoCredentials)?;
    if token == cluster.admin_token {
        if cluster.disable_local_accounts {
            return Err(AuthnError::LocalAccountsDisabled);
        }
        return Ok(Authenticated { user: UserInfo::new("masterclient", &[SYSTEM_MASTERS, SYSTEM_AUTHENTICATED]), object_id: None });
    }
    let aad = cluster.aad.as_ref().ok_or(AuthnError::NotAadCluster)?;
    let server_app = if aad.managed { AKS_AAD_SERVER.to_string() } else { aad.server_app_id.clone().unwrap_or_default() };
    let mut audiences = vec![server_app.clone(), format!("spn:{server_app}")];
    if let Some(app) = dir.application_by_app_id(&server_app) {
        audiences.extend(app.identifier_uris.iter().cloned());
    }
    let audiences: Vec<&str> = audiences.iter().map(String::as_str).collect();
    let issuer = tokens::v1_issuer(&aad.tenant_id);
    let trusted = |c: &tokens::AccessClaims| c.iss == issuer;
    let claims = tokens::validate(key, token, &audiences, &trusted, now_secs).map_err(|e| AuthnError::Token(e.to_string()))?;
    let username = claims.upn.clone().unwrap_or_else(|| claims.oid.clone());
    if aad.is_legacy() {
        let mut groups = super::legacy_webhook::member_groups(dir, aad, &username, now_secs * 1000)?;
        groups.push(SYSTEM_AUTHENTICATED.into());
        return Ok(Authenticated { user: UserInfo { name: username, groups }, object_id: Some(claims.oid) });
    }
    let mut groups = match (&claims.groups, &claims._claim_names) {
        (Some(g), _) => g.clone(),
        (None, Some(names)) if names.get("groups").is_some() => {
            if claims.idtyp.as_deref() == Some("app") {
                return Err(AuthnError::ServicePrincipalOverage);
            }
            dir.transitive_groups(&aad.tenant_id, &claims.oid)
        }
        _ => Vec::new(),
    };
    groups.push(SYSTEM_AUTHENTICATED.into());
    Ok(Authenticated { user: UserInfo { name: username, groups }, object_id: Some(claims.oid) })
}

#[cfg(test)]
#[path = "authn_rules_tests.rs"]
mod rules_tests;
