//! Refreshing the store's snapshot: a full extraction, or an incremental one merged onto the
//! latest complete snapshot (DESIGN.md "Operations").
//!
//! An incremental refresh extracts, with the ordinary extractor, only what changed since the base
//! snapshot's watermark (its `started_at`) less `[store] overlap_minutes`: Centra orders by
//! `updatedAt` (each with its lines and shipments), OrderWise orders, lines and despatches by their
//! amended time. Stock, products, variants and markets have no change time and are read whole.
//! [`merge`] then writes a new **complete** snapshot: reconcile, plan and reports never know how it
//! was made, and a test holds it equal to a full extraction taken at the same moment. Deletions are
//! invisible to change times, which is why a full extraction runs every `full_every_hours`.

pub mod merge;

use chrono::{DateTime, Duration, Utc};

use crate::config::{Config, Secrets};
use crate::connectors::Error;
use crate::extract::{self, Options};
use crate::model::DATASETS;
use crate::snapshot::{Manifest, Refresh, Snapshot, SnapshotWriter, Window};
use crate::store::Store;

/// Why a refresh was full or incremental, for the run's one-line report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Everything was read: the reason says why.
    Full { reason: String },
    /// Changes since `since` were read and merged onto `base`.
    Incremental { base: String, since: DateTime<Utc> },
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Full { reason } => write!(f, "full ({reason})"),
            Kind::Incremental { base, since } => write!(
                f,
                "incremental (changes since {} onto {base})",
                since.format("%Y-%m-%dT%H:%M:%SZ")
            ),
        }
    }
}

/// A refreshed snapshot.
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub snapshot: Snapshot,
    pub kind: Kind,
}

/// What the next refresh should be, given the store's latest snapshot.
pub fn decide(store: &Store, cfg: &Config, now: DateTime<Utc>, force_full: bool) -> Decision {
    if force_full {
        return Decision::Full("--full was given".into());
    }
    let Some(base) = store.latest() else {
        return Decision::Full("no complete snapshot in the store yet".into());
    };
    if base.manifest.window != Window::Full {
        return Decision::Full(format!(
            "the latest snapshot {} holds only a window of changes",
            base.manifest.snapshot_id
        ));
    }
    let last_full = base
        .manifest
        .refresh
        .as_ref()
        .map_or(base.manifest.started_at, |r| r.last_full_at);
    let every = Duration::hours(cfg.operations.store.full_every_hours);
    if now - last_full >= every {
        return Decision::Full(format!(
            "the last full extraction is older than full_every_hours = {}",
            cfg.operations.store.full_every_hours
        ));
    }
    let since = base.manifest.started_at - Duration::minutes(cfg.operations.store.overlap_minutes);
    Decision::Incremental {
        base: Box::new(base),
        since,
        last_full_at: last_full,
    }
}

/// See [`decide`].
#[derive(Debug, Clone)]
pub enum Decision {
    Full(String),
    Incremental {
        base: Box<Snapshot>,
        since: DateTime<Utc>,
        last_full_at: DateTime<Utc>,
    },
}

/// Refreshes the store's snapshot as [`decide`] says; returns the new complete snapshot.
pub async fn run(
    cfg: &Config,
    secrets: &Secrets,
    store: &Store,
    opts: &Options,
    force_full: bool,
) -> Result<Refreshed, Error> {
    match decide(store, cfg, opts.clock.now(), force_full) {
        Decision::Full(reason) => {
            let opts = Options {
                out: store.snapshots(),
                window: Window::Full,
                ..opts.clone()
            };
            let extracted = extract::run(cfg, secrets, &opts).await?;
            Ok(Refreshed {
                snapshot: Snapshot::open(&extracted.dir)?,
                kind: Kind::Full { reason },
            })
        }
        Decision::Incremental {
            base,
            since,
            last_full_at,
        } => {
            let changes_root = store.refresh_dir();
            if changes_root.exists() {
                std::fs::remove_dir_all(&changes_root)
                    .map_err(|e| crate::snapshot::Error::io(&changes_root, e))?;
            }
            let opts = Options {
                out: changes_root.clone(),
                window: Window::Since { since },
                ..opts.clone()
            };
            let changes = extract::run(cfg, secrets, &opts).await?;
            let changes = Snapshot::open(&changes.dir)?;
            let dir = merge_onto(store, &base, &changes, since, last_full_at)?;
            std::fs::remove_dir_all(&changes_root)
                .map_err(|e| crate::snapshot::Error::io(&changes_root, e))?;
            Ok(Refreshed {
                snapshot: Snapshot::open(&dir)?,
                kind: Kind::Incremental {
                    base: base.manifest.snapshot_id.clone(),
                    since,
                },
            })
        }
    }
}

/// Writes the complete snapshot `base` + `changes` into the store; returns its directory.
pub fn merge_onto(
    store: &Store,
    base: &Snapshot,
    changes: &Snapshot,
    since: DateTime<Utc>,
    last_full_at: DateTime<Utc>,
) -> Result<std::path::PathBuf, crate::snapshot::Error> {
    let writer = SnapshotWriter::create(&store.snapshots(), changes.manifest.started_at)?;
    let mut files = Vec::with_capacity(DATASETS.len());
    for d in DATASETS {
        files.push(merge::dataset(d, base, changes, &writer)?);
    }
    let mut warnings = base.manifest.warnings.clone();
    for w in &changes.manifest.warnings {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    let manifest = Manifest {
        snapshot_id: String::new(),
        window: Window::Full,
        files,
        warnings,
        refresh: Some(Refresh {
            base: base.manifest.snapshot_id.clone(),
            since,
            last_full_at,
        }),
        ..changes.manifest.clone()
    };
    writer.commit(manifest)
}
