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

pub async fn resolve(engine: &StepEngine, r: &PluginRef) -> Result<Arc<Plugin>, ResolveError> {
    match r {
        PluginRef::Builtin(name) => {
            let wasm = builtin(name).ok_or_else(|| ResolveError::UnknownBuiltin(name.clone()))?;
            Ok(engine.load(wasm, name).await?)
        }
        PluginRef::Path(path) => {
            let wasm = std::fs::read(path).map_err(|e| ResolveError::Unreadable { path: path.display().to_string(), error: e.to_string() })?;
            Ok(engine.load(&wasm, &path.display().to_string()).await?)
        }
    }
}
