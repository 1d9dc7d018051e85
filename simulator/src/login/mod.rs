//! The Entra ID token service: OIDC discovery, JWKS, the v1 and v2 token endpoints, the
//! device sign-in page; and the bearer-token check every resource that takes its tokens makes
//! (`caller`).

pub mod caller;
pub mod client_credentials;
pub mod device_code;
pub mod device_page;
pub mod error;
pub mod instant_tokens;
pub mod model;
pub mod routes;
pub mod target;
pub mod tokens;
pub mod user_tokens;
pub mod verified;
