//! Each check against its hand-written fixture, without the sandbox.
//!
//! `fixtures/checks/<check>/snapshot.json` holds a few rows per dataset (only the columns that
//! matter; the rest come from the defaults below) and `expected.csv` the exceptions that check must
//! report: the key, the typed subject, the difference, the amount and its part of the headline
//! money at stake. The fixture is written as a real snapshot (Parquet and manifest) and reconciled
//! with `fixtures/checks/config.toml`; the check's exceptions must equal the file, row for row.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tally::config::Config;
use tally::model::*;
use tally::reconcile::Exception;
use tally::snapshot::{Manifest, Sink, SnapshotWriter, Sources, Window};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/checks")
}

/// Column defaults per dataset: a fixture row is merged over these.
fn defaults(dataset: &str) -> Value {
    let t = "2026-11-01T10:00:00Z";
    match dataset {
        "centra/orders" => json!({
            "id": "h", "status": "SHIPPED", "created_at": t, "updated_at": t, "order_date": t,
            "store": "Brand Online", "market_id": 1, "market": "United Kingdom", "currency": "GBP",
            "currency_decimals": 2, "gross": "0", "net": "0", "line_values": "0", "shipping": "0",
            "handling": "0", "discounts": "0", "tax_added": "0", "tax_deducted": "0", "tax_included": "0"
        }),
        "centra/order_lines" => {
            json!({"product_number": "P", "product_name": "Product", "size": "M",
            "quantity": 1, "tax_percent": "20", "discount_percent": "0", "unit_price": "0", "line_gross": "0", "line_net": "0"})
        }
        "centra/shipments" => {
            json!({"number": "", "created_at": t, "updated_at": t, "is_shipped": true, "shipped_at": t,
            "tracking_number": "DPD0000000001", "carrier": "DPD", "service": "Next Day"})
        }
        "centra/stock" => json!({"warehouse_id": 1, "warehouse": "Main"}),
        "centra/products" => {
            json!({"product_id": 1, "product_number": "P", "product_name": "Product", "product_status": "ACTIVE",
            "variant_id": 1, "variant_number": "-V", "variant_name": "Black", "variant_status": "ACTIVE", "size_number": "-M", "is_active": true})
        }
        "orderwise/orders" => {
            json!({"order_number": "SO-1", "session_id": 1, "order_datetime_raw": "2026-11-01T10:00:00",
            "status": "Despatched", "currency_code": "GBP", "total_net": "0", "total_vat": "0", "total_gross": "0",
            "delivery_net": "0", "delivery_vat": "0", "delivery_gross": "0", "discount_gross": "0",
            "delivery_method": "DPD Next Day", "amended_at": t, "amended_at_raw": "2026-11-01T10:00:00"})
        }
        "orderwise/order_lines" => {
            json!({"qty_required": "1", "qty_sent": "0", "item_gross": "0", "line_net": "0",
            "line_vat": "0", "line_gross": "0", "vat_code": "T1", "vat_rate": "20", "amended_at": t})
        }
        "orderwise/stock" => {
            json!({"location_id": 1, "location_name": "MAIN", "free": "0", "overall": "0", "amended_at": t})
        }
        "orderwise/despatches" => {
            json!({"order_number": "SO-1", "despatched_at": t, "despatched_at_raw": "2026-11-01T10:00:00",
            "tracking_number": "DPD0000000001", "delivery_method": "DPD Next Day", "courier": "DPD", "amended_at": t})
        }
        "orderwise/despatch_lines" => json!({"qty": "1", "amended_at": t}),
        "orderwise/variants" => {
            json!({"product_code": "P", "description": "Product", "sale_variant": true, "amended_at": t})
        }
        _ => json!({}),
    }
}

fn rows<R: DeserializeOwned>(fixture: &Value, dataset: &str, file: &Path) -> Vec<R> {
    let Some(list) = fixture.get(dataset) else {
        return Vec::new();
    };
    list.as_array()
        .unwrap_or_else(|| panic!("{}: {dataset} must be an array", file.display()))
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let mut merged = defaults(dataset);
            for (k, v) in row
                .as_object()
                .unwrap_or_else(|| panic!("{}: {dataset}[{i}] must be an object", file.display()))
            {
                merged[k] = v.clone();
            }
            serde_json::from_value(merged)
                .unwrap_or_else(|e| panic!("{}: {dataset}[{i}]: {e}", file.display()))
        })
        .collect()
}

