//! Folding one run into the history, in one transaction (see [`super`]).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Error, History, text, ts};
use crate::alerts::digest::{Digest, FailedRuns};
use crate::config::operations::Operations;
use crate::reconcile::EXCEPTIONS_PARQUET;

/// What a run was, for its record.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// How the snapshot was made (`full (--full was given)`, `incremental (...)`).
    pub refresh: String,
    pub snapshot_id: String,
    /// The snapshot's `started_at`: first and last seen times are data times.
    pub data_at: DateTime<Utc>,
}

/// What a run changed in the history.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub new: u64,
    pub reopened: u64,
    pub resolved: u64,
    pub open: u64,
    pub accepted: u64,
    pub escalated: u64,
    /// Open, not accepted, exceptions at or above `fail_on` (the exit status's reason).
    pub failing: u64,
    /// The digests queued in the outbox.
    pub digests: Vec<Digest>,
}

impl History {
    /// Records a run that failed (or was abandoned) with its error; no exception changes. Queues
    /// one alert when this failure makes `failed_runs` in a row.
    pub fn record_failure(
        &mut self,
        info: &RunInfo,
        outcome: &str,
        error: &str,
        ops: &Operations,
    ) -> Result<Option<Digest>, Error> {
        let (streak, since, _) = self.failure_streak()?;
        let path = self.path.clone();
        let fail = |what: &str, e: duckdb::Error| Error::DuckDb {
            path: path.clone(),
            what: what.into(),
            detail: e.to_string(),
        };
        let tx = self.conn.transaction().map_err(|e| fail("starting", e))?;
        tx.execute_batch(&format!(
            "INSERT INTO runs (run_id, started_at, finished_at, outcome, refresh, error)
             VALUES ({}, {}, {}, {}, {}, {})",
            info.run_id,
            ts(info.started_at),
            ts(info.finished_at),
            text(outcome),
            text(&info.refresh),
            text(error)
        ))
        .map_err(|e| fail("recording a failed run", e))?;
        let mut queued = None;
        if outcome == "failed"
            && let Some(alerts) = &ops.alerts
            && streak + 1 == alerts.failed_runs
        {
            let digest = Digest {
                id: format!("run-{}-tally-failing", info.run_id),
                run: info.run_id,
                owner: "tally".into(),
                at: info.started_at,
                new: Vec::new(),
                escalated: Vec::new(),
                resolved: 0,
                money_at_stake: BTreeMap::new(),
                part: 1,
                parts: 1,
                failed_runs: Some(FailedRuns {
                    count: streak + 1,
                    since: since.unwrap_or(info.started_at),
                    last_error: error.to_string(),
                }),
            };
            enqueue(&tx, &digest, info.started_at)
                .map_err(|e| fail("queueing the failure alert", e))?;
            queued = Some(digest);
        }
        tx.commit()
            .map_err(|e| fail("committing a failed run", e))?;
        Ok(queued)
    }

