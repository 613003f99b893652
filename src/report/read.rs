//! The reports' reader: a DuckDB session over a reconciled snapshot's `exceptions.parquet` and
//! `period_orders.parquet` (and the store's history, when there is one), which the reports ask
//! for the counts and sums they show and for the rows they list, a page at a time. No report
//! holds every row: a snapshot of ten million orders has hundreds of thousands of exceptions, and
//! a report needs the memory of what it lists, not of what it counts.
//!
//! The session's names, for the reports' SQL:
//! - `exceptions`: every exception, as `exceptions.parquet` has it;
//! - `period_orders`: each order's part in a month-end difference;
//! - `life`: the history's view of each exception (`check`, `key`, `status`, `first_seen`,
//!   `escalated_at`, `accepted_by`, `accepted_until`, `accepted_reason`), empty without a history;
//! - `planned`: what the plan given to the report does per exception (`check`, `key`, `action`,
//!   `held_back`), empty without a plan.

use std::path::Path;

use duckdb::{Connection, Row, params};

use super::Error;
use crate::config::engine::Engine;
use crate::reconcile::{self, EXCEPTIONS_PARQUET, PERIOD_ORDERS_PARQUET};

/// What a plan does for one exception: the action's kind, or why it holds it back.
type Planned<'a> = (Option<&'static str>, Option<&'a str>);

/// An open reader of one reconciled snapshot.
pub struct Db {
    conn: Connection,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

/// A DuckDB error while `what` was being done, as a report error.
pub(crate) fn fail(what: &str, e: duckdb::Error) -> Error {
    Error::Reconcile(reconcile::Error::duckdb(what, e))
}

impl Db {
    /// Opens the snapshot in `dir` with `engine` (the one it was reconciled with); `history` is the
    /// store's history file, if it has one.
    pub fn open(dir: &Path, history: Option<&Path>, engine: &Engine) -> Result<Db, Error> {
        let (_, exceptions) = reconcile::output_file(
            dir,
            EXCEPTIONS_PARQUET,
            "not reconciled yet; run `tally reconcile` on this snapshot",
        )?;
        let (_, periods) = reconcile::output_file(
            dir,
            PERIOD_ORDERS_PARQUET,
            "not reconciled by this version of tally; run `tally reconcile` on the snapshot",
        )?;
        let conn = reconcile::session::connect(engine)?;
        let life = match history {
            Some(path) => {
                conn.execute_batch(&format!(
                    "ATTACH {} AS history (READ_ONLY)",
                    crate::history::text(&path.to_string_lossy())
                ))
                .map_err(|e| fail(&format!("attaching {}", path.display()), e))?;
                "SELECT \"check\", key, status, first_seen, escalated_at, accepted_by,
                        accepted_until, accepted_reason
                 FROM history.exceptions"
            }
            None => {
                "SELECT NULL::VARCHAR AS \"check\", NULL::VARCHAR AS key, NULL::VARCHAR AS status,
                        NULL::TIMESTAMP AS first_seen, NULL::TIMESTAMP AS escalated_at,
                        NULL::VARCHAR AS accepted_by, NULL::DATE AS accepted_until,
                        NULL::VARCHAR AS accepted_reason
                 WHERE false"
            }
        };
        conn.execute_batch(&format!(
            "CREATE VIEW exceptions AS SELECT * FROM read_parquet({exceptions});
             CREATE VIEW period_orders AS SELECT * FROM read_parquet({periods});
             CREATE VIEW life AS {life};
             CREATE TEMP TABLE planned (\"check\" VARCHAR, key VARCHAR, action VARCHAR,
                                        held_back VARCHAR);"
        ))
        .map_err(|e| fail("opening the snapshot's results", e))?;
        Ok(Db { conn })
    }

