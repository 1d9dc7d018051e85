//! Where a plugin's `cloud.call` goes: the grant check first, then the operator's token,
//! then the transport (in process or HTTPS), retries on 429/503 in run time, and a
//! transcript record. The same path serves the simulator and Azure.

pub mod auth;
mod gateway;
pub mod target;
pub mod transport;

pub use gateway::{Gateway, OPERATOR_STEP};
pub use target::{Endpoints, Target};