    /// Folds the exceptions reconcile wrote into `snapshot` into the history, queues the digests,
    /// and records the run: all in one transaction.
    pub fn record_run(
        &mut self,
        info: &RunInfo,
        snapshot: &Path,
        ops: &Operations,
    ) -> Result<RunResult, Error> {
        let (streak, since, last_error) = self.failure_streak()?;
        let file = text(&snapshot.join(EXCEPTIONS_PARQUET).to_string_lossy());
        let run = info.run_id;
        let at = ts(info.data_at);
        let path = self.path.clone();
        let fail = |what: &str, e: duckdb::Error| Error::DuckDb {
            path: path.clone(),
            what: what.into(),
            detail: e.to_string(),
        };
        let tx = self
            .conn
            .transaction()
            .map_err(|e| fail("starting the run's transaction", e))?;
        let steps = format!(
            r#"
CREATE OR REPLACE TEMP TABLE cur AS
SELECT "check", key, entity, severity, owner, centra_value, orderwise_value, difference,
       amount, currency, detail, at_stake,
       md5(concat_ws('|', coalesce(centra_value, ''), coalesce(orderwise_value, ''),
                     coalesce(difference, ''), coalesce(CAST(amount AS VARCHAR), ''))) AS vhash
FROM read_parquet({file});

-- An acceptance lapses when its date has passed or the values changed: the exception is back.
UPDATE exceptions e SET status = 'reopened', opened_at = {at}, opened_run = {run},
       escalated_at = NULL, accepted_by = NULL, accepted_at = NULL, accepted_reason = NULL,
       accepted_until = NULL, accepted_vhash = NULL
FROM cur c
WHERE e.status = 'accepted' AND e."check" = c."check" AND e.key = c.key
  AND (c.vhash <> e.accepted_vhash
       OR (e.accepted_until IS NOT NULL AND CAST({at} AS DATE) > e.accepted_until));

-- Resolved before, present again.
UPDATE exceptions e SET status = 'reopened', opened_at = {at}, opened_run = {run},
       resolved_at = NULL, escalated_at = NULL
FROM cur c
WHERE e.status = 'resolved' AND e."check" = c."check" AND e.key = c.key;

-- Absent from this complete run: resolved (an acceptance ends with it).
UPDATE exceptions e SET status = 'resolved', resolved_at = {at}, accepted_by = NULL,
       accepted_at = NULL, accepted_reason = NULL, accepted_until = NULL, accepted_vhash = NULL
WHERE e.status <> 'resolved'
  AND NOT EXISTS (SELECT 1 FROM cur c WHERE c."check" = e."check" AND c.key = e.key);

-- Still present: new and reopened ones of an earlier run are open now; values follow.
UPDATE exceptions e SET
       status = CASE WHEN e.status IN ('new', 'reopened') AND e.opened_run < {run}
                     THEN 'open' ELSE e.status END,
       last_seen = {at}, last_run = {run}, entity = c.entity, severity = c.severity,
       owner = c.owner, centra_value = c.centra_value, orderwise_value = c.orderwise_value,
       difference = c.difference, amount = c.amount, currency = c.currency, detail = c.detail,
       at_stake = c.at_stake, vhash = c.vhash
FROM cur c
WHERE e."check" = c."check" AND e.key = c.key;

-- First seen.
INSERT INTO exceptions ("check", key, entity, severity, owner, status, first_seen, last_seen,
       opened_at, opened_run, last_run, centra_value, orderwise_value, difference, amount,
       currency, detail, at_stake, vhash)
SELECT c."check", c.key, c.entity, c.severity, c.owner, 'new', {at}, {at}, {at}, {run}, {run},
       c.centra_value, c.orderwise_value, c.difference, c.amount, c.currency, c.detail,
       c.at_stake, c.vhash
FROM cur c
WHERE NOT EXISTS (SELECT 1 FROM exceptions e WHERE e."check" = c."check" AND e.key = c.key);

INSERT INTO run_counts
SELECT {run}, "check",
       count(*) FILTER (WHERE status IN ('new', 'open', 'reopened')),
       count(*) FILTER (WHERE status = 'accepted')
FROM exceptions WHERE last_run = {run} GROUP BY "check";
"#
        );
        // One statement at a time, so the crash test can widen the window between them (see
        // `step_pause`); all inside the one transaction.
        let pause = step_pause();
        for statement in steps.split(";\n").filter(|s| !s.trim().is_empty()) {
            tx.execute_batch(statement)
                .map_err(|e| fail("updating the exceptions", e))?;
            if let Some(p) = pause {
                std::thread::sleep(p);
            }
        }
        for (owner, hours) in &ops.escalation {
            tx.execute_batch(&format!(
                "UPDATE exceptions SET escalated_at = {at}
                 WHERE last_run = {run} AND status IN ('new', 'open', 'reopened')
                   AND escalated_at IS NULL AND owner = {}
                   AND opened_at <= {at} - INTERVAL {hours} HOUR",
                text(owner)
            ))
            .map_err(|e| fail("marking escalations", e))?;
        }
        // Exceptions where `filter` holds.
        let count = |filter: String| -> Result<u64, Error> {
            let n: i64 = tx
                .query_row(
                    &format!("SELECT count(*) FROM exceptions WHERE {filter}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| fail("counting", e))?;
            Ok(n as u64)
        };
        let mut result = RunResult {
            new: count(format!("status = 'new' AND opened_run = {run}"))?,
            reopened: count(format!("status = 'reopened' AND opened_run = {run}"))?,
            resolved: count(format!("status = 'resolved' AND resolved_at = {at}"))?,
            open: count(format!("last_run = {run} AND status <> 'accepted'"))?,
            accepted: count(format!("last_run = {run} AND status = 'accepted'"))?,
            escalated: count(format!("last_run = {run} AND escalated_at = {at}"))?,
            failing: match ops.fail_on {
                None => 0,
                Some(level) => count(format!(
                    "last_run = {run} AND status IN ('new', 'open', 'reopened') AND {} >= {}",
                    super::digests::RANK,
                    super::digests::rank(level)
                ))?,
            },
            digests: Vec::new(),
        };
        if let Some(alerts) = &ops.alerts {
            let failed = (streak > 0).then(|| FailedRuns {
                count: streak,
                since: since.unwrap_or(info.started_at),
                last_error: last_error.clone().unwrap_or_default(),
            });
            // Cards show the largest and count the rest; JSON lists every one, in parts.
            let part_size = (alerts.format == crate::config::operations::AlertFormat::Json)
                .then_some(crate::alerts::digest::PART_SIZE);
            let digests = super::digests::build(
                &tx,
                run,
                info.data_at,
                alerts.min_severity,
                failed,
                part_size,
            )
            .map_err(|e| fail("building the alert digests", e))?;
            for digest in &digests {
                enqueue(&tx, digest, info.finished_at).map_err(|e| fail("queueing alerts", e))?;
            }
            result.digests = digests;
        }
        tx.execute_batch(&format!(
            "INSERT INTO runs VALUES ({run}, {}, {}, 'ok', {}, {}, {at}, NULL, {}, {}, {}, {}, {})",
            ts(info.started_at),
            ts(info.finished_at),
            text(&info.refresh),
            text(&info.snapshot_id),
            result.new,
            result.reopened,
            result.resolved,
            result.open,
            result.accepted
        ))
        .map_err(|e| fail("recording the run", e))?;
        tx.commit()
            .map_err(|e| fail("committing the run's transaction", e))?;
        Ok(result)
    }
}

/// `TALLY_TEST_HISTORY_PAUSE_MS`: a pause between the statements of a run's transaction. Only the
/// crash test sets it, to kill `tally run` at random points inside the update and show the history
/// keeps its previous state; it changes nothing but timing.
fn step_pause() -> Option<std::time::Duration> {
    std::env::var("TALLY_TEST_HISTORY_PAUSE_MS")
        .ok()?
        .parse()
        .ok()
        .map(std::time::Duration::from_millis)
}

/// Puts a digest in the outbox (inside the caller's transaction).
fn enqueue(conn: &duckdb::Connection, digest: &Digest, at: DateTime<Utc>) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "INSERT INTO outbox VALUES ({}, {}, {}, {}, {}, NULL, 0, NULL)",
        text(&digest.id),
        digest.run,
        text(&digest.owner),
        ts(at),
        text(&serde_json::to_string(digest).expect("a digest serialises"))
    ))
}
