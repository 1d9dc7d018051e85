//! Tokens for users: the password (ROPC) and refresh-token grants, and what every user token
//! carries — the consent, group and guest rules Entra ID applies. The device-code grant is
//! `device_code`. [protocols.md §A.4.3–A.4.4, §A.6, §A.7]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::error::LoginError;
use super::model::{Ctx, RefreshGrant};
use super::target::{self, Requested, Target};
use super::tokens::{self, AccessClaims, GroupClaims};
use crate::directory::{Directory, ServicePrincipal, User, UserAuthError, UserType, hash};

/// Lifetime of a user's access token, in seconds (Entra gives 60–90 minutes).
pub const USER_TOKEN_SECONDS: i64 = 4199;
/// Refresh tokens expire after 90 days.
pub const REFRESH_SECONDS: i64 = 90 * 24 * 3600;

/// The tokens of a user flow.
#[derive(Debug, Clone)]
pub struct UserTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub client_info: String,
    pub expires_in: i64,
    pub expires_on: i64,
    pub not_before: i64,
    /// v1: the resource as requested.
    pub resource: String,
    /// The granted scopes, written as the response's `scope`.
    pub scope: String,
}

/// The tenant a `{tenant}` path segment names for a user flow (`common` and
/// `organizations` resolve to the home tenant).
pub fn user_tenant(dir: &Directory, tenant: &str) -> Result<String, LoginError> {
    if matches!(tenant.to_ascii_lowercase().as_str(), "common" | "organizations") {
        return Ok(dir.home_tenant.clone());
    }
    dir.tenant(tenant).map(|t| t.id.clone()).ok_or_else(|| LoginError::TenantNotFound { tenant: tenant.into() })
}

/// The client must exist in the tenant and be a public client (no secret) for device code
/// and password flows.
pub(super) fn public_client(dir: &Directory, tenant_id: &str, client_id: Option<&str>) -> Result<ServicePrincipal, LoginError> {
    let client_id = client_id.filter(|c| !c.is_empty()).ok_or(LoginError::MissingParameter { name: "client_id" })?;
    let sp = dir
        .service_principal(tenant_id, client_id)
        .ok_or_else(|| LoginError::UnknownClient { client_id: client_id.into(), tenant: tenant_id.into() })?;
    if !sp.public_client {
        return Err(LoginError::PublicClientRequired);
    }
    Ok(sp.clone())
}

/// Refuses users of other tenants who are not guests here.
pub(super) fn check_user_in_tenant(dir: &Directory, tenant_id: &str, user: &User, client: &ServicePrincipal) -> Result<(), LoginError> {
    if user.tenant_id != tenant_id {
        let tenant_name = dir.tenant(tenant_id).map(|t| t.display_name.clone()).unwrap_or_default();
        return Err(LoginError::ForeignUser { idp_tenant: user.tenant_id.clone(), tenant_name, app_id: client.app_id.clone(), app_name: client.display_name.clone() });
    }
    Ok(())
}

/// The scopes the token will carry, or consent_required.
fn consented_scopes(dir: &Directory, client: &ServicePrincipal, req: &Requested, user: &User) -> Result<Vec<String>, LoginError> {
    let granted = dir.granted_scopes(&client.id, &req.resource.id, &user.id);
    let consent_required = || LoginError::ConsentRequired { client_id: client.app_id.clone(), client_name: client.display_name.clone() };
    if req.scopes.iter().any(|s| s == ".default") {
        if granted.is_empty() {
            return Err(consent_required());
        }
        return Ok(granted);
    }
    for s in &req.scopes {
        if !granted.iter().any(|g| g.eq_ignore_ascii_case(s)) {
            return Err(consent_required());
        }
    }
    Ok(req.scopes.clone())
}

/// Mints the access token, id token, refresh token and client_info for a signed-in user.
pub(super) fn issue(ctx: &mut Ctx<'_>, tenant_id: &str, user: &User, client: &ServicePrincipal, req: &Requested, want_refresh: bool) -> Result<UserTokens, LoginError> {
    let scp = consented_scopes(ctx.dir, client, req, user)?;
    let now = ctx.now_ms / 1000;
    let guest = user.user_type == UserType::Guest;
    let version_2 = ctx.dir.application_by_app_id(&req.resource.app_id).and_then(|a| a.requested_access_token_version) == Some(2);
    let GroupClaims { groups, claim_names, claim_sources } = GroupClaims::of(ctx.dir, tenant_id, &req.resource, "users", &user.id);
    let claims = AccessClaims {
        aud: if version_2 { req.resource.app_id.clone() } else { req.audience.clone() },
        iss: if version_2 { tokens::v2_issuer(ctx.base_url, tenant_id) } else { tokens::v1_issuer(tenant_id) },
        iat: now,
        nbf: now,
        exp: now + USER_TOKEN_SECONDS,
        tid: tenant_id.into(),
        oid: user.id.clone(),
        sub: URL_SAFE_NO_PAD.encode(&hash(&format!("{}:{}", user.id, req.resource.app_id)).as_bytes()[..32]),
        ver: if version_2 { "2.0".into() } else { "1.0".into() },
        appid: (!version_2).then(|| client.app_id.clone()),
        appidacr: (!version_2).then(|| "0".into()),
        azp: version_2.then(|| client.app_id.clone()),
        idtyp: Some("user".into()),
        // Guests have no upn in the resource tenant: guard then uses their object id.
        upn: (!guest && !version_2).then(|| user.user_principal_name.clone()),
        unique_name: (!version_2).then(|| if guest { format!("live.com#{}", user.home_upn) } else { user.user_principal_name.clone() }),
        name: Some(user.display_name.clone()),
        scp: Some(scp.join(" ")),
        roles: None,
        groups,
        _claim_names: claim_names,
        _claim_sources: claim_sources,
        uti: ctx.ids.opaque(22),
    };
    let access_token = tokens::mint(ctx.key, &claims);
    let id_token = req.want_id_token.then(|| mint_id_token(ctx, tenant_id, user, client, now));
    let refresh_token = want_refresh.then(|| {
        let rt = format!("0.A{}", ctx.ids.opaque(120));
        ctx.login.prune(ctx.now_ms);
        ctx.login.refresh_tokens.push(RefreshGrant {
            token_sha256: hash(&rt),
            tenant_id: tenant_id.into(),
            user_id: user.id.clone(),
            client_id: client.app_id.clone(),
            expires_ms: ctx.now_ms + REFRESH_SECONDS * 1000,
        });
        rt
    });
    // The `spn:` prefix belongs to the audience only, never to the scopes.
    let resource_name = req.audience.strip_prefix("spn:").unwrap_or(&req.audience);
    let prefix = if resource_name.ends_with('/') { resource_name.to_string() } else { format!("{resource_name}/") };
    Ok(UserTokens {
        access_token,
        id_token,
        refresh_token,
        client_info: URL_SAFE_NO_PAD.encode(json!({ "uid": user.id, "utid": user.home_tenant_id }).to_string()),
        expires_in: USER_TOKEN_SECONDS,
        expires_on: claims.exp,
        not_before: claims.nbf,
        resource: req.audience.clone(),
        scope: scp.iter().map(|s| format!("{prefix}{s}")).collect::<Vec<_>>().join(" "),
    })
}

