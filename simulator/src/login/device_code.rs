//! The device-code grant: a device asks for a code pair, a person enters the user code on the
//! sign-in page and signs in (or declines), and the device polls the token endpoint until
//! then. [protocols.md §A.4.2]

use super::error::LoginError;
use super::model::{Ctx, DeviceCode, DeviceStatus};
use super::target::{self, Requested, Target};
use super::user_tokens::{UserTokens, check_user_in_tenant, issue, public_client, user_tenant};
use crate::directory::{ServicePrincipal, User, UserAuthError, hash};

/// Device codes live 15 minutes; clients poll every 5 seconds.
pub const DEVICE_CODE_SECONDS: i64 = 900;
pub const DEVICE_INTERVAL_SECONDS: i64 = 5;

/// `POST /devicecode`: a new code pair for a public client.
pub fn start(ctx: &mut Ctx<'_>, tenant: &str, client_id: Option<&str>, target: Target) -> Result<(DeviceCode, String), LoginError> {
    let tenant_id = user_tenant(ctx.dir, tenant)?;
    let client = public_client(ctx.dir, &tenant_id, client_id)?;
    target::resolve(ctx.dir, &tenant_id, &target)?;
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
    ctx.login.prune(ctx.now_ms);
    ctx.login.device_codes.push(code.clone());
    Ok((code, device_code))
}

/// Polling the token endpoint with a device code.
pub fn poll(ctx: &mut Ctx<'_>, client_id: Option<&str>, device_code: Option<&str>, v1: bool, want_refresh: bool) -> Result<UserTokens, LoginError> {
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
            let req = target::resolve(ctx.dir, &code.tenant_id, &code.target)?;
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
pub fn approve(ctx: &mut Ctx<'_>, user_code: &str, sign_in: &str, password: &str) -> Result<Approved, DeviceLoginError> {
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
    let req = target::resolve(ctx.dir, &code.tenant_id, &code.target).map_err(DeviceLoginError::Login)?;
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
pub fn decline(ctx: &mut Ctx<'_>, user_code: &str) -> Result<(), DeviceLoginError> {
    let idx = pending_code(ctx, user_code)?;
    ctx.login.device_codes[idx].status = DeviceStatus::Declined;
    Ok(())
}
