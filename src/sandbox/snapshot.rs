//! Writes a generated business straight to a snapshot, without serving it: the rows an extraction
//! of the sandbox would read, in the same files, types and manifest, so a business of ten million
//! orders can be reconciled (and checked against its truth) without paging it over HTTP.
//!
//! Memory stays flat in the number of orders: beyond [`TILE_ORDERS`] orders the business is
//! generated and written in tiles of that size, one after another (the next generated while the
//! last is written), each with its own seed, ids and catalogue (SKUs tagged with the tile) over the
//! same markets, warehouses, configuration and days. No check compares rows of two tiles except
//! the month totals, which add up: the truth is the union of the tiles' truths, with the months'
//! (`finance.period_mismatch`) judged on the summed totals ([`super::oracle::PeriodTotals`]).
//!
//! Each row is what the sandbox's servers would answer, read the way the connectors read it: times
//! at the second the APIs print, Centra's order lines without the fully cancelled ones (the
//! connector does not ask for them), money fitted to `DECIMAL(18,4)` and OrderWise local times read
//! in the configured zone, with the same warnings. `tests/extract.rs` proves a written snapshot
//! equal to an extracted one, dataset by dataset, row for row.

use std::path::{Path, PathBuf};

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::generate::{Params, generate};
use super::oracle::PeriodTotals;
use super::orderwise::{LOCAL_FORMAT, customer_account};
use super::world::{self, Expected, World};
use crate::config::RawConfig;
use crate::connectors::orderwise::{local_month, local_time};
use crate::connectors::{Error, Warnings, money};
use crate::model::{self, sku_key};
use crate::snapshot::{FileEntry, Manifest, Sink, SnapshotWriter, Sources, Window};

const CENTRA: &str = "Centra";
const ORDERWISE: &str = "OrderWise";

/// Orders per tile: a business of up to this many orders is written as the one world the
/// sandbox would serve.
pub const TILE_ORDERS: usize = 100_000;

/// A written snapshot, with what checking it needs.
pub struct Written {
    /// The committed snapshot's directory.
    pub dir: PathBuf,
    /// The exceptions reconcile must report, sorted.
    pub truth: Vec<Expected>,
    /// The configuration that maps the business (placeholder base URLs).
    pub config: RawConfig,
}

/// Every dataset's sink.
struct Sinks {
    orders: Sink<model::CentraOrder>,
    lines: Sink<model::CentraOrderLine>,
    shipments: Sink<model::CentraShipment>,
    shipment_lines: Sink<model::CentraShipmentLine>,
    stock: Sink<model::CentraStock>,
    products: Sink<model::CentraProduct>,
    markets: Sink<model::CentraMarket>,
    warehouses: Sink<model::CentraWarehouse>,
    ow_orders: Sink<model::OwOrder>,
    ow_lines: Sink<model::OwOrderLine>,
    ow_stock: Sink<model::OwStock>,
    despatches: Sink<model::OwDespatch>,
    despatch_lines: Sink<model::OwDespatchLine>,
    variants: Sink<model::OwVariant>,
}

impl Sinks {
    fn create(writer: &SnapshotWriter) -> Result<Sinks, Error> {
        Ok(Sinks {
            orders: writer.sink()?,
            lines: writer.sink()?,
            shipments: writer.sink()?,
            shipment_lines: writer.sink()?,
            stock: writer.sink()?,
            products: writer.sink()?,
            markets: writer.sink()?,
            warehouses: writer.sink()?,
            ow_orders: writer.sink()?,
            ow_lines: writer.sink()?,
            ow_stock: writer.sink()?,
            despatches: writer.sink()?,
            despatch_lines: writer.sink()?,
            variants: writer.sink()?,
        })
    }

    /// The manifest's file entries, in an extraction's order.
    fn finish(self) -> Result<Vec<FileEntry>, Error> {
        Ok(vec![
            self.orders.finish()?,
            self.lines.finish()?,
            self.shipments.finish()?,
            self.shipment_lines.finish()?,
            self.stock.finish()?,
            self.products.finish()?,
            self.markets.finish()?,
            self.warehouses.finish()?,
            self.ow_orders.finish()?,
            self.ow_lines.finish()?,
            self.ow_stock.finish()?,
            self.despatches.finish()?,
            self.despatch_lines.finish()?,
            self.variants.finish()?,
        ])
    }
}

/// Generates the business `p` describes and writes it as a complete snapshot under `root` (a new
/// directory named like an extraction's), taken at `p.now`.
pub fn write(p: &Params, root: &Path) -> Result<Written, Error> {
    write_in_tiles(p, TILE_ORDERS, root)
}

