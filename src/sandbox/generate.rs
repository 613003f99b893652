//! Generates a seeded business for the sandbox: catalogue, stock, orders over the last 75 days (so at
//! least two month ends), OrderWise's copy of all of it, then injected drift at known keys and the
//! traps a careless reconciler would flag. The same seed and size give the same business (laid out
//! relative to `now`) and the same expected exceptions.
//!
//! Ages are kept well clear of the rule boundaries: regular orders are at least three hours old,
//! "young" trap orders at most fifteen minutes, so the truth holds however long the extraction takes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::world::*;
use super::{drift, oracle};
use crate::config::{
    CarrierMapping, ExportIds, MarketMapping, RawCentra, RawConfig, RawOrderWise, RawRules,
    RawStock, WarehouseMapping,
};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Params {
    pub seed: u64,
    pub orders: usize,
    pub now: DateTime<Utc>,
    /// 0 for a whole world. A later tile of a snapshot written in tiles gets its own seed, ids
    /// ([`TILE_ID_STRIDE`] apart) and catalogue (SKUs tagged with the tile), so tiles never meet.
    pub tile: u32,
}

/// How far apart the id ranges of two tiles are: more than any id a tile of
/// [`super::snapshot::TILE_ORDERS`] orders assigns.
pub const TILE_ID_STRIDE: i64 = 10_000_000;

/// Days of order history before `now`.
pub const HISTORY_DAYS: i64 = 75;
/// The OrderWise session of non-web (telephone) orders, never mapped to Centra.
pub const PHONE_SESSION: i64 = 9;

const SIZES: [&str; 5] = ["XS", "S", "M", "L", "XL"];
const COLOURS: [(&str, &str); 5] = [
    ("BLK", "Black"),
    ("WHT", "White"),
    ("NVY", "Navy"),
    ("OLV", "Olive"),
    ("ECR", "Ecru"),
];
const GARMENTS: [(&str, &str); 8] = [
    ("TS", "T-shirt"),
    ("SW", "Sweatshirt"),
    ("JK", "Jacket"),
    ("TR", "Trousers"),
    ("DR", "Dress"),
    ("KN", "Knit"),
    ("SH", "Shirt"),
    ("CT", "Coat"),
];
const PRICES: [i64; 10] = [1999, 2499, 2999, 3999, 4999, 5900, 7900, 9900, 12900, 14900];
/// A product name that must reach every report as text, never as markup.
pub const HOSTILE_NAME: &str = "<script>alert(\"x\")</script> & #set page(fill: red) {{ name }}";

pub(super) fn dec(units: i64, scale: u32) -> Decimal {
    Decimal::new(units, scale)
}

pub(super) fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

