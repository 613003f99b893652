//! Drift the sandbox injects beyond the order mirror: products and SKUs, month-end timing, and
//! stock. Each injection records the exception it must cause; traps record nothing and must stay
//! silent. Order and shipment drift happen while orders are mirrored (`generate.rs`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::generate::{HISTORY_DAYS, Truth};
use super::world::*;

/// Orders with special timing, decided before the mirror.
#[derive(Debug, Default)]
pub struct Special {
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
        .map(|(i, _)| 20_000 + i as i64)
        .collect();
    w.orderwise
        .variants
        .retain(|v| !unknown.contains(&v.variant_id));
    let amended = w.local(w.now - Duration::days(HISTORY_DAYS));
    let mut id = 29_000;
    let mut extra = |sku: &str, description: &str, discontinued: bool, is_kit: bool, sale: bool| {
        id += 1;
        OwVariant {
            variant_id: id,
            sku: sku.into(),
            product_code: sku.split('-').next().unwrap_or(sku).into(),
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
pub(super) fn month_ends(w: &mut World, rng: &mut ChaCha8Rng, truth: &mut Truth) -> Special {
    let mut special = Special::default();
    let settle = w.now - Duration::hours(2);
    for start in month_starts(w) {
        // Candidates: placed orders of mapped markets in the two days after the month started.
        let mut candidates: Vec<usize> = (0..w.orders.len())
            .filter(|&i| {
                let o = &w.orders[i];
                o.created_at > start
                    && o.created_at < start + Duration::days(2)
                    && o.created_at < settle
                    && matches!(
                        o.status,
                        Status::Confirmed | Status::Processing | Status::Shipped
                    )
                    && w.markets[o.market].mapping.is_some()
                    && !special.reserved.contains(&i)
                    // An order holding a SKU OrderWise lacks never imports, so it has no month
                    // in OrderWise to differ in.
                    && o.lines.iter().all(|l| w.ow_sku[l.size].is_some())
            })
            .collect();
        candidates.shuffle(rng);
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

/// Stock drift on top of the rule-consistent stock `stock()` lays out: Centra showing more
/// (oversell) or less (undersell) than it should. The exceptions follow from the rule, so the oracle
/// reports them; the picks here are checked to be among them by the generator's tests.
pub fn stock(w: &mut World, rng: &mut ChaCha8Rng) {
    let mut rows: Vec<usize> = (0..w.centra_stock.len())
        .filter(|&i| {
            w.ow_sku[w.centra_stock[i].size].is_some() && w.sizes[w.centra_stock[i].size].active
        })
        .collect();
    rows.shuffle(rng);
    let n = (w.sizes.len() / 150).max(3);
    for &r in rows.iter().take(n) {
        w.centra_stock[r].free += rng.random_range(2..9);
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
    }
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
