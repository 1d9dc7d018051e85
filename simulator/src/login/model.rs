//! The token service's state: what it remembers between requests — pending device codes and
//! issued refresh tokens (by hash: a leaked snapshot gives no usable token) — and the part of
//! the simulator's state a grant works on. The grants themselves: `client_credentials`,
//! `user_tokens` (password and refresh token), `device_code`.

use serde::{Deserialize, Serialize};

use super::target::Target;
use crate::directory::Directory;
use crate::ids::IdSource;
use crate::keys::SigningKey;

/// Where a device-code sign-in stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceStatus {
    Pending,
    Approved { user_id: String },
    Declined,
    /// Tokens were issued; the code cannot be redeemed twice.
    Redeemed,
}

/// A device-code sign-in: the device polls with the device code (kept by hash), the person
/// enters the user code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code_sha256: String,
    pub user_code: String,
    pub tenant_id: String,
    pub client_id: String,
    pub target: Target,
    pub status: DeviceStatus,
    pub expires_ms: i64,
    pub interval_s: i64,
    pub last_poll_ms: Option<i64>,
}

/// An issued refresh token (kept by hash), and whose and for which client it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub token_sha256: String,
    pub tenant_id: String,
    pub user_id: String,
    pub client_id: String,
    pub expires_ms: i64,
}

/// What the token service remembers between requests.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoginState {
    pub device_codes: Vec<DeviceCode>,
    pub refresh_tokens: Vec<RefreshGrant>,
}

/// How long an expired device code or refresh token is still known (and refused as expired,
/// not unknown) before it is forgotten.
pub const FORGET_AFTER_MS: i64 = 24 * 3600 * 1000;

impl LoginState {
    /// Forgets, on the virtual clock, what can no longer be redeemed: device codes and refresh
    /// tokens a day past their expiry, and device codes already redeemed (a second poll is
    /// refused the same whether the code is known or not).
    pub fn prune(&mut self, now_ms: i64) {
        self.device_codes.retain(|d| d.status != DeviceStatus::Redeemed && now_ms < d.expires_ms + FORGET_AFTER_MS);
        self.refresh_tokens.retain(|g| now_ms < g.expires_ms + FORGET_AFTER_MS);
    }
}

/// What a grant works on: the parts of the simulator's state it reads and changes.
pub struct Ctx<'a> {
    pub dir: &'a mut Directory,
    pub login: &'a mut LoginState,
    pub ids: &'a mut IdSource,
    pub key: &'a SigningKey,
    pub now_ms: i64,
    pub base_url: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(status: DeviceStatus, expires_ms: i64) -> DeviceCode {
        DeviceCode { device_code_sha256: String::new(), user_code: String::new(), tenant_id: String::new(), client_id: String::new(), target: Target::Resource(String::new()), status, expires_ms, interval_s: 5, last_poll_ms: None }
    }

    #[test]
    fn prune_forgets_what_can_no_longer_be_redeemed() {
        let grant = |expires_ms| RefreshGrant { token_sha256: String::new(), tenant_id: String::new(), user_id: String::new(), client_id: String::new(), expires_ms };
        let mut s = LoginState {
            device_codes: vec![code(DeviceStatus::Pending, 1_000), code(DeviceStatus::Pending, 1_000 + FORGET_AFTER_MS), code(DeviceStatus::Redeemed, i64::MAX / 2)],
            refresh_tokens: vec![grant(1_000), grant(5_000 + FORGET_AFTER_MS)],
        };
        s.prune(1_000 + FORGET_AFTER_MS);
        assert_eq!(s.device_codes.len(), 1, "the expired long ago and the redeemed are gone");
        assert_eq!(s.device_codes[0].expires_ms, 1_000 + FORGET_AFTER_MS);
        assert_eq!(s.refresh_tokens.len(), 1);
        assert_eq!(s.refresh_tokens[0].expires_ms, 5_000 + FORGET_AFTER_MS);
    }
}
