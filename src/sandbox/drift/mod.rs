//! Drift the sandbox injects: products and SKUs, month-end timing, clock changes, stock, and (in
//! [`orders`]) the order and shipment drift made while Centra's orders are mirrored into OrderWise.
//! Each injection records the exception it must cause; traps record nothing and must stay silent.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::generate::{HISTORY_DAYS, Truth};
use super::world::*;

pub mod orders;

/// Orders with special timing, decided before the mirror.
#[derive(Debug, Default)]
pub struct TimedOrders {
    /// Order index -> the local time OrderWise records for it (imported after midnight).
    pub cutoffs: HashMap<usize, NaiveDateTime>,
    /// Orders no other drift may touch.
    pub reserved: HashSet<usize>,
}

/// Product and SKU drift: sizes OrderWise lacks, SKUs written differently, lifecycle conflicts,
/// EANs that differ, OrderWise-only variants; and the variants OrderWise keeps that Centra need not
/// have (discontinued, kits, non-sale).
pub(super) fn products(w: &mut World, rng: &mut ChaCha8Rng, truth: &mut Truth) {
    w.ow_sku = w.sizes.iter().map(|s| Some(s.sku.clone())).collect();
    let mut picks: Vec<usize> = (0..w.sizes.len()).collect();
    picks.shuffle(rng);
    // The product with the hostile name goes first, so an exception carries its name into every
    // report (which must print it as text).
    if let Some(at) = picks.iter().position(|&i| {
        w.sizes[i].active && w.products[w.sizes[i].product].name == super::generate::HOSTILE_NAME
    }) {
        let hostile = picks.remove(at);
        picks.insert(0, hostile);
    }
    let mut next = picks.into_iter();
    let mut take = |n: usize| next.by_ref().take(n).collect::<Vec<usize>>();
    for i in take(3) {
        // OrderWise has never heard of it: orders for it cannot import.
        w.ow_sku[i] = None;
        truth.add("product.missing_in_orderwise", &w.sizes[i].sku);
    }
    for (n, i) in take(3).into_iter().enumerate() {
        let sku = &w.sizes[i].sku;
        let ow = if n % 2 == 0 {
            sku.to_lowercase()
        } else {
            format!("{sku} ")
        };
        w.orderwise.variants[i].sku = ow.clone();
        w.ow_sku[i] = Some(ow);
        truth.add("product.sku_format", sku);
    }
    for i in take(2) {
        w.orderwise.variants[i].discontinued = true;
        truth.add("product.lifecycle_conflict", &w.sizes[i].sku);
    }
    for i in take(2) {
        // Retired in Centra, still live in OrderWise with stock (stock() keeps some on hand).
        w.sizes[i].active = false;
        truth.add("product.lifecycle_conflict", &w.sizes[i].sku);
    }
    for i in take(2) {
        w.orderwise.variants[i].ean =
            Some(format!("59{:011}", rng.random_range(0..99_999_999_999i64)));
        truth.add("product.ean_mismatch", &w.sizes[i].sku);
    }
    // A size both sides have, one with no EAN: nothing to compare (trap).
    if let Some(i) = take(1).first() {
        w.orderwise.variants[*i].ean = None;
    }
    let unknown: HashSet<i64> = w
        .ow_sku
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| w.id_base + 20_000 + i as i64)
        .collect();
    w.orderwise
        .variants
        .retain(|v| !unknown.contains(&v.variant_id));
    let amended = w.local(w.now - Duration::days(HISTORY_DAYS));
    let mut id = w.id_base + 29_000;
    let tag = w.sku_tag.clone();
    let mut extra = |sku: &str, description: &str, discontinued: bool, is_kit: bool, sale: bool| {
        id += 1;
        // The tile's tag goes after the first segment, as on the catalogue's own SKUs.
        let sku = match sku.split_once('-') {
            Some((first, rest)) => format!("{first}{tag}-{rest}"),
            None => format!("{sku}{tag}"),
        };
        OwVariant {
            variant_id: id,
            product_code: sku.split('-').next().unwrap_or(&sku).into(),
            sku,
            description: description.into(),
            ean: None,
            discontinued,
            is_kit,
            sale_variant: sale,
            amended_at: amended,
        }
    };
    let extras = vec![
        // Sale variants Centra lacks: reported, and their stock too.
        extra("SC9001-BLK-OS", "Scarf No. 9001 Black", false, false, true),
        extra("SC9002-NVY-OS", "Scarf No. 9002 Navy", false, false, true),
        extra("BG9003-TAN-OS", "Tote bag No. 9003 Tan", false, false, true),
        // Traps: retired, kits and packaging need not be in Centra.
        extra(
            "TS0999-RED-M",
            "T-shirt No. 999 (retired)",
            true,
            false,
            true,
        ),
        extra(
            "TS0998-RED-L",
            "T-shirt No. 998 (retired)",
            true,
            false,
            true,
        ),
        extra(
            "KIT-GIFT-01",
            "Gift set: T-shirt and tote",
            false,
            true,
            true,
        ),
        extra("KIT-GIFT-02", "Gift set: two scarves", false, true, true),
        extra("PKG-BOX-S", "Shipping box small", false, false, false),
        extra("PKG-TISSUE", "Tissue paper", false, false, false),
    ];
    for v in extras.iter().take(3) {
        truth.add("product.missing_in_centra", &v.sku);
    }
    w.orderwise.variants.extend(extras);
}

