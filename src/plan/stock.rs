//! `push_stock`: the stock exceptions reconcile reported (`stock.oversell_risk`,
//! `stock.undersell`), each set to its expected figure in Centra, batched per warehouse and
//! direction. A negative expected figure is pushed as 0: Centra cannot hold less.

use std::collections::BTreeMap;

use duckdb::Connection;
use rust_decimal::Decimal;

use super::{Action, Options, SizeChange};
use crate::reconcile::{Error, query_rows};

/// The reported stock exceptions with the figures to correct: the subject comes from the
/// exception, the details (Centra's size and warehouse ids, both figures, the price) from the
/// snapshot.
const STOCK: &str = "
select x.\"check\" || ':' || x.key, x.warehouse, cs.warehouse_id, cs.size_id, x.sku,
       s.centra_free, s.expected_free, cast(p.unit_price as varchar), p.currency
from exceptions x
join sku_names n on n.sku = x.sku
join stock_positions s on s.sku_key = n.sku_key and s.centra_warehouse = x.warehouse
join (select warehouse, min(warehouse_id) as warehouse_id, sku_key, min(size_id) as size_id
      from centra_stock group by all) cs
  on cs.warehouse = x.warehouse and cs.sku_key = n.sku_key
left join sku_prices p on p.sku_key = n.sku_key
where x.\"check\" in ('stock.oversell_risk', 'stock.undersell')
order by x.warehouse, x.sku";

/// One reported stock exception with its figures.
struct Position {
    fix: String,
    warehouse: String,
    warehouse_id: i64,
    size_id: i64,
    sku: String,
    from: i64,
    expected: i64,
    /// The SKU's price, for the review table's money column (not written anywhere).
    price: Option<(Decimal, String)>,
}

pub(super) fn plan(conn: &Connection, opts: &Options) -> Result<Vec<Action>, Error> {
    let positions = query_rows(conn, STOCK, "planning stock", |r| {
        let price: Option<String> = r.get(7)?;
        let currency: Option<String> = r.get(8)?;
        Ok(Position {
            fix: r.get(0)?,
            warehouse: r.get(1)?,
            warehouse_id: r.get(2)?,
            size_id: r.get(3)?,
            sku: r.get(4)?,
            from: r.get(5)?,
            expected: r.get(6)?,
            price: match (price, currency) {
                (Some(_), Some(c)) => Some((crate::reconcile::decimal_column(r, 7)?, c)),
                _ => None,
            },
        })
    })?;
    // (warehouse, id, direction) -> the size changes, with the exception each fixes and its price
    type Change = (SizeChange, String, Option<(Decimal, String)>);
    let mut groups: BTreeMap<(String, i64, &'static str), Vec<Change>> = BTreeMap::new();
    let mut out = Vec::new();
    for p in positions {
        let to = p.expected.max(0);
        let (sku, warehouse) = (&p.sku, &p.warehouse);
        if to == p.from {
            out.push(Action::NoAction {
                fixes: vec![p.fix],
                reason: format!(
                    "{sku} in {warehouse}: Centra already shows 0 but OrderWise is {} short for orders not yet imported; replenish or import them",
                    -p.expected
                ),
            });
            continue;
        }
        if p.expected < 0 {
            // Pushed to 0 below, but the exception stays until OrderWise has the stock.
            out.push(Action::NoAction {
                fixes: vec![p.fix.clone()],
                reason: format!(
                    "{sku} in {warehouse}: pushed to 0 in Centra, but OrderWise is still {} short for orders not yet imported; replenish or import them",
                    -p.expected
                ),
            });
        }
        let direction = if to > p.from { "in" } else { "out" };
        groups
            .entry((p.warehouse.clone(), p.warehouse_id, direction))
            .or_default()
            .push((
                SizeChange {
                    size_id: p.size_id,
                    sku: p.sku.clone(),
                    from: p.from,
                    to,
                },
                if p.expected < 0 { String::new() } else { p.fix },
                p.price,
            ));
    }
    for ((warehouse, warehouse_id, direction), changes) in groups {
        for batch in changes.chunks(opts.stock_batch.max(1)) {
            let mut money: BTreeMap<String, Decimal> = BTreeMap::new();
            for (c, _, price) in batch {
                if let Some((p, cur)) = price {
                    *money.entry(cur.clone()).or_default() +=
                        *p * Decimal::from((c.to - c.from).abs());
                }
            }
            // One currency per warehouse in practice; otherwise the amount is left out.
            let (amount, currency) = if money.len() == 1 {
                let (c, a) = money.into_iter().next().expect("one");
                (Some(a), Some(c))
            } else {
                (None, None)
            };
            out.push(Action::PushStock {
                key: String::new(),
                fixes: batch
                    .iter()
                    .map(|(_, f, _)| f.clone())
                    .filter(|f| !f.is_empty())
                    .collect(),
                warehouse: warehouse.clone(),
                warehouse_id,
                direction: direction.into(),
                sizes: batch.iter().map(|(c, _, _)| c.clone()).collect(),
                amount,
                currency,
            });
        }
    }
    Ok(out)
}
