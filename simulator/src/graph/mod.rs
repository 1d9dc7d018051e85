//! Microsoft Graph v1.0: applications, service principals, permission grants, users,
//! groups and directory objects, as az CLI and the steps call them. [protocols.md §B]
//! The directory itself is `crate::directory`; Graph's own rules are in `model`.

pub mod caller;
pub mod error;
pub mod filter;
pub mod json;
pub mod model;
pub mod portal;
pub mod routes;
