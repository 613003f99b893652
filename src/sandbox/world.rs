//! The simulated business both sandbox APIs serve: Centra's catalogue, stock and orders, and
//! OrderWise's copy of them, with drift injected by [`super::generate`].
//!
//! Kept compact (indices, `&'static str`, local times as `NaiveDateTime`) so a million orders fit
//! comfortably in memory; the servers format API values from it on the fly.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use crate::config::RawConfig;

/// A Centra store.
#[derive(Debug, Clone)]
pub struct Store {
    pub id: i64,
    pub name: &'static str,
}

/// A Centra market, with the OrderWise session and customer its orders go to when mapped.
#[derive(Debug, Clone)]
pub struct Market {
    pub id: i64,
    pub name: &'static str,
    pub store: usize,
    pub currency: &'static str,
    pub country: &'static str,
    pub vat_percent: Decimal,
    /// Index into [`World::warehouses`]: the warehouse its allocation rule draws from.
    pub warehouse: usize,
    /// `(session, customer)` when the scenario's configuration maps it.
    pub mapping: Option<(i64, &'static str)>,
}

/// A Centra warehouse and the OrderWise locations summed into it.
#[derive(Debug, Clone)]
pub struct Warehouse {
    pub id: i64,
    pub name: &'static str,
    pub locations: Vec<(i64, &'static str)>,
}

/// A Centra product.
#[derive(Debug, Clone)]
pub struct Product {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub status: &'static str,
    pub updated_at: DateTime<Utc>,
    /// Price including VAT in GBP; other currencies derive from it.
    pub price_gbp: Decimal,
    pub variants: Vec<Variant>,
}

/// A Centra product variant; its sizes are indices into [`World::sizes`].
#[derive(Debug, Clone)]
pub struct Variant {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub status: &'static str,
    pub sizes: Vec<usize>,
}

/// A Centra product size: the unit stock and order lines refer to.
#[derive(Debug, Clone)]
pub struct Size {
    pub id: i64,
    pub sku: String,
    pub ean: Option<String>,
    pub size_number: String,
    pub active: bool,
    pub product: usize,
}

/// Centra stock of one size in one warehouse.
#[derive(Debug, Clone)]
pub struct CentraStock {
    pub size: usize,
    pub warehouse: usize,
    pub free: i64,
    pub allocated: i64,
}

/// Centra order statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Cancelled,
}

impl Status {
    /// The GraphQL enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "PENDING",
            Status::Confirmed => "CONFIRMED",
            Status::Processing => "PROCESSING",
            Status::Shipped => "SHIPPED",
            Status::Cancelled => "CANCELLED",
        }
    }
}

/// Order totals as Centra states them (all include tax).
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub line_values: Decimal,
    pub shipping: Decimal,
    pub handling: Decimal,
    pub discounts: Decimal,
    pub tax_added: Decimal,
    pub tax_deducted: Decimal,
    pub tax_included: Decimal,
    pub gross: Decimal,
    pub net: Decimal,
}

/// A Centra order line.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub size: usize,
    pub quantity: i64,
    pub cancelled: i64,
    pub tax_percent: Decimal,
    pub discount_percent: Decimal,
    pub unit_price: Decimal,
    pub gross: Decimal,
    pub net: Decimal,
}

/// A Centra shipment; `lines` are `(shipment line id, index into the order's lines, quantity)`.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub id: i64,
    pub n: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub shipped_at: Option<DateTime<Utc>>,
    pub tracking: Option<String>,
    pub carrier: Option<(String, String)>,
    pub lines: Vec<(i64, usize, i64)>,
}

/// A Centra order.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: String,
    pub number: i64,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub order_date: DateTime<Utc>,
    pub on_hold: bool,
    pub market: usize,
    pub totals: Totals,
    pub shipping_option: Option<(i64, &'static str)>,
    pub lines: Vec<Line>,
    pub shipments: Vec<Shipment>,
}

impl Order {
    /// Units of line `li` in shipments that have shipped.
    pub fn shipped_units(&self, li: usize) -> i64 {
        self.shipments
            .iter()
            .filter(|s| s.shipped_at.is_some())
            .flat_map(|s| &s.lines)
            .filter(|x| x.1 == li)
            .map(|x| x.2)
            .sum()
    }
}