/// [`write`], with tiles of at most `tile_orders` orders (tests use small ones; never more than
/// [`TILE_ORDERS`], which keeps each tile's ids inside its own range).
pub fn write_in_tiles(p: &Params, tile_orders: usize, root: &Path) -> Result<Written, Error> {
    let tile_orders = tile_orders.clamp(1, TILE_ORDERS);
    let tiles = p.orders.div_ceil(tile_orders).max(1);
    let tile_params = |t: usize| Params {
        // The orders spread evenly; the first tiles take the remainder.
        orders: p.orders / tiles + usize::from(t < p.orders % tiles),
        tile: t as u32,
        ..p.clone()
    };
    let writer = SnapshotWriter::create(root, p.now)?;
    let warnings = Warnings::default();
    let mut sinks = Sinks::create(&writer)?;
    let mut truth = Vec::new();
    let mut periods = PeriodTotals::default();
    let mut config = None;
    std::thread::scope(|scope| {
        // One tile generated ahead of the one being written: two in memory at most.
        let (tx, rx) = std::sync::mpsc::sync_channel::<World>(0);
        scope.spawn(move || {
            for t in 0..tiles {
                if tx.send(generate(&tile_params(t))).is_err() {
                    return;
                }
            }
        });
        for w in rx {
            if config.is_none() {
                shared(&w, &mut sinks)?;
                config = Some(w.config.clone());
            }
            tile(&w, &mut sinks, &warnings)?;
            periods.add(PeriodTotals::of(&w));
            truth.extend(
                w.truth
                    .iter()
                    .filter(|e| e.check != "finance.period_mismatch")
                    .cloned(),
            );
        }
        Ok::<(), Error>(())
    })?;
    let config = config.expect("at least one tile");
    truth.extend(periods.mismatches(&config.rules));
    truth.sort();
    truth.dedup();
    let origin = format!("sandbox seed {} (written without the network)", p.seed);
    let manifest = Manifest {
        tool: "tally".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        snapshot_id: String::new(),
        started_at: p.now,
        finished_at: p.now,
        window: Window::Full,
        timezone: config.timezone.clone(),
        sources: Sources {
            centra: origin.clone(),
            orderwise: origin,
        },
        files: sinks.finish()?,
        warnings: warnings.take(),
        refresh: None,
    };
    Ok(Written {
        dir: writer.commit(manifest)?,
        truth,
        config,
    })
}

/// The rows of one tile.
fn tile(w: &World, sinks: &mut Sinks, warnings: &Warnings) -> Result<(), Error> {
    centra_orders(w, sinks, warnings)?;
    centra_catalogue(w, sinks)?;
    orderwise(w, sinks, warnings)
}

/// What every tile shares, written once: Centra's markets and warehouses.
fn shared(w: &World, sinks: &mut Sinks) -> Result<(), Error> {
    for m in &w.markets {
        let store = &w.stores[m.store];
        sinks.markets.push(model::CentraMarket {
            market_id: m.id,
            market: m.name.into(),
            store_id: store.id,
            store: store.name.into(),
            store_type: "DIRECT_TO_CONSUMER".into(),
        })?;
    }
    for wh in &w.warehouses {
        sinks.warehouses.push(model::CentraWarehouse {
            warehouse_id: wh.id,
            warehouse: wh.name.into(),
        })?;
    }
    Ok(())
}

