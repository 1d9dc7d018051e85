//! Azure Resource Manager: subscriptions, resource groups, role-based access, long-running
//! operations.

pub mod error;
pub mod model;
pub mod rbac;
pub mod routes;
