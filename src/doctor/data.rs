//! The checks that need data: the last 30 days are extracted into a temporary snapshot, and every
//! market, warehouse, delivery method and VAT rate seen there must be mapped, and OrderWise's local
//! times must sit at the configured time zone's offset from Centra's UTC times.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::{Line, fail, pass};
use crate::clock::Clock;
use crate::config::{Config, Secrets};
use crate::init::infer::{delivery_methods, fits, matched_offsets, rows};
use crate::snapshot::Snapshot;

/// Days of data the mapping checks look at.
pub const DAYS: i64 = 30;

fn strings(conn: &duckdb::Connection, sql: &str) -> Result<Vec<String>, String> {
    rows(conn, sql, |r| r.get::<_, String>(0))
}

fn unmapped(check: &str, seen: Vec<String>, mapped: &BTreeSet<String>, fix: &str) -> Line {
    let missing: Vec<&String> = seen.iter().filter(|s| !mapped.contains(*s)).collect();
    if missing.is_empty() {
        pass(
            check,
            format!("all {} seen in the last {DAYS} days are mapped", seen.len()),
        )
    } else {
        let names: Vec<String> = missing.iter().map(|s| format!("{s:?}")).collect();
        fail(check, format!("not mapped: {}", names.join(", ")), fix)
    }
}

/// Extracts the last [`DAYS`] days and checks the mappings and the time zone against them.
pub async fn check(cfg: &Config, secrets: &Secrets, clock: Clock) -> Vec<Line> {
    match crate::extract::Scratch::recent(cfg, secrets, clock, DAYS, "doctor").await {
        Err(e) => vec![fail(
            "recent data",
            e.to_string(),
            "see the API lines above",
        )],
        Ok(scratch) => match queries(cfg, &scratch.snapshot) {
            Ok(lines) => lines,
            Err(e) => vec![fail("recent data", e, "report this as a bug")],
        },
    }
}

fn queries(cfg: &Config, snapshot: &Snapshot) -> Result<Vec<Line>, String> {
    let conn = crate::reconcile::session::open(snapshot, cfg).map_err(|e| e.to_string())?;
    let mut lines = Vec::new();
    let markets: BTreeSet<String> = cfg
        .raw
        .markets
        .iter()
        .map(|m| m.centra_market.clone())
        .collect();
    lines.push(unmapped(
        "markets",
        strings(
            &conn,
            "SELECT DISTINCT market FROM centra_orders ORDER BY 1",
        )?,
        &markets,
        "add a [[markets]] entry for each, or accept that their orders are reported as unmapped",
    ));
    let warehouses: BTreeSet<String> = cfg
        .raw
        .warehouses
        .iter()
        .map(|w| w.centra_warehouse.clone())
        .collect();
    lines.push(unmapped(
        "warehouses",
        strings(
            &conn,
            "SELECT DISTINCT warehouse FROM centra_stock ORDER BY 1",
        )?,
        &warehouses,
        "add a [[warehouses]] entry with its OrderWise locations",
    ));
    let methods: BTreeSet<String> = cfg
        .raw
        .carriers
        .iter()
        .map(|c| c.orderwise_delivery_method.clone())
        .collect();
    lines.push(unmapped(
        "delivery methods",
        delivery_methods(&conn)?,
        &methods,
        "add a [[carriers]] entry mapping it to a Centra carrier and service",
    ));
    let rates: BTreeSet<String> = cfg
        .raw
        .vat_codes
        .keys()
        .filter_map(|k| k.parse::<Decimal>().ok())
        .map(|d| d.normalize().to_string())
        .collect();
    let seen: Vec<String> = strings(
        &conn,
        "SELECT DISTINCT CAST(tax_percent AS VARCHAR) FROM centra_order_lines ORDER BY 1",
    )?
    .into_iter()
    .filter_map(|s| s.parse::<Decimal>().ok())
    .map(|d| d.normalize().to_string())
    .collect::<BTreeSet<_>>()
    .into_iter()
    .collect();
    lines.push(unmapped(
        "VAT rates",
        seen,
        &rates,
        "add the rate to [vat_codes] with its OrderWise VAT code",
    ));
    lines.push(stock_agreement(&conn)?);
    lines.push(timezone(cfg, &conn)?);
    Ok(lines)
}