    /// Records what a plan does per exception (`planned`), replacing any plan recorded before.
    pub fn set_plan(&self, plan: &[crate::plan::Action]) -> Result<(), Error> {
        let what = "recording the plan";
        self.conn
            .execute_batch("DELETE FROM planned")
            .map_err(|e| fail(what, e))?;
        // One row per exception: where two actions name the same one, the later says what
        // happens to it, as it would when applied.
        let mut by_fix: std::collections::BTreeMap<(&str, &str), Planned> = Default::default();
        for action in plan {
            let what_it_does = match action {
                crate::plan::Action::NoAction { reason, .. } => (None, Some(reason.as_str())),
                other => (Some(other.kind()), None),
            };
            for fix in action.fixes() {
                // `check:key`: check names have no colon, keys may.
                let (check, key) = fix.split_once(':').unwrap_or((fix, ""));
                by_fix.insert((check, key), what_it_does);
            }
        }
        let mut app = self.conn.appender("planned").map_err(|e| fail(what, e))?;
        for ((check, key), (kind, held_back)) in by_fix {
            app.append_row(params![check, key, kind, held_back])
                .map_err(|e| fail(what, e))?;
        }
        app.flush().map_err(|e| fail(what, e))
    }

    /// Runs `sql` and reads every row it returns with `row`; the reports' queries return what
    /// they show (sums, counts, a page of rows), never a whole file.
    pub fn rows<T>(
        &self,
        what: &str,
        sql: &str,
        row: impl FnMut(&Row<'_>) -> duckdb::Result<T>,
    ) -> Result<Vec<T>, Error> {
        reconcile::query_rows(&self.conn, sql, what, row).map_err(Error::Reconcile)
    }

    /// Runs `sql` and hands each row to `each` as it arrives, holding none of them: for the
    /// workbook, which lists every row.
    pub fn each(
        &self,
        what: &str,
        sql: &str,
        mut each: impl FnMut(&Row<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| fail(what, e))?;
        let mut rows = stmt.query([]).map_err(|e| fail(what, e))?;
        while let Some(r) = rows.next().map_err(|e| fail(what, e))? {
            each(r)?;
        }
        Ok(())
    }

    /// Creates (or replaces) a temporary table `name(g1, ..., page_rows)` of row budgets per group,
    /// which a listing joins to take each group's share of a page.
    pub fn budgets(&self, name: &str, groups: &[(Vec<&str>, usize)]) -> Result<(), Error> {
        let what = format!("recording the page sizes of {name}");
        let width = groups.first().map_or(1, |g| g.0.len());
        let columns: Vec<String> = (1..=width).map(|i| format!("g{i} VARCHAR")).collect();
        self.conn
            .execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {name} ({}, page_rows BIGINT)",
                columns.join(", ")
            ))
            .map_err(|e| fail(&what, e))?;
        let mut app = self.conn.appender(name).map_err(|e| fail(&what, e))?;
        for (group, rows) in groups {
            let mut values: Vec<&dyn duckdb::ToSql> =
                group.iter().map(|g| g as &dyn duckdb::ToSql).collect();
            let rows = *rows as i64;
            values.push(&rows);
            app.append_row(values.as_slice())
                .map_err(|e| fail(&what, e))?;
        }
        app.flush().map_err(|e| fail(&what, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::EngineUsed;

    /// A report reads with the threads and memory limit its snapshot was reconciled with, so it
    /// stays within the memory `[engine]` allowed; a summary that does not say reads with the
    /// defaults.
    #[test]
    fn a_report_reads_with_the_engine_its_snapshot_was_reconciled_with() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open_in_memory().unwrap();
        for file in [EXCEPTIONS_PARQUET, PERIOD_ORDERS_PARQUET] {
            let path = dir.path().join(file);
            conn.execute_batch(&format!(
                "COPY (SELECT 1 AS x) TO '{}' (FORMAT parquet)",
                path.display()
            ))
            .unwrap();
        }
        let used = EngineUsed {
            duckdb: "v2.0.0".into(),
            threads: 3,
            memory_limit: "1500MB".into(),
        };
        let engine = used.for_reading();
        assert_eq!(
            (engine.threads, engine.memory_limit.as_str()),
            (3, "1500MB")
        );
        assert_eq!(
            EngineUsed::default().for_reading(),
            crate::config::engine::Engine::default()
        );
        let db = Db::open(dir.path(), None, &engine).unwrap();
        let (threads, limit, spill): (i64, String, String) = db
            .conn
            .query_row(
                "SELECT current_setting('threads'), current_setting('memory_limit'),
                        current_setting('temp_directory')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((threads, limit.as_str()), (3, "1.3 GiB"));
        assert_eq!(spill, engine.temp_directory.to_string_lossy());
    }
}
