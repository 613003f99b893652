//! The five areas a consultant scores a client on (orders, stock, shipments, products, finance),
//! which checks belong to each, and a health score per area: the share of what was compared that
//! no exception touches.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

use super::read::Db;
use crate::reconcile::Summary;

/// An area of the business the checks cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    Orders,
    Stock,
    Shipments,
    Products,
    Finance,
}

/// The check-name prefixes of every area but orders, which has the rest (`order.`, `market.`).
const PREFIXES: [(&str, Area); 4] = [
    ("stock", Area::Stock),
    ("shipment", Area::Shipments),
    ("product", Area::Products),
    ("finance", Area::Finance),
];

impl Area {
    /// Every area, in report order.
    pub const ALL: [Area; 5] = [
        Area::Orders,
        Area::Stock,
        Area::Shipments,
        Area::Products,
        Area::Finance,
    ];

    /// The area of a check, from its name's prefix (`order.`, `stock.`, ...).
    pub fn of(check: &str) -> Area {
        let prefix = check.split('.').next().unwrap_or("");
        PREFIXES
            .iter()
            .find(|(p, _)| *p == prefix)
            .map_or(Area::Orders, |(_, a)| *a) // order.*, market.*: orders that cannot flow
    }

    /// [`Area::of`] in SQL over a column of check names: the area's place in [`Area::ALL`], so
    /// DuckDB can group exceptions by area (read back with [`Area::at`]).
    pub fn sql_of(column: &str) -> String {
        let index = |area: Area| Area::ALL.iter().position(|a| *a == area).expect("listed");
        let arms: String = PREFIXES
            .iter()
            .map(|(p, a)| format!(" WHEN '{p}' THEN {}", index(*a)))
            .collect();
        format!(
            "(CASE split_part({column}, '.', 1){arms} ELSE {} END)",
            index(Area::Orders)
        )
    }

    /// The area at `index` in [`Area::ALL`], as [`Area::sql_of`] gives it.
    pub fn at(index: i64) -> Area {
        usize::try_from(index)
            .ok()
            .and_then(|i| Area::ALL.get(i))
            .copied()
            .unwrap_or(Area::Orders)
    }

    /// Its name as a heading.
    pub fn title(self) -> &'static str {
        match self {
            Area::Orders => "Orders",
            Area::Stock => "Stock",
            Area::Shipments => "Shipments",
            Area::Products => "Products",
            Area::Finance => "Finance",
        }
    }

    /// The colour of the area in every chart (distinct in print and in grey).
    pub fn colour(self) -> &'static str {
        match self {
            Area::Orders => "#1f4e79",
            Area::Stock => "#4f9a3a",
            Area::Shipments => "#e07b00",
            Area::Products => "#7b4fa0",
            Area::Finance => "#b3262d",
        }
    }
}

/// One area's health, as the audit's executive summary shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub area: Area,
    pub title: &'static str,
    /// 0 to 100: the share of compared subjects (orders, SKUs, despatches, gross sales) untouched.
    pub score: u32,
    /// "Healthy" (99+), "Needs attention" (95+) or "At risk".
    pub grade: &'static str,
    pub exceptions: u64,
    /// What the score is measured against, in words ("412 of 5,000 orders affected").
    pub basis: String,
    /// The checks behind the score, most exceptions first: (title, count).
    pub drivers: Vec<(String, u64)>,
}

fn count(n: u64) -> String {
    super::count(n as i64)
}

fn grade(score: u32) -> &'static str {
    match score {
        99.. => "Healthy",
        95..=98 => "Needs attention",
        _ => "At risk",
    }
}

/// Score from a share affected: 100 × (1 − affected / total), rounded down, 100 when nothing was
/// compared. Exact arithmetic: no float is involved.
fn score(affected: Decimal, total: Decimal) -> u32 {
    if total <= Decimal::ZERO {
        return 100;
    }
    let healthy = Decimal::ONE - (affected / total).min(Decimal::ONE);
    (healthy * Decimal::ONE_HUNDRED)
        .floor()
        .try_into()
        .unwrap_or(0)
}

/// How many subjects the exceptions of each area are about, counted by DuckDB over every
/// exception: the order for order and shipment checks (the line `1001:SKU` is about order 1001),
/// read from its typed subject; else the whole key.
pub fn subjects(db: &Db) -> Result<BTreeMap<Area, u64>, super::Error> {
    let area = Area::sql_of("\"check\"");
    let ordered = [Area::Orders, Area::Shipments]
        .map(|a| {
            Area::ALL
                .iter()
                .position(|x| *x == a)
                .expect("listed")
                .to_string()
        })
        .join(", ");
    let sql = format!(
        "SELECT area, count(DISTINCT subject) FROM (
             SELECT {area} AS area,
                    CASE WHEN {area} IN ({ordered})
                         THEN coalesce(order_number, ow_order_number, key)
                         ELSE key END AS subject
             FROM exceptions)
         GROUP BY area"
    );
    let rows = db.rows("counting the subjects per area", &sql, |r| {
        Ok((Area::at(r.get(0)?), r.get::<_, i64>(1)? as u64))
    })?;
    Ok(rows.into_iter().collect())
}

