//! The order mirror: Centra's orders copied into OrderWise as a working integration would, with
//! order and shipment drift injected into chosen orders (each recording the exception it must
//! cause), traps that must stay silent, and OrderWise-only orders (unexpected web orders, telephone
//! orders). The settle window is read from the scenario's configuration.

use std::collections::HashMap;

use chrono::Duration;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use crate::sandbox::generate::{
    PHONE_SESSION, Truth, carrier_for, dec, round4, shipping_fee, vat_code,
};
use crate::sandbox::world::*;

/// What happens to one Centra order on its way to OrderWise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Mirrored,
    Absent,
    Missing,
    Duplicated,
    Currency,
    Total,
    Tax,
    Discount,
    Shipping,
    RoundingTrap,
    SpacedRef,
    CancelledOpen,
    LineQuantity,
    LineDropped,
    LineExtra,
    NotUpdated,
    ShipQuantity,
    /// Centra's shipment carries one unit fewer than the old despatch: Centra has shipped, so it
    /// is a quantity mismatch for that SKU, not an order never updated.
    ShipShort,
    TrackingMissingOrderWise,
    TrackingMissingCentra,
    TrackingMismatch,
    UnmappedCarrier,
    /// Despatched an hour ago, not yet in Centra: within the SLA, no exception.
    YoungDespatch,
    Cutoff,
}

/// The delivery method the scenario's configuration does not map.
pub const UNMAPPED_DELIVERY: (&str, &str) = ("Evri 48", "Evri");