/// A time as the APIs print it: to the second.
fn served(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

/// Centra's orders, their lines, shipments and shipment lines.
fn centra_orders(w: &World, sinks: &mut Sinks, warnings: &Warnings) -> Result<(), Error> {
    for o in &w.orders {
        let n = o.number;
        let m = |v: Decimal, field: &str| {
            money(
                v,
                CENTRA,
                || format!("order {n} {field} (written)"),
                warnings,
            )
        };
        let mk = &w.markets[o.market];
        let order_date = served(o.order_date);
        let local = order_date.with_timezone(&w.timezone);
        let t = &o.totals;
        sinks.orders.push(model::CentraOrder {
            id: o.id.clone(),
            number: n,
            status: o.status.as_str().into(),
            created_at: served(o.created_at),
            updated_at: served(o.updated_at),
            order_date,
            is_on_hold: o.on_hold,
            store: w.stores[mk.store].name.into(),
            market_id: mk.id,
            market: mk.name.into(),
            currency: mk.currency.into(),
            currency_decimals: 2,
            order_date_local: local.format("%Y-%m-%d %H:%M:%S").to_string(),
            order_month: local.format("%Y-%m").to_string(),
            gross: m(t.gross, "grandTotal")?,
            net: m(t.net, "grandTotal(includingTax: false)")?,
            line_values: m(t.line_values, "totals.lineValues")?,
            shipping: m(t.shipping, "totals.shipping")?,
            handling: m(t.handling, "totals.handling")?,
            discounts: m(t.discounts, "totals.discounts")?,
            tax_added: m(t.tax_added, "totals.taxAdded")?,
            tax_deducted: m(t.tax_deducted, "totals.taxDeducted")?,
            tax_included: m(t.tax_included, "totals.taxIncluded")?,
            shipping_option: o.shipping_option.map(|(_, name)| name.into()),
            country: Some(mk.country.into()),
        })?;
        for l in o.lines.iter().filter(|l| l.quantity > 0) {
            let size = &w.sizes[l.size];
            let product = &w.products[size.product];
            sinks.lines.push(model::CentraOrderLine {
                order_number: n,
                line_id: l.id,
                sku: Some(size.sku.clone()),
                sku_key: Some(sku_key(&size.sku)),
                product_number: product.number.clone(),
                product_name: product.name.clone(),
                size: size.size_number.trim_start_matches('-').into(),
                quantity: l.quantity,
                cancelled_quantity: l.cancelled,
                tax_percent: m(l.tax_percent, "line taxPercent")?,
                discount_percent: m(l.discount_percent, "line discountPercent")?,
                unit_price: m(l.unit_price, "line unitPrice")?,
                line_gross: m(l.gross, "line lineValue")?,
                line_net: m(l.net, "line lineValue(includingTax: false)")?,
            })?;
        }
        for s in &o.shipments {
            sinks.shipments.push(model::CentraShipment {
                order_number: n,
                shipment_id: s.id,
                number: format!("{n}-{}", s.n),
                created_at: served(s.created_at),
                updated_at: served(s.updated_at),
                is_shipped: s.shipped_at.is_some(),
                shipped_at: s.shipped_at.map(served),
                tracking_number: s.tracking.clone(),
                carrier: s.carrier.as_ref().map(|c| c.0.clone()),
                service: s.carrier.as_ref().map(|c| c.1.clone()),
            })?;
            for &(id, li, quantity) in &s.lines {
                let line = &o.lines[li];
                let sku = &w.sizes[line.size].sku;
                sinks.shipment_lines.push(model::CentraShipmentLine {
                    order_number: n,
                    shipment_id: s.id,
                    shipment_line_id: id,
                    order_line_id: line.id,
                    sku: Some(sku.clone()),
                    sku_key: Some(sku_key(sku)),
                    quantity,
                })?;
            }
        }
    }
    Ok(())
}

/// Centra's stock and products.
fn centra_catalogue(w: &World, sinks: &mut Sinks) -> Result<(), Error> {
    for p in &w.products {
        for v in &p.variants {
            for &si in &v.sizes {
                let size = &w.sizes[si];
                for st in w.centra_stock.iter().filter(|s| s.size == si) {
                    let wh = &w.warehouses[st.warehouse];
                    sinks.stock.push(model::CentraStock {
                        size_id: size.id,
                        sku: size.sku.clone(),
                        sku_key: sku_key(&size.sku),
                        warehouse_id: wh.id,
                        warehouse: wh.name.into(),
                        physical: st.free + st.allocated,
                        free_to_allocate: st.free,
                        allocated: st.allocated,
                    })?;
                }
                sinks.products.push(model::CentraProduct {
                    product_id: p.id,
                    product_number: p.number.clone(),
                    product_name: p.name.clone(),
                    product_status: status(p.status).into(),
                    variant_id: v.id,
                    variant_number: v.number.clone(),
                    variant_name: v.name.clone(),
                    variant_status: status(v.status).into(),
                    size_id: size.id,
                    sku: size.sku.clone(),
                    sku_key: sku_key(&size.sku),
                    ean: size.ean.clone(),
                    size_number: size.size_number.clone(),
                    is_active: size.active,
                })?;
            }
        }
    }
    Ok(())
}

/// A product or variant status as the schema's enums serve it (anything else is served as active).
fn status(status: &str) -> &'static str {
    match status {
        "INACTIVE" => "INACTIVE",
        "CANCELLED" => "CANCELLED",
        _ => "ACTIVE",
    }
}

