//! The mappings `tally init` infers from the data, each with its evidence: from a snapshot of both
//! systems (the last [`super::DAYS`] days of orders, all stock), by SQL over the same views the
//! checks use.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDateTime, Offset, TimeZone};
use duckdb::Connection;
use rust_decimal::Decimal;

/// One inferred value with what supports it, and why a person must look (`todo`).
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred<T> {
    pub value: Option<T>,
    pub evidence: String,
    pub todo: Option<String>,
}

/// A Centra market and what its orders show.
#[derive(Debug, Clone, PartialEq)]
pub struct Market {
    pub name: String,
    pub session: Inferred<i64>,
    pub customer: Inferred<String>,
    pub warehouse: Inferred<String>,
}

/// A Centra warehouse and the OrderWise locations whose stock sums to its stock.
#[derive(Debug, Clone, PartialEq)]
pub struct Warehouse {
    pub name: String,
    pub locations: Inferred<Vec<String>>,
}

/// An OrderWise delivery method and the Centra carrier and service its orders ship with.
#[derive(Debug, Clone, PartialEq)]
pub struct Carrier {
    pub method: String,
    pub carrier: Inferred<(String, String)>,
}

/// A Centra tax percent and the OrderWise VAT code on the same lines.
#[derive(Debug, Clone, PartialEq)]
pub struct VatCode {
    pub rate: String,
    pub code: Inferred<String>,
}

/// Everything inferred.
#[derive(Debug, Clone, PartialEq)]
pub struct Inference {
    pub timezone: Inferred<String>,
    pub markets: Vec<Market>,
    pub warehouses: Vec<Warehouse>,
    pub carriers: Vec<Carrier>,
    pub vat_codes: Vec<VatCode>,
}

/// The share of the most common value at or above which a mapping needs no review.
const CLEAR: f64 = 0.9;
/// Fewer cases than this are thin evidence.
const THIN: u64 = 3;

/// Runs a query over the snapshot's session and maps each row (`tally doctor` reads through it
/// too).
pub(crate) fn rows<T>(
    conn: &Connection,
    sql: &str,
    row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> Result<Vec<T>, String> {
    crate::reconcile::query_rows(conn, sql, "querying the snapshot", row).map_err(|e| e.to_string())
}

/// The delivery methods OrderWise uses on orders and despatches, sorted.
pub(crate) fn delivery_methods(conn: &Connection) -> Result<Vec<String>, String> {
    rows(
        conn,
        "SELECT DISTINCT delivery_method FROM (
             SELECT delivery_method FROM ow_orders UNION ALL SELECT delivery_method FROM ow_despatches)
         WHERE delivery_method IS NOT NULL ORDER BY 1",
        |r| r.get::<_, String>(0),
    )
}

/// Each matched order's UTC order date with the offset from it that OrderWise's local order time
/// shows, in minutes rounded to the quarter hour (an import a few minutes late still shows the
/// zone), in Centra order number order.
pub(crate) fn matched_offsets(conn: &Connection) -> Result<Vec<(NaiveDateTime, i32)>, String> {
    let pairs = rows(
        conn,
        "SELECT epoch_ms(o.order_date), w.order_datetime_raw
         FROM centra_orders o
         JOIN ow_orders w ON w.external_ref_key = CAST(o.number AS VARCHAR)
         ORDER BY o.number",
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
    )?;
    Ok(pairs
        .iter()
        .filter_map(|(ms, raw)| {
            let utc = chrono::DateTime::from_timestamp_millis(*ms)?.naive_utc();
            let local = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").ok()?;
            let minutes = (local - utc).num_minutes() as f64;
            Some((utc, ((minutes / 15.0).round() * 15.0) as i32))
        })
        .collect())
}

/// Whether `tz` is `minutes` ahead of UTC at `utc`.
pub(crate) fn fits(tz: chrono_tz::Tz, utc: &NaiveDateTime, minutes: i32) -> bool {
    tz.offset_from_utc_datetime(utc).fix().local_minus_utc() / 60 == minutes
}

/// The most common value of `counts` with the evidence sentence and a TODO when thin or split.
fn majority<T: Clone + Ord + std::fmt::Display>(
    counts: &BTreeMap<T, u64>,
    what: &str,
    of: &str,
) -> Inferred<T> {
    let total: u64 = counts.values().sum();
    let Some((best, n)) = counts
        .iter()
        .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
    else {
        return Inferred {
            value: None,
            evidence: format!("no {of}"),
            todo: Some(format!("no {of} to infer the {what} from: fill it in")),
        };
    };
    let evidence = format!("{n} of {total} {of}");
    let todo = if *n < THIN {
        Some(format!("thin evidence ({evidence}): check the {what}"))
    } else if (*n as f64) < CLEAR * total as f64 {
        let others: Vec<String> = counts
            .iter()
            .filter(|(k, _)| *k != best)
            .map(|(k, c)| format!("{c} {k}"))
            .collect();
        Some(format!(
            "conflicting: {evidence} say {best}, others {}; check the {what}",
            others.join(", ")
        ))
    } else {
        None
    };
    Inferred {
        value: Some(best.clone()),
        evidence,
        todo,
    }
}