/// Copies Centra's orders into OrderWise as a working integration would, with drift injected into
/// chosen orders, then adds OrderWise-only orders (unexpected web orders, telephone orders).
pub(in crate::sandbox) fn mirror_and_drift(
    w: &mut World,
    rng: &mut ChaCha8Rng,
    truth: &mut Truth,
    special: &super::TimedOrders,
) {
    let settle = w.now - Duration::minutes(w.config.rules.settle_minutes);
    let mut fates: Vec<Fate> = w
        .orders
        .iter()
        .map(|o| {
            let mapped = w.markets[o.market].mapping.is_some();
            let young = o.created_at >= settle;
            match o.status {
                Status::Pending => Fate::Absent,
                _ if !mapped || young => Fate::Absent,
                Status::Cancelled if rng.random_bool(0.5) => Fate::Absent,
                _ => Fate::Mirrored,
            }
        })
        .collect();
    // Orders with a SKU OrderWise does not know cannot import.
    let unknown_sku = |o: &Order| o.lines.iter().any(|l| w.ow_sku[l.size].is_none());
    for (i, o) in w.orders.iter().enumerate() {
        if fates[i] == Fate::Mirrored && unknown_sku(o) {
            fates[i] = if o.status == Status::Cancelled {
                Fate::Absent
            } else {
                Fate::Missing
            };
        }
        if fates[i] == Fate::Mirrored && special.cutoffs.contains_key(&i) {
            fates[i] = Fate::Cutoff;
        }
    }
    let free =
        |i: usize, fates: &[Fate]| fates[i] == Fate::Mirrored && !special.reserved.contains(&i);
    let n = w.orders.len();
    let week_ago = w.now - Duration::days(7);
    // (which orders qualify, the fates drawn from them and how many of each)
    type Pool<'a> = (&'a dyn Fn(&Order) -> bool, Vec<(Fate, usize)>);
    let pools: [Pool; 4] = [
        (
            &|o: &Order| o.status == Status::Cancelled,
            vec![(Fate::CancelledOpen, (n / 800).max(2))],
        ),
        (
            &|o: &Order| {
                o.status == Status::Shipped && o.created_at < week_ago && o.lines.len() > 1
            },
            vec![
                (Fate::ShipQuantity, (n / 800).max(2)),
                (Fate::ShipShort, (n / 800).max(2)),
            ],
        ),
        (
            &|o: &Order| o.status == Status::Shipped && o.created_at < week_ago,
            vec![
                (Fate::NotUpdated, (n / 400).max(3)),
                (Fate::TrackingMissingOrderWise, (n / 1000).max(2)),
                (Fate::TrackingMissingCentra, (n / 1000).max(2)),
                (Fate::TrackingMismatch, (n / 800).max(2)),
                (Fate::UnmappedCarrier, (n / 1000).max(2)),
            ],
        ),
        (
            &|o: &Order| o.status != Status::Cancelled,
            vec![
                (Fate::Missing, (n / 250).max(3)),
                (Fate::Duplicated, (n / 500).max(2)),
                (Fate::Currency, (n / 1000).max(2)),
                (Fate::Total, (n / 400).max(3)),
                (Fate::Tax, (n / 400).max(3)),
                (Fate::Discount, (n / 500).max(2)),
                (Fate::Shipping, (n / 500).max(2)),
                (Fate::RoundingTrap, (n / 200).max(5)),
                (Fate::SpacedRef, (n / 200).max(5)),
                (Fate::LineQuantity, (n / 800).max(2)),
                (Fate::LineDropped, (n / 800).max(2)),
                (Fate::LineExtra, (n / 800).max(2)),
            ],
        ),
    ];
    for (fits, plan) in pools {
        let mut pool: Vec<usize> = (0..n)
            .filter(|&i| free(i, &fates) && fits(&w.orders[i]))
            .collect();
        pool.shuffle(rng);
        let mut next = pool.into_iter();
        for (fate, count) in plan {
            for i in next.by_ref().take(count) {
                fates[i] = fate;
            }
        }
    }
    // Recent confirmed orders the warehouse despatched an hour ago (trap).
    let mut young: Vec<usize> = (0..n)
        .filter(|&i| {
            let o = &w.orders[i];
            free(i, &fates)
                && o.status == Status::Confirmed
                && !o.on_hold
                && o.created_at < w.now - Duration::hours(3)
                && o.created_at > w.now - Duration::hours(20)
        })
        .collect();
    young.shuffle(rng);
    for i in young.into_iter().take((n / 500).max(2)) {
        fates[i] = Fate::YoungDespatch;
    }

    let mut first_total = true;
    let mut order_id = w.id_base + 5000;
    let mut line_id = w.id_base + 70_000;
    let mut despatch_id = w.id_base + 9000;
    let mut despatch_line_id = w.id_base + 40_000;
    let mut ow = std::mem::take(&mut w.orderwise);
    let phone_every = (n / (n / 100).max(5)).max(1);
    let unexpected_every = (n / (n / 1000).max(2)).max(1);
    for (i, o) in w.orders.iter().enumerate() {
        let fate = fates[i];
        let key = o.number;
        match fate {
            Fate::Absent => {}
            Fate::Missing => truth.add("order.missing_in_orderwise", key),
            _ => {
                let mk = &w.markets[o.market];
                let (session, _) = mk.mapping.expect("mirrored orders are mapped");
                let copies = if fate == Fate::Duplicated { 2 } else { 1 };
                for _ in 0..copies {
                    order_id += 1;
                    let mut h = ow_header(w, o, order_id, session);
                    match fate {
                        Fate::Duplicated => truth.add("order.duplicated_in_orderwise", key),
                        Fate::Currency => {
                            h.currency = if h.currency == "GBP" { "EUR" } else { "GBP" };
                            truth.add("order.currency_mismatch", key);
                        }
                        Fate::Total => {
                            // The first is off by exactly 1.00: within a month's old allowance of
                            // the tolerance per order, so only the month's total rule catches it.
                            let cents = if first_total {
                                100
                            } else {
                                rng.random_range(100..5000)
                            };
                            first_total = false;
                            let delta = dec(cents, 2)
                                * if rng.random_bool(0.5) {
                                    Decimal::ONE
                                } else {
                                    -Decimal::ONE
                                };
                            h.total_gross += delta;
                            h.total_net += delta;
                            truth.add("order.total_mismatch", key);
                        }
                        Fate::Tax => {
                            let delta = dec(rng.random_range(2..500), 2);
                            h.total_vat += delta;
                            h.total_net -= delta;
                            truth.add("order.tax_mismatch", key);
                        }
                        Fate::Discount => {
                            h.discount_gross = if h.discount_gross.is_zero() {
                                dec(500, 2)
                            } else {
                                Decimal::ZERO
                            };
                            truth.add("order.discount_mismatch", key);
                        }
                        Fate::Shipping => {
                            let (fee, _) = shipping_fee(mk.currency);
                            h.delivery_gross = if h.delivery_gross.is_zero() {
                                fee
                            } else {
                                Decimal::ZERO
                            };
                            h.delivery_vat = round4(
                                h.delivery_gross * mk.vat_percent / (dec(100, 0) + mk.vat_percent),
                            );
                            h.delivery_net = h.delivery_gross - h.delivery_vat;
                            truth.add("order.shipping_mismatch", key);
                        }
                        Fate::RoundingTrap => {
                            // A penny of rounding: within the tolerance, never an exception.
                            let penny = dec(1, 2);
                            if rng.random_bool(0.5) {
                                h.total_vat += penny;
                                h.total_net -= penny;
                            } else {
                                h.total_gross -= penny;
                                h.total_net -= penny;
                            }
                        }
                        Fate::SpacedRef => h.external_ref = Some(format!(" {key} ")),
                        Fate::CancelledOpen => {
                            h.status = "Awaiting Despatch";
                            truth.add("order.cancelled_but_open", key);
                        }
                        Fate::Cutoff => h.order_datetime = special.cutoffs[&i],
                        Fate::YoungDespatch => h.status = "Despatched",
                        _ => {}
                    }
                    let first_line = ow.lines.len();
                    let first_despatch = ow.despatches.len();
                    let despatched = ow_lines_and_despatches(
                        w,
                        o,
                        &h,
                        &mut ow,
                        (&mut line_id, &mut despatch_id, &mut despatch_line_id),
                    );
                    if let Some(last) = despatched {
                        h.amended_at = h.amended_at.max(last);
                    }
                    let sku_of = |size: usize| w.sizes[size].sku.clone();
                    match fate {
                        Fate::LineQuantity => {
                            let l = ow.lines.last_mut().expect("an order has lines");
                            l.qty_required += Decimal::ONE;
                            truth.add(
                                "order.line_mismatch",
                                format!("{key}:{}", sku_of(o.lines.last().expect("lines").size)),
                            );
                        }
                        Fate::LineDropped if o.lines.len() > 1 => {
                            ow.lines.pop();
                            truth.add(
                                "order.line_mismatch",
                                format!("{key}:{}", sku_of(o.lines.last().expect("lines").size)),
                            );
                        }
                        Fate::LineExtra => {
                            let size = (0..w.sizes.len())
                                .map(|k| (o.lines[0].size + 7 + k) % w.sizes.len())
                                .find(|&s| {
                                    w.ow_sku[s].is_some()
                                        && w.sizes[s].active
                                        && o.lines.iter().all(|l| l.size != s)
                                })
                                .expect("another known size");
                            let mut extra = ow.lines.last().expect("lines").clone();
                            line_id += 1;
                            extra.line_id = line_id;
                            extra.sku = w.ow_sku[size].clone().expect("known");
                            extra.qty_required = Decimal::ONE;
                            extra.qty_sent = Decimal::ZERO;
                            ow.lines.push(extra);
                            truth.add("order.line_mismatch", format!("{key}:{}", sku_of(size)));
                        }
                        Fate::ShipQuantity => {
                            let dl = ow
                                .despatch_lines
                                .pop()
                                .expect("a shipped order has despatch lines");
                            let size = (0..w.sizes.len())
                                .find(|&s| w.ow_sku[s].as_deref() == Some(dl.sku.as_str()))
                                .expect("a known size");
                            truth.add(
                                "shipment.quantity_mismatch",
                                format!("{key}:{}", sku_of(size)),
                            );
                        }
                        Fate::TrackingMissingOrderWise => {
                            for d in &mut ow.despatches[first_despatch..] {
                                d.tracking_number = None;
                            }
                            truth.add("shipment.missing_tracking", key);
                        }
                        Fate::UnmappedCarrier => {
                            for d in &mut ow.despatches[first_despatch..] {
                                d.delivery_method = UNMAPPED_DELIVERY.0;
                                d.courier = UNMAPPED_DELIVERY.1;
                            }
                            truth.add("shipment.unmapped_carrier", UNMAPPED_DELIVERY.0);
                        }
                        Fate::NotUpdated => truth.add("shipment.not_updated_in_centra", key),
                        Fate::TrackingMissingCentra => truth.add("shipment.missing_tracking", key),
                        Fate::TrackingMismatch => truth.add("shipment.tracking_mismatch", key),
                        Fate::YoungDespatch => {
                            let at = w.local(w.now - Duration::hours(1));
                            despatch_id += 1;
                            let carrier =
                                carrier_for(mk, o.shipping_option.is_some_and(|s| s.0 == 2));
                            ow.despatches.push(OwDespatch {
                                despatch_id,
                                order_id: h.order_id,
                                external_ref: h.external_ref.clone(),
                                despatched_at: at,
                                tracking_number: Some(format!("YD{despatch_id:010}")),
                                delivery_method: carrier.0,
                                courier: carrier.1,
                                amended_at: at,
                            });
                            for l in &mut ow.lines[first_line..] {
                                despatch_line_id += 1;
                                l.qty_sent = l.qty_required;
                                ow.despatch_lines.push(OwDespatchLine {
                                    despatch_line_id,
                                    despatch_id,
                                    sku: l.sku.clone(),
                                    qty: l.qty_required,
                                    amended_at: at,
                                });
                            }
                            h.amended_at = h.amended_at.max(at);
                        }
                        _ => {}
                    }
                    ow.orders.push(h);
                }
            }
        }
        // OrderWise-only orders, interleaved in time with the web orders.
        if i % phone_every == phone_every / 2 && !w.orders.is_empty() {
            order_id += 1;
            let mut h = ow_header(w, o, order_id, PHONE_SESSION);
            h.external_ref = if i % 2 == 0 {
                Some(format!("PO-{}", 4000 + i))
            } else {
                None
            };
            h.status = "Despatched";
            ow.orders.push(h);
        }
        if i % unexpected_every == unexpected_every / 3
            && o.created_at < settle
            && o.status != Status::Pending
        {
            order_id += 1;
            let session = w.markets[0].mapping.unwrap().0;
            let mut h = ow_header(w, o, order_id, session);
            let reference = format!("T{}", o.number);
            h.external_ref = Some(reference);
            h.currency = "GBP";
            h.status = "Awaiting Despatch";
            truth.add("order.unexpected_in_orderwise", h.order_number());
            ow.orders.push(h);
        }
    }
    w.orderwise = ow;
    // Centra-side shipment drift, once OrderWise has mirrored the shipments.
    for (i, fate) in fates.iter().enumerate() {
        let o = &mut w.orders[i];
        match fate {
            // OrderWise never had it, so nobody shipped it: still confirmed in Centra.
            Fate::Missing => {
                o.shipments.clear();
                o.status = Status::Confirmed;
            }
            Fate::NotUpdated => {
                // The integration never told Centra: no shipment, still confirmed.
                o.shipments.clear();
                o.status = Status::Confirmed;
            }
            Fate::TrackingMissingCentra => o.shipments.iter_mut().for_each(|s| s.tracking = None),
            Fate::TrackingMismatch => {
                if let Some(s) = o.shipments.first_mut() {
                    s.tracking = s.tracking.as_ref().map(|t| format!("{t}9"));
                }
            }
            Fate::ShipShort => {
                // One unit fewer on the last shipped line (or that line gone, when it shipped a
                // single unit and the shipment has others).
                let Some(s) = o.shipments.iter_mut().rev().find(|s| s.lines.len() > 1) else {
                    continue;
                };
                let last = s.lines.last_mut().expect("more than one line");
                let line = last.1;
                if last.2 > 1 {
                    last.2 -= 1;
                } else {
                    s.lines.pop();
                }
                let sku = &w.sizes[o.lines[line].size].sku;
                truth.add("shipment.quantity_mismatch", format!("{}:{sku}", o.number));
            }
            _ => {}
        }
    }
}

