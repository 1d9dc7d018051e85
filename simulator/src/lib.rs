//! A simulator of the services the Entra ID + AKS workflow talks to: the Entra ID token
//! service, Microsoft Graph, Azure Resource Manager and each cluster's Kubernetes API. It is
//! one axum [`Router`](axum::Router) that speaks their real paths, JSON shapes, status codes
//! and error bodies; it mints real RS256 tokens and enforces role-based access.
//!
//! It knows nothing of WebAssembly or of the runner: whoever holds a [`Simulator`] sends it
//! `http::Request`s (in process, or served over TLS) and reads its virtual clock.
//!
//! Everything it invents comes from the seed and the [`VirtualClock`]: the same seed and the
//! same requests give the same bytes.
//!
//! Each service keeps its rules in `model` (plain Rust), its wire in `routes`, and its error
//! body in `error`. Handlers return `Result<_, ServiceError>`; what every answer of a service
//! carries (ARM's headers, the ids in Graph's and the token service's error bodies) is added
//! by that service's middleware. Graph and ARM know their caller through one bearer-token
//! check, [`login::caller`].
//!
//! `simulator.rs` makes a [`Simulator`], `state.rs` holds its state, `router.rs` builds the
//! Router.

pub mod arm;
pub mod clock;
mod config;
pub mod copy_on_write;
pub mod directory;
pub mod era;
pub mod faults;
pub mod graph;
pub mod ids;
mod kept;
pub mod keys;
pub mod kube;
pub mod origin;
pub mod login;
pub mod pki;
mod signing;
mod router;
mod simulator;
mod state;

pub use clock::VirtualClock;
pub use config::{ServedCertificates, SimConfig};
pub use era::Era;
pub use signing::signatures_made;
pub use simulator::{ClusterServerCertificate, OperatorCredentials, Persona, Simulator, Snapshot, SnapshotError};