/// Inactive Centra sizes that were never ordered and OrderWise never had: a trap for
/// product.missing_in_orderwise, which looks at active sizes only.
pub fn inactive_sizes_never_ordered(w: &mut World) {
    let last_id = w.sizes.iter().map(|s| s.id).max().unwrap_or(0);
    for n in 0..2 {
        let product = n * 11 % w.products.len().max(1);
        let variant = 0;
        let index = w.sizes.len();
        let number = &w.products[product].number;
        let code = &w.products[product].variants[variant].number;
        w.sizes.push(Size {
            id: last_id + 1 + n as i64,
            sku: format!("{number}{code}-XXL"),
            ean: None,
            size_number: "-XXL".into(),
            active: false,
            product,
        });
        w.products[product].variants[variant].sizes.push(index);
        w.ow_sku.push(None);
    }
}

/// Orders placed in the two days after `from` that a timing trap may move back to it, in random
/// order: placed (not PENDING or CANCELLED), in a mapped market, well older than the settle window
/// (so OrderWise is expected to have them), not already moved, and holding only SKUs OrderWise
/// knows (an order with an unknown SKU never imports, so it has no time in OrderWise to differ in).
fn movable_orders(
    w: &World,
    rng: &mut ChaCha8Rng,
    special: &TimedOrders,
    from: DateTime<Utc>,
) -> Vec<usize> {
    let settle = w.now - Duration::minutes(w.config.rules.settle_minutes) - Duration::hours(1);
    let mut candidates: Vec<usize> = (0..w.orders.len())
        .filter(|&i| {
            let o = &w.orders[i];
            o.created_at > from
                && o.created_at < from + Duration::days(2)
                && o.created_at < settle
                && matches!(
                    o.status,
                    Status::Confirmed | Status::Processing | Status::Shipped
                )
                && w.markets[o.market].mapping.is_some()
                && !special.reserved.contains(&i)
                && o.lines.iter().all(|l| w.ow_sku[l.size].is_some())
        })
        .collect();
    candidates.shuffle(rng);
    candidates
}

/// The local midnights that start each month inside the order history.
fn month_starts(w: &World) -> Vec<DateTime<Utc>> {
    let tz = w.timezone;
    let first = w.local(w.now - Duration::days(HISTORY_DAYS)).date();
    let last = w.local(w.now).date();
    let mut out = Vec::new();
    let mut d = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).expect("a date");
    loop {
        d = if d.month() == 12 {
            NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
        }
        .expect("a date");
        if d > last {
            return out;
        }
        let midnight = d.and_hms_opt(0, 0, 0).expect("a time");
        if let Some(t) = tz.from_local_datetime(&midnight).earliest() {
            out.push(t.to_utc());
        }
    }
}

