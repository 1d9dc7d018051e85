//! Tokens for users: device code (v1 and v2), password (ROPC) and refresh token, with the
//! consent, group and guest rules Entra ID applies. [protocols.md §A.4.2–A.4.4, §A.6, §A.7]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::error::LoginError;
use super::model::Target;
use super::state::{DeviceCode, DeviceStatus, LoginState, RefreshGrant};
use super::tokens::{self, AccessClaims};
use crate::directory::{Directory, ServicePrincipal, User, UserAuthError, UserType, hash};
use crate::ids::IdSource;
use crate::keys::SigningKey;

/// Lifetime of a user's access token, in seconds (Entra gives 60–90 minutes).
pub const USER_TOKEN_SECONDS: i64 = 4199;
/// Device codes live 15 minutes; clients poll every 5 seconds.
pub const DEVICE_CODE_SECONDS: i64 = 900;
pub const DEVICE_INTERVAL_SECONDS: i64 = 5;
/// Refresh tokens expire after 90 days.
pub const REFRESH_SECONDS: i64 = 90 * 24 * 3600;

const OIDC_SCOPES: &[&str] = &["openid", "profile", "offline_access", "email"];

/// Everything a request needs from the simulator's state.
pub struct Ctx<'a> {
    pub dir: &'a mut Directory,
    pub login: &'a mut LoginState,
    pub ids: &'a mut IdSource,
    pub key: &'a SigningKey,
    pub now_ms: i64,
    pub base_url: &'a str,
}

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

/// The resource a request targets and the scopes it asks for.
#[derive(Debug, Clone)]
struct Requested {
    /// The audience exactly as the client named it (v1 tokens carry it verbatim).
    audience: String,
    resource: ServicePrincipal,
    /// Scope names; `.default` asks for everything consented.
    scopes: Vec<String>,
    want_id_token: bool,
}

