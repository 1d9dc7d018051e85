//! The webhook behind a legacy Azure AD cluster, as AKS ran it in seed 000's time: guard's
//! Azure authenticator in `client-credential` mode without the overage-only switch (guard
//! 0.4.0, February 2019; see docs/fidelity.md). The groups claim of the user's token is
//! never read. On every sign-in the webhook
//!
//! 1. gets a Microsoft Graph token for the server app with its secret (client credentials),
//! 2. asks `POST /v1.0/users/{upn or oid}/getMemberGroups` with it, which needs an
//!    application permission to read the directory, consented by an admin,
//!
//! and any failure fails the whole sign-in: HTTP 401 to the API server, `error: You must be
//! logged in to the server (Unauthorized)` in kubectl. A wrong `--aad-server-app-secret` or
//! a server app without consent therefore locks every Azure AD user out, on its own.

use super::authn::AuthnError;
use crate::arm::aks::AadProfile;
use crate::directory::well_known::MICROSOFT_GRAPH;
use crate::directory::{Caller, Directory};
use crate::graph::model::GraphCaller;

/// The groups guard hands the API server for `username` (the token's `upn`, else its `oid`).
pub fn member_groups(dir: &Directory, aad: &AadProfile, username: &str, now_ms: i64) -> Result<Vec<String>, AuthnError> {
    let tenant = &aad.tenant_id;
    let server_app = aad.server_app_id.as_deref().unwrap_or_default();
    let token_path = format!("/{tenant}/oauth2/v2.0/token");
    // 1. The server app's own token, with the secret the cluster was created with.
    let secret = aad.server_app_secret_sha256.as_deref().ok_or_else(|| AuthnError::LegacyGraph { request: token_path.clone(), status: 401 })?;
    let server = dir.authenticate_client_by_hash(tenant, server_app, secret, now_ms).map_err(|_| AuthnError::LegacyGraph { request: token_path, status: 401 })?;
    let graph_sp = dir.resource(tenant, MICROSOFT_GRAPH).ok_or(AuthnError::LegacyGraph { request: "/v1.0".into(), status: 503 })?;
    let caller = GraphCaller {
        principal: Caller { tenant_id: server.tenant_id.clone(), object_id: server.object_id.clone(), is_app: true },
        roles: dir.assigned_roles(&server.object_id, graph_sp),
    };
    // 2. getMemberGroups on /users/: a service principal's object id is no user (404).
    let request = format!("/v1.0/users/{username}/getMemberGroups");
    let user = dir.user(tenant, username).ok_or_else(|| AuthnError::LegacyGraph { request: request.clone(), status: 404 })?;
    caller.may_read_object(dir, &user.id).map_err(|_| AuthnError::LegacyGraph { request, status: 403 })?;
    Ok(dir.transitive_groups(tenant, &user.id))
}
