//! How a run writes its own files (the saved state, its steps' files, the transcript): what
//! they must survive ([`super::RunOptions::files_survive`]), and where their old versions wait
//! to be deleted (see `retired_files`). Made when a run starts, it removes what a killed run
//! left waiting; dropped when the run and its last step are done, it waits for the run's own.

use std::path::{Path, PathBuf};

use crate::atomic_file::{self, Survives};

/// Where the old versions of the files a run replaces wait, under `OUT`.
const RETIRED_DIR: &str = ".aksflow/retired";

pub struct RunFiles {
    retired: PathBuf,
    survives: Survives,
}

impl RunFiles {
    pub fn new(out_dir: &Path, survives: Survives) -> Self {
        let retired = out_dir.join(RETIRED_DIR);
        crate::retired_files::sweep(&retired);
        RunFiles { retired, survives }
    }

    /// Where old versions wait (for the transcript, see `atomic_file::emptied`).
    pub fn retired(&self) -> &Path {
        &self.retired
    }

    /// Writes `path` whole, replacing what was there (see `atomic_file::write_in_run`).
    pub fn write(&self, path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
        atomic_file::write_in_run(path, bytes, mode, self.survives, &self.retired)
    }

    /// Removes `path`, its blocks freed off the caller's path.
    pub fn remove(&self, path: &Path) -> std::io::Result<()> {
        crate::retired_files::replacing(path, &self.retired, |_| std::fs::remove_file(path))
    }
}

/// A short wait: at most `retired_files::MAX_WAITING` deletions.
impl Drop for RunFiles {
    fn drop(&mut self) {
        crate::retired_files::settle(&self.retired);
    }
}