fn write<R: Row>(writer: &SnapshotWriter, rows: Vec<R>) -> tally::snapshot::FileEntry {
    let mut sink: Sink<R> = writer.sink().unwrap();
    for r in rows {
        sink.push(r).unwrap();
    }
    sink.finish().unwrap()
}

/// Derived columns a connector fills in: keys, local times and months.
fn local(t: DateTime<Utc>, tz: chrono_tz::Tz, fmt: &str) -> String {
    t.with_timezone(&tz).format(fmt).to_string()
}

/// Builds the fixture's snapshot under `root` and returns its directory.
fn build(fixture_file: &Path, root: &Path, cfg: &Config) -> PathBuf {
    let text = std::fs::read_to_string(fixture_file).unwrap();
    let f: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", fixture_file.display()));
    let extracted: DateTime<Utc> = f["extracted_at"]
        .as_str()
        .expect("extracted_at")
        .parse()
        .unwrap();
    let tz = cfg.timezone;
    let writer = SnapshotWriter::create(root, extracted).unwrap();
    let mut orders: Vec<CentraOrder> = rows(&f, "centra/orders", fixture_file);
    for o in &mut orders {
        o.order_date_local = local(o.order_date, tz, "%Y-%m-%d %H:%M:%S");
        o.order_month = local(o.order_date, tz, "%Y-%m");
    }
    let mut lines: Vec<CentraOrderLine> = rows(&f, "centra/order_lines", fixture_file);
    lines
        .iter_mut()
        .for_each(|l| l.sku_key = l.sku.as_deref().map(sku_key));
    let shipments: Vec<CentraShipment> = rows(&f, "centra/shipments", fixture_file);
    let mut shipment_lines: Vec<CentraShipmentLine> =
        rows(&f, "centra/shipment_lines", fixture_file);
    shipment_lines
        .iter_mut()
        .for_each(|l| l.sku_key = l.sku.as_deref().map(sku_key));
    let mut stock: Vec<CentraStock> = rows(&f, "centra/stock", fixture_file);
    stock.iter_mut().for_each(|s| s.sku_key = sku_key(&s.sku));
    let mut products: Vec<CentraProduct> = rows(&f, "centra/products", fixture_file);
    products
        .iter_mut()
        .for_each(|p| p.sku_key = sku_key(&p.sku));
    let mut ow_orders: Vec<OwOrder> = rows(&f, "orderwise/orders", fixture_file);
    for o in &mut ow_orders {
        o.external_ref_key = o
            .external_ref
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        o.order_month = o.order_datetime_raw.chars().take(7).collect();
        o.order_datetime = tally::connectors::json::local_datetime(&o.order_datetime_raw, tz)
            .expect("a local time")
            .0;
    }
    let mut ow_lines: Vec<OwOrderLine> = rows(&f, "orderwise/order_lines", fixture_file);
    ow_lines
        .iter_mut()
        .for_each(|l| l.sku_key = sku_key(&l.sku));
    let mut ow_stock: Vec<OwStock> = rows(&f, "orderwise/stock", fixture_file);
    ow_stock
        .iter_mut()
        .for_each(|s| s.sku_key = sku_key(&s.sku));
    let mut despatches: Vec<OwDespatch> = rows(&f, "orderwise/despatches", fixture_file);
    despatches
        .iter_mut()
        .for_each(|d| d.external_ref_key = d.external_ref.as_deref().map(|s| s.trim().to_string()));
    let mut despatch_lines: Vec<OwDespatchLine> =
        rows(&f, "orderwise/despatch_lines", fixture_file);
    despatch_lines
        .iter_mut()
        .for_each(|l| l.sku_key = sku_key(&l.sku));
    let mut variants: Vec<OwVariant> = rows(&f, "orderwise/variants", fixture_file);
    variants
        .iter_mut()
        .for_each(|v| v.sku_key = sku_key(&v.sku));
    let files = vec![
        write(&writer, orders),
        write(&writer, lines),
        write(&writer, shipments),
        write(&writer, shipment_lines),
        write(&writer, stock),
        write(&writer, products),
        write(
            &writer,
            rows::<CentraMarket>(&f, "centra/markets", fixture_file),
        ),
        write(
            &writer,
            rows::<CentraWarehouse>(&f, "centra/warehouses", fixture_file),
        ),
        write(&writer, ow_orders),
        write(&writer, ow_lines),
        write(&writer, ow_stock),
        write(&writer, despatches),
        write(&writer, despatch_lines),
        write(&writer, variants),
    ];
    let manifest = Manifest {
        tool: "tally".into(),
        version: "fixture".into(),
        snapshot_id: String::new(),
        started_at: extracted,
        finished_at: extracted,
        window: Window::Full,
        timezone: cfg.raw.timezone.clone(),
        sources: Sources {
            centra: "fixture".into(),
            orderwise: "fixture".into(),
        },
        files,
        warnings: Vec::new(),
        refresh: None,
    };
    writer.commit(manifest).unwrap()
}

