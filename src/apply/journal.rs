//! `PLAN.journal`: one JSON line per action outcome, fsync'd as it is written, so a run killed at
//! any point knows on restart what it finished.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;

/// One journal line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub key: String,
    pub kind: String,
    /// `applied`, `already_done`, `skipped` or `failed`.
    pub outcome: String,
    pub detail: String,
    pub at: String,
}

impl Entry {
    pub fn new(key: &str, kind: &str, outcome: &str, detail: &str) -> Entry {
        Entry {
            key: key.into(),
            kind: kind.into(),
            outcome: outcome.into(),
            detail: detail.into(),
            at: chrono::Utc::now().to_rfc3339(),
        }
    }

    /// Whether the action needs nothing more.
    pub fn is_done(&self) -> bool {
        self.outcome == "applied" || self.outcome == "already_done"
    }
}

/// The journal of one plan.
pub struct Journal {
    path: PathBuf,
    /// None for a read-only look (a dry run writes nothing).
    file: Option<File>,
    last: BTreeMap<String, Entry>,
}

impl Journal {
    /// Opens (or creates) a journal and reads what earlier runs recorded. A torn last line (a run
    /// killed mid-write) is ignored: its action is simply looked at again.
    pub fn open(path: &Path) -> Result<Journal, Error> {
        let mut journal = Journal::read(path);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::Io {
                path: path.into(),
                source,
            })?;
        journal.file = Some(file);
        Ok(journal)
    }

    /// Reads what earlier runs recorded without creating or changing anything.
    pub fn read(path: &Path) -> Journal {
        let mut last = BTreeMap::new();
        if let Ok(text) = std::fs::read_to_string(path) {
            for line in text.lines() {
                if let Ok(e) = serde_json::from_str::<Entry>(line) {
                    last.insert(e.key.clone(), e);
                }
            }
        }
        Journal {
            path: path.into(),
            file: None,
            last,
        }
    }

    /// Whether an earlier run finished this action.
    pub fn is_done(&self, key: &str) -> bool {
        self.last.get(key).is_some_and(Entry::is_done)
    }

    /// Every key's latest entry.
    pub fn entries(&self) -> &BTreeMap<String, Entry> {
        &self.last
    }

    /// Appends an outcome and waits until it is on disk.
    pub fn append(&mut self, e: &Entry) -> Result<(), Error> {
        let io = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_string(e).expect("an entry serialises");
        line.push('\n');
        let file = self
            .file
            .as_mut()
            .expect("append needs a journal opened for writing");
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        self.last.insert(e.key.clone(), e.clone());
        Ok(())
    }
}