fn resolve_target(dir: &Directory, tenant_id: &str, target: &Target) -> Result<Requested, LoginError> {
    let unknown = |r: &str| LoginError::UnknownResource { resource: r.into(), tenant: tenant_id.into() };
    match target {
        Target::Resource(r) => {
            let sp = dir.resource(tenant_id, r).ok_or_else(|| unknown(r))?.clone();
            Ok(Requested { audience: r.clone(), resource: sp, scopes: vec![".default".into()], want_id_token: true })
        }
        Target::Scope(s) => {
            let all: Vec<&str> = s.split_whitespace().collect();
            let want_id_token = all.iter().any(|x| x.eq_ignore_ascii_case("openid"));
            let resource_scopes: Vec<&str> = all.iter().copied().filter(|x| !OIDC_SCOPES.contains(&x.to_ascii_lowercase().as_str())).collect();
            if resource_scopes.is_empty() {
                // Only OIDC scopes: Entra gives a Graph token for User.Read.
                let sp = dir.resource(tenant_id, crate::directory::well_known::MICROSOFT_GRAPH).ok_or_else(|| unknown("Microsoft Graph"))?.clone();
                return Ok(Requested { audience: "https://graph.microsoft.com".into(), resource: sp, scopes: vec!["User.Read".into()], want_id_token });
            }
            let mut audience: Option<String> = None;
            let mut scopes = Vec::new();
            for scope in resource_scopes {
                let (res, name) = match scope.rfind('/') {
                    Some(i) if i > 0 => (&scope[..i], &scope[i + 1..]),
                    // A bare scope name means Microsoft Graph.
                    _ => ("https://graph.microsoft.com", scope),
                };
                match &audience {
                    Some(a) if !a.trim_end_matches('/').eq_ignore_ascii_case(res.trim_end_matches('/')) => {
                        return Err(LoginError::InvalidScope { scope: s.clone() });
                    }
                    _ => audience = Some(res.to_string()),
                }
                scopes.push(name.to_string());
            }
            let audience = audience.expect("at least one resource scope");
            let sp = dir.resource(tenant_id, &audience).ok_or_else(|| unknown(&audience))?.clone();
            // v1 tokens for a resource named by URI carry the URI; named by appId, the appId.
            Ok(Requested { audience, resource: sp, scopes, want_id_token })
        }
    }
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
fn public_client(dir: &Directory, tenant_id: &str, client_id: Option<&str>) -> Result<ServicePrincipal, LoginError> {
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
fn check_user_in_tenant(dir: &Directory, tenant_id: &str, user: &User, client: &ServicePrincipal) -> Result<(), LoginError> {
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
fn issue(ctx: &mut Ctx<'_>, tenant_id: &str, user: &User, client: &ServicePrincipal, req: &Requested, want_refresh: bool) -> Result<UserTokens, LoginError> {
    let scp = consented_scopes(ctx.dir, client, req, user)?;
    let now = ctx.now_ms / 1000;
    let guest = user.user_type == UserType::Guest;
    let version_2 = ctx.dir.application_by_app_id(&req.resource.app_id).and_then(|a| a.requested_access_token_version) == Some(2);
    let groups = match req.resource.group_membership_claims.as_deref() {
        Some(g) if !g.eq_ignore_ascii_case("None") => Some(ctx.dir.transitive_groups(tenant_id, &user.id)),
        _ => None,
    };
    let (groups, claim_names, claim_sources) = match groups {
        Some(g) if g.len() > ctx.dir.group_claim_limit => (
            None,
            Some(json!({ "groups": "src1" })),
            Some(json!({ "src1": { "endpoint": format!("https://graph.windows.net/{tenant_id}/users/{}/getMemberObjects", user.id) } })),
        ),
        other => (other, None, None),
    };
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

/// `POST /devicecode`: a new code pair for a public client.
pub fn start_device_code(ctx: &mut Ctx<'_>, tenant: &str, client_id: Option<&str>, target: Target) -> Result<(DeviceCode, String), LoginError> {
    let tenant_id = user_tenant(ctx.dir, tenant)?;
    let client = public_client(ctx.dir, &tenant_id, client_id)?;
    resolve_target(ctx.dir, &tenant_id, &target)?;
    let device_code = format!("DAQABAAEAAAD{}", ctx.ids.opaque(100));
    let code = DeviceCode {
        device_code_sha256: hash(&device_code),
        user_code: ctx.ids.user_code(),
        tenant_id,
        client_id: client.app_id,
        target,
        status: DeviceStatus::Pending,
        expires_ms: ctx.now_ms + DEVICE_CODE_SECONDS * 1000,
        interval_s: DEVICE_INTERVAL_SECONDS,
        last_poll_ms: None,
    };
    ctx.login.device_codes.push(code.clone());
    Ok((code, device_code))
}

/// Polling the token endpoint with a device code.
pub fn poll_device_code(ctx: &mut Ctx<'_>, client_id: Option<&str>, device_code: Option<&str>, v1: bool, want_refresh: bool) -> Result<UserTokens, LoginError> {
    let device_code = device_code.filter(|d| !d.is_empty()).ok_or(LoginError::MissingParameter { name: "device_code" })?;
    let h = hash(device_code);
    let now = ctx.now_ms;
    let idx = ctx.login.device_codes.iter().position(|d| d.device_code_sha256 == h).ok_or(LoginError::BadVerificationCode)?;
    let code = ctx.login.device_codes[idx].clone();
    if client_id.is_some_and(|c| !c.eq_ignore_ascii_case(&code.client_id)) {
        return Err(LoginError::BadVerificationCode);
    }
    if now >= code.expires_ms {
        return Err(LoginError::DeviceCodeExpired { v1 });
    }
    let too_soon = code.last_poll_ms.is_some_and(|last| now - last < code.interval_s * 1000);
    ctx.login.device_codes[idx].last_poll_ms = Some(now);
    match code.status {
        DeviceStatus::Pending if too_soon => Err(LoginError::SlowDown),
        DeviceStatus::Pending => Err(LoginError::AuthorizationPending),
        DeviceStatus::Declined => Err(LoginError::DeviceCodeDeclined { v1 }),
        DeviceStatus::Redeemed => Err(LoginError::BadVerificationCode),
        DeviceStatus::Approved { user_id } => {
            let user = ctx.dir.users.iter().find(|u| u.id == user_id).cloned().ok_or(LoginError::BadVerificationCode)?;
            let client = public_client(ctx.dir, &code.tenant_id, Some(&code.client_id))?;
            let req = resolve_target(ctx.dir, &code.tenant_id, &code.target)?;
            let tokens = issue(ctx, &code.tenant_id, &user, &client, &req, want_refresh)?;
            ctx.login.device_codes[idx].status = DeviceStatus::Redeemed;
            Ok(tokens)
        }
    }
}

/// Why the device sign-in page refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLoginError {
    UnknownCode,
    Expired,
    WrongPassword,
    NoSuchUser,
    Login(LoginError),
}

/// What the sign-in page reports after a successful sign-in.
#[derive(Debug, Clone)]
pub struct Approved {
    pub user_principal_name: String,
    pub client_display_name: String,
}

fn pending_code(ctx: &Ctx<'_>, user_code: &str) -> Result<usize, DeviceLoginError> {
    let code = user_code.trim().replace('-', "");
    let idx = ctx
        .login
        .device_codes
        .iter()
        .position(|d| d.user_code.eq_ignore_ascii_case(&code) && d.status == DeviceStatus::Pending)
        .ok_or(DeviceLoginError::UnknownCode)?;
    if ctx.now_ms >= ctx.login.device_codes[idx].expires_ms {
        return Err(DeviceLoginError::Expired);
    }
    Ok(idx)
}

/// A person enters the code and signs in. Scopes a user may consent to are consented for
/// that user on the way, as the real consent prompt would after the user accepts.
pub fn approve_device_code(ctx: &mut Ctx<'_>, user_code: &str, sign_in: &str, password: &str) -> Result<Approved, DeviceLoginError> {
    let idx = pending_code(ctx, user_code)?;
    let code = ctx.login.device_codes[idx].clone();
    let user = match ctx.dir.authenticate_user(&code.tenant_id, sign_in, password) {
        Ok(u) => u.clone(),
        Err(UserAuthError::WrongPassword) => return Err(DeviceLoginError::WrongPassword),
        Err(UserAuthError::Disabled) => return Err(DeviceLoginError::WrongPassword),
        Err(UserAuthError::NoSuchUser) => {
            // A user of another tenant who is not a guest here.
            let foreign = ctx.dir.users.iter().find(|u| u.user_principal_name.eq_ignore_ascii_case(sign_in) && u.tenant_id != code.tenant_id).cloned();
            let client = public_client(ctx.dir, &code.tenant_id, Some(&code.client_id)).map_err(DeviceLoginError::Login)?;
            return match foreign {
                Some(f) if f.password_sha256 == hash(password) => Err(DeviceLoginError::Login(check_user_in_tenant(ctx.dir, &code.tenant_id, &f, &client).unwrap_err())),
                Some(_) => Err(DeviceLoginError::WrongPassword),
                None => Err(DeviceLoginError::NoSuchUser),
            };
        }
    };
    let client = public_client(ctx.dir, &code.tenant_id, Some(&code.client_id)).map_err(DeviceLoginError::Login)?;
    let req = resolve_target(ctx.dir, &code.tenant_id, &code.target).map_err(DeviceLoginError::Login)?;
    user_consent(ctx, &client, &req, &user);
    ctx.login.device_codes[idx].status = DeviceStatus::Approved { user_id: user.id.clone() };
    Ok(Approved { user_principal_name: user.user_principal_name, client_display_name: client.display_name })
}

/// Records the user's own consent to requested scopes that users may consent to.
fn user_consent(ctx: &mut Ctx<'_>, client: &ServicePrincipal, req: &Requested, user: &User) {
    if req.scopes.iter().any(|s| s == ".default") {
        return;
    }
    let granted = ctx.dir.granted_scopes(&client.id, &req.resource.id, &user.id);
    let consentable: Vec<String> = req
        .scopes
        .iter()
        .filter(|s| !granted.iter().any(|g| g.eq_ignore_ascii_case(s)))
        .filter(|s| req.resource.oauth2_permission_scopes.iter().any(|p| p.value.eq_ignore_ascii_case(s) && p.kind == "User"))
        .cloned()
        .collect();
    if !consentable.is_empty() {
        let id = ctx.ids.opaque(43);
        ctx.dir.grants.push(crate::directory::PermissionGrant {
            id,
            client_id: client.id.clone(),
            consent_type: "Principal".into(),
            principal_id: Some(user.id.clone()),
            resource_id: req.resource.id.clone(),
            scope: consentable.join(" "),
        });
    }
}

/// A person enters the code and declines.
pub fn decline_device_code(ctx: &mut Ctx<'_>, user_code: &str) -> Result<(), DeviceLoginError> {
    let idx = pending_code(ctx, user_code)?;
    ctx.login.device_codes[idx].status = DeviceStatus::Declined;
    Ok(())
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
        Err(_) => return Err(LoginError::WrongPassword),
    };
    let req = resolve_target(ctx.dir, &tenant_id, &target)?;
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
    let req = resolve_target(ctx.dir, &tenant_id, &target)?;
    issue(ctx, &tenant_id, &user, &client, &req, true)
}
