//! The store: the one directory `tally run` keeps between runs (DESIGN.md "Operations").
//!
//! ```text
//! STORE/
//!   tally.lock         held while a run, watch cycle, accept or unaccept changes anything
//!   history.duckdb     runs, every exception's life, acceptances, the alert outbox
//!   snapshots/         complete snapshots, newest last; `keep_snapshots` of them are kept
//!   .refresh/          the changes an incremental refresh is reading (removed when merged)
//! ```
//!
//! Everything in it is written under [`lock::StoreLock`], so two runs never overlap.

pub mod lock;

use std::path::{Path, PathBuf};

pub use lock::StoreLock;

use crate::snapshot::{MANIFEST, PARTIAL_PREFIX, Snapshot};

/// The file name of the history database inside the store.
pub const HISTORY: &str = "history.duckdb";

/// A store directory.
#[derive(Debug, Clone)]
pub struct Store {
    pub dir: PathBuf,
}

impl Store {
    /// The store at `dir`, created if missing.
    pub fn open(dir: &Path) -> std::io::Result<Store> {
        std::fs::create_dir_all(dir.join("snapshots"))?;
        Ok(Store {
            dir: dir.to_path_buf(),
        })
    }

    /// Where complete snapshots live.
    pub fn snapshots(&self) -> PathBuf {
        self.dir.join("snapshots")
    }

    /// The history database's path.
    pub fn history(&self) -> PathBuf {
        self.dir.join(HISTORY)
    }

    /// Where an incremental refresh puts the changes it reads before merging them.
    pub fn refresh_dir(&self) -> PathBuf {
        self.dir.join(".refresh")
    }

    /// Complete snapshots (those with a manifest), oldest first. Names start with the UTC start
    /// time, so name order is time order.
    pub fn complete_snapshots(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.snapshots())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join(MANIFEST).is_file())
            .collect();
        dirs.sort();
        dirs
    }

    /// The newest complete snapshot that opens cleanly, if any.
    pub fn latest(&self) -> Option<Snapshot> {
        self.complete_snapshots()
            .iter()
            .rev()
            .find_map(|d| Snapshot::open(d).ok())
    }

    /// Removes complete snapshots beyond the newest `keep`, and what a crashed run left behind
    /// (partial snapshot directories, a refresh's unmerged changes). Call only under the lock.
    /// Returns how many snapshots were removed.
    pub fn prune(&self, keep: usize) -> std::io::Result<usize> {
        for leftover in std::fs::read_dir(self.snapshots())?.flatten() {
            if leftover
                .file_name()
                .to_string_lossy()
                .starts_with(PARTIAL_PREFIX)
            {
                std::fs::remove_dir_all(leftover.path())?;
            }
        }
        if self.refresh_dir().exists() {
            std::fs::remove_dir_all(self.refresh_dir())?;
        }
        let complete = self.complete_snapshots();
        let excess = complete.len().saturating_sub(keep.max(1));
        for dir in &complete[..excess] {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(excess)
    }
}