pub(super) fn round4(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Builds the scenario's world. Placeholder base URLs in its configuration are set by the server.
pub fn generate(p: &Params) -> World {
    let seed = p.seed ^ (u64::from(p.tile) << 32);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let now = p.now;
    let mut world = World {
        seed,
        now,
        timezone: chrono_tz::Europe::London,
        stores: vec![
            Store {
                id: 1,
                name: "Brand Online",
            },
            Store {
                id: 2,
                name: "Brand Nordics",
            },
        ],
        markets: markets(),
        warehouses: vec![
            Warehouse {
                id: 1,
                name: "Main",
                locations: vec![(1, "MAIN"), (2, "OVERFLOW")],
            },
            Warehouse {
                id: 2,
                name: "EU",
                locations: vec![(3, "EU-DC")],
            },
        ],
        products: Vec::new(),
        sizes: Vec::new(),
        ow_sku: Vec::new(),
        centra_stock: Vec::new(),
        orders: Vec::new(),
        orderwise: OrderWise::default(),
        config: config_template(),
        truth: Vec::new(),
        stock_injections: Vec::new(),
        id_base: i64::from(p.tile) * TILE_ID_STRIDE,
        sku_tag: if p.tile == 0 {
            String::new()
        } else {
            format!("T{:03}", p.tile)
        },
    };
    let mut truth = Truth::default();
    catalogue(&mut world, &mut rng);
    drift::products(&mut world, &mut rng, &mut truth);
    orders(&mut world, &mut rng, p.orders);
    drift::inactive_sizes_never_ordered(&mut world);
    let mut special = drift::month_ends(&mut world, &mut rng, &mut truth);
    drift::clocks_going_back(&mut world, &mut rng, &mut special);
    drift::orders::mirror_and_drift(&mut world, &mut rng, &mut truth, &special);
    stock(&mut world, &mut rng);
    world.stock_injections = drift::stock(&mut world, &mut rng);
    truth.0.extend(world.stock_injections.iter().cloned());
    truth.0.extend(oracle::derived(&world));
    let mut truth = truth.0;
    truth.sort();
    truth.dedup();
    world.truth = truth;
    world
}

fn markets() -> Vec<Market> {
    vec![
        Market {
            id: 1,
            name: "United Kingdom",
            store: 0,
            currency: "GBP",
            country: "GB",
            vat_percent: dec(20, 0),
            warehouse: 0,
            mapping: Some((1, "WEB-UK")),
        },
        Market {
            id: 2,
            name: "Europe",
            store: 0,
            currency: "EUR",
            country: "NL",
            vat_percent: dec(21, 0),
            warehouse: 1,
            mapping: Some((2, "WEB-EU")),
        },
        Market {
            id: 3,
            name: "Ireland",
            store: 0,
            currency: "EUR",
            country: "IE",
            vat_percent: dec(23, 0),
            warehouse: 0,
            mapping: Some((3, "WEB-IE")),
        },
        Market {
            id: 4,
            name: "Nordics",
            store: 1,
            currency: "SEK",
            country: "SE",
            vat_percent: dec(25, 0),
            warehouse: 1,
            mapping: None,
        },
    ]
}

/// OrderWise delivery methods and their Centra carrier and service.
pub const CARRIERS: [(&str, &str, &str, &str); 3] = [
    ("DPD Next Day", "DPD", "DPD", "Next Day"),
    ("Royal Mail 48", "Royal Mail", "Royal Mail", "Tracked 48"),
    ("DHL Parcel", "DHL", "DHL", "Parcel Connect"),
];

/// The configuration of every generated world, with placeholder URLs (a served sandbox fills in
/// its address): its credential variable names are known before any world exists.
pub fn config_template() -> RawConfig {
    let m = markets();
    RawConfig {
        timezone: "Europe/London".into(),
        centra: RawCentra {
            base_url: "http://127.0.0.1:0".into(),
            token_env: "TALLY_SANDBOX_CENTRA_TOKEN".into(),
            budget_percent: crate::config::DEFAULT_BUDGET_PERCENT,
        },
        orderwise: RawOrderWise {
            base_url: "http://127.0.0.1:0/owapi".into(),
            user_env: "TALLY_SANDBOX_ORDERWISE_USER".into(),
            password_env: "TALLY_SANDBOX_ORDERWISE_PASSWORD".into(),
            exports: ExportIds {
                orders: 101,
                order_lines: 102,
                stock: 103,
                despatches: 104,
                despatch_lines: 105,
                variants: 106,
                order_lookup: 107,
            },
        },
        stock: RawStock::default(),
        markets: m
            .iter()
            .filter_map(|mk| {
                let (session, customer) = mk.mapping?;
                Some(MarketMapping {
                    centra_market: mk.name.into(),
                    orderwise_session: session,
                    orderwise_customer: customer.into(),
                    centra_warehouse: if mk.warehouse == 0 { "Main" } else { "EU" }.into(),
                })
            })
            .collect(),
        warehouses: vec![
            WarehouseMapping {
                centra_warehouse: "Main".into(),
                orderwise_locations: vec!["MAIN".into(), "OVERFLOW".into()],
            },
            WarehouseMapping {
                centra_warehouse: "EU".into(),
                orderwise_locations: vec!["EU-DC".into()],
            },
        ],
        carriers: CARRIERS
            .iter()
            .map(|(method, _, carrier, service)| CarrierMapping {
                orderwise_delivery_method: (*method).into(),
                centra_carrier: (*carrier).into(),
                centra_service: (*service).into(),
            })
            .collect(),
        vat_codes: [
            ("20", "T1"),
            ("0", "T0"),
            ("21", "T5"),
            ("23", "T6"),
            ("25", "T7"),
        ]
        .iter()
        .map(|(r, c)| ((*r).to_string(), (*c).to_string()))
        .collect(),
        rules: RawRules::default(),
        owners: BTreeMap::new(),
        store: None,
        alerts: None,
        escalation: BTreeMap::new(),
        run: None,
        engine: None,
    }
}

pub(super) fn vat_code(rate: Decimal) -> &'static str {
    match rate.to_string().as_str() {
        "20" => "T1",
        "21" => "T5",
        "23" => "T6",
        "25" => "T7",
        _ => "T0",
    }
}

