//! The simulator's state: one `World` behind a lock, the clock, and the keys. State only:
//! building a simulator is `simulator.rs`, its Router `router.rs`.

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
    pub clock: VirtualClock,
    pub key: Arc<SigningKey>,
    pub config: SimConfig,
    pub operator_secret: String,
    pub pki: Arc<crate::pki::Pki>,
}

impl Shared {
    /// The world, advanced to the clock's now. A handler that panicked mid-update poisons
    /// the lock; the state it left is still the best there is.
    pub fn world(&self) -> MutexGuard<'_, World> {
        let mut w = self.world.lock().unwrap_or_else(|p| p.into_inner());
        w.arm.advance(self.clock.now_ms());
        w
    }
}
