//! Files only their owner may read: a served simulator's state, its settings (they carry the
//! operator's secret) and the directory that holds them.

use std::fs::{File, OpenOptions};
use std::path::Path;

fn private_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Opens `path` for reading and writing, creating it 0600; an existing file is narrowed to 0600.
pub fn open_file(path: &Path) -> std::io::Result<File> {
    let file = private_options().read(true).write(true).create(true).truncate(false).open(path)?;
    narrow(&file)?;
    Ok(file)
}

/// Writes `text` to `path` atomically (a temporary file renamed over it), 0600.
pub fn write_file(path: &Path, text: &str) -> std::io::Result<()> {
    crate::atomic_file::write(path, text.as_bytes(), crate::atomic_file::PRIVATE)
}

/// Creates `dir` (and its parents) 0700. A directory that exists already is left as it is:
/// it may be one the user chose and shares.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn narrow(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
