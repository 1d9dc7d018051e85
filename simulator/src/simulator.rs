//! A simulator instance: made from a seed or a snapshot, and what its holder may ask of it
//! (the operator's credentials, the personas, certificates, its Router).

use std::sync::atomic::AtomicU64;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::arm::model::{Arm, Subscription};
use crate::arm::rbac::{self, RoleAssignment};
use crate::clock::VirtualClock;
use crate::config::SimConfig;
use crate::directory::Directory;
use crate::ids::IdSource;
use crate::keys::SigningKey;
use crate::state::{Operator, Shared, World};

/// A seeded user to sign in as.
#[derive(Clone)]
pub struct Persona {
    pub user_principal_name: String,
    pub object_id: String,
    pub tenant_id: String,
    pub password: String,
}

impl std::fmt::Debug for Persona {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Persona").field("user_principal_name", &self.user_principal_name).field("object_id", &self.object_id).finish_non_exhaustive()
    }
}

/// What the runner needs to sign in as the operator.
#[derive(Clone)]
pub struct OperatorCredentials {
    pub tenant_id: String,
    pub subscription_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for OperatorCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorCredentials")
            .field("tenant_id", &self.tenant_id)
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .finish()
    }
}

/// A saved simulator: its world and the clock reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub seed: u64,
    pub now_ms: i64,
    pub world: World,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the saved simulator state was made with seed {saved}, but this run uses seed {requested}")]
    SeedMismatch { saved: u64, requested: u64 },
}

/// A cluster API server's TLS certificate (PEM).
#[derive(Clone)]
pub struct ClusterServerCertificate {
    /// Which CA issued it (see [`Simulator::cluster_ca_id`]).
    pub ca_id: String,
    pub cert_pem: String,
    pub key_pem: String,
}

/// A simulator instance. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
}

/// Seeds of the served certificates' RSA keys, apart from the token-signing key's.
const CA_KEY_STREAM: u64 = 0x6361_6b65_7900; // "cakey"
const LEAF_KEY_STREAM: u64 = 0x6c65_6166_6b00; // "leafk"

/// Keeps the operator's secret apart from the id stream: it is derived, never stored.
const OPERATOR_SECRET_STREAM: u64 = 0x6f70_6572; // "oper"

impl Simulator {
    pub fn new(config: SimConfig, clock: VirtualClock) -> Self {
        let world = Self::seeded_world(config.seed, clock.now_ms());
        let secret = Self::derive_operator_secret(config.seed);
        Self::from_world(config, clock, world, secret)
    }

    /// The world a seed starts from at `now_ms`. Made once per process and cloned after:
    /// a suite starts the same seeds again and again, and making one draws hundreds of ids.
    fn seeded_world(seed: u64, now_ms: i64) -> World {
        static WORLDS: OnceLock<Mutex<HashMap<(u64, i64), Arc<World>>>> = OnceLock::new();
        /// Seeds' worlds kept at once.
        const MAX_WORLDS: usize = 64;
        // Kept behind an Arc so the map's lock is held for a pointer's copy, not the world's:
        // flows side by side start at once.
        let kept = crate::kept::kept(WORLDS.get_or_init(Default::default), MAX_WORLDS, (seed, now_ms), || Arc::new(Self::make_seeded_world(seed, now_ms)));
        World::clone(&kept)
    }

    fn make_seeded_world(seed: u64, now_ms: i64) -> World {
        let mut ids = IdSource::new(seed);
        let mut directory = Directory::seeded(&mut ids, now_ms);
        let home = directory.home_tenant.clone();
        let secret = Self::derive_operator_secret(seed);
        let (app, sp) = directory.register_app(&mut ids, &home, "aksflow-operator", &secret, now_ms, true);
        directory.mark_seeded();
        let subscription_id = ids.guid().to_string();
        let mut arm = Arm::default();
        arm.subscriptions.push(Subscription { id: subscription_id.clone(), display_name: "aksflow simulated subscription".into(), tenant_id: home });
        arm.role_assignments.push(RoleAssignment {
            name: ids.guid().to_string(),
            principal_id: sp.id.clone(),
            principal_type: "ServicePrincipal".into(),
            role: rbac::OWNER.into(),
            scope: format!("/subscriptions/{subscription_id}"),
            description: None,
            condition: None,
            condition_version: None,
            created_ms: now_ms,
            created_by: String::new(),
        });
        World { ids, directory, login: Default::default(), arm, kube: Default::default(), operator: Operator { app_id: app.app_id, object_id: sp.id, subscription_id }, fault_counts: Default::default(), app_tokens: Default::default() }
    }

