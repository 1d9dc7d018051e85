//! A served simulator's state on disk: one redb database, `DIR/state.redb`, holding the
//! latest snapshot. Every change a request makes is committed, durably, before its answer
//! leaves (see `persist`): a kill at any moment loses nothing that was acknowledged.
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

pub struct Store {
    /// The lock keeps saves in order.
    inner: Mutex<Inner>,
    /// A copy of `Inner::saved` to read without waiting for a save in progress.
    saved_hint: AtomicU64,
}

struct Inner {
    /// `None` once closed.
    db: Option<Database>,
    /// The simulator generation the stored snapshot holds every change up to.
    saved: u64,
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
        Ok(Store { inner: Mutex::new(Inner { db: Some(db), saved: 0 }), saved_hint: AtomicU64::new(0) })
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the database, and with it its file lock, even while connections still hold the
    /// store; later saves fail.
    pub fn close(&self) {
        self.inner().db = None;
    }

    /// The stored snapshot, if one was saved.
    pub fn load(&self) -> Result<Option<Snapshot>, StoreError> {
        let inner = self.inner();
        let txn = inner.db.as_ref().ok_or(StoreError::Closed)?.begin_read()?;
        let table = match txn.open_table(STATE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(bytes) = table.get(SNAPSHOT)? else { return Ok(None) };
        serde_json::from_slice(bytes.value()).map(Some).map_err(StoreError::Format)
    }

    fn save(db: &Database, snap: &Snapshot) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(snap).expect("snapshots serialise");
        let txn = db.begin_write()?;
        {
            let mut table = txn.open_table(STATE)?;
            table.insert(SNAPSHOT, bytes.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Is there a change the store does not hold yet?
    pub fn behind(&self, sim: &Simulator) -> bool {
        sim.generation() > self.saved_hint.load(Ordering::SeqCst)
    }

    /// Saves every change made to `sim` so far (blocking: it waits for the disk).
    pub fn persist(&self, sim: &Simulator) -> Result<(), StoreError> {
        let wanted = sim.generation();
        let mut inner = self.inner();
        if inner.saved >= wanted && wanted > 0 {
            return Ok(());
        }
        let (snap, generation) = sim.snapshot_with_generation();
        Self::save(inner.db.as_ref().ok_or(StoreError::Closed)?, &snap)?;
        inner.saved = generation;
        self.saved_hint.store(generation, Ordering::SeqCst);
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
}
