//! Compiled components on disk, keyed by the wasm's SHA-256 and the engine's compatibility
//! hash (wasmtime version + configuration), so a warm start skips Cranelift entirely.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;

use wasmtime::Engine;
use wasmtime::component::Component;

pub struct DiskCache {
    dir: Option<PathBuf>,
}

impl DiskCache {
    pub fn new(dir: Option<PathBuf>) -> Self {
        DiskCache { dir }
    }

    fn path(&self, engine: &Engine, hash: &[u8; 32]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        // SipHash with fixed keys: stable for a given binary, which is all the key needs.
        let mut h = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Some(dir.join(format!("{}-{:016x}.cwasm", hex::encode(hash), h.finish())))
    }

    pub fn component(&self, engine: &Engine, wasm: &[u8], hash: &[u8; 32]) -> wasmtime::Result<Component> {
        let Some(path) = self.path(engine, hash) else {
            return Component::new(engine, wasm);
        };
        if path.exists() {
            // SAFETY: the file is one this cache wrote from `Component::serialize`, named by
            // the hash of its source and of the engine that compiled it.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(c) => return Ok(c),
                Err(e) => tracing::warn!("ignoring unusable cached component {}: {e:#}", path.display()),
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(e) = write_atomically(&path, &component.serialize()?) {
            tracing::warn!("could not cache the compiled component at {}: {e}", path.display());
        }
        Ok(component)
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache paths have a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", path.file_name().unwrap().to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
