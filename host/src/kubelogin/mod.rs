//! `aksflow get-token`: a kubelogin-compatible client-go credential plugin. The exec
//! kubeconfigs AKS returns (and `kubeconfig-convert` writes) run `kubelogin get-token …`;
//! pointing `command` at `aksflow get-token` (or symlinking it as `kubelogin`) gives kubectl
//! a token from the same flags and environment variables, cached on disk until it expires.
//! [protocols.md §D.2]

pub mod cache;
pub mod flow;
pub mod options;

pub use flow::{GetToken, Login};