fn catalogue(w: &mut World, rng: &mut ChaCha8Rng) {
    let history_start = w.now - Duration::days(HISTORY_DAYS + 30);
    let mut size_id = w.id_base + 1000;
    let mut variant_id = w.id_base + 500;
    for p in 0..150usize {
        let (g, gname) = GARMENTS[p % GARMENTS.len()];
        let number = format!("{g}{:04}{}", 1001 + p, w.sku_tag);
        let name = if p == 7 {
            HOSTILE_NAME.to_string()
        } else {
            format!("{gname} No. {}", 1001 + p)
        };
        let mut variants = Vec::new();
        let n_variants = rng.random_range(1..=2usize);
        for v in 0..n_variants {
            let (code, colour) = COLOURS[(p + v) % COLOURS.len()];
            variant_id += 1;
            let first = rng.random_range(0..2usize);
            let last = rng.random_range(3..SIZES.len());
            let mut sizes = Vec::new();
            for s in &SIZES[first..=last] {
                size_id += 1;
                let sku = format!("{number}-{code}-{s}");
                sizes.push(w.sizes.len());
                w.sizes.push(Size {
                    id: size_id,
                    sku,
                    ean: Some(format!("50{:011}", size_id * 7 + p as i64)),
                    size_number: format!("-{s}"),
                    active: true,
                    product: w.products.len(),
                });
            }
            variants.push(Variant {
                id: variant_id,
                number: format!("-{code}"),
                name: colour.into(),
                status: "ACTIVE",
                sizes,
            });
        }
        w.products.push(Product {
            id: w.id_base + 100 + p as i64,
            number,
            name,
            status: "ACTIVE",
            updated_at: history_start + Duration::hours(p as i64),
            price_gbp: dec(PRICES[rng.random_range(0..PRICES.len())], 2),
            variants,
        });
    }
    // OrderWise knows every size as a sale variant.
    let amended = w.local(history_start);
    w.orderwise.variants = w
        .sizes
        .iter()
        .enumerate()
        .map(|(i, s)| OwVariant {
            variant_id: w.id_base + 20_000 + i as i64,
            sku: s.sku.clone(),
            product_code: w.products[s.product].number.clone(),
            description: w.products[s.product].name.clone(),
            ean: s.ean.clone(),
            discontinued: false,
            is_kit: false,
            sale_variant: true,
            amended_at: amended,
        })
        .collect();
}

fn price(gbp: Decimal, currency: &str) -> Decimal {
    match currency {
        "GBP" => gbp,
        "EUR" => (gbp * dec(115, 2)).floor() + dec(95, 2),
        _ => (gbp * dec(13, 0)).round(),
    }
}

pub(super) fn shipping_fee(currency: &str) -> (Decimal, Decimal) {
    // (fee, free above)
    match currency {
        "GBP" => (dec(495, 2), dec(100, 0)),
        "EUR" => (dec(595, 2), dec(120, 0)),
        _ => (dec(59, 0), dec(1200, 0)),
    }
}