/// Infers every mapping from the session over a snapshot.
pub fn infer(conn: &Connection, configured_zone: Option<&str>) -> Result<Inference, String> {
    Ok(Inference {
        timezone: timezone(conn, configured_zone)?,
        markets: markets(conn)?,
        warehouses: warehouses(conn)?,
        carriers: carriers(conn)?,
        vat_codes: vat_codes(conn)?,
    })
}

fn markets(conn: &Connection) -> Result<Vec<Market>, String> {
    let names = rows(
        conn,
        "SELECT market FROM centra_markets ORDER BY market_id",
        |r| r.get::<_, String>(0),
    )?;
    let matched = rows(
        conn,
        "SELECT o.market, w.session_id, w.customer_account, count(*)
         FROM centra_orders o
         JOIN ow_orders w ON w.external_ref_key = CAST(o.number AS VARCHAR)
         GROUP BY ALL",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)? as u64,
            ))
        },
    )?;
    // Allocations: a market's open units per SKU are covered by the allocations of the
    // warehouse its allocation rule draws from (and not, in general, by another's).
    let coverage = rows(
        conn,
        "WITH shipped AS (
             SELECT sl.order_line_id, sum(sl.quantity) AS q
             FROM centra_shipment_lines sl
             JOIN centra_shipments s ON s.shipment_id = sl.shipment_id AND s.order_number = sl.order_number
             WHERE s.is_shipped GROUP BY 1),
         open AS (
             SELECT o.market, l.sku_key, sum(l.quantity - coalesce(s.q, 0)) AS units
             FROM centra_orders o
             JOIN centra_order_lines l ON l.order_number = o.number
             LEFT JOIN shipped s ON s.order_line_id = l.line_id
             WHERE o.status IN ('CONFIRMED', 'PROCESSING') AND l.sku_key IS NOT NULL
             GROUP BY ALL HAVING sum(l.quantity - coalesce(s.q, 0)) > 0),
         alloc AS (SELECT warehouse, sku_key, sum(allocated) AS a FROM centra_stock GROUP BY ALL)
         SELECT o.market, w.warehouse,
                count(*) FILTER (WHERE coalesce(a.a, 0) >= o.units), count(*)
         FROM open o
         JOIN (SELECT DISTINCT warehouse FROM alloc) w ON true
         LEFT JOIN alloc a ON a.warehouse = w.warehouse AND a.sku_key = o.sku_key
         GROUP BY ALL",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u64,
            ))
        },
    )?;
    let mut out = Vec::new();
    for name in names {
        let mut sessions: BTreeMap<i64, u64> = BTreeMap::new();
        let mut customers: BTreeMap<String, u64> = BTreeMap::new();
        let mut without_customer = 0;
        for (m, session, customer, n) in matched.iter().filter(|x| x.0 == name) {
            let _ = m;
            *sessions.entry(*session).or_default() += n;
            match customer {
                Some(c) => *customers.entry(c.clone()).or_default() += n,
                None => without_customer += n,
            }
        }
        let session = majority(&sessions, "session", "matched orders");
        let mut customer = majority(&customers, "customer account", "matched orders");
        if without_customer > 0 && customers.is_empty() {
            customer.todo = Some(
                "the orders export returns no customer_account (an older export definition): fill in the account these orders are posted on".into(),
            );
        }
        let candidates: Vec<&(String, String, u64, u64)> =
            coverage.iter().filter(|c| c.0 == name).collect();
        let best = candidates
            .iter()
            .max_by_key(|c| (c.2, std::cmp::Reverse(c.1.clone())));
        let warehouse = match best {
            None => Inferred {
                value: None,
                evidence: "no open orders".into(),
                todo: Some("no open orders show which warehouse this market's allocation rule draws from: fill it in".into()),
            },
            Some(b) => {
                let ties = candidates.iter().filter(|c| c.2 == b.2).count();
                let evidence = format!(
                    "its allocations in {} cover {} of the {} SKUs on its open orders",
                    b.1, b.2, b.3
                );
                Inferred {
                    value: Some(b.1.clone()),
                    todo: (ties > 1 || b.2 < b.3).then(|| {
                        format!("{evidence}, which does not single one warehouse out: check it")
                    }),
                    evidence,
                }
            }
        };
        out.push(Market {
            name,
            session,
            customer,
            warehouse,
        });
    }
    Ok(out)
}

