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

/// What a grant works on: the parts of the simulator's state it reads and changes.
pub struct Ctx<'a> {
    pub dir: &'a mut Directory,
    pub login: &'a mut LoginState,
    pub ids: &'a mut IdSource,
    pub key: &'a SigningKey,
    pub now_ms: i64,
    pub base_url: &'a str,
}
