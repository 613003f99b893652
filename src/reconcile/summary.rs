//! `summary.json`: what a reconciliation found, in numbers: counts per check, severity and owner,
//! money at stake per currency, the data window and how much was compared.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use duckdb::Connection;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{Check, Error, Severity};
use crate::config::Config;
use crate::snapshot::{Snapshot, Window};

/// One check's line in the summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckCount {
    pub check: String,
    pub entity: String,
    pub severity: Severity,
    pub owner: String,
    pub title: String,
    pub remedy: String,
    pub count: u64,
    /// Money at stake per currency.
    pub amount: BTreeMap<String, Decimal>,
    /// How long the check's query took, for whoever writes or tunes checks.
    #[serde(default)]
    pub millis: u64,
}

/// How much of each system was compared.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Compared {
    pub centra_orders: u64,
    pub orderwise_orders: u64,
    pub matched_orders: u64,
    pub skus: u64,
    pub despatches: u64,
}

/// One system's totals for a month, market and currency.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Figures {
    pub orders: u64,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub shipping: Decimal,
}

/// Both systems' totals for one local month, market and currency (`period_totals` in
/// `queries/_views.sql`, the figures `finance.period_mismatch` compares).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PeriodTotals {
    pub month: String,
    pub market: String,
    pub currency: String,
    pub centra: Figures,
    pub orderwise: Figures,
}

/// The configuration a reconciliation ran with, as the audit report shows it (no secrets: only
/// the names of the variables that hold them are in the configuration at all).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Setup {
    pub centra_url: String,
    pub orderwise_url: String,
    pub stock_figure: String,
    pub markets: Vec<crate::config::MarketMapping>,
    pub warehouses: Vec<crate::config::WarehouseMapping>,
    pub carriers: usize,
    pub vat_codes: usize,
}

/// How DuckDB ran: the step and check times in `summary.json` are only comparable between runs
/// with the same engine, and the default threads follow the machine's cores.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct EngineUsed {
    /// DuckDB's version as it reports itself (`v2.0.0`).
    pub duckdb: String,
    /// DuckDB's worker threads (`[engine] threads`, else one more than the cores).
    pub threads: u32,
    /// DuckDB's memory limit as configured (`3GB`).
    pub memory_limit: String,
}

impl EngineUsed {
    /// The engine to read this run's results with, where no configuration is at hand (`tally
    /// report` takes a snapshot only): its threads and memory limit, and the default spill
    /// directory. A summary written before it recorded them reads with the defaults.
    pub fn for_reading(&self) -> crate::config::engine::Engine {
        let mut engine = crate::config::engine::Engine::default();
        if self.threads > 0 {
            engine.threads = self.threads;
        }
        if !self.memory_limit.is_empty() {
            engine.memory_limit = self.memory_limit.clone();
        }
        engine
    }
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub snapshot_id: String,
    pub extracted_at: DateTime<Utc>,
    pub window: Window,
    /// Earliest and latest Centra order date in the snapshot.
    pub data_from: Option<DateTime<Utc>>,
    pub data_to: Option<DateTime<Utc>>,
    pub timezone: String,
    pub money_tolerance: Decimal,
    pub settle_minutes: i64,
    pub shipment_sla_hours: i64,
    pub compared: Compared,
    pub total: u64,
    pub by_severity: BTreeMap<String, u64>,
    pub by_owner: BTreeMap<String, u64>,
    /// The headline money at stake per currency: each order and stock position counted once,
    /// market, product and month exceptions not at all (`queries/after/money_at_stake.sql`).
    pub money_at_stake: BTreeMap<String, Decimal>,
    pub checks: Vec<CheckCount>,
    /// Manifest warnings carried over, so nobody misses them.
    pub warnings: Vec<String>,
    /// Month totals per market and currency in both systems.
    #[serde(default)]
    pub periods: Vec<PeriodTotals>,
    #[serde(default)]
    pub setup: Setup,
    /// How long each step besides the checks took: the shared files `queries/_*.sql`, each
    /// `queries/after/` file and each output written (the checks' own times are in `checks`).
    #[serde(default)]
    pub steps: Vec<super::session::Step>,
    /// The engine the steps and checks were timed on (empty in summaries written before it was
    /// recorded).
    #[serde(default)]
    pub engine: EngineUsed,
}

/// A URL without any `user:password@` part, so nothing secret reaches a report.
fn without_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

fn periods(conn: &Connection) -> Result<Vec<PeriodTotals>, Error> {
    let what = "reading the month totals";
    let money = ["net", "vat", "gross", "discounts", "shipping"];
    let cols: Vec<String> = ["c", "o"]
        .iter()
        .flat_map(|side| {
            std::iter::once(format!("{side}_orders")).chain(
                money
                    .iter()
                    .map(move |m| format!("CAST({side}_{m} AS VARCHAR)")),
            )
        })
        .collect();
    let sql = format!(
        "SELECT month, market, currency, {} FROM period_totals ORDER BY month, market, currency",
        cols.join(", ")
    );
    let dec = super::decimal_column;
    let figures = |r: &duckdb::Row, at: usize| -> duckdb::Result<Figures> {
        Ok(Figures {
            orders: r.get::<_, i64>(at)?.max(0) as u64,
            net: dec(r, at + 1)?,
            vat: dec(r, at + 2)?,
            gross: dec(r, at + 3)?,
            discounts: dec(r, at + 4)?,
            shipping: dec(r, at + 5)?,
        })
    };
    super::query_rows(conn, &sql, what, |r| {
        Ok(PeriodTotals {
            month: r.get(0)?,
            market: r.get(1)?,
            currency: r.get(2)?,
            centra: figures(r, 3)?,
            orderwise: figures(r, 9)?,
        })
    })
}

