//! The store's lock: one run at a time.
//!
//! An operating-system lock on `STORE/tally.lock` (`flock`), so a crashed or killed run releases it
//! with its process and no stale lock file ever blocks the next run. The holder writes who it is
//! into the file, so a second run can say who holds the store.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the store.
pub const LOCK_FILE: &str = "tally.lock";

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: the store is in use by {holder}; two runs never overlap, so this one stops (wait for it, or stop it)"
    )]
    Held { path: PathBuf, holder: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The held lock; dropping it releases the store.
#[derive(Debug)]
pub struct StoreLock {
    file: File,
}

impl StoreLock {
    /// Takes the store's lock for `what` (`tally run`), or says who holds it.
    pub fn acquire(store: &Path, what: &str) -> Result<StoreLock, Error> {
        let path = store.join(LOCK_FILE);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Error::Held {
                    path: path.clone(),
                    holder: if holder.is_empty() {
                        "another tally process".into()
                    } else {
                        holder.to_string()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown user".into());
        let holder = format!(
            "`{what}` (process {}, user {user}, since {})",
            std::process::id(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(holder.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(StoreLock { file })
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_has_the_store_and_the_lock_frees_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = StoreLock::acquire(dir.path(), "tally run").unwrap();
        let err = StoreLock::acquire(dir.path(), "tally watch").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("`tally run`"), "{msg}");
        assert!(
            msg.contains(&format!("process {}", std::process::id())),
            "{msg}"
        );
        drop(first);
        StoreLock::acquire(dir.path(), "tally watch").unwrap();
    }
}
