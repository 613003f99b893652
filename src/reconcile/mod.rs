//! Reconcile: runs every check of `queries/` over one snapshot in DuckDB and writes the exceptions.
//!
//! Input: a snapshot directory and a configuration. Output, in the snapshot directory:
//! `exceptions.parquet` and `exceptions.csv` (one row per exception: the schema of DESIGN.md, then
//! the typed subject of [`subject`] and `at_stake`, its part of the headline money at stake) and
//! `summary.json` (counts per check, severity and owner; the headline money at stake per currency,
//! each order and stock position counted once; what was compared). Time-dependent rules measure
//! from the snapshot's extraction start, so reconciling an old snapshot gives the same answer
//! tomorrow.

pub mod catalogue;
mod order_checksums;
mod periods;
pub mod session;
mod statements;
pub mod subject;
mod summary;

use std::path::{Path, PathBuf};

pub use catalogue::{Check, Severity, checks};
pub use periods::{Delta, PeriodOrder, read_period_orders};
pub(crate) use periods::{PERIOD_ORDER_COLUMNS, delta_columns, period_order_row};
pub use session::view_name;
pub use summary::{CheckCount, EngineUsed, Figures, PeriodTotals, Setup, Summary};

use crate::config::Config;
use crate::snapshot::Snapshot;

/// Exceptions file names inside a snapshot.
pub const EXCEPTIONS_PARQUET: &str = "exceptions.parquet";
/// See [`EXCEPTIONS_PARQUET`].
pub const EXCEPTIONS_CSV: &str = "exceptions.csv";
/// See [`EXCEPTIONS_PARQUET`].
pub const SUMMARY_JSON: &str = "summary.json";
/// Each order's part in a month-end difference, with its reason (see `queries/after/month_end.sql`).
pub const PERIOD_ORDERS_PARQUET: &str = "period_orders.parquet";

