//! What the token service remembers between requests: pending device codes and issued
//! refresh tokens (by hash: a leaked snapshot gives no usable token).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceStatus {
    Pending,
    Approved { user_id: String },
    Declined,
    /// Tokens were issued; the code cannot be redeemed twice.
    Redeemed,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceCode {
    pub device_code_sha256: String,
    pub user_code: String,
    pub tenant_id: String,
    pub client_id: String,
    pub target: super::model::Target,
    pub status: DeviceStatus,
    pub expires_ms: i64,
    pub interval_s: i64,
    pub last_poll_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshGrant {
    pub token_sha256: String,
    pub tenant_id: String,
    pub user_id: String,
    pub client_id: String,
    pub expires_ms: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoginState {
    pub device_codes: Vec<DeviceCode>,
    pub refresh_tokens: Vec<RefreshGrant>,
}
