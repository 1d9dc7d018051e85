//! Compiled components on disk, keyed by the wasm's SHA-256 and the engine's compatibility
//! hash (wasmtime version + configuration), so a warm start skips Cranelift entirely.
//!
//! A cached entry is native code that runs in the process holding the operator's
//! credentials, and a cache directory is easy to write (a restored CI cache, a shared home).
//! So each entry carries an HMAC-SHA256 over the source hash, the engine hash and the
//! compiled bytes, under a per-user key kept outside the cache directory at 0600. An entry
//! whose MAC does not verify (tampered, swapped for another component's, written by another
//! key) is never loaded: the component is compiled again and the entry rewritten.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::Engine;
use wasmtime::component::Component;

type HmacSha256 = Hmac<Sha256>;

const MAC_LEN: usize = 32;

pub struct DiskCache {
    /// The directory and the key that vouches for its entries; `None`: memory only.
    store: Option<(PathBuf, [u8; 32])>,
}

/// Where a component came from (tests, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Cache,
    Compiled,
}

impl DiskCache {
    /// A cache under `dir`, vouched for by the user's key (created on first use). Without a
    /// usable key there is no disk cache: compiling is slower, loading unverified code worse.
    pub fn new(dir: Option<PathBuf>) -> Self {
        let store = dir.and_then(|dir| match key_path().map(|p| load_or_create_key(&p)) {
            Some(Ok(key)) => Some((dir, key)),
            Some(Err(e)) => {
                tracing::warn!("not caching compiled components: {e}");
                None
            }
            None => None,
        });
        DiskCache { store }
    }

    /// A cache under `dir` with this key (tests).
    #[cfg(test)]
    fn with_key(dir: PathBuf, key: [u8; 32]) -> Self {
        DiskCache { store: Some((dir, key)) }
    }

    fn engine_hash(engine: &Engine) -> u64 {
        // SipHash with fixed keys: stable for a given binary, which is all the name needs.
        let mut h = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        h.finish()
    }

    fn mac(key: &[u8; 32], hash: &[u8; 32], engine_hash: u64, compiled: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(hash);
        mac.update(&engine_hash.to_le_bytes());
        mac.update(compiled);
        mac
    }

    pub fn component(&self, engine: &Engine, wasm: &[u8], hash: &[u8; 32]) -> wasmtime::Result<Component> {
        self.component_from(engine, wasm, hash).map(|(c, _)| c)
    }

    fn component_from(&self, engine: &Engine, wasm: &[u8], hash: &[u8; 32]) -> wasmtime::Result<(Component, Source)> {
        let Some((dir, key)) = &self.store else {
            return Ok((Component::new(engine, wasm)?, Source::Compiled));
        };
        let engine_hash = Self::engine_hash(engine);
        let path = dir.join(format!("{}-{engine_hash:016x}.cwasm", hex::encode(hash)));
        if let Ok(bytes) = std::fs::read(&path) {
            match bytes.split_at_checked(MAC_LEN) {
                Some((tag, compiled)) if Self::mac(key, hash, engine_hash, compiled).verify_slice(tag).is_ok() => {
                    // SAFETY: these bytes are what `Component::serialize` produced for this
                    // source and engine, as the MAC under the user's own key proves.
                    match unsafe { Component::deserialize(engine, compiled) } {
                        Ok(c) => return Ok((c, Source::Cache)),
                        Err(e) => tracing::warn!("ignoring unusable cached component {}: {e:#}", path.display()),
                    }
                }
                _ => tracing::warn!("{} does not carry this user's MAC (tampered, or from elsewhere): compiling again", path.display()),
            }
        }
        let component = Component::new(engine, wasm)?;
        let compiled = component.serialize()?;
        let mut entry = Self::mac(key, hash, engine_hash, &compiled).finalize().into_bytes().to_vec();
        entry.extend_from_slice(&compiled);
        if let Err(e) = write_atomically(&path, &entry) {
            tracing::warn!("could not cache the compiled component at {}: {e}", path.display());
        }
        Ok((component, Source::Compiled))
    }
}

