//! A DuckDB session over one snapshot: an in-memory database with no extension loading and no
//! network, one view per Parquet file, the configuration as small tables, and the shared views of
//! `queries/_*.sql`. Checks then only compare columns.

use duckdb::Connection;

use super::Error;
use crate::config::Config;
use crate::config::engine::Engine;
use crate::model::DATASETS;
use crate::snapshot::Snapshot;

/// The view name of a dataset: `centra/orders` -> `centra_orders`, `orderwise/stock` -> `ow_stock`.
pub fn view_name(dataset: &str) -> String {
    dataset.replace("orderwise/", "ow_").replace('/', "_")
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// How long one step of a reconciliation took (`summary.json`'s `steps`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Step {
    /// `queries/_views.sql: order_matches` (one per statement of a shared or after file),
    /// `write exceptions.parquet`...
    pub step: String,
    pub millis: u64,
}

/// Runs `f`, recording how long it took as `step` in `steps`.
pub(crate) fn timed(
    steps: &mut Vec<Step>,
    step: String,
    f: impl FnOnce() -> Result<(), Error>,
) -> Result<(), Error> {
    let started = std::time::Instant::now();
    f()?;
    steps.push(Step {
        step,
        millis: started.elapsed().as_millis() as u64,
    });
    Ok(())
}

/// Runs the shared file `file` statement by statement, each timed as a step of its own
/// (`queries/_views.sql: order_matches`); an error names the statement.
pub(crate) fn run_timed(
    conn: &Connection,
    steps: &mut Vec<Step>,
    file: &str,
    sql: &str,
) -> Result<(), Error> {
    run_statements(conn, steps, file, super::statements::split(sql), None)
}

/// Runs `statements` in turn, each timed. The one that declares the table of
/// [`super::order_checksums`] creates it empty; that module then fills it from `snapshot`, within
/// the same step.
fn run_statements<'a>(
    conn: &Connection,
    steps: &mut Vec<Step>,
    file: &str,
    statements: impl IntoIterator<Item = super::statements::Statement<'a>>,
    snapshot: Option<(&Snapshot, &Engine)>,
) -> Result<(), Error> {
    for statement in statements {
        let step = format!("{file}: {}", statement.name);
        timed(steps, step.clone(), || {
            conn.execute_batch(statement.sql)
                .map_err(|e| Error::duckdb(&step, e))?;
            match snapshot {
                Some((snapshot, engine)) if statement.name == super::order_checksums::TABLE => {
                    super::order_checksums::fill(conn, snapshot, engine.threads)
                }
                _ => Ok(()),
            }
        })?;
    }
    Ok(())
}

/// Opens DuckDB over `snapshot` with `cfg`'s mappings and rules.
pub fn open(snapshot: &Snapshot, cfg: &Config) -> Result<Connection, Error> {
    open_timed(snapshot, cfg).map(|(conn, _)| conn)
}

/// [`open`], with how long each statement of the shared files (`queries/_*.sql`) took.
pub fn open_timed(snapshot: &Snapshot, cfg: &Config) -> Result<(Connection, Vec<Step>), Error> {
    open_for(snapshot, cfg, None)
}

/// An in-memory DuckDB that uses this machine as `engine` says: its threads, memory limit and
/// spill directory, no extension loaded from the network. Reconcile and the reports both read
/// through one, so a report stays within the memory the reconciliation was allowed.
///
/// Insertion order is not kept (DuckDB may then aggregate and join in parallel without it): every
/// file reconcile writes, and every page a report lists, is ordered explicitly, in a total order.
/// The files read are local and the operating system caches them already: DuckDB's own cache of
/// them would copy every read into its buffer pool, against the memory limit the checks' hash
/// tables need (10M orders, the two run in turn eight times: 36.6 to 45.9 s against 38.7 to 47.5
/// s, every pair faster without it).
pub fn connect(engine: &Engine) -> Result<Connection, Error> {
    let config = duckdb::Config::default()
        .enable_autoload_extension(false)
        .and_then(|c| c.threads(engine.threads as i64))
        .map_err(|e| Error::duckdb("opening DuckDB", e))?;
    let conn = Connection::open_in_memory_with_flags(config)
        .map_err(|e| Error::duckdb("opening DuckDB", e))?;
    conn.execute_batch(&format!(
        "SET autoinstall_known_extensions = false; SET autoload_known_extensions = false;
         SET memory_limit = {}; SET temp_directory = {}; SET preserve_insertion_order = false;
         SET enable_external_file_cache = false;",
        sql_string(&engine.memory_limit),
        sql_string(&engine.temp_directory.to_string_lossy()),
    ))
    .map_err(|e| Error::duckdb("configuring DuckDB ([engine] in tally.toml)", e))?;
    Ok(conn)
}

