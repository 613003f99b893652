//! What the store's history knows about a reconciled snapshot, for the exception queue: each
//! exception's status and first-seen time, what the run resolved, and the trend over the last
//! runs. Present when the snapshot lives in a store (`STORE/snapshots/<id>`) that has a history;
//! a snapshot reconciled by hand has none and the queue is dated by the orders instead.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::history::{Entry, History, TrendPoint};
use crate::store::HISTORY;

/// Runs the trend chart covers.
pub const TREND_RUNS: usize = 20;

/// The history's view of one snapshot's exceptions.
#[derive(Debug)]
pub struct Timeline {
    /// The history file: the queue's reader attaches it to join each exception's status, first
    /// sighting, escalation and acceptance ([`super::read`]'s `life`).
    pub history: PathBuf,
    /// Exceptions the run of this snapshot found resolved.
    pub resolved: Vec<Entry>,
    /// Open exceptions per check over the last runs.
    pub trend: Vec<TrendPoint>,
    /// When the data of the run before this one was taken, if any.
    pub previous_run: Option<DateTime<Utc>>,
}

/// Reads the timeline of the snapshot in `dir`, if it lives in a store with a history.
pub fn read(dir: &Path, data_at: DateTime<Utc>) -> Result<Option<Timeline>, crate::history::Error> {
    let Some(store) = dir.parent().and_then(Path::parent) else {
        return Ok(None);
    };
    let path = store.join(HISTORY);
    if !path.is_file() {
        return Ok(None);
    }
    let history = History::open(&path)?;
    let previous_run = history
        .runs(TREND_RUNS)?
        .iter()
        .filter(|r| r.outcome == "ok" && r.started_at < data_at)
        .map(|r| r.started_at)
        .next();
    Ok(Some(Timeline {
        history: path,
        resolved: history.resolved_at(data_at)?,
        trend: history.trend(TREND_RUNS)?,
        previous_run,
    }))
}
