//! A served simulator's state on disk: one redb database, `DIR/state.redb`, holding the
//! latest snapshot. Every change a request makes is committed, durably, before its answer
//! leaves (see `persist`): a kill at any moment loses nothing that was acknowledged.
//!
//! Ids are kept apart, as a database keeps a sequence: most requests change nothing but draw
//! a request id or a token id, and saving the whole world for each would make every read
//! wait for the disk. The store instead reserves draws ahead ([`ID_RESERVATION`] at a time,
//! one small commit) and answers at once while the draws stay within what is reserved. A
//! simulator restored after a kill goes on from the reserved mark, so no id it may have
//! handed out is handed out again; after a clean stop the mark is exact, and the id stream
//! goes on exactly where it stopped.
//!
//! A redb commit is atomic and fsynced, so a kill during a save leaves the previous snapshot.
//! Concurrent requests share a commit: whoever saves, saves every change made so far.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aksflow_simulator::{Simulator, Snapshot};
use redb::{Database, ReadableDatabase, TableDefinition};

const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");
const SNAPSHOT: &str = "snapshot";
/// The id draw every id handed out so far is below (little-endian u64).
const IDS_RESERVED: &str = "ids_reserved";

/// How many id draws one reservation covers: a client-credentials token draws one (its
/// `uti`), so 4,096 tokens between commits.
pub const ID_RESERVATION: u64 = 4096;

pub struct Store {
    /// The lock keeps saves in order.
    inner: Mutex<Inner>,
    /// Copies of `Inner::saved` and `Inner::reserved` to read without waiting for a save in
    /// progress.
    saved_hint: AtomicU64,
    reserved_hint: AtomicU64,
    /// How many draws a reservation covers ([`ID_RESERVATION`]; fewer in tests).
    reservation: u64,
}