/// [`open_timed`], computing of the shared files only what the queries `uses` read (directly or
/// through other shared statements), or everything when `uses` is `None`.
pub fn open_for(
    snapshot: &Snapshot,
    cfg: &Config,
    uses: Option<&[&str]>,
) -> Result<(Connection, Vec<Step>), Error> {
    let conn = connect(&cfg.engine)?;
    for dataset in DATASETS {
        let path = snapshot.file(dataset);
        let sql = format!(
            "CREATE VIEW {} AS SELECT * FROM read_parquet({})",
            view_name(dataset),
            sql_string(&path.to_string_lossy())
        );
        conn.execute_batch(&sql)
            .map_err(|e| Error::duckdb(&format!("reading {}", path.display()), e))?;
    }
    let started = snapshot.manifest.started_at;
    let settle = started - chrono::Duration::minutes(cfg.rules.settle_minutes);
    let sla = started - chrono::Duration::hours(cfg.rules.shipment_sla_hours);
    let ts = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string();
    conn.execute_batch(&format!(
        "CREATE TABLE params AS SELECT
            CAST({} AS TIMESTAMPTZ) AS extracted_at,
            CAST({} AS TIMESTAMPTZ) AS settle_cutoff,
            CAST({} AS TIMESTAMPTZ) AS sla_cutoff,
            CAST({} AS DECIMAL(18,4)) AS money_tolerance,
            CAST({} AS BIGINT) AS sla_hours,
            CAST({} AS VARCHAR) AS stock_figure;
         CREATE TABLE cfg_markets (centra_market VARCHAR, orderwise_session BIGINT, orderwise_customer VARCHAR, centra_warehouse VARCHAR);
         CREATE TABLE cfg_warehouses (centra_warehouse VARCHAR, orderwise_location VARCHAR);
         CREATE TABLE cfg_carriers (orderwise_delivery_method VARCHAR, centra_carrier VARCHAR, centra_service VARCHAR);",
        sql_string(&ts(started)),
        sql_string(&ts(settle)),
        sql_string(&ts(sla)),
        sql_string(&cfg.rules.money_tolerance.to_string()),
        cfg.rules.shipment_sla_hours,
        sql_string(match cfg.stock_figure {
            crate::config::StockFigure::Free => "free",
            crate::config::StockFigure::Overall => "overall",
        }),
    ))
    .map_err(|e| Error::duckdb("creating the parameter tables", e))?;
    let raw = &cfg.raw;
    let fill = |what: &str, sql: &str, rows: Vec<Vec<String>>| -> Result<(), Error> {
        let mut stmt = conn.prepare(sql).map_err(|e| Error::duckdb(what, e))?;
        for r in rows {
            stmt.execute(duckdb::params_from_iter(r.iter()))
                .map_err(|e| Error::duckdb(what, e))?;
        }
        Ok(())
    };
    fill(
        "loading [[markets]]",
        "INSERT INTO cfg_markets VALUES (?, CAST(? AS BIGINT), ?, ?)",
        raw.markets
            .iter()
            .map(|m| {
                vec![
                    m.centra_market.clone(),
                    m.orderwise_session.to_string(),
                    m.orderwise_customer.clone(),
                    m.centra_warehouse.clone(),
                ]
            })
            .collect(),
    )?;
    fill(
        "loading [[warehouses]]",
        "INSERT INTO cfg_warehouses VALUES (?, ?)",
        raw.warehouses
            .iter()
            .flat_map(|w| {
                w.orderwise_locations
                    .iter()
                    .map(|l| vec![w.centra_warehouse.clone(), l.clone()])
            })
            .collect(),
    )?;
    fill(
        "loading [[carriers]]",
        "INSERT INTO cfg_carriers VALUES (?, ?, ?)",
        raw.carriers
            .iter()
            .map(|c| {
                vec![
                    c.orderwise_delivery_method.clone(),
                    c.centra_carrier.clone(),
                    c.centra_service.clone(),
                ]
            })
            .collect(),
    )?;
    let mut steps = Vec::new();
    for (file, sql) in super::catalogue::shared_views() {
        let statements = super::statements::split(sql);
        let needed = match uses {
            Some(uses) => super::statements::needed(&statements, uses),
            None => vec![true; statements.len()],
        };
        let chosen = statements.into_iter().zip(needed).filter(|(_, n)| *n);
        run_statements(
            &conn,
            &mut steps,
            &format!("queries/{file}"),
            chosen.map(|(s, _)| s),
            Some((snapshot, &cfg.engine)),
        )?;
    }
    Ok((conn, steps))
}

/// Makes a reconciled snapshot's exceptions (in `dir`) the `exceptions` view of `conn`, for
/// stages that act on what reconcile reported (`tally plan`).
pub fn attach_exceptions(conn: &Connection, dir: &std::path::Path) -> Result<(), Error> {
    let (path, file) = super::output_file(
        dir,
        super::EXCEPTIONS_PARQUET,
        "not reconciled yet; run `tally reconcile` on this snapshot first",
    )?;
    conn.execute_batch(&format!(
        "CREATE VIEW exceptions AS SELECT * FROM read_parquet({file})"
    ))
    .map_err(|e| Error::duckdb(&format!("reading {}", path.display()), e))
}
