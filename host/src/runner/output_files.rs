//! The output directory belongs to the host. Each file under it has one writer: the host
//! keeps the transcript and the saved state, and a file a step wrote is that step's for the
//! rest of the run. A step that asks to write another's file fails with `FileClash` instead
//! of silently replacing it (or the transcript the host is still appending to).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use super::state::STATE_FILE;

pub struct OutputFiles {
    /// Relative path → who writes it.
    owners: Mutex<HashMap<PathBuf, String>>,
    /// Directories the host keeps to itself (`.aksflow/`).
    reserved_dirs: Vec<PathBuf>,
}

/// A path compared as the file system would resolve it on any case-sensitive system: plain
/// components only (the caller has refused `..`, roots and prefixes).
fn normal(p: &Path) -> PathBuf {
    p.components().filter(|c| matches!(c, Component::Normal(_))).collect()
}

impl OutputFiles {
    pub fn new(out_dir: &Path, transcript: &Path) -> Self {
        let mut owners = HashMap::new();
        // Compared as real paths when they exist (`--transcript` may be absolute and `--out`
        // relative, or the reverse).
        let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if let Ok(rel) = real(transcript).strip_prefix(real(out_dir)) {
            owners.insert(normal(rel), "the host (the run's transcript)".to_string());
        }
        let state_dir = Path::new(STATE_FILE).parent().map(normal).unwrap_or_default();
        OutputFiles { owners: Mutex::new(owners), reserved_dirs: vec![state_dir] }
    }

    /// Claims `rel` for `step`; `Err(owner)` when someone else writes it.
    pub fn claim(&self, rel: &Path, step: &str) -> Result<(), String> {
        let rel = normal(rel);
        if self.reserved_dirs.iter().any(|d| rel.starts_with(d)) {
            return Err("the host (the run's saved state)".into());
        }
        let mut owners = self.owners.lock().unwrap_or_else(|p| p.into_inner());
        // A file and a directory of the same name cannot both exist: claiming `a/b` when
        // another step wrote `a` (or the reverse) clashes too.
        for (path, owner) in owners.iter() {
            let same = *path == rel;
            let nested = rel.starts_with(path) || path.starts_with(&rel);
            if (same || nested) && owner != step {
                return Err(if owner.starts_with("the host") { owner.clone() } else { format!("step `{owner}`") });
            }
        }
        owners.insert(rel, step.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> OutputFiles {
        OutputFiles::new(Path::new("/out"), Path::new("/out/transcript.jsonl"))
    }

    #[test]
    fn the_transcript_and_the_saved_state_are_the_hosts() {
        let f = files();
        assert_eq!(f.claim(Path::new("transcript.jsonl"), "a").unwrap_err(), "the host (the run's transcript)");
        assert_eq!(f.claim(Path::new("./transcript.jsonl"), "a").unwrap_err(), "the host (the run's transcript)");
        assert_eq!(f.claim(Path::new(".aksflow/state.json"), "a").unwrap_err(), "the host (the run's saved state)");
        assert_eq!(f.claim(Path::new(".aksflow/other"), "a").unwrap_err(), "the host (the run's saved state)");
    }

    #[test]
    fn a_transcript_outside_the_output_directory_reserves_nothing_in_it() {
        let f = OutputFiles::new(Path::new("/out"), Path::new("/elsewhere/transcript.jsonl"));
        assert!(f.claim(Path::new("transcript.jsonl"), "a").is_ok());
    }

    #[test]
    fn a_file_has_one_writer_per_run() {
        let f = files();
        assert!(f.claim(Path::new("admin.kubeconfig"), "admin").is_ok());
        assert!(f.claim(Path::new("admin.kubeconfig"), "admin").is_ok(), "a step may rewrite its own file");
        assert_eq!(f.claim(Path::new("admin.kubeconfig"), "user").unwrap_err(), "step `admin`");
        assert!(f.claim(Path::new("user.kubeconfig"), "user").is_ok());
    }

    #[test]
    fn a_file_and_a_directory_of_the_same_name_clash() {
        let f = files();
        assert!(f.claim(Path::new("kube"), "a").is_ok());
        assert_eq!(f.claim(Path::new("kube/config"), "b").unwrap_err(), "step `a`");
        let f = files();
        assert!(f.claim(Path::new("kube/config"), "a").is_ok());
        assert_eq!(f.claim(Path::new("kube"), "b").unwrap_err(), "step `a`");
        assert!(f.claim(Path::new("kube/other"), "b").is_ok(), "siblings in one directory are fine");
    }
}
