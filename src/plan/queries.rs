//! The plan's reads: what to correct, from the same shared views the checks use, so a plan fixes
//! exactly what reconcile reports.

use std::collections::BTreeMap;
use std::str::FromStr;

use duckdb::Connection;
use rust_decimal::Decimal;

use super::{Action, Options, OrderLine, ShipmentLine, SizeChange};
use crate::config::Config;
use crate::reconcile::Error;

fn dec(s: Option<String>) -> Decimal {
    s.and_then(|s| Decimal::from_str(&s).ok())
        .unwrap_or_default()
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Centra free-to-allocate that differs from the expected figure, batched per warehouse and
/// direction. A negative expected figure is pushed as 0: Centra cannot hold less.
const STOCK: &str = "
select s.centra_warehouse, cs.warehouse_id, cs.size_id, n.sku, s.centra_free, s.expected_free,
       cast(p.unit_price as varchar), p.currency
from stock_positions s
join sku_names n on n.sku_key = s.sku_key
join (select warehouse, min(warehouse_id) as warehouse_id, sku_key, min(size_id) as size_id
      from centra_stock group by all) cs
  on cs.warehouse = s.centra_warehouse and cs.sku_key = s.sku_key
left join sku_prices p on p.sku_key = s.sku_key
where s.centra_free is not null and s.centra_free <> s.expected_free
order by s.centra_warehouse, n.sku";

pub(super) fn stock(conn: &Connection, opts: &Options) -> Result<Vec<Action>, Error> {
    type Row = (
        String,
        i64,
        i64,
        String,
        i64,
        i64,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Row> = crate::reconcile::query_rows(conn, STOCK, "planning stock", |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })?;
    // (warehouse, id, direction) -> the size changes with the exception each fixes and its price
    type Change = (SizeChange, String, Option<(Decimal, String)>);
    let mut groups: BTreeMap<(String, i64, &'static str), Vec<Change>> = BTreeMap::new();
    let mut out = Vec::new();
    for (warehouse, warehouse_id, size_id, sku, from, expected, price, currency) in rows {
        let check = if from > expected {
            "stock.oversell_risk"
        } else {
            "stock.undersell"
        };
        let fix = format!("{check}:{sku}@{warehouse}");
        let to = expected.max(0);
        if to == from {
            out.push(Action::NoAction {
                fixes: vec![fix],
                reason: format!(
                    "{sku} in {warehouse}: Centra already shows 0 but OrderWise is {} short for orders not yet imported; replenish or import them",
                    -expected
                ),
            });
            continue;
        }
        if expected < 0 {
            // Pushed to 0 below, but the exception stays until OrderWise has the stock.
            out.push(Action::NoAction {
                fixes: vec![fix.clone()],
                reason: format!(
                    "{sku} in {warehouse}: pushed to 0 in Centra, but OrderWise is still {} short for orders not yet imported; replenish or import them",
                    -expected
                ),
            });
        }
        let direction = if to > from { "in" } else { "out" };
        let price = price.zip(currency).map(|(p, c)| (dec(Some(p)), c));
        groups
            .entry((warehouse, warehouse_id, direction))
            .or_default()
            .push((
                SizeChange {
                    size_id,
                    sku,
                    from,
                    to,
                },
                if expected < 0 { String::new() } else { fix },
                price,
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

/// Orders OrderWise should have and lacks, with what blocks them.
const MISSING: &str = "
select e.number, e.market, e.currency, e.order_date_local,
       cast(e.gross_total as varchar), cast(e.net as varchar), cast(e.vat_total as varchar),
       cast(e.shipping_total as varchar), cast(e.discount_total as varchar), e.shipping_option,
       m.orderwise_session, m.orderwise_customer,
       exists (select 1 from centra_shipments s where s.order_number = e.number and s.is_shipped) as shipped
from expected_orders e
left join cfg_markets m on m.centra_market = e.market
where e.order_key not in (select order_key from orders_in_orderwise)
order by e.number";

/// The lines of those orders, with OrderWise's spelling of each SKU.
const MISSING_LINES: &str = "
select l.order_number, l.sku, v.sku, l.quantity, cast(l.unit_price as varchar),
       cast(l.line_gross as varchar), cast(l.line_net as varchar), cast(l.tax_percent as varchar)
from centra_order_lines l
left join (select sku_key, min(sku) as sku from ow_variants group by sku_key) v on v.sku_key = l.sku_key
where l.order_number in (select number from expected_orders
                         where order_key not in (select order_key from orders_in_orderwise))
order by l.order_number, l.line_id";

struct Line {
    sku: Option<String>,
    ow_sku: Option<String>,
    quantity: i64,
    unit: Decimal,
    gross: Decimal,
    net: Decimal,
    tax: Decimal,
}

pub(super) fn orders(conn: &Connection, cfg: &Config) -> Result<Vec<Action>, Error> {
    let what = "planning orders";
    let mut stmt = conn
        .prepare(MISSING_LINES)
        .map_err(|e| Error::duckdb(what, e))?;
    let mut lines: BTreeMap<i64, Vec<Line>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Line {
                    sku: r.get(1)?,
                    ow_sku: r.get(2)?,
                    quantity: r.get(3)?,
                    unit: dec(r.get(4)?),
                    gross: dec(r.get(5)?),
                    net: dec(r.get(6)?),
                    tax: dec(r.get(7)?),
                },
            ))
        })
        .map_err(|e| Error::duckdb(what, e))?;
    for row in rows {
        let (n, l) = row.map_err(|e| Error::duckdb(what, e))?;
        lines.entry(n).or_default().push(l);
    }
    let vat_codes: BTreeMap<Decimal, String> = cfg
        .raw
        .vat_codes
        .iter()
        .filter_map(|(r, c)| {
            Decimal::from_str(r)
                .ok()
                .map(|r| (r.normalize(), c.clone()))
        })
        .collect();
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
        bool,
    );
    let orders: Vec<Row> = crate::reconcile::query_rows(conn, MISSING, what, |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
            r.get(11)?,
            r.get(12)?,
        ))
    })?;
    let mut out = Vec::new();
    for (
        number,
        market,
        currency,
        order_date,
        gross,
        net,
        vat,
        shipping,
        discount,
        _option,
        session,
        customer,
        shipped,
    ) in orders
    {
        let fixes = vec![format!("order.missing_in_orderwise:{number}")];
        let (Some(session), Some(customer)) = (session, customer) else {
            out.push(Action::NoAction {
                fixes,
                reason: format!("order {number} is from market \"{market}\", which no [[markets]] entry maps; map it first"),
            });
            continue;
        };
        let order_lines = lines.remove(&number).unwrap_or_default();
        let unknown: Vec<&str> = order_lines
            .iter()
            .filter(|l| l.ow_sku.is_none())
            .map(|l| l.sku.as_deref().unwrap_or("(no SKU)"))
            .collect();
        if !unknown.is_empty() {
            out.push(Action::NoAction {
                fixes,
                reason: format!("order {number} has SKUs OrderWise does not know ({}); create the variants first", unknown.join(", ")),
            });
            continue;
        }
        if shipped {
            out.push(Action::NoAction {
                fixes,
                reason: format!(
                    "order {number} is already shipped in Centra: posting it would have the warehouse ship it again; book it in OrderWise as despatched by hand"
                ),
            });
            continue;
        }
        let mut posted = Vec::new();
        let mut missing_code = None;
        for l in &order_lines {
            let Some(code) = vat_codes.get(&l.tax.normalize()) else {
                missing_code = Some(l.tax);
                break;
            };
            posted.push(OrderLine {
                variant_code: l.ow_sku.clone().expect("checked above"),
                quantity: l.quantity,
                item_gross: l.unit,
                line_net: l.net,
                line_vat: l.gross - l.net,
                line_gross: l.gross,
                vat_code: code.clone(),
            });
        }
        if let Some(rate) = missing_code {
            out.push(Action::NoAction {
                fixes,
                reason: format!(
                    "order {number} has a {rate}% line and [vat_codes] has no code for it; add one"
                ),
            });
            continue;
        }
        let shipping = dec(shipping);
        let rate = order_lines.first().map(|l| l.tax).unwrap_or_default();
        let delivery_vat = round(shipping * rate / (Decimal::ONE_HUNDRED + rate), 4);
        out.push(Action::PostOrder {
            key: String::new(),
            fixes,
            order_number: number,
            session_id: session,
            customer,
            order_date: order_date.replace(' ', "T"),
            currency,
            delivery_method: None,
            delivery_gross: shipping,
            delivery_net: shipping - delivery_vat,
            delivery_vat,
            discount_gross: dec(discount),
            lines: posted,
            total_net: dec(net),
            total_vat: dec(vat),
            total_gross: dec(gross),
        });
    }
    Ok(out)
}