/// Whether each mapped warehouse's free stock equals the sum of its mapped locations', SKU by
/// SKU: a location missing from `orderwise_locations`, or one too many, shows as wide
/// disagreement long before the stock checks flood.
fn stock_agreement(conn: &duckdb::Connection) -> Result<Line, String> {
    let agreement: Vec<(String, i64, i64)> = rows(
        conn,
        "WITH c AS (SELECT warehouse, sku_key, sum(free_to_allocate) AS f FROM centra_stock
                        WHERE warehouse IN (SELECT centra_warehouse FROM cfg_warehouses) GROUP BY ALL),
                  o AS (SELECT w.centra_warehouse, s.sku_key, sum(s.free) AS f
                        FROM ow_stock s JOIN cfg_warehouses w ON w.orderwise_location = s.location_name
                        GROUP BY ALL)
             SELECT c.warehouse, count(*) FILTER (WHERE c.f = coalesce(o.f, 0)), count(*)
             FROM c LEFT JOIN o ON o.centra_warehouse = c.warehouse AND o.sku_key = c.sku_key
             GROUP BY 1 ORDER BY 1",
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let weak: Vec<String> = agreement
        .iter()
        .filter(|(_, agree, of)| (*agree as f64) < 0.9 * *of as f64)
        .map(|(w, agree, of)| format!("{w} agrees on {agree} of {of} SKUs"))
        .collect();
    let all: Vec<String> = agreement
        .iter()
        .map(|(w, agree, of)| format!("{w} {agree} of {of}"))
        .collect();
    Ok(if weak.is_empty() {
        pass(
            "warehouse stock",
            format!("free stock agrees SKU by SKU: {}", all.join(", ")),
        )
    } else {
        fail(
            "warehouse stock",
            format!("free stock {}", weak.join("; ")),
            "check [[warehouses]] orderwise_locations: a location is missing or belongs elsewhere (tally init infers them)",
        )
    })
}

/// The offset between OrderWise's local order times and Centra's UTC order dates on matched
/// orders, against the configured zone's offset at each moment (to the quarter hour: an import a
/// few minutes late still shows the zone).
fn timezone(cfg: &Config, conn: &duckdb::Connection) -> Result<Line, String> {
    let offsets_seen = matched_offsets(conn)?;
    let tz = cfg.timezone;
    let mut agree = 0;
    let mut offsets: BTreeMap<i64, usize> = BTreeMap::new();
    for (utc, minutes) in &offsets_seen {
        if fits(tz, utc, *minutes) {
            agree += 1;
        }
        *offsets.entry(i64::from(*minutes)).or_default() += 1;
    }
    let n = offsets_seen.len();
    let check = format!("time zone {}", cfg.raw.timezone);
    Ok(if n == 0 {
        pass(check, "no matched orders in the last 30 days to compare")
    } else if agree * 100 >= n * 95 {
        pass(
            check,
            format!("{agree} of {n} matched orders are at its offset"),
        )
    } else {
        let mut by_count: Vec<(&i64, &usize)> = offsets.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let common: Vec<String> = by_count
            .into_iter()
            .take(3)
            .map(|(m, c)| format!("{c} at UTC{:+}:{:02}", m / 60, (m % 60).abs()))
            .collect();
        fail(
            check,
            format!(
                "only {agree} of {n} matched orders are at its offset; seen: {}",
                common.join(", ")
            ),
            "set timezone to the OrderWise instance's zone (its local times are read in it)",
        )
    })
}
