//! Faults by seed: what real Azure does to automation that an always-instant simulator
//! cannot show. A [`FaultProfile`] says which requests get a 429, 500 or 503 (with
//! `Retry-After`), extra latency in virtual time, or a dropped connection; how long new
//! directory objects take to replicate to ARM, the token service and other Graph replicas;
//! and how long long-running operations take.
//!
//! The schedule is a pure function of the run's seed and each request's identity (the rule
//! it matched and how many matching requests came before it), never a roll at run time: the
//! same seed gives the same faults, so a failure found in CI reproduces with one flag.
//! An injected answer carries `x-aksflow-fault: RULE #N`, which transcripts keep.

pub mod inject;
pub mod profile;
pub mod replication;
pub mod schedule;

pub use profile::{FaultProfile, FaultRule, Operations, Replication};
pub use schedule::{Injection, fires, unit};

/// The header that marks an injected answer.
pub const FAULT_HEADER: &str = "x-aksflow-fault";
