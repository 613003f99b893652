//! Snapshots: one directory per extraction, one Parquet file per dataset and system, and a
//! manifest written last. No network: connectors hand it rows. A directory without
//! `manifest.json` is not a snapshot; [`Snapshot::open`] refuses it.
//!
//! Layout: `<root>/<UTC start time>-<short id>/{centra,orderwise}/<dataset>.parquet` and
//! `manifest.json` (tool version, start and end time, extraction window, row counts, SHA-256 of each
//! file, source hosts, warnings).

pub(crate) mod writer;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use writer::{BatchSink, LAYOUT, PARTIAL_PREFIX, Sink, SnapshotWriter};

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// Problems reading or writing a snapshot, each naming the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: writing Parquet: {detail}")]
    Parquet { path: PathBuf, detail: String },
    #[error(
        "{dir}: no manifest.json, so this is not a complete snapshot; run `tally extract` again"
    )]
    NoManifest { dir: PathBuf },
    #[error(
        "{path}: the manifest cannot be read ({detail}); the snapshot may be from another tool version"
    )]
    BadManifest { path: PathBuf, detail: String },
    #[error(
        "{path}: listed in the manifest with {expected} bytes but has {actual}; the snapshot was changed after extraction"
    )]
    Changed {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn parquet(path: &Path, e: impl std::fmt::Display) -> Error {
        Error::Parquet {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    }
}

/// Which changes an extraction asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Window {
    /// Everything both systems hold.
    Full,
    /// Orders and despatches changed at or after `since`; stock and products are always full.
    Since { since: DateTime<Utc> },
}

/// One dataset file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub file: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub snapshot_id: String,
    /// When extraction started: time-dependent checks measure from here.
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub window: Window,
    /// The OrderWise instance's time zone the local times were read in.
    pub timezone: String,
    /// Source hosts (no credentials).
    pub sources: Sources,
    pub files: Vec<FileEntry>,
    pub warnings: Vec<String>,
    /// Set when an incremental refresh made this snapshot from a base and the changes since; the
    /// snapshot is complete either way. Absent for a full extraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Refresh>,
}

/// How `tally run` made a snapshot incrementally: the complete snapshot it started from, and from
/// when it read changes on top. A snapshot's watermark is its `started_at`: the next refresh reads
/// what changed since then, less the overlap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    /// The base snapshot's id.
    pub base: String,
    /// Orders, order lines and despatches were re-read when changed at or after this time: the
    /// base's `started_at` less `[store] overlap_minutes`.
    pub since: DateTime<Utc>,
    /// When the last full extraction of this chain started; `full_every_hours` counts from here.
    pub last_full_at: DateTime<Utc>,
}

/// Where the data came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sources {
    pub centra: String,
    pub orderwise: String,
}

impl Manifest {
    /// Rows of a dataset (`centra/orders`), 0 if absent.
    pub fn rows(&self, dataset: &str) -> u64 {
        let file = format!("{dataset}.parquet");
        self.files
            .iter()
            .find(|f| f.file == file)
            .map_or(0, |f| f.rows)
    }
}

/// A complete snapshot on disk.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Snapshot {
    /// Opens a snapshot directory, refusing one without a manifest or with files changed since.
    pub fn open(dir: &Path) -> Result<Snapshot, Error> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoManifest {
                    dir: dir.to_path_buf(),
                });
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::BadManifest {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        for f in &manifest.files {
            let p = dir.join(&f.file);
            let actual = std::fs::metadata(&p).map_err(|e| Error::io(&p, e))?.len();
            if actual != f.bytes {
                return Err(Error::Changed {
                    path: p,
                    expected: f.bytes,
                    actual,
                });
            }
        }
        Ok(Snapshot {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The path of a dataset's Parquet file (`centra/orders`).
    pub fn file(&self, dataset: &str) -> PathBuf {
        self.dir.join(format!("{dataset}.parquet"))
    }
}
