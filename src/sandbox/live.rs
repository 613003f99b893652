//! A live sandbox: the business keeps moving while it is served (`tally sandbox --live RATE`).
//!
//! Each [`step`] makes one change the way the real systems would, stamping Centra's `updatedAt`
//! and OrderWise's amended time so an incremental refresh sees it: a new order (placed in Centra
//! and imported into OrderWise at once), a despatch (in OrderWise, then the shipment in Centra), a
//! cancellation in both, a stock move in both, fresh drift (OrderWise's total of an imported order
//! edited) or a fix of earlier live drift. Every change is logged with its time; drift with the
//! exception it must cause, so detection latency is measured from the moment it happened.
//!
//! The truth written at start describes the world as generated; live changes are consistent on
//! both sides except the drift they log, but may move month totals and stock positions the
//! generated truth did not foresee, so under `--live` the log, not the truth, is the ground truth.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use serde::Serialize;

use super::drift::orders::{ow_header, ow_lines_and_despatches};
use super::world::{Expected, Order, OwDespatch, OwDespatchLine, Shipment, Status, World};

/// One change the live sandbox made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub at: DateTime<Utc>,
    /// `new_order`, `despatch`, `cancel`, `stock_move`, `drift` or `fix`.
    pub kind: &'static str,
    pub detail: String,
    /// For drift: the exception it must cause. For a fix: the exception it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exception: Option<Expected>,
}

/// Live drift not yet fixed: the Centra order number and the OrderWise total before the edit.
#[derive(Debug, Clone, Default)]
pub struct LiveState {
    drifted: Vec<(i64, Decimal)>,
    pub log: Vec<Change>,
}

/// The OrderWise order imported for Centra order `number`, if exactly one.
fn imported(w: &World, number: i64) -> Option<usize> {
    let key = number.to_string();
    let mut found = w
        .orderwise
        .orders
        .iter()
        .enumerate()
        .filter(|(_, o)| o.external_ref.as_deref() == Some(key.as_str()));
    let first = found.next()?.0;
    found.next().is_none().then_some(first)
}

/// A Centra order that is confirmed, unshipped, imported once into OrderWise with Centra's exact
/// total, and not under any drift: the safe subject of a live change.
fn clean_order(w: &World, state: &LiveState, rng: &mut ChaCha8Rng) -> Option<(usize, usize)> {
    for _ in 0..200 {
        let i = rng.random_range(0..w.orders.len());
        let o = &w.orders[i];
        if o.status != Status::Confirmed || !o.shipments.is_empty() || o.on_hold {
            continue;
        }
        if state.drifted.iter().any(|(n, _)| *n == o.number) {
            continue;
        }
        let Some(j) = imported(w, o.number) else {
            continue;
        };
        let h = &w.orderwise.orders[j];
        if h.total_gross == o.totals.gross && h.status == "Awaiting Despatch" {
            return Some((i, j));
        }
    }
    None
}

/// Makes one change at `now` and logs it; nothing when the world offers no subject for the
/// change drawn.
pub fn step(w: &mut World, state: &mut LiveState, now: DateTime<Utc>, rng: &mut ChaCha8Rng) {
    let change = match rng.random_range(0..100) {
        0..35 => new_order(w, state, now, rng),
        35..55 => despatch(w, state, now, rng),
        55..65 => cancel(w, state, now, rng),
        65..80 => stock_move(w, now, rng),
        80..92 => drift(w, state, now, rng),
        _ => fix(w, state, now, rng),
    };
    if let Some(c) = change {
        state.log.push(c);
    }
}