/// The OrderWise header of a Centra order, values exactly as Centra states them.
pub(in crate::sandbox) fn ow_header(w: &World, o: &Order, order_id: i64, session: i64) -> OwOrder {
    let mk = &w.markets[o.market];
    let t = &o.totals;
    let delivery_vat = round4(t.shipping * mk.vat_percent / (dec(100, 0) + mk.vat_percent));
    let status = match o.status {
        Status::Cancelled => "Cancelled",
        Status::Shipped => "Despatched",
        Status::Processing => "Part Despatched",
        _ if o.on_hold => "On Hold",
        _ => "Awaiting Despatch",
    };
    OwOrder {
        order_id,
        external_ref: Some(o.number.to_string()),
        session_id: session,
        order_datetime: w.local(o.order_date),
        status,
        currency: mk.currency,
        total_net: t.net,
        total_vat: t.tax_included + t.tax_added,
        total_gross: t.gross,
        delivery_net: t.shipping - delivery_vat,
        delivery_vat,
        delivery_gross: t.shipping,
        discount_gross: -t.discounts,
        delivery_method: Some(carrier_for(mk, o.shipping_option.is_some_and(|s| s.0 == 2)).0),
        amended_at: w.local(o.created_at + Duration::minutes(2)),
    }
}

/// Writes an OrderWise order's lines and the despatches that mirror Centra's shipments; returns the
/// last despatch time.
pub(in crate::sandbox) fn ow_lines_and_despatches(
    w: &World,
    o: &Order,
    h: &OwOrder,
    ow: &mut OrderWise,
    ids: (&mut i64, &mut i64, &mut i64),
) -> Option<chrono::NaiveDateTime> {
    let (line_id, despatch_id, despatch_line_id) = ids;
    let mut sent: HashMap<usize, i64> = HashMap::new();
    for s in &o.shipments {
        for &(_, li, q) in &s.lines {
            *sent.entry(li).or_default() += q;
        }
    }
    for (li, l) in o.lines.iter().enumerate() {
        *line_id += 1;
        let line_net = round4(l.gross * dec(100, 0) / (dec(100, 0) + l.tax_percent));
        ow.lines.push(OwLine {
            line_id: *line_id,
            order_id: h.order_id,
            sku: w.ow_sku[l.size]
                .clone()
                .expect("mirrored orders have known SKUs"),
            qty_required: Decimal::from(l.quantity),
            qty_sent: Decimal::from(sent.get(&li).copied().unwrap_or(0)),
            item_gross: l.unit_price,
            line_net,
            line_vat: l.gross - line_net,
            line_gross: l.gross,
            vat_code: vat_code(l.tax_percent),
            vat_rate: l.tax_percent,
            amended_at: h.amended_at,
        });
    }
    if h.status == "Cancelled" {
        return None;
    }
    let mut last = None;
    let mk = &w.markets[o.market];
    let carrier = carrier_for(mk, o.shipping_option.is_some_and(|s| s.0 == 2));
    for s in &o.shipments {
        let Some(shipped) = s.shipped_at else {
            continue;
        };
        *despatch_id += 1;
        let at = w.local(shipped - Duration::minutes(5));
        ow.despatches.push(OwDespatch {
            despatch_id: *despatch_id,
            order_id: h.order_id,
            external_ref: h.external_ref.clone(),
            despatched_at: at,
            tracking_number: s.tracking.clone(),
            delivery_method: carrier.0,
            courier: carrier.1,
            amended_at: at,
        });
        for &(_, li, q) in &s.lines {
            *despatch_line_id += 1;
            ow.despatch_lines.push(OwDespatchLine {
                despatch_line_id: *despatch_line_id,
                despatch_id: *despatch_id,
                sku: w.ow_sku[o.lines[li].size]
                    .clone()
                    .expect("mirrored orders have known SKUs"),
                qty: Decimal::from(q),
                amended_at: at,
            });
        }
        last = Some(at);
    }
    last
}