    /// A simulator that continues from a snapshot (its clock moves to the saved time).
    pub fn restore(config: SimConfig, clock: VirtualClock, snapshot: Snapshot) -> Result<Self, SnapshotError> {
        if snapshot.seed != config.seed {
            return Err(SnapshotError::SeedMismatch { saved: snapshot.seed, requested: config.seed });
        }
        clock.set_ms(snapshot.now_ms);
        let secret = Self::derive_operator_secret(config.seed);
        Ok(Self::from_world(config, clock, snapshot.world, secret))
    }

    fn from_world(config: SimConfig, clock: VirtualClock, mut world: World, operator_secret: String) -> Self {
        if config.is_served() {
            // A served simulator's Graph is also named by its own address, as a national
            // cloud's Graph is by its URL (`az cloud register` at the direct endpoint).
            world.directory.name_graph_also(&config.base_url);
        }
        if !config.era.creates_legacy_aad() {
            // Saved in the seed's era, opened in today's: Azure migrated legacy clusters.
            for c in &mut world.arm.clusters {
                c.migrate_legacy_aad();
            }
        }
        let key = SigningKey::for_seed_cached(config.seed, config.key_cache.as_deref());
        // Certificates start at the fixed epoch, not the restore time: same seed, same PEM.
        let start = crate::clock::EPOCH_MS / 1000;
        let pki = if let Some(served) = &config.served_certificates {
            // Keys of their own, derived from the seed like the token-signing key (and cached
            // with it), never the token-signing key itself.
            let ca = SigningKey::for_seed_cached(config.seed ^ CA_KEY_STREAM, config.key_cache.as_deref());
            let leaf = SigningKey::for_seed_cached(config.seed ^ LEAF_KEY_STREAM, config.key_cache.as_deref());
            Arc::new(crate::pki::Pki::new_served(config.seed, served, ca.pkcs8_der.clone(), leaf.pkcs8_der.clone()))
        } else {
            crate::pki::Pki::in_process(config.seed, start)
        };
        Simulator { shared: Arc::new(Shared { id_draws: AtomicU64::new(world.ids.draws()), world: Mutex::new(world), generation: Default::default(), clock, key, config, operator_secret, pki }) }
    }

