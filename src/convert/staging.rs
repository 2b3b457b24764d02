//! Safe output: a file or directory is written under a temporary name in the destination's
//! own directory, synced, and renamed into place only when complete. On an error the
//! temporary is removed when its [`Staged`] is dropped; on Ctrl-C or SIGTERM the handler of
//! [`remove_pending`] removes it. Nothing is ever left under the requested name, and an
//! existing output is replaced only when asked (`force`).

use crate::error::{Error, Result, io_at};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Temporaries not yet renamed into place, for the signal handler.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary still pending. For a signal handler that then exits: a temporary
/// that is being renamed into place at that moment is either gone from the list already
/// (renamed) or removed before the rename can happen, because both hold the same lock.
pub fn remove_pending() {
    let Ok(mut pending) = PENDING.lock() else { return };
    for p in pending.drain(..) {
        remove(&p);
    }
    // Keep the lock: the process is about to exit, and no rename may start after this.
    std::mem::forget(pending);
}

/// Removes a temporary file or directory, and the object store's own staging files beside a
/// file (`NAME#N`: DataFusion writes through object_store, which stages uploads that way).
fn remove(p: &Path) {
    let _ = if p.is_dir() { std::fs::remove_dir_all(p) } else { std::fs::remove_file(p) };
    let (Some(parent), Some(name)) = (p.parent(), p.file_name().and_then(|n| n.to_str())) else { return };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let prefix = format!("{name}#");
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            if e.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The error for an output that exists (and `force` was not given).
fn exists(target: &Path) -> Error {
    Error::Output(format!("{}: already exists; --force replaces it", target.display()))
}

/// An output being written under a temporary name.
#[derive(Debug)]
pub struct Staged {
    target: PathBuf,
    temp: PathBuf,
    force: bool,
    done: bool,
}

impl Staged {
    /// Prepares to write `target` (a file, or with `dir` a directory). Fails when `target`
    /// exists and `force` is not set. Creates missing parent directories.
    pub fn new(target: &Path, dir: bool, force: bool) -> Result<Self> {
        if target.symlink_metadata().is_ok() && !force {
            return Err(exists(target));
        }
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Output(format!("{}: not a file name to write to", target.display())))?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(io_at(&parent))?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
        let temp = parent.join(format!(".{name}.mpq-tmp-{}-{nanos:09}", std::process::id()));
        if let Ok(mut p) = PENDING.lock() {
            p.push(temp.clone());
        }
        if dir {
            std::fs::create_dir(&temp).map_err(io_at(&temp))?;
        }
        Ok(Staged { target: target.to_path_buf(), temp, force, done: false })
    }

    /// Where to write.
    pub fn temp(&self) -> &Path {
        &self.temp
    }

    /// The requested name.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Syncs everything written, renames it into place (replacing an existing output when
    /// `force` was given, a file atomically; without it, failing if the name was taken since
    /// [`Staged::new`]), syncs the directory, and returns the bytes written.
    pub fn commit(mut self) -> Result<u64> {
        let bytes = sync_tree(&self.temp)?;
        let Ok(mut pending) = PENDING.lock() else {
            return Err(Error::Output("interrupted".to_string()));
        };
        let Some(i) = pending.iter().position(|p| p == &self.temp) else {
            return Err(Error::Output("interrupted".to_string()));
        };
        let mut old = None;
        if self.force && self.target.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            // Move the old output aside first: a directory cannot be replaced by a rename (a
            // file is, atomically: readers see the old or the new one, never none).
            let aside = self.temp.with_extension("old");
            std::fs::rename(&self.target, &aside).map_err(io_at(&self.target))?;
            old = Some(aside);
        }
        if self.force {
            std::fs::rename(&self.temp, &self.target).map_err(io_at(&self.target))?;
        } else {
            // Never replace what another process committed since `new` looked: one of two
            // writers racing for a new name wins, the other fails as if it had existed.
            match crate::sys::rename_noreplace(&self.temp, &self.target) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    drop(pending);
                    return Err(exists(&self.target));
                }
                Err(e) => return Err(io_at(&self.target)(e)),
            }
        }
        pending.swap_remove(i);
        drop(pending);
        self.done = true;
        if let Some(parent) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Make the rename itself durable.
            File::open(parent).and_then(|d| d.sync_all()).map_err(io_at(parent))?;
        }
        if let Some(old) = old {
            remove(&old);
        }
        Ok(bytes)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|t| t != &self.temp);
        }
        remove(&self.temp);
    }
}