/// An OrderWise sales order header.
#[derive(Debug, Clone)]
pub struct OwOrder {
    pub order_id: i64,
    pub external_ref: Option<String>,
    pub session_id: i64,
    pub order_datetime: NaiveDateTime,
    pub status: &'static str,
    pub currency: &'static str,
    pub total_net: Decimal,
    pub total_vat: Decimal,
    pub total_gross: Decimal,
    pub delivery_net: Decimal,
    pub delivery_vat: Decimal,
    pub delivery_gross: Decimal,
    pub discount_gross: Decimal,
    pub delivery_method: Option<&'static str>,
    pub amended_at: NaiveDateTime,
}

impl OwOrder {
    /// OrderWise's own order number.
    pub fn order_number(&self) -> String {
        format!("SO-{:06}", self.order_id)
    }
}

/// An OrderWise order line.
#[derive(Debug, Clone)]
pub struct OwLine {
    pub line_id: i64,
    pub order_id: i64,
    pub sku: String,
    pub qty_required: Decimal,
    pub qty_sent: Decimal,
    pub item_gross: Decimal,
    pub line_net: Decimal,
    pub line_vat: Decimal,
    pub line_gross: Decimal,
    pub vat_code: &'static str,
    pub vat_rate: Decimal,
    pub amended_at: NaiveDateTime,
}

/// OrderWise stock of one variant at one location.
#[derive(Debug, Clone)]
pub struct OwStock {
    pub stock_id: i64,
    pub sku: String,
    pub location_id: i64,
    pub location_name: &'static str,
    pub free: Decimal,
    pub overall: Decimal,
    pub amended_at: NaiveDateTime,
}

/// An OrderWise despatch.
#[derive(Debug, Clone)]
pub struct OwDespatch {
    pub despatch_id: i64,
    pub order_id: i64,
    pub external_ref: Option<String>,
    pub despatched_at: NaiveDateTime,
    pub tracking_number: Option<String>,
    pub delivery_method: &'static str,
    pub courier: &'static str,
    pub amended_at: NaiveDateTime,
}

/// A line of an OrderWise despatch.
#[derive(Debug, Clone)]
pub struct OwDespatchLine {
    pub despatch_line_id: i64,
    pub despatch_id: i64,
    pub sku: String,
    pub qty: Decimal,
    pub amended_at: NaiveDateTime,
}

/// An OrderWise variant.
#[derive(Debug, Clone)]
pub struct OwVariant {
    pub variant_id: i64,
    pub sku: String,
    pub product_code: String,
    pub description: String,
    pub ean: Option<String>,
    pub discontinued: bool,
    pub is_kit: bool,
    pub sale_variant: bool,
    pub amended_at: NaiveDateTime,
}

/// Everything OrderWise holds, each table sorted by its id column (the export's keyset order).
#[derive(Debug, Clone, Default)]
pub struct OrderWise {
    pub orders: Vec<OwOrder>,
    pub lines: Vec<OwLine>,
    pub stock: Vec<OwStock>,
    pub despatches: Vec<OwDespatch>,
    pub despatch_lines: Vec<OwDespatchLine>,
    pub variants: Vec<OwVariant>,
}

/// One exception the scenario expects reconcile to report.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    pub check: String,
    pub key: String,
}

/// The whole simulated business, plus the configuration that maps it and the expected exceptions.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    /// The scenario's "now": ages (settle window, SLA) are laid out relative to it.
    pub now: DateTime<Utc>,
    pub timezone: Tz,
    pub stores: Vec<Store>,
    pub markets: Vec<Market>,
    pub warehouses: Vec<Warehouse>,
    pub products: Vec<Product>,
    pub sizes: Vec<Size>,
    /// How OrderWise writes each size's SKU (`None`: OrderWise has no such variant).
    pub ow_sku: Vec<Option<String>>,
    pub centra_stock: Vec<CentraStock>,
    pub orders: Vec<Order>,
    pub orderwise: OrderWise,
    /// The configuration that maps this business (base URLs are placeholders until served).
    pub config: RawConfig,
    /// Expected exceptions, sorted.
    pub truth: Vec<Expected>,
    /// The stock drift `drift::stock` injected, as the exceptions each must cause (all are in
    /// `truth` too; kept apart so a test can check the oracle and reconcile report every one).
    pub stock_injections: Vec<Expected>,
    /// Added to every id the generator assigns (0 for a whole world): a tile of a written
    /// snapshot (see [`super::snapshot`]) has ids no other tile has.
    pub id_base: i64,
    /// Appended to every product number, and so to every SKU ("" for a whole world), for the same
    /// reason: each tile has a catalogue of its own.
    pub sku_tag: String,
}

impl World {
    /// A local OrderWise time for a UTC instant.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&self.timezone).naive_local()
    }
}