    fn derive_operator_secret(seed: u64) -> String {
        IdSource::new(seed ^ OPERATOR_SECRET_STREAM).client_secret()
    }

    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with_generation().0
    }

    /// How many changes the world has seen since this simulator was made or restored.
    pub fn generation(&self) -> u64 {
        self.shared.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many ids the simulator has drawn. Drawing is not a change to the world (a read
    /// that draws a request id changes nothing else): a holder that must never hand out an
    /// id twice keeps this durable on its own, ahead of use.
    pub fn id_draws(&self) -> u64 {
        self.shared.id_draws.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A snapshot and the [`generation`](Self::generation) it holds every change up to.
    pub fn snapshot_with_generation(&self) -> (Snapshot, u64) {
        let (world, generation) = self.shared.world_at_generation();
        (Snapshot { seed: self.shared.config.seed, now_ms: self.shared.clock.now_ms(), world: World::clone(&world) }, generation)
    }

    /// A TLS certificate and key (PEM) for serving the simulator under these names, issued
    /// by [`ca_pem`](Self::ca_pem).
    pub fn server_certificate(&self, names: &[String]) -> (String, String) {
        let c = self.shared.pki.server(names);
        (c.cert_pem, c.key_pem)
    }

    /// The API server certificate of the cluster whose FQDN is `fqdn`, issued by that
    /// cluster's own CA; `None` when no cluster has that name (DNS would not resolve it).
    pub fn cluster_server_certificate(&self, fqdn: &str) -> Option<ClusterServerCertificate> {
        let cluster = self.shared.world().arm.cluster_at(fqdn).cloned()?;
        let pki = self.shared.cluster_pki(&cluster);
        let issued = pki.apiserver(&cluster.fqdn);
        Some(ClusterServerCertificate { ca_id: cluster.pki_key(), cert_pem: issued.cert_pem, key_pem: issued.key_pem })
    }

    /// What names the CA of the cluster whose FQDN is `fqdn` (it changes when the cluster's
    /// certificates are rotated, or the cluster is made again); cheap, nothing is issued.
    pub fn cluster_ca_id(&self, fqdn: &str) -> Option<String> {
        self.shared.world().arm.cluster_at(fqdn).map(|c| c.pki_key())
    }

    /// The CA (PEM) that issued the certificate a TLS client is shown at `host`: a cluster's
    /// own CA at its FQDN, the simulator's at its own address and at Azure's names; `None`
    /// for a name nothing here answers (DNS would not resolve it).
    pub fn certificate_issuer(&self, host: &str) -> Option<String> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let own = self.shared.config.base_url.parse::<http::Uri>().ok().and_then(|u| u.host().map(str::to_ascii_lowercase));
        if own.as_deref() == Some(host.as_str()) || crate::origin::AZURE_HOSTS.contains(&host.as_str()) {
            return Some(self.shared.pki.ca.cert_pem.clone());
        }
        let cluster = self.shared.world().arm.cluster_at(&host).cloned()?;
        Some(self.shared.cluster_pki(&cluster).ca.cert_pem.clone())
    }

    /// The simulator's CA (PEM): the `certificate-authority-data` of kubeconfigs that
    /// name the simulator's own address.
    pub fn ca_pem(&self) -> String {
        self.shared.pki.ca.cert_pem.clone()
    }

    pub fn clock(&self) -> &VirtualClock {
        &self.shared.clock
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    pub fn operator(&self) -> OperatorCredentials {
        let w = self.shared.world();
        OperatorCredentials {
            tenant_id: w.directory.home_tenant.clone(),
            subscription_id: w.operator.subscription_id.clone(),
            client_id: w.operator.app_id.clone(),
            client_secret: self.shared.operator_secret.clone(),
        }
    }

    /// The personas a run can sign in as, with their passwords (derived from the seed).
    pub fn personas(&self) -> Vec<Persona> {
        let w = self.shared.world();
        w.directory
            .users
            .iter()
            .filter(|u| u.user_type == crate::directory::UserType::Member)
            .map(|u| Persona {
                user_principal_name: u.user_principal_name.clone(),
                object_id: u.id.clone(),
                tenant_id: u.tenant_id.clone(),
                password: crate::directory::seed::persona_password(self.shared.config.seed, &u.user_principal_name),
            })
            .collect()
    }

    pub fn router(&self) -> axum::Router {
        crate::router::router(self.shared.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &Snapshot) -> String {
        serde_json::to_string(s).unwrap()
    }

    #[test]
    fn a_kept_seed_world_is_the_one_made_afresh_and_no_run_changes_it() {
        let fresh = |seed| Simulator::new(SimConfig::in_process(seed), VirtualClock::default());
        let first = fresh(7);
        let made = Simulator::make_seeded_world(7, VirtualClock::default().now_ms());
        assert_eq!(serde_json::to_string(&first.snapshot().world).unwrap(), serde_json::to_string(&made).unwrap());
        // A run draws ids and changes the directory; the next simulator of the seed starts clean.
        {
            let mut w = first.shared.world();
            let w = &mut *w;
            w.ids.guid();
            w.directory.users.clear();
        }
        let second = fresh(7);
        assert_ne!(json(&first.snapshot()), json(&second.snapshot()));
        assert_eq!(serde_json::to_string(&second.snapshot().world).unwrap(), serde_json::to_string(&made).unwrap());
        // Another start time is another world (its objects' creation times).
        let later = Simulator::new(SimConfig::in_process(7), VirtualClock::starting_at(VirtualClock::default().now_ms() + 1_000));
        assert_ne!(serde_json::to_string(&later.snapshot().world).unwrap(), serde_json::to_string(&made).unwrap());
    }
}