/// Free stock per place and SKU, from a query returning the place, the SKU and the quantity as
/// text (exact, whether the column is an integer or a decimal).
fn stock_by(
    conn: &Connection,
    sql: &str,
) -> Result<BTreeMap<String, BTreeMap<String, Decimal>>, String> {
    let mut out: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
    for (place, sku, free) in rows(conn, sql, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        out.entry(place)
            .or_default()
            .insert(sku, free.parse().unwrap_or_default());
    }
    Ok(out)
}

fn warehouses(conn: &Connection) -> Result<Vec<Warehouse>, String> {
    let by_warehouse = stock_by(
        conn,
        "SELECT warehouse, sku_key, CAST(sum(free_to_allocate) AS VARCHAR)
         FROM centra_stock GROUP BY ALL",
    )?;
    let by_location = stock_by(
        conn,
        "SELECT location_name, sku_key, CAST(sum(free) AS VARCHAR) FROM ow_stock GROUP BY ALL",
    )?;
    let locations: Vec<String> = by_location.keys().cloned().collect();
    if locations.len() > 12 {
        return Ok(by_warehouse
            .into_keys()
            .map(|name| Warehouse {
                name,
                locations: Inferred {
                    value: None,
                    evidence: format!("{} OrderWise locations", locations.len()),
                    todo: Some("too many locations to compare every combination: list the ones summed into this warehouse".into()),
                },
            })
            .collect());
    }
    // Every warehouse against every combination of locations: SKUs whose free stock agrees.
    let mut scored: Vec<(u64, u64, String, Vec<String>)> = Vec::new();
    for (name, stock) in &by_warehouse {
        for mask in 1u32..(1 << locations.len()) {
            let chosen: Vec<&String> = locations
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, l)| l)
                .collect();
            let mut skus: BTreeSet<&String> = stock.keys().collect();
            for l in &chosen {
                skus.extend(by_location[*l].keys());
            }
            let agree = skus
                .iter()
                .filter(|sku| {
                    let theirs: Decimal = chosen
                        .iter()
                        .filter_map(|l| by_location[*l].get(**sku))
                        .sum();
                    stock.get(**sku).copied().unwrap_or_default() == theirs
                })
                .count() as u64;
            scored.push((
                agree,
                skus.len() as u64,
                name.clone(),
                chosen.into_iter().cloned().collect(),
            ));
        }
    }
    // Best agreement first (fewer locations on a tie); each location goes to one warehouse.
    scored.sort_by(|a, b| {
        let share = |x: &(u64, u64, String, Vec<String>)| x.0 as f64 / x.1.max(1) as f64;
        share(b)
            .total_cmp(&share(a))
            .then(a.3.len().cmp(&b.3.len()))
            .then(a.2.cmp(&b.2))
    });
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut chosen: BTreeMap<String, Inferred<Vec<String>>> = BTreeMap::new();
    for (agree, of, name, locs) in scored {
        if chosen.contains_key(&name) || locs.iter().any(|l| taken.contains(l)) {
            continue;
        }
        taken.extend(locs.iter().cloned());
        let evidence = format!("free stock agrees on {agree} of {of} SKUs");
        let todo = ((agree as f64) < CLEAR * of as f64)
            .then(|| format!("weak match ({evidence}): check which locations feed it"));
        chosen.insert(
            name,
            Inferred {
                value: Some(locs),
                evidence,
                todo,
            },
        );
    }
    Ok(by_warehouse
        .into_keys()
        .map(|name| Warehouse {
            locations: chosen.remove(&name).unwrap_or(Inferred {
                value: None,
                evidence: "no location left to match".into(),
                todo: Some("list the OrderWise locations summed into this warehouse".into()),
            }),
            name,
        })
        .collect())
}

