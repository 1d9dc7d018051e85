//! Microsoft Graph v1.0: applications, service principals, permission grants, users,
//! groups and directory objects, as az CLI and the steps call them. [protocols.md §B]

pub mod error;
pub mod filter;
pub mod json;
pub mod routes;
