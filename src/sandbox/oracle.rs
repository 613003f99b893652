//! The ground truth that follows from the rules rather than from one injection: an independent
//! Rust reading of DESIGN.md's rules over the generated business (never the SQL), for the checks
//! whose answer depends on many rows at once: stock positions, month totals, unknown SKUs on
//! expected orders, and unmapped markets.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::Duration;
use rust_decimal::Decimal;

use super::world::{Expected, Status, World};
use crate::config::RawRules;
use crate::model::sku_key;

fn expected(check: &str, key: String) -> Expected {
    Expected {
        check: check.into(),
        key,
    }
}

/// Every derived expectation.
pub fn derived(w: &World) -> Vec<Expected> {
    let mut out = Vec::new();
    out.extend(orders(w));
    out.extend(stock(w));
    out.extend(periods(w));
    out
}

/// Whether OrderWise should have the order: placed and older than the settle window.
fn is_expected(w: &World, status: Status, created: chrono::DateTime<chrono::Utc>) -> bool {
    let settle = w.now - Duration::minutes(w.config.rules.settle_minutes);
    matches!(
        status,
        Status::Confirmed | Status::Processing | Status::Shipped
    ) && created < settle
}

/// Unmapped markets, their orders, and order lines with SKUs OrderWise does not know.
fn orders(w: &World) -> Vec<Expected> {
    let mapped: HashSet<&str> = w
        .config
        .markets
        .iter()
        .map(|m| m.centra_market.as_str())
        .collect();
    let known: HashSet<String> = w
        .orderwise
        .variants
        .iter()
        .map(|v| sku_key(&v.sku))
        .collect();
    let mut out = Vec::new();
    for o in &w.orders {
        let market = w.markets[o.market].name;
        if !is_expected(w, o.status, o.created_at) {
            continue;
        }
        if !mapped.contains(market) {
            out.push(expected("order.unmapped_market", o.number.to_string()));
            out.push(expected("order.missing_in_orderwise", o.number.to_string()));
        }
        for l in &o.lines {
            let sku = &w.sizes[l.size].sku;
            if !known.contains(&sku_key(sku)) {
                out.push(expected("order.unknown_sku", format!("{}:{sku}", o.number)));
            }
        }
    }
    for (mi, mk) in w.markets.iter().enumerate() {
        if !mapped.contains(mk.name) && w.orders.iter().any(|o| o.market == mi) {
            out.push(expected("market.unmapped", mk.name.into()));
        }
    }
    out
}

/// The stock rule per SKU and mapped Centra warehouse, and odd OrderWise figures.
fn stock(w: &World) -> Vec<Expected> {
    let cfg = &w.config;
    let warehouse_of_market: HashMap<&str, &str> = cfg
        .markets
        .iter()
        .map(|m| (m.centra_market.as_str(), m.centra_warehouse.as_str()))
        .collect();
    let warehouse_of_location: HashMap<&str, &str> = cfg
        .warehouses
        .iter()
        .flat_map(|wh| {
            wh.orderwise_locations
                .iter()
                .map(move |l| (l.as_str(), wh.centra_warehouse.as_str()))
        })
        .collect();
    let in_orderwise: HashSet<String> = w
        .orderwise
        .orders
        .iter()
        .filter_map(|o| o.external_ref.as_ref().map(|r| r.trim().to_string()))
        .collect();
    // (warehouse, sku key) -> units
    let mut in_flight: HashMap<(String, String), i64> = HashMap::new();
    for o in &w.orders {
        if !matches!(o.status, Status::Confirmed | Status::Processing)
            || in_orderwise.contains(&o.number.to_string())
        {
            continue;
        }
        let Some(wh) = warehouse_of_market.get(w.markets[o.market].name) else {
            continue;
        };
        for (li, l) in o.lines.iter().enumerate() {
            let shipped = o.shipped_units(li);
            *in_flight
                .entry((wh.to_string(), sku_key(&w.sizes[l.size].sku)))
                .or_default() += l.quantity - shipped;
        }
    }
    let mut orderwise: HashMap<(String, String), Decimal> = HashMap::new();
    let mut out = Vec::new();
    for s in &w.orderwise.stock {
        if s.free.is_sign_negative() || s.free != s.free.floor() {
            out.push(expected(
                "stock.negative_in_orderwise",
                format!("{}@{}", s.sku, s.location_name),
            ));
        }
        if let Some(wh) = warehouse_of_location.get(s.location_name) {
            *orderwise
                .entry((wh.to_string(), sku_key(&s.sku)))
                .or_default() += s.free.max(Decimal::ZERO).floor();
        }
    }
    let mut centra: HashMap<(String, String), i64> = HashMap::new();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for s in &w.sizes {
        names
            .entry(sku_key(&s.sku))
            .or_insert_with(|| s.sku.clone());
    }
    for s in &w.centra_stock {
        let wh = w.warehouses[s.warehouse].name;
        if cfg.warehouses.iter().any(|m| m.centra_warehouse == wh) {
            *centra
                .entry((wh.to_string(), sku_key(&w.sizes[s.size].sku)))
                .or_default() += s.free;
        }
    }
    let sellable: HashSet<String> = w
        .orderwise
        .variants
        .iter()
        .filter(|v| v.sale_variant && !v.is_kit && !v.discontinued)
        .map(|v| sku_key(&v.sku))
        .collect();
    let mut ow_names: HashMap<String, String> = HashMap::new();
    for v in &w.orderwise.variants {
        ow_names
            .entry(sku_key(&v.sku))
            .or_insert_with(|| v.sku.clone());
    }
    let keys: BTreeSet<(String, String)> = centra.keys().chain(orderwise.keys()).cloned().collect();
    for k in keys {
        let units = orderwise.get(&k).copied().unwrap_or_default();
        let units = i64::try_from(units.mantissa() / 10i128.pow(units.scale())).unwrap_or(0);
        let expected_free = units - in_flight.get(&k).copied().unwrap_or(0);
        let name = names
            .get(&k.1)
            .or_else(|| ow_names.get(&k.1))
            .cloned()
            .unwrap_or_else(|| k.1.clone());
        let key = format!("{name}@{}", k.0);
        match centra.get(&k) {
            Some(&free) if free > expected_free => out.push(expected("stock.oversell_risk", key)),
            Some(&free) if free < expected_free => out.push(expected("stock.undersell", key)),
            Some(_) => {}
            None if units > 0 && sellable.contains(&k.1) => {
                out.push(expected("stock.missing_in_centra", key))
            }
            None => {}
        }
    }
    out
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    orders: i64,
    net: Decimal,
    vat: Decimal,
    gross: Decimal,
}