/// OrderWise's six exports.
fn orderwise(w: &World, sinks: &mut Sinks, warnings: &Warnings) -> Result<(), Error> {
    let ow = &w.orderwise;
    let tz = w.timezone;
    let text = |t: NaiveDateTime| t.format(LOCAL_FORMAT).to_string();
    let fit = |v: Decimal, what: &dyn Fn() -> String| money(v, ORDERWISE, what, warnings);
    let ref_key = |r: &Option<String>| r.as_deref().map(|s| s.trim().to_string());

    for o in &ow.orders {
        let what = || format!("orders row {}", o.order_id);
        let (datetime, amended) = (text(o.order_datetime), text(o.amended_at));
        sinks.ow_orders.push(model::OwOrder {
            order_id: o.order_id,
            order_number: o.order_number(),
            external_ref_key: ref_key(&o.external_ref),
            external_ref: o.external_ref.clone(),
            session_id: o.session_id,
            customer_account: Some(customer_account(w, o.session_id).into()),
            order_datetime: local_time(
                &datetime,
                tz,
                || format!("orders row {} order_datetime", o.order_id),
                warnings,
            )?,
            order_month: local_month(&datetime),
            order_datetime_raw: datetime,
            status: o.status.into(),
            currency_code: o.currency.into(),
            total_net: fit(o.total_net, &what)?,
            total_vat: fit(o.total_vat, &what)?,
            total_gross: fit(o.total_gross, &what)?,
            delivery_net: fit(o.delivery_net, &what)?,
            delivery_vat: fit(o.delivery_vat, &what)?,
            delivery_gross: fit(o.delivery_gross, &what)?,
            discount_gross: fit(o.discount_gross, &what)?,
            delivery_method: o.delivery_method.map(String::from),
            amended_at: local_time(
                &amended,
                tz,
                || format!("orders row {} amended_at", o.order_id),
                warnings,
            )?,
            amended_at_raw: amended,
        })?;
    }
    for l in &ow.lines {
        let what = || format!("order_lines row {}", l.line_id);
        let amended = text(l.amended_at);
        sinks.ow_lines.push(model::OwOrderLine {
            line_id: l.line_id,
            order_id: l.order_id,
            sku_key: sku_key(&l.sku),
            sku: l.sku.clone(),
            qty_required: fit(l.qty_required, &what)?,
            qty_sent: fit(l.qty_sent, &what)?,
            item_gross: fit(l.item_gross, &what)?,
            line_net: fit(l.line_net, &what)?,
            line_vat: fit(l.line_vat, &what)?,
            line_gross: fit(l.line_gross, &what)?,
            vat_code: Some(l.vat_code.into()),
            vat_rate: fit(l.vat_rate, &what)?,
            amended_at: local_time(&amended, tz, what, warnings)?,
            amended_at_raw: amended,
        })?;
    }
    for s in &ow.stock {
        let what = || format!("stock row {}", s.stock_id);
        let amended = text(s.amended_at);
        sinks.ow_stock.push(model::OwStock {
            stock_id: s.stock_id,
            sku_key: sku_key(&s.sku),
            sku: s.sku.clone(),
            location_id: s.location_id,
            location_name: s.location_name.into(),
            free: fit(s.free, &what)?,
            overall: fit(s.overall, &what)?,
            amended_at: local_time(&amended, tz, what, warnings)?,
            amended_at_raw: amended,
        })?;
    }
    for d in &ow.despatches {
        let what = || format!("despatches row {}", d.despatch_id);
        let (at, amended) = (text(d.despatched_at), text(d.amended_at));
        let i = ow.orders.partition_point(|o| o.order_id < d.order_id);
        sinks.despatches.push(model::OwDespatch {
            despatch_id: d.despatch_id,
            order_id: d.order_id,
            order_number: ow
                .orders
                .get(i)
                .map(world::OwOrder::order_number)
                .unwrap_or_default(),
            external_ref_key: ref_key(&d.external_ref),
            external_ref: d.external_ref.clone(),
            despatched_at: local_time(&at, tz, what, warnings)?,
            despatched_at_raw: at,
            tracking_number: d.tracking_number.clone(),
            delivery_method: Some(d.delivery_method.into()),
            courier: Some(d.courier.into()),
            amended_at: local_time(&amended, tz, what, warnings)?,
            amended_at_raw: amended,
        })?;
    }
    for d in &ow.despatch_lines {
        let what = || format!("despatch_lines row {}", d.despatch_line_id);
        let amended = text(d.amended_at);
        sinks.despatch_lines.push(model::OwDespatchLine {
            despatch_line_id: d.despatch_line_id,
            despatch_id: d.despatch_id,
            sku_key: sku_key(&d.sku),
            sku: d.sku.clone(),
            qty: fit(d.qty, &what)?,
            amended_at: local_time(&amended, tz, what, warnings)?,
            amended_at_raw: amended,
        })?;
    }
    for v in &ow.variants {
        let what = || format!("variants row {}", v.variant_id);
        let amended = text(v.amended_at);
        sinks.variants.push(model::OwVariant {
            variant_id: v.variant_id,
            sku_key: sku_key(&v.sku),
            sku: v.sku.clone(),
            product_code: v.product_code.clone(),
            description: v.description.clone(),
            ean: v.ean.clone(),
            discontinued: v.discontinued,
            is_kit: v.is_kit,
            sale_variant: v.sale_variant,
            amended_at: local_time(&amended, tz, what, warnings)?,
            amended_at_raw: amended,
        })?;
    }
    Ok(())
}
