//! The plugins a flow can name: the built-in ones embedded in this binary, or a `.wasm`
//! component by path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::{LoadError, Plugin, StepEngine};

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The names of the built-in plugins.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN.iter().map(|(n, _)| *n).collect()
}

pub fn builtin(name: &str) -> Option<&'static [u8]> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, w)| *w)
}

/// How a flow's `uses` names a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginRef {
    Builtin(String),
    Path(PathBuf),
}

impl PluginRef {
    /// `uses = "resource-group"` is built in; anything with a `/` or ending in `.wasm` is a
    /// path, relative to the flow file's directory.
    pub fn parse(uses: &str, flow_dir: &Path) -> PluginRef {
        if uses.contains('/') || uses.ends_with(".wasm") {
            let p = Path::new(uses);
            PluginRef::Path(if p.is_absolute() { p.to_path_buf() } else { flow_dir.join(p) })
        } else {
            PluginRef::Builtin(uses.to_string())
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("there is no built-in plugin `{0}`")]
    UnknownBuiltin(String),
    #[error("cannot read plugin {path}: {error}")]
    Unreadable { path: String, error: String },
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// A plugin file is at most this big (today's built-in components are well under 5 MiB).
const MAX_COMPONENT_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a plugin's component: a regular file, not too big. (`uses = "/dev/zero"` would
/// otherwise read forever.)
fn read_component(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file; `uses` names a built-in plugin or a .wasm component file".into());
    }
    if meta.len() > MAX_COMPONENT_BYTES {
        return Err(format!("it is {} MiB, over the {} MiB a plugin may be", meta.len() >> 20, MAX_COMPONENT_BYTES >> 20));
    }
    let mut wasm = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_COMPONENT_BYTES + 1).read_to_end(&mut wasm).map_err(|e| e.to_string())?;
    Ok(wasm)
}

pub async fn resolve(engine: &StepEngine, r: &PluginRef) -> Result<Arc<Plugin>, ResolveError> {
    match r {
        PluginRef::Builtin(name) => {
            let wasm = builtin(name).ok_or_else(|| ResolveError::UnknownBuiltin(name.clone()))?;
            Ok(engine.load_embedded(wasm, name).await?)
        }
        PluginRef::Path(path) => {
            let wasm = read_component(path).map_err(|error| ResolveError::Unreadable { path: path.display().to_string(), error })?;
            Ok(engine.load(&wasm, &path.display().to_string()).await?)
        }
    }
}