impl std::ops::AddAssign for Totals {
    fn add_assign(&mut self, o: Totals) {
        self.orders += o.orders;
        self.net += o.net;
        self.vat += o.vat;
        self.gross += o.gross;
    }
}

/// A local month, a market label and a currency: one line of the month-end comparison.
type Period = (String, String, String);

/// Each system's month totals per market and currency: what `finance.period_mismatch` compares.
/// Totals of several tiles of one business add up ([`PeriodTotals::add`]), so a snapshot written
/// tile by tile knows its month-end truth without holding every order.
#[derive(Debug, Default, Clone)]
pub struct PeriodTotals {
    centra: BTreeMap<Period, Totals>,
    orderwise: BTreeMap<Period, Totals>,
}

impl PeriodTotals {
    /// The totals of `w`.
    pub fn of(w: &World) -> PeriodTotals {
        let cfg = &w.config;
        let mut session_label: BTreeMap<i64, Vec<&str>> = BTreeMap::new();
        for m in &cfg.markets {
            session_label
                .entry(m.orderwise_session)
                .or_default()
                .push(&m.centra_market);
        }
        let label = |session: i64| {
            session_label.get(&session).map(|v| {
                let mut v = v.clone();
                v.sort();
                v.join(" + ")
            })
        };
        let session_of: HashMap<&str, i64> = cfg
            .markets
            .iter()
            .map(|m| (m.centra_market.as_str(), m.orderwise_session))
            .collect();
        let mut centra: BTreeMap<Period, Totals> = BTreeMap::new();
        for o in &w.orders {
            let mk = &w.markets[o.market];
            let Some(&session) = session_of.get(mk.name) else {
                continue;
            };
            if !is_expected(w, o.status, o.created_at) {
                continue;
            }
            let month = w.local(o.order_date).format("%Y-%m").to_string();
            *centra
                .entry((month, label(session).expect("mapped"), mk.currency.into()))
                .or_default() += Totals {
                orders: 1,
                net: o.totals.net,
                vat: o.totals.tax_included + o.totals.tax_added,
                gross: o.totals.gross,
            };
        }
        let mut orderwise: BTreeMap<Period, Totals> = BTreeMap::new();
        for o in &w.orderwise.orders {
            let Some(market) = label(o.session_id) else {
                continue;
            };
            if o.status == "Cancelled" {
                continue;
            }
            let month = o.order_datetime.format("%Y-%m").to_string();
            *orderwise
                .entry((month, market, o.currency.into()))
                .or_default() += Totals {
                orders: 1,
                net: o.total_net,
                vat: o.total_vat,
                gross: o.total_gross,
            };
        }
        PeriodTotals { centra, orderwise }
    }

    /// Adds another tile's totals to these.
    pub fn add(&mut self, other: PeriodTotals) {
        for (k, t) in other.centra {
            *self.centra.entry(k).or_default() += t;
        }
        for (k, t) in other.orderwise {
            *self.orderwise.entry(k).or_default() += t;
        }
    }

    /// The months, markets and currencies whose totals disagree under `rules`:
    /// `finance.period_mismatch`.
    pub fn mismatches(&self, rules: &RawRules) -> Vec<Expected> {
        let tolerance: Decimal = rules.money_tolerance.parse().expect("a decimal tolerance");
        let keys: BTreeSet<_> = self
            .centra
            .keys()
            .chain(self.orderwise.keys())
            .cloned()
            .collect();
        let mut out = Vec::new();
        for k in keys {
            let c = self.centra.get(&k).copied().unwrap_or_default();
            let o = self.orderwise.get(&k).copied().unwrap_or_default();
            // What customers paid closes to the penny on the month; net and VAT may differ by
            // rounding up to the tolerance per order (OrderWise splits VAT per line).
            let per_order = tolerance * Decimal::from(c.orders.max(o.orders));
            if c.orders != o.orders
                || (c.net - o.net).abs() > per_order
                || (c.vat - o.vat).abs() > per_order
                || (c.gross - o.gross).abs() > tolerance
            {
                out.push(expected(
                    "finance.period_mismatch",
                    format!("{}:{}:{}", k.0, k.1, k.2),
                ));
            }
        }
        out
    }
}

/// Month totals per market and currency on both sides.
fn periods(w: &World) -> Vec<Expected> {
    PeriodTotals::of(w).mismatches(&w.config.rules)
}
