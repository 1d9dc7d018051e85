//! Each cluster's Kubernetes API server: objects and the pods and nodes an AKS cluster has
//! (`model`), client certificates (`x509`) and the AKS AAD webhook's authentication (`authn`), the authorizer chain of Azure
//! RBAC then Kubernetes RBAC (`authorizer`, `rbac`), the REST wire with Table output
//! (`routes`, `table`) and `Status` errors (`error`).

pub mod authn;
pub mod authorizer;
pub mod error;
pub mod legacy_webhook;
pub mod model;
pub mod openapi;
pub mod protobuf;
pub mod rbac;
mod rbac_cache;
pub mod routes;
pub mod table;
pub mod x509;