/// The columns of a fixture's `expected.csv`: the key, the typed subject, and the figures.
const EXPECTED_HEADER: &str = "check,key,order_number,ow_order_id,ow_order_number,sku,warehouse,\
location,market,currency,period,delivery_method,occurred_at,difference,amount,at_stake";

/// An exception as a line of `expected.csv` (money normalised: `120`, `5.5`).
fn csv_line(e: &Exception) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let money = |v: Option<Decimal>| v.map(|d| d.normalize().to_string()).unwrap_or_default();
    let fields = [
        e.check.clone(),
        e.key.clone(),
        text(&e.order_number),
        e.ow_order_id.map(|i| i.to_string()).unwrap_or_default(),
        text(&e.ow_order_number),
        text(&e.sku),
        text(&e.warehouse),
        text(&e.location),
        text(&e.market),
        text(&e.currency),
        text(&e.period),
        text(&e.delivery_method),
        e.occurred_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default(),
        text(&e.difference),
        money(e.amount),
        money(e.at_stake),
    ];
    for f in &fields {
        assert!(
            !f.contains([',', '"', '\n']),
            "{}: {f:?} cannot go in expected.csv unquoted",
            e.check
        );
    }
    fields.join(",")
}

/// A fixture's expected exceptions, one `expected.csv` line each, sorted (a multiset: a line
/// written twice expects two rows).
fn expected(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(EXPECTED_HEADER),
        "{}: the header must be {EXPECTED_HEADER}",
        path.display()
    );
    let mut rows: Vec<String> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let n = l.split(',').count();
            assert_eq!(n, 16, "{}: {l:?} has {n} fields, not 16", path.display());
            l.to_string()
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn every_check_has_a_fixture_and_matches_it() {
    let dir = fixtures_dir();
    let cfg = Config::load(&dir.join("config.toml")).expect("fixtures/checks/config.toml is valid");
    let mut failures = Vec::new();
    for check in tally::reconcile::checks().unwrap() {
        let fixture = dir.join(&check.name);
        if !fixture.join("snapshot.json").is_file() {
            failures.push(format!(
                "{}: no fixture (fixtures/checks/{}/snapshot.json)",
                check.name, check.name
            ));
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        let snap = build(&fixture.join("snapshot.json"), tmp.path(), &cfg);
        tally::reconcile::run(&snap, &cfg).unwrap_or_else(|e| panic!("{}: {e}", check.name));
        let mut found: Vec<String> = tally::reconcile::read_exceptions(&snap)
            .unwrap()
            .iter()
            .filter(|e| e.check == check.name)
            .map(csv_line)
            .collect();
        found.sort();
        let want = expected(&fixture.join("expected.csv"));
        assert!(
            !want.is_empty(),
            "{}: a fixture must expect at least one exception",
            check.name
        );
        if found != want {
            let missed: Vec<_> = want.iter().filter(|w| !found.contains(w)).collect();
            let extra: Vec<_> = found.iter().filter(|f| !want.contains(f)).collect();
            failures.push(format!(
                "{}:\n  expected {want:#?}\n  found    {found:#?}\n  missed {missed:#?}\n  extra  {extra:#?}",
                check.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixtures disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The headline money at stake of `fixtures/money_at_stake`, worked out by hand:
/// - order 1001 (GBP 120.00) never reached OrderWise, and one of its lines (JK-9, 50.00) has a SKU
///   OrderWise lacks: the order counts once, by its gross: 120.00 (not 170.00);
/// - order 1002 is 5.00 off in gross and 1.50 off in VAT: it counts once, by the larger: 5.00;
/// - OrderWise order SO-9 (30.00) has no Centra order: it counts once, by its own gross: 30.00;
/// - order 1003 has two lines of 10.00 whose SKUs (ZZ-2, ZZ-1) OrderWise lacks: it counts once,
///   10.00, carried by the exception first by key (`1003:ZZ-1`), so every run marks the same one;
/// - TS-1 at Main: Centra offers 5 but OrderWise has 2, so 3 units at its latest price (80.00,
///   order 1002's): 240.00;
/// - November's month totals differ too (by 120.00 - 5.00 + 30.00), but a month adds nothing:
///   its orders are counted already.
///
/// 120.00 + 5.00 + 30.00 + 10.00 + 240.00 = 405.00.
#[test]
fn money_at_stake_counts_each_order_and_stock_position_once() {
    let cfg = Config::load(&fixtures_dir().join("config.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixtures_dir().join("../money_at_stake/snapshot.json");
    let snap = build(&fixture, tmp.path(), &cfg);
    let outcome = tally::reconcile::run(&snap, &cfg).unwrap();
    let found = tally::reconcile::read_exceptions(&snap).unwrap();
    let checks: Vec<&str> = found.iter().map(|e| e.check.as_str()).collect();
    for check in [
        "order.missing_in_orderwise",
        "order.unknown_sku",
        "order.total_mismatch",
        "order.tax_mismatch",
        "order.unexpected_in_orderwise",
        "stock.oversell_risk",
        "finance.period_mismatch",
    ] {
        assert!(checks.contains(&check), "{check} not reported: {checks:?}");
    }
    let headline: Vec<(String, Decimal)> = outcome.summary.money_at_stake.into_iter().collect();
    assert_eq!(headline, vec![("GBP".to_string(), Decimal::new(40500, 2))]);
    let at_stake = |key: &str| {
        found
            .iter()
            .find(|e| e.check == "order.unknown_sku" && e.key == key)
            .unwrap_or_else(|| panic!("{key} not reported"))
            .at_stake
    };
    assert_eq!(at_stake("1003:ZZ-1"), Some(Decimal::new(1000, 2)));
    assert_eq!(at_stake("1003:ZZ-2"), None);
    // The summary written to disk, which the reports read, says the same.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(snap.join("summary.json")).unwrap()).unwrap();
    assert_eq!(written["money_at_stake"]["GBP"], "405.0000");
}

#[test]
fn the_session_reads_the_snapshot_without_duckdbs_file_cache_and_with_the_engine_settings() {
    let mut cfg = Config::load(&fixtures_dir().join("config.toml")).unwrap();
    cfg.engine.memory_limit = "1500MB".into();
    let tmp = tempfile::tempdir().unwrap();
    let fixture = fixtures_dir().join("../money_at_stake/snapshot.json");
    let snap = build(&fixture, tmp.path(), &cfg);
    let snapshot = tally::snapshot::Snapshot::open(&snap).unwrap();
    let conn = tally::reconcile::session::open(&snapshot, &cfg).unwrap();
    let setting = |name: &str| -> String {
        conn.query_row(
            &format!("SELECT current_setting('{name}')::VARCHAR"),
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // The OS caches the local files already; DuckDB's cache would copy every read into the
    // buffer pool the hash tables need.
    assert_eq!(setting("enable_external_file_cache"), "false");
    assert_eq!(setting("preserve_insertion_order"), "false");
    assert_eq!(setting("memory_limit"), "1.3 GiB");
    assert_eq!(setting("threads"), cfg.engine.threads.to_string());
}