/// Syncs a file, or every file and directory below a directory; returns the bytes of the
/// files.
fn sync_tree(p: &Path) -> Result<u64> {
    let meta = std::fs::metadata(p).map_err(io_at(p))?;
    let mut bytes = 0;
    if meta.is_dir() {
        for entry in std::fs::read_dir(p).map_err(io_at(p))? {
            bytes += sync_tree(&entry.map_err(io_at(p))?.path())?;
        }
    } else {
        bytes = meta.len();
    }
    File::open(p).and_then(|f| f.sync_all()).map_err(io_at(p))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("mpq-staging-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let d = scratch("commit");
        let target = d.join("out.parquet");
        let s = Staged::new(&target, false, false).expect("stage");
        std::fs::write(s.temp(), b"abc").expect("write");
        assert!(!target.exists());
        assert_eq!(s.commit().expect("commit"), 3);
        assert_eq!(std::fs::read(&target).expect("read"), b"abc");

        let err = Staged::new(&target, false, false).expect_err("exists");
        assert!(err.to_string().contains("already exists; --force replaces it"), "{err}");

        let s = Staged::new(&target, false, true).expect("stage");
        std::fs::write(s.temp(), b"new").expect("write");
        let temp = s.temp().to_path_buf();
        drop(s); // an error before commit
        assert!(!temp.exists());
        assert_eq!(std::fs::read(&target).expect("read"), b"abc", "the old output stays");
        assert_eq!(std::fs::read_dir(&d).expect("list").count(), 1, "no temporaries left");
    }

    #[test]
    fn of_two_writers_racing_for_a_new_name_one_wins() {
        for dir in [false, true] {
            let d = scratch(if dir { "race-dir" } else { "race-file" });
            let target = d.join("out");
            let first = Staged::new(&target, dir, false).expect("stage");
            let second = Staged::new(&target, dir, false).expect("stage: the name is still free");
            for (s, text) in [(&first, b"one"), (&second, b"two")] {
                let file = if dir { s.temp().join("part") } else { s.temp().to_path_buf() };
                std::fs::write(file, text).expect("write");
            }
            first.commit().expect("the first commit wins");
            let err = second.commit().expect_err("the second finds the name taken");
            assert!(err.to_string().contains("already exists; --force replaces it"), "{err}");
            let written = if dir { target.join("part") } else { target.clone() };
            assert_eq!(std::fs::read(written).expect("read"), b"one", "the winner's output stays");
            assert_eq!(std::fs::read_dir(&d).expect("list").count(), 1, "the loser left nothing");
        }
    }

    #[test]
    fn directories_replace_with_force() {
        let d = scratch("dir");
        let target = d.join("parts");
        std::fs::create_dir_all(target.join("old=1")).expect("old output");
        let s = Staged::new(&target, true, true).expect("stage");
        std::fs::create_dir(s.temp().join("dt=2026-01-01")).expect("partition");
        std::fs::write(s.temp().join("dt=2026-01-01/a.parquet"), b"x").expect("write");
        assert_eq!(s.commit().expect("commit"), 1);
        assert!(target.join("dt=2026-01-01/a.parquet").exists());
        assert!(!target.join("old=1").exists());
        assert_eq!(std::fs::read_dir(&d).expect("list").count(), 1);
    }
}
