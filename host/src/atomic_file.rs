//! Writing a file whole or not at all: a temporary file beside it, then renamed over it. A
//! kill at any moment leaves the old file or the new one, never half of one. Every file the
//! host writes goes through here (run state, step outputs, caches, settings, converted
//! kubeconfigs), with the mode the caller asks for and the loss it must survive.

use std::io::Write;
use std::path::Path;

/// Owner-only: anything holding a secret.
pub const PRIVATE: u32 = 0o600;
/// Readable by everyone, written by the owner.
pub const PUBLIC: u32 = 0o644;

/// What a write must survive. Both leave the old file or the new one whole after a killed
/// process: the kernel keeps what was written when the process dies, and the rename is atomic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Survives {
    /// A killed process only. What a machine crash loses here must be cheap to make again.
    Kill,
    /// A crash of the machine too: the new file is flushed to disk before it replaces the old
    /// one. That flush waits for the disk, about a millisecond a file on a virtual machine.
    Crash,
}

/// Writes `bytes` to `path` atomically with `mode` (on Unix), flushed to disk: it survives a
/// crash of the machine. The directory must exist. On failure the temporary file is removed
/// and `path` is as it was.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    write_with(path, bytes, mode, Survives::Crash, None)
}

/// [`write`] as a run writes its saved state and its steps' files: surviving what
/// `survives` says, with the old version kept aside in `retired` (the run's
/// `OUT/.aksflow/retired/`) and deleted off the caller's path (see `retired_files`).
pub fn write_in_run(path: &Path, bytes: &[u8], mode: u32, survives: Survives, retired: &Path) -> std::io::Result<()> {
    write_with(path, bytes, mode, survives, Some(retired))
}

fn write_with(path: &Path, bytes: &[u8], mode: u32, survives: Survives, retired: Option<&Path>) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(mode);
        }
        let mut file = opts.open(&tmp)?;
        // The umask may have narrowed the mode, and a stale temporary file keeps its own.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        if survives == Survives::Crash {
            file.sync_all()?;
        }
        match retired {
            // The old version keeps a second name until the background thread deletes it, so
            // that the rename does not wait for its blocks to be freed.
            Some(retired) => crate::retired_files::replacing(path, retired, |_| std::fs::rename(&tmp, path)),
            None => std::fs::rename(&tmp, path),
        }
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The temporary name a new version of `path` is made under, beside it.
fn temp_beside(path: &Path) -> std::path::PathBuf {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    dir.join(format!(".{}.{}.tmp", path.file_name().unwrap_or_default().to_string_lossy(), std::process::id()))
}

/// `path` opened empty for writing anew, as a run's transcript starts. A file this user owns
/// and may write is replaced by a new empty one with its permissions, its old version kept
/// aside in `retired` (emptying it would wait for its blocks to be freed, see
/// `retired_files`). Any other (a read-only golden file, another user's) is emptied in place,
/// as `File::create` would, so that it keeps its owner and a refusal still shows.
pub fn emptied(path: &Path, retired: &Path) -> std::io::Result<std::fs::File> {
    let in_place = || std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(path);
    if !ours_to_replace(path) {
        return in_place();
    }
    crate::retired_files::replacing(path, retired, |old| match old {
        Some(permissions) => replace_with_empty(path, permissions).or_else(|_| in_place()),
        None => in_place(),
    })
}

/// A new empty file in `path`'s place, with `permissions`: made beside it and renamed over
/// it, so `path` is never missing. Fails where that cannot be done (a directory that lets
/// this user write the file but not replace it, a name already taken).
fn replace_with_empty(path: &Path, permissions: &std::fs::Permissions) -> std::io::Result<std::fs::File> {
    let tmp = temp_beside(path);
    // A new name only (no following a link someone left there), owner-only until it is in
    // place: the umask would narrow a mode given here, so the old one is set after.
    let mut open = std::fs::OpenOptions::new();
    open.create_new(true).write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    let file = open.open(&tmp)?;
    let placed = file.set_permissions(permissions.clone()).and_then(|()| std::fs::rename(&tmp, path));
    if placed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    placed.map(|()| file)
}

/// Whether the file at `path` is this user's and they may write it.
#[cfg(unix)]
fn ours_to_replace(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    std::fs::symlink_metadata(path).is_ok_and(|m| m.uid() == me && m.mode() & 0o200 != 0)
}

#[cfg(not(unix))]
fn ours_to_replace(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write(&path, b"one", PUBLIC).unwrap();
        write(&path, b"two", PRIVATE).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, PRIVATE);
        }
        // Outside a run nothing waits for a background deletion, so no old version (here, a
        // token or a kubeconfig's credentials) is kept anywhere.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file or old version is left");
    }

    #[test]
    fn a_run_s_file_is_replaced_whole_and_its_old_version_kept_aside_until_settled() {
        for survives in [Survives::Crash, Survives::Kill] {
            let dir = tempfile::tempdir().unwrap();
            let (path, retired) = (dir.path().join("f"), dir.path().join(".aksflow/retired"));
            write_in_run(&path, b"one", PUBLIC, survives, &retired).unwrap();
            assert!(!retired.exists(), "a first version replaces nothing ({survives:?})");
            write_in_run(&path, b"two", PRIVATE, survives, &retired).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"two", "{survives:?}");
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, PRIVATE, "{survives:?}");
            }
            assert!(retired.exists(), "the old version went aside ({survives:?})");
            crate::retired_files::settle(&retired);
            assert_eq!(std::fs::read_dir(&retired).unwrap().count(), 0, "{survives:?}");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "the file and .aksflow ({survives:?})");
        }
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a-directory");
        std::fs::create_dir(&target).unwrap();
        assert!(write(&target, b"x", PRIVATE).is_err(), "a file cannot replace a directory");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file was removed");
    }
}
