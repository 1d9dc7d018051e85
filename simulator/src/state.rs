//! The simulator's state: one `World` behind a lock, the clock, and the keys. State only:
//! building a simulator is `simulator.rs`, its Router `router.rs`.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use crate::arm::model::Arm;
use crate::clock::VirtualClock;
use crate::config::SimConfig;
use crate::directory::Directory;
use crate::ids::IdSource;
use crate::keys::SigningKey;

/// Everything that changes as requests arrive. Serialisable, so a run can be saved and resumed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub ids: IdSource,
    pub directory: Directory,
    pub login: crate::login::model::LoginState,
    pub arm: Arm,
    /// Each cluster's Kubernetes objects, by the cluster's ARM id (lower case).
    #[serde(default)]
    pub kube: std::collections::BTreeMap<String, crate::kube::model::KubeCluster>,
    pub operator: Operator,
    /// How many requests matched each fault rule so far (the schedule's input).
    #[serde(default)]
    pub fault_counts: std::collections::BTreeMap<String, u64>,
    /// App-only tokens issued in the current second, given again for the same claims
    /// (issued through a shared reference, like ids).
    #[serde(default, skip_serializing_if = "crate::login::instant_tokens::InstantTokens::is_empty")]
    pub app_tokens: crate::login::instant_tokens::InstantTokens,
}

/// The seeded identity the runner acts as: a service principal that is tenant admin and
/// subscription owner.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Operator {
    pub app_id: String,
    pub object_id: String,
    pub subscription_id: String,
}

pub(crate) struct Shared {
    pub world: Mutex<World>,
    /// Counts the changes to the world: a holder that must keep every change (a served
    /// simulator persisting before it answers) compares it with what it saved.
    pub generation: AtomicU64,
    /// The world's id draws as of the last time its lock was let go: read without the lock
    /// (a served simulator checks it after every request).
    pub id_draws: AtomicU64,
    pub clock: VirtualClock,
    pub key: Arc<SigningKey>,
    pub config: SimConfig,
    pub operator_secret: String,
    pub pki: Arc<crate::pki::Pki>,
}

impl Shared {
    /// The world, advanced to the clock's now. A handler that panicked mid-update poisons
    /// the lock; the state it left is still the best there is.
    pub fn world(&self) -> WorldGuard<'_> {
        let mut w = self.world.lock().unwrap_or_else(|p| p.into_inner());
        // Not counted as a change: what the clock completes, it completes again after a restore.
        w.arm.advance(self.clock.now_ms());
        WorldGuard { world: w, generation: &self.generation, id_draws: &self.id_draws, changed: false }
    }

    /// A cluster's own CA and the certificates it issues (made on first use and kept), by
    /// [`pki_key`](crate::arm::aks::ManagedCluster::pki_key).
    pub fn cluster_pki(&self, cluster: &crate::arm::aks::ManagedCluster) -> Arc<crate::pki::Pki> {
        self.pki.cluster(&cluster.pki_key())
    }

    /// The world with its generation, read together.
    pub fn world_at_generation(&self) -> (WorldGuard<'_>, u64) {
        let w = self.world();
        let g = self.generation.load(Ordering::SeqCst);
        (w, g)
    }
}

/// The locked world. Taking it mutably counts a change, when the lock is let go.
pub(crate) struct WorldGuard<'a> {
    world: MutexGuard<'a, World>,
    generation: &'a AtomicU64,
    id_draws: &'a AtomicU64,
    changed: bool,
}

impl Deref for WorldGuard<'_> {
    type Target = World;
    fn deref(&self) -> &World {
        &self.world
    }
}

impl DerefMut for WorldGuard<'_> {
    fn deref_mut(&mut self) -> &mut World {
        self.changed = true;
        &mut self.world
    }
}

impl Drop for WorldGuard<'_> {
    fn drop(&mut self) {
        // Still under the lock (fields drop after this), so a reader of the world and the
        // generation together never sees one without the other.
        if self.changed {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.id_draws.store(self.world.ids.draws(), Ordering::SeqCst);
    }
}
