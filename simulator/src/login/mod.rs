//! The Entra ID token service: OIDC discovery, JWKS, the v1 and v2 token endpoints.

pub mod error;
pub mod state;
pub mod user;
pub mod model;
pub mod device_page;
pub mod routes;
pub mod tokens;
