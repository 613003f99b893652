//! `tally run`: one scheduled cycle over the store (DESIGN.md "Operations").
//!
//! ```text
//! lock the store ─> refresh the snapshot ─> reconcile ─> history (one transaction, alerts queued)
//!                   (full or incremental)                 └─> annotate exceptions ─> deliver alerts ─> prune
//! ```
//!
//! A cycle that fails before the history is updated records the failed run with its error and
//! resolves nothing. Asked to stop ([`Stop`]) during the refresh, it abandons the refresh (whose
//! temporary directory is removed) and records the run as abandoned; once the snapshot is complete,
//! it finishes: reconcile and the history's transaction are short and never left half done.

pub mod watch;

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::alerts::{self, Delivery};
use crate::clock::Clock;
use crate::config::Config;
use crate::connectors::http::RetryPolicy;
use crate::history::{History, RunInfo, RunResult};
use crate::refresh;
use crate::store::{Store, StoreLock};

/// Errors that stop a cycle before it can record itself (the store is busy or unusable).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Locked(#[from] crate::store::lock::Error),
    #[error("{path}: cannot use the store: {source}")]
    Store {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    History(#[from] crate::history::Error),
}

/// A request to stop, from a signal: `true` once asked.
pub type Stop = tokio::sync::watch::Receiver<bool>;

/// Everything a cycle needs.
pub struct Cycle<'a> {
    pub cfg: &'a Config,
    /// Secrets and the webhook URL come from here (the process environment in production).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub clock: Clock,
    pub retry: RetryPolicy,
    pub progress: bool,
    /// Full extraction whatever the store holds.
    pub full: bool,
}

/// What a cycle did.
#[derive(Debug, Clone)]
pub struct Report {
    pub run_id: i64,
    /// One line per stage, as `tally run` prints them.
    pub lines: Vec<String>,
    /// `ok`, `failed` or `abandoned`.
    pub outcome: String,
    pub error: Option<String>,
    pub snapshot: Option<PathBuf>,
    pub result: Option<RunResult>,
    pub delivery: Delivery,
}

impl Report {
    /// The exit status: 1 for a failed run, 3 when a new or open, not accepted, exception at or
    /// above `fail_on` exists, else 0.
    pub fn exit_code(&self) -> u8 {
        match (&self.outcome[..], &self.result) {
            ("ok", Some(r)) if r.failing > 0 => 3,
            ("ok", _) => 0,
            _ => 1,
        }
    }
}

fn secs(since: Instant) -> String {
    format!("{:.1} s", since.elapsed().as_secs_f64())
}