/// What can stop a reconciliation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::Error),
    #[error(transparent)]
    Catalogue(#[from] catalogue::HeaderError),
    #[error("{what}: {detail}")]
    DuckDb { what: String, detail: String },
    /// A snapshot file read outside DuckDB (`order_checksums`) that is not as tally writes it.
    #[error("{path}: {detail}")]
    Read { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn duckdb(what: &str, e: duckdb::Error) -> Error {
        Error::DuckDb {
            what: what.into(),
            detail: e.to_string(),
        }
    }
}

/// Reads column `i`, a DECIMAL cast to VARCHAR in the query, as an exact `Decimal`.
pub(crate) fn decimal_column(r: &duckdb::Row, i: usize) -> duckdb::Result<rust_decimal::Decimal> {
    let text: String = r.get(i)?;
    text.parse().map_err(|e: rust_decimal::Error| {
        duckdb::Error::FromSqlConversionFailure(i, duckdb::types::Type::Text, Box::new(e))
    })
}

/// Runs `sql` and reads every row with `row`; an error says `what` was being done.
pub(crate) fn query_rows<T>(
    conn: &duckdb::Connection,
    sql: &str,
    what: &str,
    row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> Result<Vec<T>, Error> {
    let mut stmt = conn.prepare(sql).map_err(|e| Error::duckdb(what, e))?;
    let rows = stmt
        .query_map([], row)
        .map_err(|e| Error::duckdb(what, e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::duckdb(what, e))
}

/// The result of one reconciliation.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub snapshot: PathBuf,
    pub summary: Summary,
}

impl Outcome {
    /// Exit status for schedulers: 3 when an exception at or above `fail_on` exists, else 0.
    pub fn exit_code(&self, fail_on: Option<Severity>) -> u8 {
        match fail_on {
            Some(level)
                if self
                    .summary
                    .checks
                    .iter()
                    .any(|c| c.severity >= level && c.count > 0) =>
            {
                3
            }
            _ => 0,
        }
    }
}

/// Reconciles the snapshot in `dir` and writes its exceptions and summary there.
pub fn run(dir: &Path, cfg: &Config) -> Result<Outcome, Error> {
    let snapshot = Snapshot::open(dir)?;
    let checks = checks()?;
    let (conn, mut steps) = open_for_checks(&snapshot, cfg, None)?;
    let mut timings = std::collections::BTreeMap::new();
    for check in &checks {
        let started = std::time::Instant::now();
        run_check(&conn, check, cfg)?;
        timings.insert(check.name.clone(), started.elapsed().as_millis() as u64);
    }
    for (file, sql) in catalogue::after_checks() {
        session::run_timed(&conn, &mut steps, &format!("queries/after/{file}"), sql)?;
    }
    // (check, key) is unique, so this order is total: the files are the same on every run.
    let ordered = "SELECT * FROM exceptions ORDER BY \"check\", key";
    session::timed(&mut steps, format!("write {EXCEPTIONS_PARQUET}"), || {
        write_via(
            &conn,
            dir,
            EXCEPTIONS_PARQUET,
            &format!("COPY ({ordered}) TO '{{}}' (FORMAT parquet)"),
        )
    })?;
    session::timed(&mut steps, format!("write {EXCEPTIONS_CSV}"), || {
        write_via(
            &conn,
            dir,
            EXCEPTIONS_CSV,
            &format!("COPY ({ordered}) TO '{{}}' (FORMAT csv, HEADER true)"),
        )
    })?;
    session::timed(&mut steps, format!("write {PERIOD_ORDERS_PARQUET}"), || {
        write_via(
            &conn,
            dir,
            PERIOD_ORDERS_PARQUET,
            "COPY (SELECT * FROM period_orders ORDER BY ALL) TO '{}' (FORMAT parquet)",
        )
    })?;
    let mut summary = summary::build(&conn, &snapshot, cfg, &checks, &timings)?;
    summary.steps = steps;
    let path = dir.join(SUMMARY_JSON);
    let tmp = dir.join(format!(".{SUMMARY_JSON}.tmp"));
    std::fs::write(
        &tmp,
        serde_json::to_vec_pretty(&summary).expect("serialises"),
    )
    .map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| Error::Io { path, source })?;
    Ok(Outcome {
        snapshot: dir.to_path_buf(),
        summary,
    })
}

/// Runs only the checks `select` picks over the snapshot in `dir`, with only the shared tables
/// they read, and returns how many exceptions they found, writing nothing: for measuring a part of
/// the catalogue on its own (`benches/scale.rs`).
pub fn run_only(dir: &Path, cfg: &Config, select: impl Fn(&Check) -> bool) -> Result<i64, Error> {
    let chosen: Vec<Check> = checks()?.into_iter().filter(|c| select(c)).collect();
    let uses: Vec<&str> = chosen.iter().map(|c| c.sql.as_str()).collect();
    let (conn, _) = open_for_checks(&Snapshot::open(dir)?, cfg, Some(&uses))?;
    for check in &chosen {
        run_check(&conn, check, cfg)?;
    }
    let found = query_rows(&conn, "SELECT count(*) FROM exceptions", "counting", |r| {
        r.get::<_, i64>(0)
    })?;
    Ok(found[0])
}

/// The session over `snapshot` with its empty `exceptions` table and the shared statements the
/// queries `uses` read (every one when `None`), and how long each statement took.
fn open_for_checks(
    snapshot: &Snapshot,
    cfg: &Config,
    uses: Option<&[&str]>,
) -> Result<(duckdb::Connection, Vec<session::Step>), Error> {
    let (conn, steps) = session::open_for(snapshot, cfg, uses)?;
    conn.execute_batch(&subject::exceptions_table())
        .map_err(|e| Error::duckdb("creating the exceptions table", e))?;
    Ok((conn, steps))
}

/// Runs one check into the `exceptions` table. A row whose subject lacks what its key needs is an
/// error naming the check, never an exception with a null key.
fn run_check(conn: &duckdb::Connection, check: &Check, cfg: &Config) -> Result<(), Error> {
    let what = format!("queries/{}", check.file);
    let returned = query_rows(
        conn,
        &format!("DESCRIBE SELECT * FROM (\n{}\n) q", check.sql),
        &what,
        |r| r.get::<_, String>(0),
    )?;
    let owner = cfg.owners.get(&check.name).unwrap_or(&check.owner);
    let rows = subject::exception_rows(check, owner, &returned)?;
    conn.execute_batch(&format!("INSERT INTO exceptions {rows}"))
        .map_err(|e| Error::duckdb(&what, e))?;
    let name = check.name.replace('\'', "''");
    let unkeyed = query_rows(
        conn,
        &format!("SELECT count(*) FROM exceptions WHERE \"check\" = '{name}' AND key IS NULL"),
        &what,
        |r| r.get::<_, i64>(0),
    )?;
    if unkeyed[0] > 0 {
        let (_, form) = subject::key_expression(&check.entity).expect("checked by exception_rows");
        return Err(Error::DuckDb {
            what,
            detail: format!(
                "{} rows have no complete subject; a {} exception's key is {form}",
                unkeyed[0], check.entity
            ),
        });
    }
    Ok(())
}

/// Runs a COPY into a temporary file and renames it into place, so a reader never sees half a file.
fn write_via(conn: &duckdb::Connection, dir: &Path, name: &str, copy: &str) -> Result<(), Error> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let dest = dir.join(name);
    let sql = copy.replace("{}", &tmp.to_string_lossy().replace('\'', "''"));
    conn.execute_batch(&sql)
        .map_err(|e| Error::duckdb(&format!("writing {}", dest.display()), e))?;
    std::fs::rename(&tmp, &dest).map_err(|source| Error::Io { path: dest, source })?;
    Ok(())
}