/// The health of every area, from the summary and the subjects per area ([`subjects`]).
pub fn health(summary: &Summary, subjects: &BTreeMap<Area, u64>) -> Vec<Health> {
    let c = &summary.compared;
    let orders = c.centra_orders.max(c.orderwise_orders);
    // Finance is measured in money: per currency, the gross the two systems disagree on against
    // Centra's gross; the area scores as its worst currency.
    let mut money: BTreeMap<&str, (Decimal, Decimal)> = BTreeMap::new();
    for p in &summary.periods {
        let m = money.entry(&p.currency).or_default();
        m.0 += (p.orderwise.gross - p.centra.gross).abs();
        m.1 += p.centra.gross.abs();
    }
    let finance_score = money
        .values()
        .map(|(gap, gross)| score(*gap, *gross))
        .min()
        .unwrap_or(100);
    let finance_basis = money
        .iter()
        .map(|(cur, (gap, gross))| {
            format!(
                "{} of {} gross",
                super::money(*gap, cur),
                super::money(*gross, cur)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Area::ALL
        .iter()
        .map(|&area| {
            let affected = subjects.get(&area).copied().unwrap_or(0);
            let (score, basis) = match area {
                Area::Orders => (
                    score(affected.into(), orders.into()),
                    format!("{} of {} orders affected", count(affected), count(orders)),
                ),
                Area::Stock => (
                    score(affected.into(), c.skus.into()),
                    format!(
                        "{} stock positions off, {} SKUs compared",
                        count(affected),
                        count(c.skus)
                    ),
                ),
                Area::Shipments => (
                    score(affected.into(), c.despatches.into()),
                    format!(
                        "{} orders affected, {} despatches compared",
                        count(affected),
                        count(c.despatches)
                    ),
                ),
                Area::Products => (
                    score(affected.into(), c.skus.into()),
                    format!("{} of {} SKUs affected", count(affected), count(c.skus)),
                ),
                Area::Finance => (
                    finance_score,
                    format!("month totals differ by {finance_basis}"),
                ),
            };
            let mut drivers: Vec<(String, u64)> = summary
                .checks
                .iter()
                .filter(|k| Area::of(&k.check) == area && k.count > 0)
                .map(|k| (k.title.clone(), k.count))
                .collect();
            drivers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            drivers.truncate(3);
            Health {
                area,
                title: area.title(),
                score,
                grade: grade(score),
                exceptions: summary
                    .checks
                    .iter()
                    .filter(|k| Area::of(&k.check) == area)
                    .map(|k| k.count)
                    .sum(),
                basis,
                drivers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_is_the_untouched_share() {
        assert_eq!(score(Decimal::ZERO, Decimal::from(10)), 100);
        assert_eq!(score(Decimal::from(1), Decimal::from(100)), 99);
        assert_eq!(score(Decimal::from(3), Decimal::from(200)), 98); // 98.5 rounds down
        assert_eq!(score(Decimal::from(50), Decimal::from(10)), 0);
        assert_eq!(score(Decimal::from(5), Decimal::ZERO), 100);
        assert_eq!(grade(99), "Healthy");
        assert_eq!(grade(95), "Needs attention");
        assert_eq!(grade(94), "At risk");
    }

    #[test]
    fn areas_follow_the_check_prefix() {
        assert_eq!(Area::of("order.missing_in_orderwise"), Area::Orders);
        assert_eq!(Area::of("market.unmapped"), Area::Orders);
        assert_eq!(Area::of("stock.undersell"), Area::Stock);
        assert_eq!(Area::of("shipment.missing_tracking"), Area::Shipments);
        assert_eq!(Area::of("product.ean_mismatch"), Area::Products);
        assert_eq!(Area::of("finance.period_cutoff"), Area::Finance);
    }

    #[test]
    fn the_sql_of_an_area_names_the_area_of_the_check_prefix() {
        let conn = duckdb::Connection::open_in_memory().unwrap();
        for check in [
            "order.missing_in_orderwise",
            "market.unmapped",
            "stock.undersell",
            "shipment.missing_tracking",
            "product.ean_mismatch",
            "finance.period_cutoff",
            "odd",
        ] {
            let sql = format!("SELECT {}", Area::sql_of(&format!("'{check}'")));
            let index: i64 = conn.query_row(&sql, [], |r| r.get(0)).unwrap();
            assert_eq!(Area::at(index), Area::of(check), "{check}");
        }
    }
}