/// Runs one cycle. `stop` (a watch's signal) abandons the refresh when it flips.
pub async fn cycle(c: &Cycle<'_>, stop: Option<Stop>) -> Result<Report, Error> {
    let ops = &c.cfg.operations;
    let store = Store::open(&ops.store.dir).map_err(|source| Error::Store {
        path: ops.store.dir.clone(),
        source,
    })?;
    let _lock = StoreLock::acquire(&store.dir, "tally run")?;
    // The history is opened only when needed, so `tally history` and the reports can read it
    // while a long refresh runs (DuckDB admits one process at a time to a database file).
    let run_id = History::open(&store.history())?.next_run_id()?;
    let started_at = c.clock.now();
    let mut report = Report {
        run_id,
        lines: Vec::new(),
        outcome: "ok".into(),
        error: None,
        snapshot: None,
        result: None,
        delivery: Delivery::default(),
    };
    let mut info = RunInfo {
        run_id,
        started_at,
        finished_at: started_at,
        refresh: String::new(),
        snapshot_id: String::new(),
        data_at: started_at,
    };

    let t = Instant::now();
    let refreshed = match c.cfg.secrets(c.env) {
        Err(e) => Err(e.to_string()),
        Ok(secrets) => {
            let opts = crate::extract::Options {
                out: store.snapshots(),
                window: crate::snapshot::Window::Full,
                progress: c.progress,
                retry: c.retry,
                clock: c.clock,
            };
            let work = refresh::run(c.cfg, &secrets, &store, &opts, c.full);
            match stop {
                None => work.await.map_err(|e| e.to_string()),
                Some(mut stop) => {
                    tokio::select! {
                        r = work => r.map_err(|e| e.to_string()),
                        _ = stopped(&mut stop) => {
                            report.outcome = "abandoned".into();
                            Err("stopped by a signal during the refresh; nothing was kept".into())
                        }
                    }
                }
            }
        }
    };
    let refreshed = match refreshed {
        Ok(r) => r,
        Err(e) => {
            if report.outcome != "abandoned" {
                report.outcome = "failed".into();
            }
            report.lines.push(format!(
                "refresh: {} after {}: {e}",
                report.outcome,
                secs(t)
            ));
            return finish_failed(c, &store, info, report, e).await;
        }
    };
    let m = &refreshed.snapshot.manifest;
    report.lines.push(format!(
        "refresh: {} in {}: {} Centra orders, {} OrderWise orders -> {}",
        refreshed.kind,
        secs(t),
        m.rows("centra/orders"),
        m.rows("orderwise/orders"),
        refreshed.snapshot.dir.display()
    ));
    info.refresh = refreshed.kind.to_string();
    info.snapshot_id = m.snapshot_id.clone();
    info.data_at = m.started_at;
    report.snapshot = Some(refreshed.snapshot.dir.clone());

    let t = Instant::now();
    let outcome = match crate::reconcile::run(&refreshed.snapshot.dir, c.cfg) {
        Ok(o) => o,
        Err(e) => {
            let e = format!("reconciling {}: {e}", refreshed.snapshot.dir.display());
            report.outcome = "failed".into();
            report.lines.push(format!("reconcile: failed: {e}"));
            return finish_failed(c, &store, info, report, e).await;
        }
    };
    report.lines.push(format!(
        "reconcile: {} exceptions from {} checks in {}",
        outcome.summary.total,
        outcome
            .summary
            .checks
            .iter()
            .filter(|x| x.count > 0)
            .count(),
        secs(t)
    ));

    info.finished_at = c.clock.now();
    let mut history = History::open(&store.history())?;
    let result = history.record_run(&info, &refreshed.snapshot.dir, ops)?;
    history.annotate(&refreshed.snapshot.dir)?;
    report.lines.push(format!(
        "history: {} new, {} reopened, {} resolved, {} open, {} accepted, {} escalated",
        result.new,
        result.reopened,
        result.resolved,
        result.open,
        result.accepted,
        result.escalated
    ));
    report.result = Some(result);
    deliver(c, &history, &mut report).await?;
    prune(&store, ops.store.keep_snapshots, &mut report);
    Ok(report)
}

/// Resolves when a stop is asked for; never when the sender is gone without asking.
pub async fn stopped(stop: &mut Stop) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Records a failed or abandoned run, delivers what is queued, and returns the report.
async fn finish_failed(
    c: &Cycle<'_>,
    store: &Store,
    mut info: RunInfo,
    mut report: Report,
    error: String,
) -> Result<Report, Error> {
    info.finished_at = c.clock.now();
    let mut history = History::open(&store.history())?;
    history.record_failure(&info, &report.outcome, &error, &c.cfg.operations)?;
    report.error = Some(error);
    deliver(c, &history, &mut report).await?;
    prune(store, c.cfg.operations.store.keep_snapshots, &mut report);
    Ok(report)
}

async fn deliver(c: &Cycle<'_>, history: &History, report: &mut Report) -> Result<(), Error> {
    let Some(settings) = &c.cfg.operations.alerts else {
        return Ok(());
    };
    let now: DateTime<Utc> = c.clock.now();
    let d = alerts::deliver(history, settings, c.env, now).await?;
    let mut line = format!("alerts: {} delivered", d.delivered.len());
    if !d.failed.is_empty() {
        line.push_str(&format!(
            ", {} failed and stay queued for the next run ({})",
            d.failed.len(),
            d.failed[0].1
        ));
    }
    if let Some(w) = &d.waiting {
        line.push_str(&format!("; {w}"));
    }
    report.lines.push(line);
    report.delivery = d;
    Ok(())
}

fn prune(store: &Store, keep: usize, report: &mut Report) {
    match store.prune(keep) {
        Ok(0) => {}
        Ok(n) => report
            .lines
            .push(format!("store: removed {n} old snapshots, keeping {keep}")),
        Err(e) => report.lines.push(format!(
            "store: could not remove old snapshots ({e}); they will be tried next run"
        )),
    }
}
