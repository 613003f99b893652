//! The history: what tally remembers between scheduled runs, in `STORE/history.duckdb`
//! (DESIGN.md "Operations"; the tables are in `schema.sql`).
//!
//! Exceptions are identified by `(check, key)`. [`History::record_run`] folds one reconciled
//! snapshot in, in one transaction: new ones are recorded, ones still present are `open`, ones
//! absent are `resolved`, resolved ones that come back are `reopened`, accepted ones stay apart
//! until their date passes or their values change; the same transaction queues the run's alert
//! digests in the outbox. A crash at any point leaves the previous state; a failed run is recorded
//! by [`History::record_failure`] and resolves nothing.

mod accept;
mod digests;
mod query;
mod update;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use duckdb::Connection;

pub use accept::Acceptance;
pub use query::{Entry, Filter, RunRow, TrendPoint};
pub use update::{RunInfo, RunResult};

/// What can go wrong with the history.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {what}: {detail}")]
    DuckDb {
        path: PathBuf,
        what: String,
        detail: String,
    },
    #[error(
        "no exception {check} {key:?} in the history; `tally history --check {check}` lists the keys"
    )]
    Unknown { check: String, key: String },
    #[error("{check} {key:?} is {status}, so there is nothing to {action}")]
    WrongStatus {
        check: String,
        key: String,
        status: String,
        action: &'static str,
    },
}

/// Failed runs in a row: how many, when the first started, the last error.
pub type Streak = (u32, Option<DateTime<Utc>>, Option<String>);

/// An open history database.
pub struct History {
    conn: Connection,
    path: PathBuf,
}

/// A UTC time as a DuckDB TIMESTAMP literal.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}

/// A text value as a DuckDB string literal.
pub(crate) fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A TIMESTAMP read as `epoch_us(column)`.
pub(crate) fn from_us(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.and_then(DateTime::from_timestamp_micros)
}

impl History {
    /// Opens (creating if needed) the history database at `path`.
    pub fn open(path: &Path) -> Result<History, Error> {
        let fail = |what: &str, e: duckdb::Error| Error::DuckDb {
            path: path.to_path_buf(),
            what: what.into(),
            detail: e.to_string(),
        };
        let config = duckdb::Config::default()
            .enable_autoload_extension(false)
            .and_then(|c| c.threads(2))
            .map_err(|e| fail("configuring DuckDB", e))?;
        let conn = Connection::open_with_flags(path, config).map_err(|e| fail("opening", e))?;
        conn.execute_batch(
            "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;",
        )
        .map_err(|e| fail("configuring DuckDB", e))?;
        conn.execute_batch(include_str!("schema.sql"))
            .map_err(|e| fail("creating the tables", e))?;
        Ok(History {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn fail(&self, what: &str, e: duckdb::Error) -> Error {
        Error::DuckDb {
            path: self.path.clone(),
            what: what.into(),
            detail: e.to_string(),
        }
    }

    /// Runs a query and maps each row.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        what: &str,
        row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Vec<T>, Error> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.fail(what, e))?;
        let rows = stmt.query_map([], row).map_err(|e| self.fail(what, e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.fail(what, e))
    }

    /// Runs statements.
    pub(crate) fn exec(&self, sql: &str, what: &str) -> Result<(), Error> {
        self.conn.execute_batch(sql).map_err(|e| self.fail(what, e))
    }

    /// The id the next run gets.
    pub fn next_run_id(&self) -> Result<i64, Error> {
        Ok(self.rows(
            "SELECT coalesce(max(run_id), 0) + 1 FROM runs",
            "numbering the run",
            |r| r.get(0),
        )?[0])
    }

    /// How many runs before now failed in a row (0 when the last one succeeded), with the first
    /// of them and the last error.
    pub fn failure_streak(&self) -> Result<Streak, Error> {
        let rows = self.rows(
            "SELECT outcome, epoch_us(started_at), error FROM runs
             WHERE outcome <> 'abandoned' ORDER BY run_id DESC LIMIT 1000",
            "reading the last runs",
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )?;
        let failed: Vec<_> = rows.iter().take_while(|r| r.0 == "failed").collect();
        Ok((
            failed.len() as u32,
            failed.last().and_then(|r| from_us(Some(r.1))),
            failed.first().and_then(|r| r.2.clone()),
        ))
    }

    /// Writes `status` and `first_seen` from the history into a reconciled snapshot's
    /// `exceptions.parquet` and `exceptions.csv` (each through a temporary file and a rename).
    pub fn annotate(&self, snapshot: &Path) -> Result<(), Error> {
        use crate::reconcile::{EXCEPTIONS_CSV, EXCEPTIONS_PARQUET};
        let parquet = snapshot.join(EXCEPTIONS_PARQUET);
        let tmp_parquet = snapshot.join(format!(".{EXCEPTIONS_PARQUET}.annotated"));
        let tmp_csv = snapshot.join(format!(".{EXCEPTIONS_CSV}.annotated"));
        let select = format!(
            "SELECT c.*, h.status, CAST(h.first_seen AS TIMESTAMPTZ) AS first_seen
             FROM read_parquet({}) c
             LEFT JOIN exceptions h ON h.\"check\" = c.\"check\" AND h.key = c.key
             ORDER BY c.\"check\", c.key",
            text(&parquet.to_string_lossy())
        );
        self.exec(
            &format!(
                "COPY ({select}) TO {} (FORMAT parquet);
                 COPY ({select}) TO {} (FORMAT csv, HEADER true);",
                text(&tmp_parquet.to_string_lossy()),
                text(&tmp_csv.to_string_lossy()),
            ),
            "writing status and first_seen into the snapshot's exceptions",
        )?;
        let rename = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| Error::DuckDb {
                path: to.to_path_buf(),
                what: "renaming the annotated exceptions into place".into(),
                detail: e.to_string(),
            })
        };
        rename(&tmp_parquet, &parquet)?;
        rename(&tmp_csv, &snapshot.join(EXCEPTIONS_CSV))
    }
}