/// `$AKSFLOW_CACHE_KEY`, else `$XDG_STATE_HOME/aksflow/cache.key`, else
/// `~/.local/state/aksflow/cache.key`: outside the cache directory, which CI systems save
/// and restore.
fn key_path() -> Option<PathBuf> {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AKSFLOW_CACHE_KEY")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("aksflow/cache.key")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/aksflow/cache.key")))
}

/// The key at `path`, made (32 random bytes, 0600, in a 0700 directory) if there is none.
fn load_or_create_key(path: &Path) -> Result<[u8; 32], String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map_err(|e| e.to_string())?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(format!("the cache key {} is readable or writable by others (mode {:o}); `chmod 600` it or delete it", path.display(), mode & 0o777));
                }
            }
            bytes.try_into().map_err(|_| format!("the cache key {} is not 32 bytes; delete it and a new one is made", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
            let dir = path.parent().ok_or_else(|| format!("{} has no directory", path.display()))?;
            create_private_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            write_private(path, &key).map_err(|e| format!("cannot write the cache key {}: {e}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(format!("cannot read the cache key {}: {e}", path.display())),
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// A new file, owner-only, written whole or not at all.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::atomic_file::write(path, bytes, crate::atomic_file::PRIVATE)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    create_private_dir(path.parent().expect("cache paths have a directory"))?;
    write_private(path, bytes)
}

#[cfg(test)]
mod tests {
    use sha2::Digest;

    use super::*;

    fn two_components() -> (&'static [u8], &'static [u8]) {
        (crate::plugins::builtin("resource-group").unwrap(), crate::plugins::builtin("account-show").unwrap())
    }

    fn entry(dir: &Path, hash: &[u8; 32]) -> PathBuf {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&hex::encode(hash))).unwrap()
    }

    #[test]
    fn a_cached_component_is_loaded_only_with_this_users_mac() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::default();
        let (a, b) = two_components();
        let (ha, hb): ([u8; 32], [u8; 32]) = (Sha256::digest(a).into(), Sha256::digest(b).into());
        let cache = DiskCache::with_key(dir.path().to_path_buf(), [7; 32]);
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Compiled);
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Cache, "a warm start loads it");
        cache.component_from(&engine, b, &hb).unwrap();

        // Another component's entry copied over this one's: refused, recompiled, rewritten.
        std::fs::copy(entry(dir.path(), &hb), entry(dir.path(), &ha)).unwrap();
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Compiled);
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Cache, "the rewritten entry is good");

        // One flipped byte in the compiled code.
        let path = entry(dir.path(), &ha);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Compiled);

        // The same entry under another user's key.
        let other = DiskCache::with_key(dir.path().to_path_buf(), [8; 32]);
        assert_eq!(other.component_from(&engine, a, &ha).unwrap().1, Source::Compiled);

        // A bare serialized component with no MAC at all.
        std::fs::write(&path, Component::new(&engine, a).unwrap().serialize().unwrap()).unwrap();
        assert_eq!(cache.component_from(&engine, a, &ha).unwrap().1, Source::Compiled);
    }

    #[cfg(unix)]
    #[test]
    fn the_key_and_entries_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key_path = dir.path().join("state/aksflow/cache.key");
        let key = load_or_create_key(&key_path).unwrap();
        assert_eq!(load_or_create_key(&key_path).unwrap(), key, "the same key next time");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key_path), 0o600);
        assert_eq!(mode(key_path.parent().unwrap()), 0o700);

        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create_key(&key_path).unwrap_err().contains("chmod 600"));

        let cache_dir = dir.path().join("cache");
        let cache = DiskCache::with_key(cache_dir.clone(), key);
        let (a, _) = two_components();
        cache.component_from(&Engine::default(), a, &Sha256::digest(a).into()).unwrap();
        assert_eq!(mode(&cache_dir), 0o700);
        assert_eq!(mode(&entry(&cache_dir, &Sha256::digest(a).into())), 0o600);
    }
}
