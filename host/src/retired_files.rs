//! Old versions of files, deleted off the caller's path. Freeing a file's blocks is slow on
//! a file system mounted with `discard`, as cloud machines often are: ext4 then trims the
//! blocks on the disk and waits for it, inside the `rename` that replaces the file or the
//! `truncate` that empties it. That wait was a tenth of a flow's time in process, and more in
//! a suite, which replaces its saved state after every step. So an old version is first
//! given a second, hidden name beside it, which keeps its blocks in use while the new version
//! takes its place, and a background thread deletes the hidden name.
//!
//! A process killed before that deletion leaves the hidden file behind: [`sweep`] removes
//! such leftovers when a run starts in the directory again.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

/// The end of every hidden name, for [`sweep`].
const SUFFIX: &str = ".aksflow-retired";

/// Files waiting to be deleted, in order.
struct Queue {
    waiting: Mutex<Waiting>,
    changed: Condvar,
    /// False if no thread could be started: then files are deleted at once.
    threaded: bool,
}

#[derive(Default)]
struct Waiting {
    files: VecDeque<PathBuf>,
    /// The file being deleted now.
    deleting: Option<PathBuf>,
}

impl Waiting {
    fn any_below(&self, dirs: &[&Path]) -> bool {
        self.files.iter().chain(&self.deleting).any(|f| dirs.iter().any(|d| f.starts_with(d)))
    }
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        // The thread's own `queue()` waits until this initialisation is done.
        let threaded = std::thread::Builder::new().name("aksflow-retired-files".into()).spawn(|| queue().delete_forever()).is_ok();
        Queue { waiting: Mutex::new(Waiting::default()), changed: Condvar::new(), threaded }
    })
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn delete_forever(&self) {
        loop {
            let path = {
                let mut w = self.lock();
                w.deleting = None;
                self.changed.notify_all();
                loop {
                    if let Some(p) = w.files.pop_front() {
                        w.deleting = Some(p.clone());
                        break p;
                    }
                    w = self.changed.wait(w).unwrap_or_else(|p| p.into_inner());
                }
            };
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Gives the regular file at `path` a second, hidden name beside it and returns that name, so
/// that replacing `path` does not free its blocks. `None` if there is no file there to keep
/// (nothing, a symbolic link, a device) or it already has other names: such a file is
/// replaced as before.
pub fn keep_aside(path: &Path) -> Option<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let meta = std::fs::symlink_metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() != 1 {
            return None;
        }
    }
    if !meta.file_type().is_file() || meta.len() == 0 {
        return None;
    }
    let name = path.file_name()?.to_string_lossy();
    let hidden = path.with_file_name(format!(".{name}.{}.{}{SUFFIX}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::hard_link(path, &hidden).ok()?;
    Some(hidden)
}

/// Deletes `path` on the background thread.
pub fn delete_later(path: PathBuf) {
    let q = queue();
    if !q.threaded {
        let _ = std::fs::remove_file(&path);
        return;
    }
    q.lock().files.push_back(path);
    q.changed.notify_all();
}

/// Waits until no file in `dirs` or below is waiting to be deleted. A run waits so for its
/// own directories before it returns, so that no hidden file outlives it.
pub fn settle(dirs: &[&Path]) {
    let q = queue();
    let mut w = q.lock();
    while w.any_below(dirs) {
        w = q.changed.wait(w).unwrap_or_else(|p| p.into_inner());
    }
}

/// Removes the hidden names a killed process left in `dir`.
pub fn sweep(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(SUFFIX) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        n.sort();
        n
    }

    #[test]
    fn an_old_version_kept_aside_outlives_its_replacement_until_the_thread_deletes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, b"old").unwrap();
        let aside = keep_aside(&path).expect("a plain file with one name is kept aside");
        assert!(aside.file_name().unwrap().to_string_lossy().starts_with(".state.json."));
        std::fs::write(dir.path().join("new"), b"new").unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_eq!(std::fs::read(&aside).unwrap(), b"old", "the hidden name holds the old version");
        delete_later(aside);
        settle(&[dir.path()]);
        assert_eq!(names(dir.path()), ["state.json"]);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn what_cannot_be_kept_aside_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(keep_aside(&dir.path().join("missing")), None);
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        assert_eq!(keep_aside(&dir.path().join("empty")), None, "an empty file has no blocks to free");
        std::fs::write(dir.path().join("linked"), b"x").unwrap();
        std::fs::hard_link(dir.path().join("linked"), dir.path().join("other-name")).unwrap();
        assert_eq!(keep_aside(&dir.path().join("linked")), None, "a file with other names keeps them");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("linked"), dir.path().join("symlink")).unwrap();
            assert_eq!(keep_aside(&dir.path().join("symlink")), None);
        }
        assert_eq!(keep_aside(dir.path()), None, "a directory");
        assert!(names(dir.path()).iter().all(|n| !n.ends_with(SUFFIX)));
    }

    #[test]
    fn a_sweep_removes_only_hidden_old_versions() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = format!(".state.json.4242.7{SUFFIX}");
        for n in [leftover.as_str(), "state.json", ".state.json.4242.tmp", "notes.aksflow-retired"] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        sweep(dir.path());
        assert_eq!(names(dir.path()), [".state.json.4242.tmp", "notes.aksflow-retired", "state.json"]);
    }

    #[test]
    fn settling_waits_for_every_file_of_its_directories() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("kube");
        std::fs::create_dir(&sub).unwrap();
        for i in 0..50 {
            let path = sub.join(format!("f{i}"));
            std::fs::write(&path, b"x").unwrap();
            delete_later(keep_aside(&path).unwrap());
        }
        settle(&[dir.path()]);
        assert_eq!(names(&sub).len(), 50, "the hidden names below the directory are gone, the files stay");
    }
}
