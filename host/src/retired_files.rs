//! Old versions of a run's files, deleted off the run's path. Freeing a file's blocks is slow
//! on a file system mounted with `discard`, as cloud machines often are: ext4 then trims the
//! blocks on the disk and waits for it, inside the `rename` that replaces the file or the
//! `truncate` that empties it. That wait was a tenth of a flow's time in process, and more in
//! a suite, which replaces its saved state after every step. So before a run replaces its
//! saved state, a step's file or its transcript, the old version is given a second name in
//! the run's own `OUT/.aksflow/retired/`, which keeps its blocks in use while the new version
//! takes its place, and a background thread deletes that name.
//!
//! A run waits for its own before it returns ([`settle`]). A process killed before then
//! leaves them behind, and the next run in that directory removes them ([`sweep`]). Files
//! written outside runs (caches, settings, a converted kubeconfig) are replaced as before:
//! their processes end without waiting, and an old token or kubeconfig must not stay behind.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

/// The end of every second name, for [`sweep`].
const SUFFIX: &str = ".aksflow-retired";

/// Past this many files waiting, the caller deletes its own at once: the wait [`settle`]
/// can meet stays short however many runs hand files over.
const MAX_WAITING: usize = 64;

/// Second names waiting to be deleted, in order.
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
    fn any_in(&self, dir: &Path) -> bool {
        self.files.iter().chain(&self.deleting).any(|f| f.parent() == Some(dir))
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

/// An old version, under its second name.
struct Aside {
    path: PathBuf,
    /// The old file's permissions, for the one that replaces it.
    permissions: std::fs::Permissions,
}

/// Runs `replace`, which replaces or removes the file at `path`, with the old version kept
/// aside in `retired` (the run's `OUT/.aksflow/retired/`) meanwhile; the background thread
/// deletes it afterwards. `replace` is given the old file's permissions when it was kept
/// aside, and `None` when it was not (see [`keep_aside`]): then it frees the blocks itself.
pub fn replacing<T>(path: &Path, retired: &Path, replace: impl FnOnce(Option<&std::fs::Permissions>) -> T) -> T {
    let aside = keep_aside(path, retired);
    let replaced = replace(aside.as_ref().map(|a| &a.permissions));
    if let Some(aside) = aside {
        delete_later(aside.path);
    }
    replaced
}

/// Gives the regular file at `path` a second name in `retired` (the run's
/// `OUT/.aksflow/retired/`, made if need be), so that replacing `path` does not free its
/// blocks. `None` if there is no file there to keep (nothing, an empty file, a symbolic link,
/// a device), it already has other names, or it is on another file system: such a file is
/// replaced as before.
fn keep_aside(path: &Path, retired: &Path) -> Option<Aside> {
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
    let aside = retired.join(format!("{name}.{}.{}{SUFFIX}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
    let linked = std::fs::hard_link(path, &aside).or_else(|e| {
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(e);
        }
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(retired)?;
        std::fs::hard_link(path, &aside)
    });
    linked.ok()?;
    Some(Aside { path: aside, permissions: meta.permissions() })
}

/// Deletes `path` on the background thread, or at once if too many are waiting.
fn delete_later(path: PathBuf) {
    let q = queue();
    let mut w = q.lock();
    if !q.threaded || w.files.len() >= MAX_WAITING {
        drop(w);
        let _ = std::fs::remove_file(&path);
        return;
    }
    w.files.push_back(path);
    q.changed.notify_all();
}

/// Waits until no file in `retired` is waiting to be deleted. A run waits so before it
/// returns, so that none outlives it. At most [`MAX_WAITING`] deletions long.
pub fn settle(retired: &Path) {
    let q = queue();
    let mut w = q.lock();
    while w.any_in(retired) {
        w = q.changed.wait(w).unwrap_or_else(|p| p.into_inner());
    }
}

/// Removes the second names a killed process left in `retired`.
pub fn sweep(retired: &Path) {
    let Ok(entries) = std::fs::read_dir(retired) else { return };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().ends_with(SUFFIX) {
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
        let (path, retired) = (dir.path().join("kube/admin.kubeconfig"), dir.path().join(".aksflow/retired"));
        std::fs::create_dir(dir.path().join("kube")).unwrap();
        std::fs::write(&path, b"old").unwrap();
        let aside = keep_aside(&path, &retired).expect("a plain file with one name is kept aside");
        assert_eq!(aside.path.parent(), Some(retired.as_path()), "beside the run's other old versions, made if need be");
        std::fs::write(dir.path().join("new"), b"new").unwrap();
        std::fs::rename(dir.path().join("new"), &path).unwrap();
        assert_eq!(std::fs::read(&aside.path).unwrap(), b"old", "the second name holds the old version");
        delete_later(aside.path);
        settle(&retired);
        assert_eq!(names(&retired), Vec::<String>::new());
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn what_cannot_be_kept_aside_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let retired = dir.path().join("retired");
        assert!(keep_aside(&dir.path().join("missing"), &retired).is_none());
        std::fs::write(dir.path().join("empty"), b"").unwrap();
        assert!(keep_aside(&dir.path().join("empty"), &retired).is_none(), "an empty file has no blocks to free");
        std::fs::write(dir.path().join("linked"), b"x").unwrap();
        std::fs::hard_link(dir.path().join("linked"), dir.path().join("other-name")).unwrap();
        assert!(keep_aside(&dir.path().join("linked"), &retired).is_none(), "a file with other names keeps them");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("linked"), dir.path().join("symlink")).unwrap();
            assert!(keep_aside(&dir.path().join("symlink"), &retired).is_none());
        }
        assert!(keep_aside(dir.path(), &retired).is_none(), "a directory");
        assert!(!retired.exists(), "nothing was kept, so nothing was made");
    }

    #[test]
    fn a_sweep_removes_only_old_versions() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = format!("state.json.4242.7{SUFFIX}");
        for n in [leftover.as_str(), "state.json", "notes"] {
            std::fs::write(dir.path().join(n), b"x").unwrap();
        }
        sweep(dir.path());
        assert_eq!(names(dir.path()), ["notes", "state.json"]);
    }

    #[test]
    fn settling_waits_for_every_old_version_of_its_run() {
        let dir = tempfile::tempdir().unwrap();
        let retired = dir.path().join("retired");
        for i in 0..MAX_WAITING * 2 {
            let path = dir.path().join(format!("f{i}"));
            std::fs::write(&path, b"x").unwrap();
            delete_later(keep_aside(&path, &retired).unwrap().path);
        }
        settle(&retired);
        assert_eq!(names(&retired), Vec::<String>::new());
        assert_eq!(names(dir.path()).len(), MAX_WAITING * 2 + 1, "the files themselves stay");
    }
}
