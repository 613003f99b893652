//! `create_shipment`: each `shipment.not_updated_in_centra` exception reconcile reported (an order
//! despatched longer ago than the SLA that Centra never shipped), shipped in Centra with the
//! despatched units, tracking and mapped carrier. A `shipment.quantity_mismatch` (Centra shipped,
//! but other quantities) needs a person to see what left the warehouse: no action.

use std::collections::BTreeMap;

use duckdb::Connection;

use super::{Action, ShipmentLine};
use crate::config::Config;
use crate::reconcile::{Error, query_rows};

/// Per reported order and SKU, the units despatched longer ago than the SLA that Centra has not
/// shipped, with the order's latest old despatch (tracking, delivery method, time).
const SHIPMENTS: &str = "
with reported as (
    select \"check\" || ':' || key as fix, order_number as order_key
    from exceptions where \"check\" = 'shipment.not_updated_in_centra'
), gap as (
    select q.order_key, q.sku_key, cast(q.orderwise_despatched_before_sla - q.centra_shipped as bigint) as units
    from shipment_quantities q
    where q.orderwise_despatched_before_sla > q.centra_shipped
      and q.order_key in (select order_key from reported)
), latest as (
    select m.order_key,
           -- both from the one latest despatch, even where two share a time (`recency`)
           arg_max(d.tracking_number, recency(d.despatched_at, d.despatch_id)) as tracking,
           arg_max(d.delivery_method, recency(d.despatched_at, d.despatch_id)) as method,
           max(d.despatched_at) as at
    from live_orders m
    join ow_despatches d on d.order_id = m.orderwise_order_id
    cross join params p
    where d.despatched_at < p.sla_cutoff
      and m.order_key in (select order_key from reported)
    group by m.order_key
)
select r.fix, m.number, n.sku, g.sku_key, g.units, l.tracking, l.method,
       strftime(l.at, '%Y-%m-%dT%H:%M:%S+00:00')
from reported r
join gap g on g.order_key = r.order_key
join live_orders m on m.order_key = g.order_key
join sku_names n on n.sku_key = g.sku_key
join latest l on l.order_key = g.order_key
order by m.number, n.sku";

/// Centra order lines of the orders concerned, with what each still has to ship.
const OPEN_LINES: &str = "
select l.order_number, l.sku_key, l.line_id, l.quantity - coalesce(s.shipped, 0), coalesce(s.shipped, 0)
from centra_order_lines l
left join centra_shipped_by_line s on s.order_line_id = l.line_id
where cast(l.order_number as varchar) in
      (select order_number from exceptions where \"check\" = 'shipment.not_updated_in_centra')
order by l.order_number, l.line_id";

/// An open Centra order line: (line id, units left to ship, units shipped).
type OpenLine = (i64, i64, i64);
/// Open lines per (order number, SKU key).
type OpenLines = BTreeMap<(i64, String), Vec<OpenLine>>;

/// Units of one SKU of a reported order that Centra has to ship.
#[derive(Clone)]
struct Gap {
    fix: String,
    sku: String,
    sku_key: String,
    units: i64,
    tracking: Option<String>,
    method: Option<String>,
    at: String,
}

pub(super) fn plan(conn: &Connection, cfg: &Config) -> Result<Vec<Action>, Error> {
    let what = "planning shipments";
    let mut by_order: BTreeMap<i64, Vec<Gap>> = BTreeMap::new();
    for (number, gap) in query_rows(conn, SHIPMENTS, what, |r| {
        Ok((
            r.get::<_, i64>(1)?,
            Gap {
                fix: r.get(0)?,
                sku: r.get(2)?,
                sku_key: r.get(3)?,
                units: r.get(4)?,
                tracking: r.get(5)?,
                method: r.get(6)?,
                at: r.get(7)?,
            },
        ))
    })? {
        by_order.entry(number).or_default().push(gap);
    }
    if by_order.is_empty() {
        return Ok(Vec::new());
    }
    let mut open = OpenLines::new();
    for (n, key, line, left, shipped) in query_rows(conn, OPEN_LINES, what, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })? {
        if let Some(key) = key {
            open.entry((n, key))
                .or_default()
                .push((line, left, shipped));
        }
    }
    Ok(by_order
        .into_iter()
        .map(|(number, gaps)| {
            let fixes = vec![gaps[0].fix.clone()];
            ship(number, gaps, &mut open, cfg)
                .unwrap_or_else(|reason| Action::NoAction { fixes, reason })
        })
        .collect())
}

/// The `create_shipment` of one order, or why a person must act first.
fn ship(number: i64, gaps: Vec<Gap>, open: &mut OpenLines, cfg: &Config) -> Result<Action, String> {
    let first = gaps[0].clone();
    let Some(carrier) = first.method.as_ref().and_then(|m| {
        cfg.raw
            .carriers
            .iter()
            .find(|c| &c.orderwise_delivery_method == m)
    }) else {
        return Err(format!(
            "order {number} was despatched by \"{}\", which no [[carriers]] entry maps to a Centra carrier; map it first",
            first.method.as_deref().unwrap_or("no delivery method")
        ));
    };
    let mut lines = Vec::new();
    for g in &gaps {
        let mut need = g.units;
        for (line, left, shipped) in open
            .get_mut(&(number, g.sku_key.clone()))
            .into_iter()
            .flatten()
        {
            let take = need.min(*left);
            if take > 0 {
                lines.push(ShipmentLine {
                    order_line_id: *line,
                    sku: g.sku.clone(),
                    quantity: take,
                    shipped_before: *shipped,
                });
                *left -= take;
                need -= take;
            }
        }
        if need > 0 {
            return Err(format!(
                "order {number}: OrderWise despatched {need} more x {} than the Centra order has left to ship; check the despatch",
                g.sku
            ));
        }
    }
    Ok(Action::CreateShipment {
        key: String::new(),
        fixes: vec![first.fix],
        order_number: number,
        lines,
        tracking_number: first.tracking,
        carrier: carrier.centra_carrier.clone(),
        service: carrier.centra_service.clone(),
        shipped_at: first.at,
    })
}