fn count(conn: &Connection, sql: &str) -> Result<u64, Error> {
    conn.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| n.max(0) as u64)
        .map_err(|e| Error::duckdb(sql, e))
}

/// Builds the summary from the `exceptions` table of an open session.
pub fn build(
    conn: &Connection,
    snapshot: &Snapshot,
    cfg: &Config,
    checks: &[Check],
    timings: &BTreeMap<String, u64>,
) -> Result<Summary, Error> {
    let what = "summarising exceptions";
    type Row = (String, String, Option<String>, i64, Option<String>);
    let rows: Vec<Row> = super::query_rows(
        conn,
        "SELECT \"check\", owner, currency, count(*), CAST(sum(amount) AS VARCHAR)
             FROM exceptions GROUP BY ALL ORDER BY ALL",
        what,
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let mut lines: Vec<CheckCount> = checks
        .iter()
        .map(|c| CheckCount {
            check: c.name.clone(),
            entity: c.entity.clone(),
            severity: c.severity,
            owner: cfg
                .owners
                .get(&c.name)
                .cloned()
                .unwrap_or_else(|| c.owner.clone()),
            title: c.title.clone(),
            remedy: c.remedy.clone(),
            count: 0,
            amount: BTreeMap::new(),
            millis: timings.get(&c.name).copied().unwrap_or(0),
        })
        .collect();
    // Every severity and owner is listed, with 0 where nothing was found.
    let mut by_severity: BTreeMap<String, u64> = ["high", "medium", "low"]
        .iter()
        .map(|s| (s.to_string(), 0))
        .collect();
    let mut by_owner = BTreeMap::new();
    for (check, owner, currency, n, amount) in rows {
        let Some(line) = lines.iter_mut().find(|l| l.check == check) else {
            continue;
        };
        line.count += n as u64;
        *by_severity
            .entry(line.severity.as_str().to_string())
            .or_insert(0) += n as u64;
        *by_owner.entry(owner).or_insert(0) += n as u64;
        if let (Some(cur), Some(a)) = (currency, amount) {
            let a: Decimal = a.parse().map_err(|e| Error::DuckDb {
                what: what.into(),
                detail: format!("{check}: sum of amounts {a:?} is not a decimal: {e}"),
            })?;
            *line.amount.entry(cur).or_insert(Decimal::ZERO) += a;
        }
    }
    let money: BTreeMap<String, Decimal> = super::query_rows(
        conn,
        "SELECT currency, CAST(sum(at_stake) AS VARCHAR) FROM exceptions
         WHERE at_stake IS NOT NULL GROUP BY currency",
        "reading the money at stake",
        |r| Ok((r.get::<_, String>(0)?, super::decimal_column(r, 1)?)),
    )?
    .into_iter()
    .collect();
    let range: (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT CAST(min(order_date) AS VARCHAR), CAST(max(order_date) AS VARCHAR) FROM centra_orders",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| Error::duckdb("reading the data window", e))?;
    let parse = |s: Option<String>| {
        s.and_then(|s| DateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S%.f%#z").ok())
            .map(|t| t.to_utc())
    };
    let compared = Compared {
        centra_orders: count(conn, "SELECT count(*) FROM centra_orders")?,
        orderwise_orders: count(conn, "SELECT count(*) FROM ow_orders")?,
        matched_orders: count(conn, "SELECT count(*) FROM matched_orders")?,
        skus: count(
            conn,
            "SELECT count(*) FROM (SELECT sku_key FROM centra_products UNION SELECT sku_key FROM ow_variants)",
        )?,
        despatches: count(conn, "SELECT count(*) FROM ow_despatches")?,
    };
    let m = &snapshot.manifest;
    let mut warnings = m.warnings.clone();
    if let Window::Since { since } = &m.window {
        warnings.insert(
            0,
            format!(
                "this snapshot holds only orders and despatches changed since {since}: orders outside the window look missing or unexpected and month totals are partial; reconcile a full snapshot (tally extract --full) before closing a month"
            ),
        );
    }
    Ok(Summary {
        snapshot_id: m.snapshot_id.clone(),
        extracted_at: m.started_at,
        window: m.window.clone(),
        data_from: parse(range.0),
        data_to: parse(range.1),
        timezone: cfg.raw.timezone.clone(),
        money_tolerance: cfg.rules.money_tolerance,
        settle_minutes: cfg.rules.settle_minutes,
        shipment_sla_hours: cfg.rules.shipment_sla_hours,
        compared,
        total: lines.iter().map(|l| l.count).sum(),
        by_severity,
        by_owner,
        money_at_stake: money,
        checks: lines,
        warnings,
        periods: periods(conn)?,
        setup: Setup {
            centra_url: without_userinfo(&cfg.raw.centra.base_url),
            orderwise_url: without_userinfo(&cfg.raw.orderwise.base_url),
            stock_figure: cfg.raw.stock.orderwise_figure.clone(),
            markets: cfg.raw.markets.clone(),
            warehouses: cfg.raw.warehouses.clone(),
            carriers: cfg.raw.carriers.len(),
            vat_codes: cfg.raw.vat_codes.len(),
        },
        steps: Vec::new(),
        engine: EngineUsed {
            duckdb: conn
                .query_row("SELECT library_version FROM pragma_version()", [], |r| {
                    r.get::<_, String>(0)
                })
                .map_err(|e| Error::duckdb("reading DuckDB's version", e))?,
            threads: cfg.engine.threads,
            memory_limit: cfg.engine.memory_limit.clone(),
        },
    })
}
