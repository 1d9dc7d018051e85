//! Each cluster's Kubernetes API server.

pub mod rbac;