/// Units despatched longer ago than the SLA that Centra has not shipped, per live order and SKU,
/// with the order's latest old despatch (tracking, delivery method, time).
const SHIPMENTS: &str = "
with gap as (
    select q.order_key, q.sku_key, cast(q.orderwise_despatched_before_sla - q.centra_shipped as bigint) as units
    from shipment_quantities q
    where q.orderwise_despatched_before_sla > q.centra_shipped
), latest as (
    select m.order_key,
           arg_max(d.tracking_number, d.despatched_at) as tracking,
           arg_max(d.delivery_method, d.despatched_at) as method,
           max(d.despatched_at) as at
    from live_orders m
    join ow_despatches d on d.order_id = m.orderwise_order_id
    cross join params p
    where d.despatched_at < p.sla_cutoff
    group by m.order_key
)
select m.number, n.sku, g.sku_key, g.units, l.tracking, l.method, strftime(l.at, '%Y-%m-%dT%H:%M:%S+00:00'),
       g.order_key in (select order_key from shipments_behind) as behind
from gap g
join live_orders m on m.order_key = g.order_key
join sku_names n on n.sku_key = g.sku_key
join latest l on l.order_key = g.order_key
order by m.number, n.sku";

/// Centra order lines of the orders concerned, with what each still has to ship.
const OPEN_LINES: &str = "
select l.order_number, l.sku_key, l.line_id, l.quantity - coalesce(s.shipped, 0), coalesce(s.shipped, 0)
from centra_order_lines l
left join centra_shipped_by_line s on s.order_line_id = l.line_id
where l.order_number in (select number from live_orders)
order by l.order_number, l.line_id";