struct Inner {
    /// `None` once closed.
    db: Option<Database>,
    /// The simulator generation the stored snapshot holds every change up to (`None` before
    /// the first save).
    saved: Option<u64>,
    /// The id draws the store has reserved: every draw below it may be handed out.
    reserved: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state database {path}: {source}")]
    Open { path: String, source: std::io::Error },
    #[error("the state database: {0}")]
    Db(#[from] redb::Error),
    #[error("the saved snapshot is not one this simulator reads ({0}); move the state directory away to start fresh")]
    Format(serde_json::Error),
    #[error("the state database is closed: the simulator has stopped")]
    Closed,
}

macro_rules! db_err {
    ($($t:ty),*) => {$(impl From<$t> for StoreError { fn from(e: $t) -> Self { StoreError::Db(e.into()) } })*};
}
db_err!(redb::DatabaseError, redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

impl Store {
    /// Opens `path`, creating it readable by its owner only.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open { path: path.display().to_string(), source };
        let file = super::private::open_file(path).map_err(open_err)?;
        let db = Database::builder().create_file(file)?;
        Ok(Store { inner: Mutex::new(Inner { db: Some(db), saved: None, reserved: 0 }), saved_hint: AtomicU64::new(0), reserved_hint: AtomicU64::new(0), reservation: ID_RESERVATION })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the database, and with it its file lock, even while connections still hold the
    /// store; later saves fail.
    pub fn close(&self) {
        self.inner().db = None;
    }

    /// The stored snapshot, if one was saved, drawing ids on from the reserved mark (after a
    /// kill, ids past the snapshot's may have been handed out).
    pub fn load(&self) -> Result<Option<Snapshot>, StoreError> {
        let inner = self.inner();
        let txn = inner.db.as_ref().ok_or(StoreError::Closed)?.begin_read()?;
        let table = match txn.open_table(STATE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(bytes) = table.get(SNAPSHOT)? else { return Ok(None) };
        let mut snap: Snapshot = serde_json::from_slice(bytes.value()).map_err(StoreError::Format)?;
        if let Some(reserved) = table.get(IDS_RESERVED)? {
            // A mark that is not eight bytes was not written by this store: the snapshot's
            // own count is then the best there is.
            if let Ok(le) = <[u8; 8]>::try_from(reserved.value()) {
                snap.world.ids.skip_to(u64::from_le_bytes(le));
            }
        }
        Ok(Some(snap))
    }

    /// Writes, in one transaction, the snapshot (if given) and the id mark.
    fn save(db: &Database, snap: Option<&Snapshot>, ids_reserved: u64) -> Result<(), StoreError> {
        let bytes = snap.map(|s| serde_json::to_vec(s).expect("snapshots serialise"));
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(STATE)?;
            if let Some(bytes) = &bytes {
                table.insert(SNAPSHOT, bytes.as_slice())?;
            }
            table.insert(IDS_RESERVED, ids_reserved.to_le_bytes().as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Is there a change the store does not hold yet, or an id drawn past the reservation?
    pub fn behind(&self, sim: &Simulator) -> bool {
        sim.generation() > self.saved_hint.load(Ordering::SeqCst) || sim.id_draws() > self.reserved_hint.load(Ordering::SeqCst)
    }

    /// Saves every change made to `sim` so far, and reserves ids ahead of its draws
    /// (blocking: it waits for the disk).
    pub fn persist(&self, sim: &Simulator) -> Result<(), StoreError> {
        self.save_up_to_now(sim, self.reservation)
    }

    /// Saves everything with the id mark exactly at the draws made: for a clean stop, after
    /// which the id stream goes on exactly where it stopped.
    pub fn persist_final(&self, sim: &Simulator) -> Result<(), StoreError> {
        // First: a request still in flight that draws after the count is read must not take
        // the old reservation as covering it; it waits for the store (and, once the store is
        // closed, answers 503) instead.
        self.reserved_hint.store(0, Ordering::SeqCst);
        self.save_up_to_now(sim, 0)
    }

    fn save_up_to_now(&self, sim: &Simulator, ids_ahead: u64) -> Result<(), StoreError> {
        let wanted = sim.generation();
        let mut inner = self.inner();
        let world_saved = inner.saved.is_some_and(|saved| saved >= wanted);
        // Read after the lock: a request waiting on this save drew its ids before.
        let draws = sim.id_draws();
        if world_saved && ids_ahead > 0 && inner.reserved >= draws {
            return Ok(());
        }
        let db = inner.db.as_ref().ok_or(StoreError::Closed)?;
        let snap = (!world_saved || ids_ahead == 0).then(|| sim.snapshot_with_generation());
        let draws = snap.as_ref().map_or(draws, |(s, _)| draws.max(s.world.ids.draws()));
        let reserved = draws + ids_ahead;
        Self::save(db, snap.as_ref().map(|(s, _)| s), reserved)?;
        if let Some((_, generation)) = snap {
            inner.saved = Some(generation);
            self.saved_hint.store(generation, Ordering::SeqCst);
        }
        inner.reserved = reserved;
        self.reserved_hint.store(reserved, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aksflow_simulator::{SimConfig, VirtualClock};

    #[test]
    fn a_snapshot_survives_reopening_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let sim = Simulator::new(SimConfig::in_process(3), VirtualClock::default());
        {
            let store = Store::open(&path).unwrap();
            assert!(store.load().unwrap().is_none());
            store.persist(&sim).unwrap();
            assert!(!store.behind(&sim));
            store.persist_final(&sim).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let store = Store::open(&path).unwrap();
        let snap = store.load().unwrap().expect("saved");
        assert_eq!(snap.seed, 3);
        assert_eq!(serde_json::to_value(&snap.world).unwrap(), serde_json::to_value(&sim.snapshot().world).unwrap());
    }

    /// A simulator (seed 3) and a store in a new directory holding its first snapshot.
    fn saved_once() -> (tempfile::TempDir, Simulator, Store) {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::new(SimConfig::in_process(3), VirtualClock::default());
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        store.persist(&sim).unwrap();
        (dir, sim, store)
    }

    /// A form posted to `sim`'s token service at `path` (under the tenant); the JSON answer.
    fn post_form(sim: &Simulator, path: &str, body: String) -> serde_json::Value {
        let req = http::Request::post(format!("/{}/oauth2/v2.0/{path}", sim.operator().tenant_id))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let resp = tower::ServiceExt::oneshot(sim.router(), req).await.unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
    }

    /// A client-credentials token from `sim`, as a client asks for one.
    fn app_token(sim: &Simulator) -> String {
        let op = sim.operator();
        let body = format!("grant_type=client_credentials&client_id={}&client_secret={}&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", op.client_id, op.client_secret);
        post_form(sim, "token", body)["access_token"].as_str().unwrap().to_string()
    }

    #[test]
    fn a_change_to_the_world_waits_for_the_snapshot_and_a_closed_store_refuses() {
        let (_dir, sim, store) = saved_once();
        let draws = stored_snapshot_draws_open(&store);
        // A device code is kept by the token service until it is redeemed: a change.
        post_form(&sim, "devicecode", "client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&scope=https%3A%2F%2Fmanagement.azure.com%2F.default".into());
        assert!(store.behind(&sim), "the device code is not in the store yet");
        store.persist(&sim).unwrap();
        assert!(!store.behind(&sim));
        assert!(stored_snapshot_draws_open(&store) > draws, "the snapshot was written again, with the code's draws");
        store.close();
        assert!(matches!(store.persist(&sim), Ok(())), "nothing new: nothing to save");
        post_form(&sim, "devicecode", "client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46&scope=https%3A%2F%2Fmanagement.azure.com%2F.default".into());
        assert!(matches!(store.persist(&sim), Err(StoreError::Closed)), "a closed store saves nothing");
    }

    /// The id draws of the snapshot `store` holds.
    fn stored_snapshot_draws_open(store: &Store) -> u64 {
        let inner = store.inner();
        let txn = inner.db.as_ref().unwrap().begin_read().unwrap();
        let table = txn.open_table(STATE).unwrap();
        let snap: Snapshot = serde_json::from_slice(table.get(SNAPSHOT).unwrap().unwrap().value()).unwrap();
        snap.world.ids.draws()
    }

    /// A token's `uti` claim: its id, drawn from the id stream.
    fn uti(token: &str) -> String {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap();
        serde_json::from_slice::<serde_json::Value>(&payload).unwrap()["uti"].as_str().unwrap().to_string()
    }

    fn stored_snapshot_draws(path: &std::path::Path) -> u64 {
        stored_snapshot_draws_open(&Store::open(path).unwrap())
    }

    #[test]
    fn a_token_draws_ids_within_the_reservation_and_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let sim = Simulator::new(SimConfig::in_process(3), VirtualClock::default());
        let mut store = Store::open(&path).unwrap();
        // A small reservation, to reach its end in a few tokens.
        store.reservation = 8;
        store.persist(&sim).unwrap();
        let (generation, draws) = (sim.generation(), sim.id_draws());
        app_token(&sim);
        assert_eq!(sim.generation(), generation, "a token changes nothing in the world");
        assert!(sim.id_draws() > draws, "but draws its id");
        assert!(!store.behind(&sim), "within the reservation: nothing to wait for");
        // Past the reservation, one save reserves the next block, without a snapshot.
        while sim.id_draws() <= draws + 8 {
            // A second apart: the same claims in one second get the same token, no draw.
            sim.clock().advance(std::time::Duration::from_secs(1));
            app_token(&sim);
        }
        assert!(store.behind(&sim));
        store.persist(&sim).unwrap();
        assert!(!store.behind(&sim));
        drop(store);
        assert_eq!(stored_snapshot_draws(&path), draws, "the snapshot was not written again");
    }

    #[test]
    fn after_a_kill_no_id_is_handed_out_twice_and_after_a_clean_stop_ids_go_on_exactly() {
        let (dir, sim, store) = saved_once();
        let path = dir.path().join("state.redb");
        let handed_out: Vec<String> = (0..3)
            .map(|_| {
                sim.clock().advance(std::time::Duration::from_secs(1));
                uti(&app_token(&sim))
            })
            .collect();
        // A kill: the store is dropped with no final save.
        drop(store);
        let store = Store::open(&path).unwrap();
        let after_kill = Simulator::restore(SimConfig::in_process(3), VirtualClock::default(), store.load().unwrap().unwrap()).unwrap();
        assert!(after_kill.id_draws() >= sim.id_draws(), "restored past every draw handed out");
        assert!(!handed_out.contains(&uti(&app_token(&after_kill))), "a token id handed out again");

        // A clean stop saves the exact count: the next token is the one the run would give.
        store.persist(&after_kill).unwrap();
        app_token(&after_kill);
        store.persist_final(&after_kill).unwrap();
        assert!(!store.behind(&after_kill), "the exact mark covers every draw made, and no more");
        drop(store);
        let store = Store::open(&path).unwrap();
        let reopened = Simulator::restore(SimConfig::in_process(3), VirtualClock::default(), store.load().unwrap().unwrap()).unwrap();
        assert_eq!(reopened.id_draws(), after_kill.id_draws());
        // A second on: `after_kill` gave a token in this one, which it would give again.
        for sim in [&reopened, &after_kill] {
            sim.clock().advance(std::time::Duration::from_secs(1));
        }
        assert_eq!(app_token(&reopened), app_token(&after_kill));
    }
}
