//! Azure Resource Manager: subscriptions, resource groups, role-based access, long-running
//! operations.

pub mod aks;
pub mod aks_routes;
pub mod error;
pub mod caller;
pub mod kubeconfig;
pub mod location;
pub mod model;
pub mod rbac;
pub mod routes;