pub(super) fn shipments(conn: &Connection, cfg: &Config) -> Result<Vec<Action>, Error> {
    let what = "planning shipments";
    type Gap = (
        i64,
        String,
        String,
        i64,
        Option<String>,
        Option<String>,
        String,
        bool,
    );
    let gaps: Vec<Gap> = crate::reconcile::query_rows(conn, SHIPMENTS, what, |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
        ))
    })?;
    if gaps.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare(OPEN_LINES)
        .map_err(|e| Error::duckdb(what, e))?;
    // (order, sku key) -> [(line id, units left, units shipped)]
    type OpenLine = (i64, i64, i64);
    let mut open: BTreeMap<(i64, String), Vec<OpenLine>> = BTreeMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(|e| Error::duckdb(what, e))?;
    for row in rows {
        let (n, key, line, left, shipped) = row.map_err(|e| Error::duckdb(what, e))?;
        if let Some(key) = key {
            open.entry((n, key))
                .or_default()
                .push((line, left, shipped));
        }
    }
    let mut by_order: BTreeMap<i64, Vec<Gap>> = BTreeMap::new();
    for g in gaps {
        by_order.entry(g.0).or_default().push(g);
    }
    let mut out = Vec::new();
    for (number, gaps) in by_order {
        let (_, _, _, _, tracking, method, at, behind) = gaps[0].clone();
        let fixes: Vec<String> = if behind {
            vec![format!("shipment.not_updated_in_centra:{number}")]
        } else {
            gaps.iter()
                .map(|g| format!("shipment.quantity_mismatch:{number}:{}", g.1))
                .collect()
        };
        let Some(carrier) = method.as_ref().and_then(|m| {
            cfg.raw
                .carriers
                .iter()
                .find(|c| &c.orderwise_delivery_method == m)
        }) else {
            out.push(Action::NoAction {
                fixes,
                reason: format!(
                    "order {number} was despatched by \"{}\", which no [[carriers]] entry maps to a Centra carrier; map it first",
                    method.as_deref().unwrap_or("no delivery method")
                ),
            });
            continue;
        };
        let mut lines = Vec::new();
        let mut short = None;
        for (_, sku, key, units, ..) in &gaps {
            let mut need = *units;
            for (line, left, shipped) in open.get_mut(&(number, key.clone())).into_iter().flatten()
            {
                let take = need.min(*left);
                if take > 0 {
                    lines.push(ShipmentLine {
                        order_line_id: *line,
                        sku: sku.clone(),
                        quantity: take,
                        shipped_before: *shipped,
                    });
                    *left -= take;
                    need -= take;
                }
            }
            if need > 0 {
                short = Some((sku.clone(), need));
            }
        }
        if let Some((sku, need)) = short {
            out.push(Action::NoAction {
                fixes,
                reason: format!("order {number}: OrderWise despatched {need} more x {sku} than the Centra order has left to ship; check the despatch"),
            });
            continue;
        }
        out.push(Action::CreateShipment {
            key: String::new(),
            fixes,
            order_number: number,
            lines,
            tracking_number: tracking,
            carrier: carrier.centra_carrier.clone(),
            service: carrier.centra_service.clone(),
            shipped_at: at,
        });
    }
    Ok(out)
}