/// A v2 id token: `aud` is the client, as MSAL checks.
fn mint_id_token(ctx: &mut Ctx<'_>, tenant_id: &str, user: &User, client: &ServicePrincipal, now: i64) -> String {
    let claims = json!({
        "aud": client.app_id,
        "iss": tokens::v2_issuer(ctx.base_url, tenant_id),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": user.display_name,
        "oid": user.id,
        "preferred_username": if user.user_type == UserType::Guest { &user.home_upn } else { &user.user_principal_name },
        "sub": user.id,
        "tid": tenant_id,
        "ver": "2.0",
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(ctx.key.kid.clone());
    jsonwebtoken::encode(&header, &claims, &ctx.key.encoding).expect("RS256 signing with a valid key")
}

/// Resource owner password credentials (test users only in real life; the same here).
pub fn password_grant(ctx: &mut Ctx<'_>, tenant: &str, client_id: Option<&str>, username: Option<&str>, password: Option<&str>, target: Target) -> Result<UserTokens, LoginError> {
    let tenant_id = user_tenant(ctx.dir, tenant)?;
    let client = public_client(ctx.dir, &tenant_id, client_id)?;
    let username = username.ok_or(LoginError::MissingParameter { name: "username" })?;
    let password = password.ok_or(LoginError::MissingParameter { name: "password" })?;
    let user = match ctx.dir.authenticate_user(&tenant_id, username, password) {
        Ok(u) => u.clone(),
        Err(UserAuthError::NoSuchUser) => {
            if let Some(f) = ctx.dir.users.iter().find(|u| u.user_principal_name.eq_ignore_ascii_case(username) && u.password_sha256 == hash(password)).cloned() {
                check_user_in_tenant(ctx.dir, &tenant_id, &f, &client)?;
            }
            let name = ctx.dir.tenant(&tenant_id).map(|t| t.display_name.clone()).unwrap_or_default();
            return Err(LoginError::NoSuchUser { tenant: name });
        }
        Err(UserAuthError::Disabled) => return Err(LoginError::UserDisabled),
        Err(_) => return Err(LoginError::WrongPassword),
    };
    let req = target::resolve(ctx.dir, &tenant_id, &target)?;
    issue(ctx, &tenant_id, &user, &client, &req, true)
}

/// A refresh token for any resource the user and client may reach (multi-resource, as
/// Entra's are); each use returns a new one.
pub fn refresh_grant(ctx: &mut Ctx<'_>, tenant: &str, client_id: Option<&str>, refresh_token: Option<&str>, target: Target) -> Result<UserTokens, LoginError> {
    let rt = refresh_token.filter(|r| !r.is_empty()).ok_or(LoginError::MissingParameter { name: "refresh_token" })?;
    let h = hash(rt);
    let grant = ctx.login.refresh_tokens.iter().find(|g| g.token_sha256 == h).cloned().ok_or(LoginError::InvalidRefreshToken)?;
    if client_id.is_some_and(|c| !c.eq_ignore_ascii_case(&grant.client_id)) {
        return Err(LoginError::InvalidRefreshToken);
    }
    if ctx.now_ms >= grant.expires_ms {
        return Err(LoginError::ExpiredRefreshToken);
    }
    let tenant_id = user_tenant(ctx.dir, tenant)?;
    if tenant_id != grant.tenant_id {
        return Err(LoginError::InvalidRefreshToken);
    }
    let user = ctx.dir.users.iter().find(|u| u.id == grant.user_id).cloned().ok_or(LoginError::InvalidRefreshToken)?;
    let client = public_client(ctx.dir, &tenant_id, Some(&grant.client_id))?;
    let req = target::resolve(ctx.dir, &tenant_id, &target)?;
    issue(ctx, &tenant_id, &user, &client, &req, true)
}
