//! Tokens on disk, one file per (authority, tenant, server, client, login), served until
//! five minutes before they expire. Files are owner-only: they hold bearer tokens.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub token: String,
    /// Unix seconds.
    pub expires_on: i64,
}

pub fn default_dir() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir).join(".kube/cache/kubelogin")
}

pub fn key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

pub fn read(dir: &Path, key: &str, now_secs: i64) -> Option<Cached> {
    let bytes = std::fs::read(dir.join(format!("{key}.json"))).ok()?;
    let c: Cached = serde_json::from_slice(&bytes).ok()?;
    (now_secs < c.expires_on - 300).then_some(c)
}

pub fn write(dir: &Path, key: &str, c: &Cached) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let bytes = serde_json::to_vec(c).expect("serialises");
    crate::atomic_file::write(&dir.join(format!("{key}.json")), &bytes, crate::atomic_file::PRIVATE)
}
