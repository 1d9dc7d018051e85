//! Where a plugin's `cloud.call` goes: the grant check first, then the operator's token,
//! then the transport (in process or HTTPS), retries on 429/503 in run time, and a
//! transcript record. The same path serves the simulator and Azure.

pub mod auth;
pub mod egress;
pub mod error;
mod gateway;
pub mod kube_tls;
mod recorder;
pub mod resolver;
pub mod retry;
pub mod target;
pub mod token_client;
pub mod transport;

pub use error::{AuthError, RequestError, TransportError};
pub use gateway::{Gateway, OPERATOR_STEP};
pub use target::{Endpoints, Target};