fn new_order(
    w: &mut World,
    state: &LiveState,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Option<Change> {
    let (i, _) = clean_order(w, state, rng)?;
    let mut o: Order = w.orders[i].clone();
    let number = w.orders.iter().map(|o| o.number).max().unwrap_or(0) + 1;
    let next_line = w
        .orders
        .iter()
        .flat_map(|o| o.lines.iter().map(|l| l.id))
        .max()
        .unwrap_or(0);
    o.number = number;
    o.id = format!("live-{number}");
    o.created_at = now;
    o.updated_at = now;
    o.order_date = now;
    for (k, l) in o.lines.iter_mut().enumerate() {
        l.id = next_line + 1 + k as i64;
    }
    let session = w.markets[o.market].mapping?.0;
    let order_id = w.orderwise.orders.last().map_or(0, |h| h.order_id) + 1;
    let mut h = ow_header(w, &o, order_id, session);
    h.amended_at = w.local(now);
    h.order_datetime = w.local(now);
    let mut line_id = w.orderwise.lines.last().map_or(0, |l| l.line_id);
    let mut despatch_id = w.orderwise.despatches.last().map_or(0, |d| d.despatch_id);
    let mut despatch_line_id = w
        .orderwise
        .despatch_lines
        .last()
        .map_or(0, |d| d.despatch_line_id);
    let mut ow = std::mem::take(&mut w.orderwise);
    ow_lines_and_despatches(
        w,
        &o,
        &h,
        &mut ow,
        (&mut line_id, &mut despatch_id, &mut despatch_line_id),
    );
    for l in ow.lines.iter_mut().filter(|l| l.order_id == order_id) {
        l.amended_at = h.amended_at;
    }
    ow.orders.push(h);
    w.orderwise = ow;
    w.orders.push(o);
    Some(Change {
        at: now,
        kind: "new_order",
        detail: format!("order {number} placed and imported as OrderWise order {order_id}"),
        exception: None,
    })
}

fn despatch(
    w: &mut World,
    state: &LiveState,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Option<Change> {
    let (i, j) = clean_order(w, state, rng)?;
    let local = w.local(now);
    let mk = &w.markets[w.orders[i].market];
    let express = w.orders[i].shipping_option.is_some_and(|s| s.0 == 2);
    let carrier = super::generate::carrier_for(mk, express);
    let tracking = format!(
        "{}{:010}",
        carrier.1.replace(' ', "").to_uppercase(),
        rng.random_range(0..9_999_999_999i64)
    );
    // Every unit not cancelled is sent; SKUs are resolved before anything changes.
    let to_send: Vec<(usize, i64, String)> = w.orders[i]
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.quantity > l.cancelled)
        .map(|(li, l)| Some((li, l.quantity - l.cancelled, w.ow_sku[l.size].clone()?)))
        .collect::<Option<_>>()?;
    let order_id = w.orderwise.orders[j].order_id;
    let despatch_id = w.orderwise.despatches.last().map_or(0, |d| d.despatch_id) + 1;
    w.orderwise.despatches.push(OwDespatch {
        despatch_id,
        order_id,
        external_ref: w.orderwise.orders[j].external_ref.clone(),
        despatched_at: local,
        tracking_number: Some(tracking.clone()),
        delivery_method: carrier.0,
        courier: carrier.1,
        amended_at: local,
    });
    let shipment_id = w
        .orders
        .iter()
        .flat_map(|o| o.shipments.iter().map(|s| s.id))
        .max()
        .unwrap_or(0)
        + 1;
    let first_shipment_line = w
        .orders
        .iter()
        .flat_map(|o| o.shipments.iter().flat_map(|s| s.lines.iter().map(|l| l.0)))
        .max()
        .unwrap_or(0)
        + 1;
    let first_despatch_line = w
        .orderwise
        .despatch_lines
        .last()
        .map_or(0, |d| d.despatch_line_id)
        + 1;
    let mut lines = Vec::new();
    for (k, (li, qty, sku)) in to_send.into_iter().enumerate() {
        w.orderwise.despatch_lines.push(OwDespatchLine {
            despatch_line_id: first_despatch_line + k as i64,
            despatch_id,
            sku: sku.clone(),
            qty: Decimal::from(qty),
            amended_at: local,
        });
        for l in w
            .orderwise
            .lines
            .iter_mut()
            .filter(|l| l.order_id == order_id && l.sku == sku)
        {
            l.qty_sent = l.qty_required;
            l.amended_at = local;
        }
        lines.push((first_shipment_line + k as i64, li, qty));
    }
    let h = &mut w.orderwise.orders[j];
    h.status = "Despatched";
    h.amended_at = local;
    let o = &mut w.orders[i];
    let n = o.shipments.len() as u32 + 1;
    o.shipments.push(Shipment {
        id: shipment_id,
        n,
        created_at: now,
        updated_at: now,
        shipped_at: Some(now),
        tracking: Some(tracking),
        carrier: Some((carrier.2.to_string(), carrier.3.to_string())),
        lines,
    });
    o.status = Status::Shipped;
    o.updated_at = now;
    Some(Change {
        at: now,
        kind: "despatch",
        detail: format!("order {} despatched and shipped", o.number),
        exception: None,
    })
}

fn cancel(
    w: &mut World,
    state: &LiveState,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Option<Change> {
    let (i, j) = clean_order(w, state, rng)?;
    let local = w.local(now);
    let h = &mut w.orderwise.orders[j];
    h.status = "Cancelled";
    h.amended_at = local;
    let o = &mut w.orders[i];
    o.status = Status::Cancelled;
    o.updated_at = now;
    Some(Change {
        at: now,
        kind: "cancel",
        detail: format!("order {} cancelled in both systems", o.number),
        exception: None,
    })
}

fn stock_move(w: &mut World, now: DateTime<Utc>, rng: &mut ChaCha8Rng) -> Option<Change> {
    let local = w.local(now);
    for _ in 0..50 {
        let s = rng.random_range(0..w.orderwise.stock.len());
        let row = &w.orderwise.stock[s];
        if row.free < Decimal::ONE {
            continue;
        }
        let sku = row.sku.clone();
        let location = row.location_id;
        let Some(size) = w
            .ow_sku
            .iter()
            .position(|k| k.as_deref() == Some(sku.as_str()))
        else {
            continue;
        };
        let Some(wh) = w
            .warehouses
            .iter()
            .position(|wh| wh.locations.iter().any(|l| l.0 == location))
        else {
            continue;
        };
        let Some(c) = w
            .centra_stock
            .iter_mut()
            .find(|c| c.size == size && c.warehouse == wh && c.free >= 1)
        else {
            continue;
        };
        c.free -= 1;
        let row = &mut w.orderwise.stock[s];
        row.free -= Decimal::ONE;
        row.overall -= Decimal::ONE;
        row.amended_at = local;
        return Some(Change {
            at: now,
            kind: "stock_move",
            detail: format!("one unit of {sku} written off in both systems"),
            exception: None,
        });
    }
    None
}

fn drift(
    w: &mut World,
    state: &mut LiveState,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Option<Change> {
    let (i, _) = clean_order(w, state, rng)?;
    let delta = Decimal::new(rng.random_range(200..5000), 2);
    drift_total(w, state, w.orders[i].number, delta, now)
}

/// Edits OrderWise's total of the order imported for Centra order `number` by `delta`: the drift
/// `order.total_mismatch` must report. `None` when the order was not imported exactly once.
pub fn drift_total(
    w: &mut World,
    state: &mut LiveState,
    number: i64,
    delta: Decimal,
    now: DateTime<Utc>,
) -> Option<Change> {
    let j = imported(w, number)?;
    let local = w.local(now);
    let h = &mut w.orderwise.orders[j];
    if !state.drifted.iter().any(|(n, _)| *n == number) {
        state.drifted.push((number, h.total_gross));
    }
    h.total_gross += delta;
    h.total_net += delta;
    h.amended_at = local;
    Some(Change {
        at: now,
        kind: "drift",
        detail: format!("OrderWise total of order {number} edited by {delta:+}"),
        exception: Some(Expected {
            check: "order.total_mismatch".into(),
            key: number.to_string(),
        }),
    })
}

/// Centra order numbers a live change may safely drift: confirmed, unshipped, imported once
/// with Centra's exact total.
pub fn clean_orders(w: &World, n: usize, seed: u64) -> Vec<i64> {
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let state = LiveState::default();
    let mut out = Vec::new();
    for _ in 0..n * 4 {
        if let Some((i, _)) = clean_order(w, &state, &mut rng)
            && !out.contains(&w.orders[i].number)
        {
            out.push(w.orders[i].number);
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn fix(
    w: &mut World,
    state: &mut LiveState,
    now: DateTime<Utc>,
    rng: &mut ChaCha8Rng,
) -> Option<Change> {
    if state.drifted.is_empty() {
        return None;
    }
    let number = state.drifted[rng.random_range(0..state.drifted.len())].0;
    fix_total(w, state, number, now)
}

/// Puts back OrderWise's total of a live-drifted order: its exception must resolve.
pub fn fix_total(
    w: &mut World,
    state: &mut LiveState,
    number: i64,
    now: DateTime<Utc>,
) -> Option<Change> {
    let k = state.drifted.iter().position(|(n, _)| *n == number)?;
    let (_, gross) = state.drifted.swap_remove(k);
    let j = imported(w, number)?;
    let local = w.local(now);
    let h = &mut w.orderwise.orders[j];
    let delta = h.total_gross - gross;
    h.total_gross -= delta;
    h.total_net -= delta;
    h.amended_at = local;
    Some(Change {
        at: now,
        kind: "fix",
        detail: format!("OrderWise total of order {number} corrected"),
        exception: Some(Expected {
            check: "order.total_mismatch".into(),
            key: number.to_string(),
        }),
    })
}

/// Makes a change to the served world at the sandbox's time, under its locks: how tests and
/// benches inject drift (or fixes) by hand.
pub fn apply<T>(
    shared: &super::Shared,
    change: impl FnOnce(&mut World, &mut LiveState, DateTime<Utc>) -> T,
) -> T {
    let now = shared.clock.now();
    let mut world = shared.world.write().expect("world lock");
    let mut live = shared.live.lock().expect("live lock");
    change(&mut world, &mut live, now)
}

/// Runs [`step`] `rate` times a minute on the served world until the task is dropped; the
/// changes are in `Shared::live`.
pub async fn run(shared: std::sync::Arc<super::Shared>, rate: f64, seed: u64) {
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x11fe);
    let every = std::time::Duration::from_secs_f64(60.0 / rate.max(0.01));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        apply(&shared, |w, live, now| step(w, live, now, &mut rng));
    }
}