fn order_id_hash(seed: u64, number: i64) -> String {
    let mut x = seed ^ (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    format!("{x:016x}")
}

/// Generates the Centra orders: regular ones over the history, then a few "young" ones.
fn orders(w: &mut World, rng: &mut ChaCha8Rng, n: usize) {
    let n_young = (n / 500).max(3).min(n);
    let n_regular = n - n_young;
    let start = w.now - Duration::days(HISTORY_DAYS);
    let end = w.now - Duration::hours(3);
    let span = (end - start).num_seconds().max(1);
    let mut ids = Ids {
        line: w.id_base,
        shipment: w.id_base,
        shipment_line: w.id_base,
    };
    for i in 0..n {
        let created = if i < n_regular {
            start
                + Duration::seconds(
                    span * i as i64 / n_regular.max(1) as i64 + rng.random_range(0..30),
                )
        } else {
            w.now - Duration::minutes(15) + Duration::seconds(60 * (i - n_regular) as i64 % 800)
        };
        let young = i >= n_regular;
        let number = w.id_base + 100_001 + i as i64;
        let order = one_order(w, rng, &mut ids, number, created, young);
        w.orders.push(order);
    }
}

struct Ids {
    line: i64,
    shipment: i64,
    shipment_line: i64,
}

fn one_order(
    w: &World,
    rng: &mut ChaCha8Rng,
    ids: &mut Ids,
    number: i64,
    created: DateTime<Utc>,
    young: bool,
) -> Order {
    let age = w.now - created;
    let recent = age < Duration::days(5);
    let market = {
        let r: u32 = rng.random_range(0..100);
        if recent && r < 10 {
            3
        } else if r < 58 {
            0
        } else if r < 83 {
            1
        } else {
            2
        }
    };
    let mk = &w.markets[market];
    let status = if young {
        Status::Confirmed
    } else {
        let r: u32 = rng.random_range(0..100);
        if age < Duration::hours(6) {
            if r < 4 {
                Status::Pending
            } else {
                Status::Confirmed
            }
        } else if age < Duration::days(7) {
            match r {
                0..=2 => Status::Pending,
                3..=6 => Status::Cancelled,
                7..=41 => Status::Confirmed,
                42..=56 => Status::Processing,
                _ => Status::Shipped,
            }
        } else {
            match r {
                0..=1 => Status::Pending,
                2..=4 => Status::Cancelled,
                5..=6 => Status::Processing,
                _ => Status::Shipped,
            }
        }
    };
    let n_lines = rng.random_range(1..=4usize);
    let mut lines: Vec<Line> = Vec::with_capacity(n_lines);
    for _ in 0..n_lines {
        let size = loop {
            let s = rng.random_range(0..w.sizes.len());
            if !lines.iter().any(|l| l.size == s) {
                break s;
            }
        };
        let product = &w.products[w.sizes[size].product];
        let unit = price(product.price_gbp, mk.currency);
        let single_processing = status == Status::Processing && n_lines == 1;
        let quantity = if rng.random_bool(0.8) && !single_processing {
            1
        } else {
            rng.random_range(2..=3)
        };
        let discount_percent = if rng.random_bool(0.05) {
            dec(10, 0)
        } else {
            Decimal::ZERO
        };
        let gross = round2(
            unit * Decimal::from(quantity) * (Decimal::ONE - discount_percent / dec(100, 0)),
        );
        let net = round2(gross * dec(100, 0) / (dec(100, 0) + mk.vat_percent));
        ids.line += 1;
        lines.push(Line {
            id: ids.line,
            size,
            quantity,
            cancelled: 0,
            tax_percent: mk.vat_percent,
            discount_percent,
            unit_price: unit,
            gross,
            net,
        });
    }
    let line_values: Decimal = lines.iter().map(|l| l.gross).sum();
    let (fee, free_above) = shipping_fee(mk.currency);
    let express = rng.random_bool(0.2);
    let shipping = if line_values >= free_above && !express {
        Decimal::ZERO
    } else {
        fee
    };
    let discounts = if rng.random_bool(0.08) {
        -round2(line_values * dec(10, 2))
    } else {
        Decimal::ZERO
    };
    let gross = line_values + shipping + discounts;
    let tax_included = round2(gross * mk.vat_percent / (dec(100, 0) + mk.vat_percent));
    let totals = Totals {
        line_values,
        shipping,
        handling: Decimal::ZERO,
        discounts,
        tax_added: Decimal::ZERO,
        tax_deducted: Decimal::ZERO,
        tax_included,
        gross,
        net: gross - tax_included,
    };
    let carrier = carrier_for(mk, express);
    let mut shipments = Vec::new();
    let ship_time = |rng: &mut ChaCha8Rng| {
        let latest = (w.now - Duration::minutes(30)).min(created + Duration::hours(48));
        let window = (latest - created - Duration::hours(1))
            .num_seconds()
            .max(60);
        created + Duration::hours(1) + Duration::seconds(rng.random_range(0..window))
    };
    let mut ship = |rng: &mut ChaCha8Rng, ids: &mut Ids, parts: Vec<(usize, i64)>| {
        let at = ship_time(rng);
        ids.shipment += 1;
        let n = shipments.len() as u32 + 1;
        let lines = parts
            .into_iter()
            .map(|(li, q)| {
                ids.shipment_line += 1;
                (ids.shipment_line, li, q)
            })
            .collect();
        shipments.push(Shipment {
            id: ids.shipment,
            n,
            created_at: at - Duration::minutes(20),
            updated_at: at,
            shipped_at: Some(at),
            tracking: Some(format!(
                "{}{:010}",
                carrier.1.replace(' ', "").to_uppercase(),
                rng.random_range(0..9_999_999_999i64)
            )),
            carrier: Some((carrier.2.to_string(), carrier.3.to_string())),
            lines,
        });
    };
    match status {
        Status::Shipped if lines.len() > 1 && rng.random_bool(0.15) => {
            let cut = lines.len() / 2;
            ship(rng, ids, (0..cut).map(|i| (i, lines[i].quantity)).collect());
            ship(
                rng,
                ids,
                (cut..lines.len()).map(|i| (i, lines[i].quantity)).collect(),
            );
        }
        Status::Shipped => ship(
            rng,
            ids,
            (0..lines.len()).map(|i| (i, lines[i].quantity)).collect(),
        ),
        Status::Processing if lines.len() > 1 => ship(rng, ids, vec![(0, lines[0].quantity)]),
        // A single line of two or more units: one unit ships, the rest waits.
        Status::Processing => ship(rng, ids, vec![(0, 1)]),
        _ => {}
    }
    let updated_at = shipments
        .iter()
        .filter_map(|s| s.shipped_at)
        .max()
        .unwrap_or(created)
        .max(created + Duration::minutes(1));
    Order {
        id: order_id_hash(w.seed, number),
        number,
        status,
        created_at: created,
        updated_at: updated_at.min(w.now),
        order_date: created,
        on_hold: status == Status::Confirmed && rng.random_bool(0.02),
        market,
        totals,
        shipping_option: Some(if express {
            (2, "Express")
        } else {
            (1, "Standard")
        }),
        lines,
        shipments,
    }
}

pub(super) fn carrier_for(
    mk: &Market,
    express: bool,
) -> (&'static str, &'static str, &'static str, &'static str) {
    let i = match (mk.currency, express) {
        ("GBP", true) => 0,
        ("GBP", false) => 1,
        _ => 2,
    };
    CARRIERS[i]
}

/// Expected exceptions collected while drift is injected (the rest comes from [`oracle`]).
#[derive(Default)]
pub(super) struct Truth(pub(super) Vec<Expected>);

impl Truth {
    pub(super) fn add(&mut self, check: &str, key: impl ToString) {
        self.0.push(Expected {
            check: check.into(),
            key: key.to_string(),
        });
    }
}

/// Lays out stock so that Centra shows exactly what the stock rule expects: the OrderWise figure
/// summed over mapped locations (negative as 0, fractions down), less the unshipped units of Centra
/// orders of mapped markets that OrderWise lacks. Some location figures are negative or fractional
/// on purpose (reported as such, never as a stock difference). Sizes OrderWise does not know get
/// Centra stock of their own: an oversell risk.
fn stock(w: &mut World, rng: &mut ChaCha8Rng) {
    let in_orderwise: std::collections::HashSet<String> = w
        .orderwise
        .orders
        .iter()
        .filter_map(|o| o.external_ref.as_deref().map(|r| r.trim().to_string()))
        .collect();
    // (size, warehouse) -> (units in flight, units allocated)
    let mut open: HashMap<(usize, usize), (i64, i64)> = HashMap::new();
    for o in &w.orders {
        if !matches!(o.status, Status::Confirmed | Status::Processing) {
            continue;
        }
        let mk = &w.markets[o.market];
        let missing = !in_orderwise.contains(&o.number.to_string());
        for (li, l) in o.lines.iter().enumerate() {
            let unshipped = l.quantity - o.shipped_units(li);
            let e = open.entry((l.size, mk.warehouse)).or_default();
            e.1 += unshipped;
            // Only mapped markets are known to draw on a warehouse.
            if missing && mk.mapping.is_some() {
                e.0 += unshipped;
            }
        }
    }
    let amended = w.local(w.now - Duration::hours(2));
    let mut stock_id = w.id_base + 300_000;
    let counted = |d: Decimal| d.max(Decimal::ZERO).floor();
    for (si, size) in w.sizes.iter().enumerate() {
        for (wi, wh) in w.warehouses.iter().enumerate() {
            let (in_flight, allocated) = open.get(&(si, wi)).copied().unwrap_or((0, 0));
            let Some(ow_sku) = &w.ow_sku[si] else {
                if size.active {
                    w.centra_stock.push(CentraStock {
                        size: si,
                        warehouse: wi,
                        free: rng.random_range(1..10),
                        allocated,
                    });
                }
                continue;
            };
            let mut figures: Vec<(usize, Decimal)> = Vec::new();
            for (li, _) in wh.locations.iter().enumerate() {
                if li > 0 && rng.random_bool(0.6) {
                    continue;
                }
                let figure = if rng.random_bool(0.015) {
                    drift::odd_figure(rng)
                } else {
                    Decimal::from(
                        rng.random_range(0..40i64) + if li == 0 && !size.active { 1 } else { 0 },
                    )
                };
                figures.push((li, figure));
            }
            let total: Decimal = figures.iter().map(|(_, f)| counted(*f)).sum();
            let total = i64::try_from(total.mantissa() / 10i128.pow(total.scale())).unwrap_or(0);
            // Enough at the first location for the orders in flight.
            let short = (in_flight - total).max(0);
            for (li, figure) in figures {
                let figure = if li == 0 && short > 0 {
                    counted(figure) + Decimal::from(short)
                } else {
                    figure
                };
                let (loc_id, loc_name) = wh.locations[li];
                stock_id += 1;
                w.orderwise.stock.push(OwStock {
                    stock_id,
                    sku: ow_sku.clone(),
                    location_id: loc_id,
                    location_name: loc_name,
                    free: figure,
                    overall: counted(figure) + Decimal::from(allocated) + Decimal::ONE,
                    amended_at: amended,
                });
            }
            w.centra_stock.push(CentraStock {
                size: si,
                warehouse: wi,
                free: total + short - in_flight,
                allocated,
            });
        }
    }
    // OrderWise-only variants hold stock at the main location; packaging too (not for sale).
    for v in w
        .orderwise
        .variants
        .iter()
        .filter(|v| v.variant_id > w.id_base + 29_000 && !v.is_kit)
    {
        stock_id += 1;
        w.orderwise.stock.push(OwStock {
            stock_id,
            sku: v.sku.clone(),
            location_id: w.warehouses[0].locations[0].0,
            location_name: w.warehouses[0].locations[0].1,
            free: Decimal::from(rng.random_range(5..50)),
            overall: Decimal::from(60),
            amended_at: amended,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world(seed: u64, orders: usize) -> World {
        let now = DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .to_utc();
        generate(&Params {
            seed,
            orders,
            now,
            tile: 0,
        })
    }

    #[test]
    fn same_seed_same_business_and_truth() {
        let a = world(7, 800);
        let b = world(7, 800);
        assert_eq!(a.truth, b.truth);
        assert_eq!(a.orders.len(), 800);
        assert_eq!(a.orderwise.orders.len(), b.orderwise.orders.len());
        assert_ne!(a.truth, world(8, 800).truth);
    }

    #[test]
    fn every_injected_stock_drift_follows_from_the_rule() {
        for seed in [1, 2, 3] {
            let w = world(seed, 2000);
            assert!(w.stock_injections.len() >= 6, "seed {seed}");
            let derived: std::collections::BTreeSet<_> = oracle::derived(&w).into_iter().collect();
            for e in &w.stock_injections {
                assert!(
                    derived.contains(e),
                    "seed {seed}: {e:?} injected but not derived"
                );
            }
        }
    }

    #[test]
    fn every_order_check_has_several_injected_cases() {
        let w = world(1, 3000);
        for check in [
            "order.missing_in_orderwise",
            "order.duplicated_in_orderwise",
            "order.unexpected_in_orderwise",
            "order.currency_mismatch",
            "order.total_mismatch",
            "order.tax_mismatch",
            "order.discount_mismatch",
            "order.shipping_mismatch",
        ] {
            let n = w.truth.iter().filter(|e| e.check == check).count();
            assert!(n >= 2, "{check}: {n}");
        }
    }

    #[test]
    fn order_totals_add_up() {
        let w = world(3, 500);
        for o in &w.orders {
            let t = &o.totals;
            assert_eq!(
                t.gross,
                t.line_values + t.shipping + t.discounts,
                "{}",
                o.number
            );
            assert_eq!(t.net + t.tax_included, t.gross);
        }
    }

    #[test]
    fn history_spans_two_month_ends() {
        let w = world(3, 500);
        let first = w.orders.first().unwrap().created_at;
        assert!(w.now - first > Duration::days(62));
    }
}
