//! The import allow-list: a component that asks for anything beyond the aksflow contract
//! and the harmless WASI interfaces is refused when it is loaded, before it runs.

use wasmtime::Engine;
use wasmtime::component::Component;

use super::LoadError;

/// Interface prefixes a plugin may import. No sockets, no HTTP: the network is `cloud.call`.
/// Files are importable (Rust's std links them) but a step gets no preopened directory.
const ALLOWED: &[&str] = &[
    "aksflow:step/",
    "wasi:cli/environment@",
    "wasi:cli/exit@",
    "wasi:cli/stdin@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/terminal-",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

pub fn is_allowed(import: &str) -> bool {
    ALLOWED.iter().any(|p| import.starts_with(p))
}

pub fn check(engine: &Engine, component: &Component, origin: &str) -> Result<(), LoadError> {
    for (name, _) in component.component_type().imports(engine) {
        if !is_allowed(name) {
            return Err(LoadError::ForbiddenImport { origin: origin.into(), import: name.into() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contract_and_harmless_wasi_are_allowed_and_the_network_is_not() {
        for ok in ["aksflow:step/cloud@0.2.0", "wasi:cli/environment@0.2.3", "wasi:io/streams@0.2.0", "wasi:clocks/monotonic-clock@0.2.6", "wasi:random/random@0.2.0"] {
            assert!(is_allowed(ok), "{ok}");
        }
        for bad in ["wasi:sockets/tcp@0.2.0", "wasi:http/outgoing-handler@0.2.0", "acme:evil/steal@1.0.0", "wasi:cli/environmentx"] {
            assert!(!is_allowed(bad), "{bad}");
        }
    }
}
