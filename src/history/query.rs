//! Reading the history: `tally history`, the exception queue's ages and trend, and the tests.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{Error, History, from_us, text, ts};

/// One exception's life (`tally history --json` prints one per line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub check: String,
    pub key: String,
    pub owner: Option<String>,
    pub severity: Option<String>,
    /// new, open, reopened, accepted or resolved.
    pub status: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// When the current episode began (first seen, or reopened).
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub escalated_at: Option<DateTime<Utc>>,
    pub accepted_by: Option<String>,
    pub accepted_reason: Option<String>,
    pub accepted_until: Option<NaiveDate>,
    pub detail: Option<String>,
}

/// Which exceptions to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub check: Option<String>,
    pub key: Option<String>,
    pub status: Option<String>,
}

/// One run's record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub run_id: i64,
    pub started_at: DateTime<Utc>,
    pub outcome: String,
    pub refresh: Option<String>,
    pub snapshot_id: Option<String>,
    pub error: Option<String>,
    pub new: Option<i64>,
    pub resolved: Option<i64>,
    /// New, open and reopened after the run.
    pub open: Option<i64>,
    pub accepted: Option<i64>,
}

/// Open exceptions of one check after one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub run_id: i64,
    pub check: String,
    pub open: i64,
}

impl History {
    /// Exceptions matching `filter`, by check and key.
    pub fn entries(&self, filter: &Filter) -> Result<Vec<Entry>, Error> {
        let mut clauses = vec!["true".to_string()];
        if let Some(c) = &filter.check {
            clauses.push(format!("\"check\" = {}", text(c)));
        }
        if let Some(k) = &filter.key {
            clauses.push(format!("key = {}", text(k)));
        }
        if let Some(s) = &filter.status {
            // "open" asks for everything still open, whatever its age.
            clauses.push(if s == "open" {
                "status IN ('new', 'open', 'reopened')".into()
            } else {
                format!("status = {}", text(s))
            });
        }
        self.entries_where(&clauses.join(" AND "))
    }

    fn entries_where(&self, clause: &str) -> Result<Vec<Entry>, Error> {
        let sql = format!(
            "SELECT \"check\", key, owner, severity, status, epoch_us(first_seen),
                    epoch_us(last_seen), epoch_us(opened_at), epoch_us(resolved_at),
                    epoch_us(escalated_at), accepted_by, accepted_reason,
                    CAST(accepted_until AS VARCHAR), detail
             FROM exceptions WHERE {clause} ORDER BY \"check\", key"
        );
        self.rows(&sql, "listing the history", |r| {
            Ok(Entry {
                check: r.get(0)?,
                key: r.get(1)?,
                owner: r.get(2)?,
                severity: r.get(3)?,
                status: r.get(4)?,
                first_seen: from_us(r.get(5)?).unwrap_or_default(),
                last_seen: from_us(r.get(6)?).unwrap_or_default(),
                opened_at: from_us(r.get(7)?).unwrap_or_default(),
                resolved_at: from_us(r.get(8)?),
                escalated_at: from_us(r.get(9)?),
                accepted_by: r.get(10)?,
                accepted_reason: r.get(11)?,
                accepted_until: r.get::<_, Option<String>>(12)?.and_then(|d| d.parse().ok()),
                detail: r.get(13)?,
            })
        })
    }

    /// The last `n` runs, newest first.
    pub fn runs(&self, n: usize) -> Result<Vec<RunRow>, Error> {
        self.rows(
            &format!(
                "SELECT run_id, epoch_us(started_at), outcome, refresh, snapshot_id, error, new,
                        resolved, open, accepted
                 FROM runs ORDER BY run_id DESC LIMIT {n}"
            ),
            "listing runs",
            |r| {
                Ok(RunRow {
                    run_id: r.get(0)?,
                    started_at: from_us(r.get(1)?).unwrap_or_default(),
                    outcome: r.get(2)?,
                    refresh: r.get(3)?,
                    snapshot_id: r.get(4)?,
                    error: r.get(5)?,
                    new: r.get(6)?,
                    resolved: r.get(7)?,
                    open: r.get(8)?,
                    accepted: r.get(9)?,
                })
            },
        )
    }

    /// Open exceptions per check over the last `n` successful runs, oldest run first.
    pub fn trend(&self, n: usize) -> Result<Vec<TrendPoint>, Error> {
        self.rows(
            &format!(
                "WITH last AS (SELECT run_id FROM runs WHERE outcome = 'ok'
                               ORDER BY run_id DESC LIMIT {n})
                 SELECT c.run_id, c.\"check\", c.open FROM run_counts c
                 JOIN last USING (run_id) ORDER BY c.run_id, c.\"check\""
            ),
            "reading the trend",
            |r| {
                Ok(TrendPoint {
                    run_id: r.get(0)?,
                    check: r.get(1)?,
                    open: r.get(2)?,
                })
            },
        )
    }

    /// Exceptions resolved by the run whose data was taken at `at`.
    pub fn resolved_at(&self, at: DateTime<Utc>) -> Result<Vec<Entry>, Error> {
        self.entries_where(&format!("status = 'resolved' AND resolved_at = {}", ts(at)))
    }
}