/// One exception row, as written to `exceptions.parquet`: the header's fields, the key, the typed
/// subject (see [`subject::COLUMNS`]; each `None` where it does not apply) and the values.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Exception {
    pub check: String,
    pub entity: String,
    pub severity: String,
    pub owner: String,
    /// Built from the subject by [`subject::key_expression`]; for reading, never for parsing.
    pub key: String,
    /// The Centra order number.
    pub order_number: Option<String>,
    /// OrderWise's id of the order.
    pub ow_order_id: Option<i64>,
    /// OrderWise's order number.
    pub ow_order_number: Option<String>,
    pub sku: Option<String>,
    /// A Centra warehouse name.
    pub warehouse: Option<String>,
    /// An OrderWise stock location name.
    pub location: Option<String>,
    /// The Centra market the exception concerns (several joined by " + ").
    pub market: Option<String>,
    /// The currency of the subject and of `amount`.
    pub currency: Option<String>,
    /// A local month, `YYYY-MM`.
    pub period: Option<String>,
    /// An OrderWise delivery method.
    pub delivery_method: Option<String>,
    /// When its subject happened (order placed, despatch sent), UTC; none for stock and products,
    /// which are as of the snapshot.
    pub occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    pub centra_value: Option<String>,
    pub orderwise_value: Option<String>,
    pub difference: Option<String>,
    /// Money at stake in `currency`, under the check's `-- amount:` rule.
    pub amount: Option<rust_decimal::Decimal>,
    pub detail: String,
    /// This exception's part of the headline money at stake, where each order and stock position
    /// counts once (see `queries/after/money_at_stake.sql`); none when another exception of the
    /// same order carries it, or when the check's money is not counted in the headline.
    pub at_stake: Option<rust_decimal::Decimal>,
}

/// Opens an in-memory DuckDB to read one Parquet file reconcile wrote into `dir`; returns the
/// connection, the file's path and the path as a quoted SQL string. A missing file is an error
/// saying what to run (`hint`).
pub(crate) fn open_output(
    dir: &Path,
    name: &str,
    hint: &'static str,
) -> Result<(duckdb::Connection, PathBuf, String), Error> {
    let (path, quoted) = output_file(dir, name, hint)?;
    let conn =
        duckdb::Connection::open_in_memory().map_err(|e| Error::duckdb("opening DuckDB", e))?;
    Ok((conn, path, quoted))
}

/// The path of a file reconcile wrote into `dir`, and the path as a quoted SQL string; a missing
/// file is an error saying what to run (`hint`).
pub(crate) fn output_file(
    dir: &Path,
    name: &str,
    hint: &'static str,
) -> Result<(PathBuf, String), Error> {
    let path = dir.join(name);
    if !path.is_file() {
        return Err(Error::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, hint),
        });
    }
    let quoted = format!("'{}'", path.to_string_lossy().replace('\'', "''"));
    Ok((path, quoted))
}

/// The columns of `exceptions.parquet` that [`exception_row`] reads, in its order: a select list
/// for any query over the file (or a view of it) that reads whole exceptions.
pub(crate) const EXCEPTION_COLUMNS: &str = "\"check\", entity, severity, owner, key, order_number,
    ow_order_id, ow_order_number, sku, warehouse, location, market, currency, period,
    delivery_method, epoch_ms(occurred_at), centra_value, orderwise_value, difference,
    CAST(amount AS VARCHAR), detail, CAST(at_stake AS VARCHAR)";

/// One exception from a row of [`EXCEPTION_COLUMNS`].
pub(crate) fn exception_row(r: &duckdb::Row<'_>) -> duckdb::Result<Exception> {
    Ok(Exception {
        check: r.get(0)?,
        entity: r.get(1)?,
        severity: r.get(2)?,
        owner: r.get(3)?,
        key: r.get(4)?,
        order_number: r.get(5)?,
        ow_order_id: r.get(6)?,
        ow_order_number: r.get(7)?,
        sku: r.get(8)?,
        warehouse: r.get(9)?,
        location: r.get(10)?,
        market: r.get(11)?,
        currency: r.get(12)?,
        period: r.get(13)?,
        delivery_method: r.get(14)?,
        occurred_at: r
            .get::<_, Option<i64>>(15)?
            .and_then(chrono::DateTime::from_timestamp_millis),
        centra_value: r.get(16)?,
        orderwise_value: r.get(17)?,
        difference: r.get(18)?,
        amount: r
            .get::<_, Option<String>>(19)?
            .map(|_| decimal_column(r, 19))
            .transpose()?,
        detail: r.get::<_, Option<String>>(20)?.unwrap_or_default(),
        at_stake: r
            .get::<_, Option<String>>(21)?
            .map(|_| decimal_column(r, 21))
            .transpose()?,
    })
}

/// Reads a reconciled snapshot's exceptions, ordered by check and key: every row, for callers
/// that need them all (the demo's comparison with the truth). The reports read theirs a page at
/// a time (`report::Input`).
pub fn read_exceptions(dir: &Path) -> Result<Vec<Exception>, Error> {
    let (conn, path, file) = open_output(
        dir,
        EXCEPTIONS_PARQUET,
        "not reconciled yet; run `tally reconcile` on this snapshot",
    )?;
    let sql =
        format!("SELECT {EXCEPTION_COLUMNS} FROM read_parquet({file}) ORDER BY \"check\", key");
    let what = format!("reading {}", path.display());
    query_rows(&conn, &sql, &what, exception_row)
}
