//! Kubernetes, by purpose:
//!
//! * [`config`]: kubeconfigs (clusters, users, contexts) and how the current user
//!   authenticates;
//! * [`login`]: what an Azure user (kubelogin `exec`, or the removed `azure` auth-provider)
//!   needs to get an Entra ID token;
//! * [`client`]: calls to a cluster's API server as that user, with [`send`] turning an error
//!   answer into kubectl's error;
//! * [`status`]: `Status` error bodies;
//! * [`resources`] and [`manifest`]: the built-in resource types, manifests and their REST
//!   paths.
//!
//! * [`kubectl`]: the kubectl version a step acts as, and what it refuses;
//! * [`convert`]: `kubelogin convert-kubeconfig` (the `kubeconfig-convert` step and the
//!   host's `aksflow convert-kubeconfig` share it).
//!
//! Everything except sending a call is plain data work, so it is unit-tested natively.
//! Work only one step does lives in that step (`kubectl get`'s tables in `kube-get`).

pub mod client;
pub mod config;
pub mod convert;
pub mod kubectl;
pub mod login;
pub mod manifest;
pub mod resources;
pub mod status;

pub use client::*;
pub use config::*;
pub use kubectl::check_kubeconfig;
pub use login::*;
pub use manifest::*;
pub use resources::*;
pub use status::*;

/// Kubeconfigs as `az aks get-credentials` writes them, for tests.
#[cfg(test)]
pub(crate) mod samples {
    /// A user of kubectl's removed `azure` auth-provider (legacy AAD).
    pub const AZURE_USER: &str = include_str!("../../testdata/azure-user.kubeconfig");
    /// A kubelogin `exec` user (AKS-managed AAD).
    pub const EXEC_USER: &str = include_str!("../../testdata/exec-user.kubeconfig");
    /// A cluster admin with a client certificate and a token.
    pub const ADMIN: &str = include_str!("../../testdata/admin.kubeconfig");
}