/// Month-end timing: orders placed minutes before local midnight on a month's last day that
/// OrderWise dates after it (a cut-off difference), and, where a month ended in summer time, one
/// order placed at 23:30 UTC on the last day, which is the next month in both systems (a trap for
/// anyone cutting months in UTC).
pub(super) fn month_ends(w: &mut World, rng: &mut ChaCha8Rng, truth: &mut Truth) -> TimedOrders {
    let mut special = TimedOrders::default();
    for start in month_starts(w) {
        let candidates = movable_orders(w, rng, &special, start);
        for &i in candidates.iter().take(2) {
            let placed = start - Duration::minutes(rng.random_range(3..25));
            let imported = w.local(start + Duration::minutes(rng.random_range(2..40)));
            let o = &mut w.orders[i];
            o.created_at = placed;
            o.order_date = placed;
            special.cutoffs.insert(i, imported);
            special.reserved.insert(i);
            truth.add("finance.period_cutoff", o.number);
        }
        let summer = w
            .timezone
            .offset_from_utc_datetime(&start.naive_utc())
            .fix()
            .local_minus_utc()
            != 0;
        if summer && let Some(&i) = candidates.get(2) {
            // 23:30 UTC on the last day: already the 1st in local summer time, on both sides.
            let last_day = (start - Duration::hours(3)).date_naive();
            let t = last_day.and_hms_opt(23, 30, 0).expect("a time").and_utc();
            if t > start {
                let o = &mut w.orders[i];
                o.created_at = t;
                o.order_date = t;
                special.reserved.insert(i);
            }
        }
    }
    special
}

/// Where clocks went back inside the history, one order placed in the hour that happens twice
/// (00:30 UTC on the change day is 01:30 local summer time, and 01:30 comes round again an hour
/// later). OrderWise records local times, so the connector must read it as the first of the two and
/// say so in the manifest. A trap: both systems agree, so nothing is expected.
pub(super) fn clocks_going_back(w: &mut World, rng: &mut ChaCha8Rng, special: &mut TimedOrders) {
    let offset = |w: &World, t: DateTime<Utc>| {
        w.timezone
            .offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let mut day = (w.now - Duration::days(HISTORY_DAYS)).date_naive();
    while day < w.now.date_naive() {
        let t = day.and_hms_opt(0, 30, 0).expect("a time").and_utc();
        day += Duration::days(1);
        if offset(w, t + Duration::hours(2)) >= offset(w, t) {
            continue;
        }
        if let Some(&i) = movable_orders(w, rng, special, t).first() {
            let o = &mut w.orders[i];
            o.created_at = t;
            o.order_date = t;
            special.reserved.insert(i);
        }
    }
}

/// Stock drift on top of the rule-consistent stock `stock()` lays out: Centra showing more
/// (oversell) or less (undersell) than it should. Each injection is recorded where it is made
/// (returned, and kept in the world's `stock_injections`); the oracle, which reads the rule over the
/// whole world, must report every one of them (the generator's tests check it), and reconcile must
/// too (the pipeline tests).
pub fn stock(w: &mut World, rng: &mut ChaCha8Rng) -> Vec<Expected> {
    let key = |w: &World, r: usize| {
        let s = &w.centra_stock[r];
        format!("{}@{}", w.sizes[s.size].sku, w.warehouses[s.warehouse].name)
    };
    let mut injected = Vec::new();
    let mut rows: Vec<usize> = (0..w.centra_stock.len())
        .filter(|&i| {
            w.ow_sku[w.centra_stock[i].size].is_some() && w.sizes[w.centra_stock[i].size].active
        })
        .collect();
    rows.shuffle(rng);
    let n = (w.sizes.len() / 150).max(3);
    for &r in rows.iter().take(n) {
        w.centra_stock[r].free += rng.random_range(2..9);
        injected.push(Expected {
            check: "stock.oversell_risk".into(),
            key: key(w, r),
        });
    }
    let shrink: Vec<usize> = rows
        .iter()
        .skip(n)
        .copied()
        .filter(|&r| w.centra_stock[r].free >= 3)
        .take(n)
        .collect();
    for r in shrink {
        let cut = rng.random_range(1..=w.centra_stock[r].free);
        w.centra_stock[r].free -= cut;
        injected.push(Expected {
            check: "stock.undersell".into(),
            key: key(w, r),
        });
    }
    injected
}

/// An OrderWise stock figure that is odd on purpose: negative or fractional (a trap for stock
/// checks, which count it as 0 or round it down; reported by stock.negative_in_orderwise).
pub fn odd_figure(rng: &mut ChaCha8Rng) -> Decimal {
    if rng.random_bool(0.5) {
        -Decimal::from(rng.random_range(1..6))
    } else {
        Decimal::from(rng.random_range(0..20)) + Decimal::new(5, 1)
    }
}