fn carriers(conn: &Connection) -> Result<Vec<Carrier>, String> {
    let methods = delivery_methods(conn)?;
    let pairs = rows(
        conn,
        "SELECT d.delivery_method, s.carrier, s.service, count(*)
         FROM ow_despatches d
         JOIN centra_shipments s ON CAST(s.order_number AS VARCHAR) = d.external_ref_key
         WHERE d.delivery_method IS NOT NULL AND s.carrier IS NOT NULL AND s.service IS NOT NULL
         GROUP BY ALL",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)? as u64,
            ))
        },
    )?;
    Ok(methods
        .into_iter()
        .map(|method| {
            let counts: BTreeMap<Pair, u64> = pairs
                .iter()
                .filter(|p| p.0 == method)
                .map(|p| (Pair(p.1.clone(), p.2.clone()), p.3))
                .collect();
            let i = majority(
                &counts,
                "carrier and service",
                "shipments of the same orders",
            );
            Carrier {
                method,
                carrier: Inferred {
                    value: i.value.map(|p| (p.0, p.1)),
                    evidence: i.evidence,
                    todo: i.todo,
                },
            }
        })
        .collect())
}

/// A carrier and service, shown as `DPD / Next Day`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Pair(String, String);

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.0, self.1)
    }
}

fn vat_codes(conn: &Connection) -> Result<Vec<VatCode>, String> {
    let pairs = rows(
        conn,
        "SELECT CAST(l.tax_percent AS VARCHAR), ol.vat_code, count(*)
         FROM centra_order_lines l
         JOIN ow_orders w ON w.external_ref_key = CAST(l.order_number AS VARCHAR)
         JOIN ow_order_lines ol ON ol.order_id = w.order_id AND ol.sku_key = l.sku_key
         WHERE ol.vat_code IS NOT NULL
         GROUP BY ALL",
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)? as u64,
            ))
        },
    )?;
    let norm = |s: &str| {
        s.parse::<Decimal>()
            .map_or(s.to_string(), |d| d.normalize().to_string())
    };
    let mut by_rate: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (rate, code, n) in pairs {
        *by_rate
            .entry(norm(&rate))
            .or_default()
            .entry(code)
            .or_default() += n;
    }
    let seen = rows(
        conn,
        "SELECT DISTINCT CAST(tax_percent AS VARCHAR) FROM centra_order_lines",
        |r| r.get::<_, String>(0),
    )?;
    for rate in seen {
        by_rate.entry(norm(&rate)).or_default();
    }
    Ok(by_rate
        .into_iter()
        .map(|(rate, codes)| VatCode {
            code: majority(&codes, "VAT code", "matched order lines"),
            rate,
        })
        .collect())
}

/// Zones preferred when several fit the data equally (offsets alone cannot tell London from
/// Dublin or Lisbon).
const PREFERRED: [&str; 12] = [
    "Europe/London",
    "Europe/Stockholm",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Amsterdam",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Helsinki",
    "Europe/Dublin",
    "America/New_York",
    "Australia/Sydney",
    "UTC",
];

/// The zone whose offsets put Centra's UTC order dates at OrderWise's local order times.
fn timezone(conn: &Connection, configured: Option<&str>) -> Result<Inferred<String>, String> {
    // At most 2,000 orders, spread over the window: every zone is tried on each.
    let all = matched_offsets(conn)?;
    let step = (all.len() / 2000).max(1);
    let seen: Vec<(NaiveDateTime, i32)> = all.into_iter().step_by(step).collect();
    if seen.is_empty() {
        return Ok(Inferred {
            value: configured.map(str::to_string),
            evidence: "no matched orders".into(),
            todo: Some("no matched orders to read the OrderWise time zone from: check it".into()),
        });
    }
    let fitting = |tz: chrono_tz::Tz| seen.iter().filter(|(utc, m)| fits(tz, utc, *m)).count();
    let mut scores: Vec<(usize, chrono_tz::Tz)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (fitting(*tz), *tz))
        .collect();
    let best = scores.iter().map(|s| s.0).max().unwrap_or(0);
    scores.retain(|s| s.0 == best);
    let rank = |tz: &chrono_tz::Tz| {
        if Some(tz.name()) == configured {
            0
        } else {
            PREFERRED
                .iter()
                .position(|p| *p == tz.name())
                .map_or(100, |i| i + 1)
        }
    };
    scores.sort_by_key(|(_, tz)| (rank(tz), tz.name()));
    let chosen = scores[0].1;
    let also: Vec<&str> = scores.iter().skip(1).take(3).map(|s| s.1.name()).collect();
    let n = seen.len();
    let mut evidence = format!("{best} of {n} matched orders sit at its offset from UTC");
    if !also.is_empty() {
        evidence.push_str(&format!(
            " (as do {} and {} more)",
            also.join(", "),
            scores.len().saturating_sub(also.len() + 1)
        ));
    }
    Ok(Inferred {
        value: Some(chosen.name().to_string()),
        todo: ((best as f64) < CLEAR * n as f64)
            .then(|| format!("only {best} of {n} matched orders fit any zone: check it")),
        evidence,
    })
}
