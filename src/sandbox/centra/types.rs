//! The contract's types, enums, scalars and filters, each resolving from the sandbox's world.

// async-graphql's interface attributes repeat `ty = ...` per field by design.
#![allow(clippy::duplicated_attributes)]

use std::sync::Arc;

use async_graphql::{
    Enum, InputObject, Interface, Object, Result, Scalar, ScalarType, SimpleObject, Value,
};
use base64::Engine;
use chrono::{DateTime, FixedOffset, Utc};
use rust_decimal::Decimal;

use crate::sandbox::server::Shared;
use crate::sandbox::world::{self, Status, World};

/// `DateTimeTz`: ISO-8601 with offset. Accepts `+01:00` and `+0100`; writes `+01:00`, or the
/// compact form older tenants use when `compact` is set.
#[derive(Debug, Clone, Copy)]
pub struct DateTimeTz {
    pub at: DateTime<FixedOffset>,
    pub compact: bool,
}

#[Scalar(name = "DateTimeTz")]
impl ScalarType for DateTimeTz {
    fn parse(value: Value) -> async_graphql::InputValueResult<Self> {
        match &value {
            Value::String(s) => crate::connectors::json::datetime_tz(s)
                .map(|at| DateTimeTz { at, compact: false })
                .ok_or_else(|| {
                    async_graphql::InputValueError::custom(format!("not a DateTimeTz: {s}"))
                }),
            _ => Err(async_graphql::InputValueError::expected_type(value)),
        }
    }
    fn to_value(&self) -> Value {
        let fmt = if self.compact {
            "%Y-%m-%dT%H:%M:%S%z"
        } else {
            "%Y-%m-%dT%H:%M:%S%:z"
        };
        Value::String(self.at.format(fmt).to_string())
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Cancelled,
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Pending => OrderStatus::Pending,
            Status::Confirmed => OrderStatus::Confirmed,
            Status::Processing => OrderStatus::Processing,
            Status::Shipped => OrderStatus::Shipped,
            Status::Cancelled => OrderStatus::Cancelled,
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StoreType {
    DirectToConsumer,
    Wholesale,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ProductStatus {
    Active,
    Inactive,
    Cancelled,
}
/// The contract's `Status` (a variant's): named apart from the world's order `Status`.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Status")]
pub enum VariantStatus {
    Active,
    Inactive,
    Cancelled,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum StockQuantityType {
    Physical,
    FreeToAllocate,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum RateLimitType {
    RequestCount,
    QueryComplexity,
    MutationCount,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RateLimitInterval {
    TenSeconds,
    OneHour,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrderSort {
    #[graphql(name = "id_ASC")]
    IdAsc,
    #[graphql(name = "id_DESC")]
    IdDesc,
    #[graphql(name = "number_ASC")]
    NumberAsc,
    #[graphql(name = "number_DESC")]
    NumberDesc,
    #[graphql(name = "updatedAt_ASC")]
    UpdatedAtAsc,
}
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ProductSort {
    #[graphql(name = "id_ASC")]
    IdAsc,
    #[graphql(name = "id_DESC")]
    IdDesc,
}

pub(super) fn status_enum(s: &str) -> VariantStatus {
    match s {
        "INACTIVE" => VariantStatus::Inactive,
        "CANCELLED" => VariantStatus::Cancelled,
        _ => VariantStatus::Active,
    }
}

#[derive(SimpleObject, Clone)]
pub struct RateLimit {
    #[graphql(name = "type")]
    pub kind: RateLimitType,
    pub interval_seconds: RateLimitInterval,
    pub quota: i32,
    pub used_quota: i32,
    pub remaining_quota: i32,
}

#[derive(SimpleObject, Clone)]
pub struct Store {
    pub(super) id: i32,
    pub(super) name: String,
    #[graphql(name = "type")]
    pub(super) kind: StoreType,
}
#[derive(SimpleObject, Clone)]
pub struct Market {
    pub(super) id: i32,
    pub(super) name: String,
    pub(super) store: Store,
}
#[derive(SimpleObject, Clone)]
pub struct Warehouse {
    pub(super) id: i32,
    pub(super) name: String,
}
#[derive(SimpleObject, Clone)]
pub struct Currency {
    pub(super) code: String,
    pub(super) decimal_digits: i32,
}

/// Money in major units. The wire type is `Float`, as in Centra; values are exact decimals with
/// at most four places, which a float's shortest text form reproduces exactly.
#[derive(Clone)]
pub struct MonetaryValue {
    pub(super) value: Decimal,
    pub(super) currency: Currency,
}

#[Object]
impl MonetaryValue {
    async fn value(&self) -> f64 {
        self.value.to_string().parse().unwrap_or(0.0)
    }
    async fn currency(&self) -> Currency {
        self.currency.clone()
    }
    async fn formatted_value(&self) -> String {
        format!("{} {}", self.value, self.currency.code)
    }
}

#[derive(InputObject, Clone)]
pub struct DateRange {
    pub(super) from: Option<DateTimeTz>,
    pub(super) to: Option<DateTimeTz>,
}
#[derive(InputObject, Clone)]
pub struct OrderFilter {
    pub(super) updated_at: Option<DateRange>,
    pub(super) created_at: Option<DateRange>,
    pub(super) status: Option<Vec<OrderStatus>>,
    pub(super) market_id: Option<Vec<i32>>,
    pub(super) number: Option<Vec<i32>>,
}
#[derive(InputObject)]
pub struct ProductFilter {
    pub(super) status: Option<Vec<ProductStatus>>,
    pub(super) updated_at: Option<DateRange>,
}
#[derive(InputObject)]
pub struct ProductSizeFilter {
    #[graphql(name = "SKU")]
    pub(super) sku: Option<Vec<String>>,
    #[graphql(name = "EAN")]
    pub(super) ean: Option<Vec<String>>,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub(super) has_next_page: bool,
    pub(super) end_cursor: Option<String>,
}
#[derive(SimpleObject)]
pub struct OrderEdge {
    pub(super) cursor: String,
    pub(super) node: Order,
}

pub struct OrderConnection {
    pub(super) shared: Arc<Shared>,
    pub(super) filter: Option<OrderFilter>,
    pub(super) page_info: PageInfo,
    pub(super) edges: Vec<OrderEdge>,
}

#[Object]
impl OrderConnection {
    /// Counted only when asked for: it reads every order.
    async fn total_count(&self) -> i32 {
        let w = self.shared.world.read().expect("world lock");
        match &self.filter {
            None => w.orders.len() as i32,
            Some(f) => w.orders.iter().filter(|o| f.matches(o, &w)).count() as i32,
        }
    }
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }
    async fn edges(&self) -> &[OrderEdge] {
        &self.edges
    }
}

#[derive(Interface)]
#[graphql(
    field(name = "id", ty = "String"),
    field(name = "number", ty = "i32"),
    field(name = "status", ty = "OrderStatus"),
    field(name = "created_at", ty = "DateTimeTz"),
    field(name = "updated_at", ty = "DateTimeTz"),
    field(name = "order_date", ty = "DateTimeTz"),
    field(name = "is_on_hold", ty = "bool"),
    field(name = "store", ty = "Store"),
    field(name = "market", ty = "Market"),
    field(
        name = "grand_total",
        ty = "MonetaryValue",
        arg(
            name = "including_tax",
            ty = "Option<bool>",
            default_with = "Some(true)"
        )
    ),
    field(name = "totals", ty = "OrderTotals"),
    field(name = "shipping_price_group", ty = "Option<ShippingPriceGroup>"),
    field(name = "shipping_address", ty = "Option<Address>"),
    field(
        name = "lines",
        ty = "Vec<OrderLine>",
        arg(
            name = "include_fully_cancelled",
            ty = "Option<bool>",
            default_with = "Some(false)"
        )
    ),
    field(name = "shipments", ty = "Vec<Shipment>")
)]
pub enum Order {
    DirectToConsumerOrder(DirectToConsumerOrder),
}

/// An order with what its resolvers need, copied out of the world under one read lock.
pub struct DirectToConsumerOrder {
    pub(super) order: world::Order,
    pub(super) store: Store,
    pub(super) market: Market,
    pub(super) currency: Currency,
    pub(super) country: String,
    pub(super) lines: Vec<ProductOrderLine>,
    pub(super) compact_dates: bool,
    pub(super) tz: chrono_tz::Tz,
}

impl DirectToConsumerOrder {
    pub(super) fn new(w: &World, o: &world::Order, shared: &Arc<Shared>) -> Self {
        let mk = &w.markets[o.market];
        let currency = Currency {
            code: mk.currency.into(),
            decimal_digits: 2,
        };
        let lines = o
            .lines
            .iter()
            .map(|l| ProductOrderLine::new(w, l, currency.clone(), shared))
            .collect();
        DirectToConsumerOrder {
            order: o.clone(),
            store: store(w, mk.store),
            market: market(w, o.market),
            currency,
            country: mk.country.into(),
            lines,
            compact_dates: false,
            tz: w.timezone,
        }
    }
    /// One of the order's shipments as the schema serves it (also the payload of the shipment
    /// mutations).
    pub(super) fn shipment(&self, s: &world::Shipment) -> Shipment {
        Shipment::DirectToConsumerShipment(DirectToConsumerShipment {
            shipment: s.clone(),
            number: format!("{}-{}", self.order.number, s.n),
            lines: s
                .lines
                .iter()
                .map(|&(id, li, q)| ShipmentLine {
                    id: id as i32,
                    quantity: q as i32,
                    order_line: OrderLine::ProductOrderLine(self.lines[li].clone()),
                })
                .collect(),
            tz: self.tz,
        })
    }
    pub(super) fn money(&self, value: Decimal) -> MonetaryValue {
        MonetaryValue {
            value,
            currency: self.currency.clone(),
        }
    }
    pub(super) fn time(&self, t: DateTime<Utc>) -> DateTimeTz {
        DateTimeTz {
            at: t.with_timezone(&self.tz).fixed_offset(),
            compact: self.compact_dates,
        }
    }
}

pub(super) fn store(w: &World, i: usize) -> Store {
    let s = &w.stores[i];
    Store {
        id: s.id as i32,
        name: s.name.into(),
        kind: StoreType::DirectToConsumer,
    }
}

pub(super) fn market(w: &World, i: usize) -> Market {
    let m = &w.markets[i];
    Market {
        id: m.id as i32,
        name: m.name.into(),
        store: store(w, m.store),
    }
}

#[Object]
impl DirectToConsumerOrder {
    async fn id(&self) -> String {
        self.order.id.clone()
    }
    async fn number(&self) -> i32 {
        self.order.number as i32
    }
    async fn status(&self) -> OrderStatus {
        self.order.status.into()
    }
    async fn created_at(&self) -> DateTimeTz {
        self.time(self.order.created_at)
    }
    async fn updated_at(&self) -> DateTimeTz {
        self.time(self.order.updated_at)
    }
    async fn order_date(&self) -> DateTimeTz {
        self.time(self.order.order_date)
    }
    async fn is_on_hold(&self) -> bool {
        self.order.on_hold
    }
    async fn store(&self) -> Store {
        self.store.clone()
    }
    async fn market(&self) -> Market {
        self.market.clone()
    }
    async fn grand_total(
        &self,
        #[graphql(default_with = "Some(true)")] including_tax: Option<bool>,
    ) -> MonetaryValue {
        let t = &self.order.totals;
        self.money(if including_tax.unwrap_or(true) {
            t.gross
        } else {
            t.net
        })
    }
    async fn totals(&self) -> OrderTotals {
        let t = &self.order.totals;
        let m = |v| self.money(v);
        OrderTotals {
            quantity: self.order.lines.iter().map(|l| l.quantity as i32).sum(),
            line_values: m(t.line_values),
            shipping: m(t.shipping),
            handling: m(t.handling),
            discounts: m(t.discounts),
            tax_added: m(t.tax_added),
            tax_deducted: m(t.tax_deducted),
            tax_included: m(t.tax_included),
        }
    }
    async fn shipping_price_group(&self) -> Option<ShippingPriceGroup> {
        Some(ShippingPriceGroup {
            shipping_option: self.order.shipping_option.map(|(id, name)| ShippingOption {
                id: id as i32,
                name: name.into(),
            }),
        })
    }
    async fn shipping_address(&self) -> Option<Address> {
        Some(Address {
            country: Some(Country {
                code: self.country.clone(),
                name: self.market.name.clone(),
            }),
        })
    }
    async fn lines(
        &self,
        #[graphql(default_with = "Some(false)")] include_fully_cancelled: Option<bool>,
    ) -> Vec<OrderLine> {
        let all = include_fully_cancelled.unwrap_or(false);
        self.lines
            .iter()
            .filter(|l| all || l.line.quantity > 0)
            .cloned()
            .map(OrderLine::ProductOrderLine)
            .collect()
    }
    async fn shipments(&self) -> Vec<Shipment> {
        self.order
            .shipments
            .iter()
            .map(|s| self.shipment(s))
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct OrderTotals {
    pub(super) quantity: i32,
    pub(super) line_values: MonetaryValue,
    pub(super) shipping: MonetaryValue,
    pub(super) handling: MonetaryValue,
    pub(super) discounts: MonetaryValue,
    pub(super) tax_added: MonetaryValue,
    pub(super) tax_deducted: MonetaryValue,
    pub(super) tax_included: MonetaryValue,
}
#[derive(SimpleObject, Clone)]
pub struct ShippingOption {
    pub(super) id: i32,
    pub(super) name: String,
}
#[derive(SimpleObject, Clone)]
pub struct ShippingPriceGroup {
    pub(super) shipping_option: Option<ShippingOption>,
}
#[derive(SimpleObject, Clone)]
pub struct Country {
    pub(super) code: String,
    pub(super) name: String,
}
#[derive(SimpleObject, Clone)]
pub struct Address {
    pub(super) country: Option<Country>,
}

#[derive(Interface)]
#[graphql(
    field(name = "id", ty = "i32"),
    field(name = "quantity", ty = "i32"),
    field(name = "cancelled_quantity", ty = "i32"),
    field(name = "tax_percent", ty = "f64"),
    field(name = "discount_percent", ty = "f64"),
    field(name = "product_number", ty = "String"),
    field(name = "product_name", ty = "String"),
    field(name = "size", ty = "String"),
    field(
        name = "unit_price",
        ty = "MonetaryValue",
        arg(name = "including_tax", ty = "bool", default = true)
    ),
    field(
        name = "line_value",
        ty = "MonetaryValue",
        arg(name = "including_tax", ty = "bool", default = true)
    ),
    field(name = "product_size", ty = "Option<ProductSize>")
)]
#[derive(Clone)]
pub enum OrderLine {
    ProductOrderLine(ProductOrderLine),
}

#[derive(Clone)]
pub struct ProductOrderLine {
    pub(super) line: world::Line,
    pub(super) product_number: String,
    pub(super) product_name: String,
    pub(super) size_name: String,
    pub(super) size: ProductSize,
    pub(super) currency: Currency,
}

impl ProductOrderLine {
    pub(super) fn new(
        w: &World,
        l: &world::Line,
        currency: Currency,
        shared: &Arc<Shared>,
    ) -> Self {
        let size = &w.sizes[l.size];
        let product = &w.products[size.product];
        ProductOrderLine {
            line: l.clone(),
            product_number: product.number.clone(),
            product_name: product.name.clone(),
            size_name: size.size_number.trim_start_matches('-').into(),
            size: ProductSize::new(w, l.size, shared),
            currency,
        }
    }
    pub(super) fn money(&self, value: Decimal) -> MonetaryValue {
        MonetaryValue {
            value,
            currency: self.currency.clone(),
        }
    }
}

pub(super) fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

#[Object]
impl ProductOrderLine {
    async fn id(&self) -> i32 {
        self.line.id as i32
    }
    async fn quantity(&self) -> i32 {
        self.line.quantity as i32
    }
    async fn cancelled_quantity(&self) -> i32 {
        self.line.cancelled as i32
    }
    async fn tax_percent(&self) -> f64 {
        to_f64(self.line.tax_percent)
    }
    async fn discount_percent(&self) -> f64 {
        to_f64(self.line.discount_percent)
    }
    async fn product_number(&self) -> String {
        self.product_number.clone()
    }
    async fn product_name(&self) -> String {
        self.product_name.clone()
    }
    async fn size(&self) -> String {
        self.size_name.clone()
    }
    async fn unit_price(&self, #[graphql(default = true)] including_tax: bool) -> MonetaryValue {
        let l = &self.line;
        if including_tax {
            self.money(l.unit_price)
        } else {
            let rate = Decimal::ONE + l.tax_percent / Decimal::ONE_HUNDRED;
            self.money((l.unit_price / rate).round_dp(2))
        }
    }
    async fn line_value(&self, #[graphql(default = true)] including_tax: bool) -> MonetaryValue {
        self.money(if including_tax {
            self.line.gross
        } else {
            self.line.net
        })
    }
    async fn product_size(&self) -> Option<ProductSize> {
        Some(self.size.clone())
    }
}

#[derive(SimpleObject, Clone)]
pub struct CarrierInformation {
    pub(super) carrier_name: Option<String>,
    pub(super) service_name: Option<String>,
}
#[derive(SimpleObject, Clone)]
pub struct ShipmentLine {
    pub(super) id: i32,
    pub(super) quantity: i32,
    pub(super) order_line: OrderLine,
}

#[derive(Interface)]
#[graphql(
    field(name = "id", ty = "i32"),
    field(name = "number", ty = "String"),
    field(name = "created_at", ty = "DateTimeTz"),
    field(name = "updated_at", ty = "DateTimeTz"),
    field(name = "is_shipped", ty = "bool"),
    field(name = "shipped_at", ty = "Option<DateTimeTz>"),
    field(name = "tracking_number", ty = "Option<String>"),
    field(name = "carrier_information", ty = "Option<CarrierInformation>"),
    field(name = "lines", ty = "Vec<ShipmentLine>")
)]
pub enum Shipment {
    DirectToConsumerShipment(DirectToConsumerShipment),
}

/// A shipment. Its times are written in the compact `+0100` offset form some tenants use, so the
/// client's parser meets both forms.
pub struct DirectToConsumerShipment {
    pub(super) shipment: world::Shipment,
    pub(super) number: String,
    pub(super) lines: Vec<ShipmentLine>,
    pub(super) tz: chrono_tz::Tz,
}

impl DirectToConsumerShipment {
    pub(super) fn time(&self, t: DateTime<Utc>) -> DateTimeTz {
        DateTimeTz {
            at: t.with_timezone(&self.tz).fixed_offset(),
            compact: true,
        }
    }
}

#[Object]
impl DirectToConsumerShipment {
    async fn id(&self) -> i32 {
        self.shipment.id as i32
    }
    async fn number(&self) -> String {
        self.number.clone()
    }
    async fn created_at(&self) -> DateTimeTz {
        self.time(self.shipment.created_at)
    }
    async fn updated_at(&self) -> DateTimeTz {
        self.time(self.shipment.updated_at)
    }
    async fn is_shipped(&self) -> bool {
        self.shipment.shipped_at.is_some()
    }
    async fn shipped_at(&self) -> Option<DateTimeTz> {
        self.shipment.shipped_at.map(|t| self.time(t))
    }
    async fn tracking_number(&self) -> Option<String> {
        self.shipment.tracking.clone()
    }
    async fn carrier_information(&self) -> Option<CarrierInformation> {
        self.shipment
            .carrier
            .as_ref()
            .map(|(c, s)| CarrierInformation {
                carrier_name: Some(c.clone()),
                service_name: Some(s.clone()),
            })
    }
    async fn lines(&self) -> &[ShipmentLine] {
        &self.lines
    }
}

pub struct Product {
    pub(super) product: world::Product,
    pub(super) sizes: Vec<Vec<ProductSize>>,
    pub(super) tz: chrono_tz::Tz,
}

#[Object]
impl Product {
    async fn id(&self) -> i32 {
        self.product.id as i32
    }
    async fn name(&self) -> String {
        self.product.name.clone()
    }
    async fn product_number(&self) -> String {
        self.product.number.clone()
    }
    async fn status(&self) -> ProductStatus {
        match self.product.status {
            "INACTIVE" => ProductStatus::Inactive,
            "CANCELLED" => ProductStatus::Cancelled,
            _ => ProductStatus::Active,
        }
    }
    async fn updated_at(&self) -> DateTimeTz {
        DateTimeTz {
            at: self
                .product
                .updated_at
                .with_timezone(&self.tz)
                .fixed_offset(),
            compact: false,
        }
    }
    async fn variants(&self) -> Vec<ProductVariant> {
        self.product
            .variants
            .iter()
            .zip(&self.sizes)
            .map(|(v, sizes)| ProductVariant {
                id: v.id as i32,
                name: v.name.clone(),
                variant_number: v.number.clone(),
                status: status_enum(v.status),
                product_sizes: sizes.clone(),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct ProductVariant {
    pub(super) id: i32,
    pub(super) name: String,
    pub(super) variant_number: String,
    pub(super) status: VariantStatus,
    pub(super) product_sizes: Vec<ProductSize>,
}

/// A product size; its stock is read from the live world when asked for.
#[derive(Clone)]
pub struct ProductSize {
    pub(super) index: usize,
    pub(super) size: world::Size,
    pub(super) shared: Arc<Shared>,
}

impl ProductSize {
    pub(super) fn new(w: &World, index: usize, shared: &Arc<Shared>) -> Self {
        ProductSize {
            index,
            size: w.sizes[index].clone(),
            shared: shared.clone(),
        }
    }
}

/// Checks `limit` (1..=200) and `page` (from 1) and returns the item range they select.
pub(super) fn page_range(limit: Option<i32>, page: Option<i32>) -> Result<(usize, usize)> {
    let limit = limit.unwrap_or(20);
    let page = page.unwrap_or(1);
    if !(1..=200).contains(&limit) {
        return Err(format!("limit must be between 1 and 200, got {limit}").into());
    }
    if page < 1 {
        return Err(format!("page starts at 1, got {page}").into());
    }
    let start = (page as usize - 1) * limit as usize;
    Ok((start, start + limit as usize))
}

#[Object]
impl ProductSize {
    async fn id(&self) -> i32 {
        self.size.id as i32
    }
    #[graphql(name = "SKU")]
    async fn sku(&self) -> String {
        self.size.sku.clone()
    }
    #[graphql(name = "EAN")]
    async fn ean(&self) -> Option<String> {
        self.size.ean.clone()
    }
    async fn size_number(&self) -> String {
        self.size.size_number.clone()
    }
    async fn is_active(&self) -> bool {
        self.size.active
    }
    async fn stock(
        &self,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Stock>> {
        let (start, end) = page_range(limit, page)?;
        let w = self.shared.world.read().expect("world lock");
        Ok(w.centra_stock
            .iter()
            .filter(|s| s.size == self.index)
            .skip(start)
            .take(end - start)
            .map(|s| {
                let wh = &w.warehouses[s.warehouse];
                Stock {
                    warehouse: Warehouse {
                        id: wh.id as i32,
                        name: wh.name.into(),
                    },
                    physical_quantity: (s.free + s.allocated) as i32,
                    free_to_allocate_quantity: s.free as i32,
                    allocated_quantity: s.allocated as i32,
                }
            })
            .collect())
    }
}

#[derive(SimpleObject)]
pub struct Stock {
    pub(super) warehouse: Warehouse,
    pub(super) physical_quantity: i32,
    pub(super) free_to_allocate_quantity: i32,
    pub(super) allocated_quantity: i32,
}

#[derive(SimpleObject, Clone)]
pub struct UserError {
    pub(super) message: String,
    pub(super) path: Option<Vec<String>>,
}
#[derive(SimpleObject, Clone)]
pub struct UserWarning {
    pub(super) message: String,
    pub(super) path: Option<Vec<String>>,
}

/// The opaque cursor of an order position under a sort.
pub(super) fn cursor(position: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("order:{position}"))
}

pub(super) fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("order:")?
        .parse()
        .ok()
}

pub(super) fn in_range(t: DateTime<Utc>, r: &Option<DateRange>) -> bool {
    let Some(r) = r else { return true };
    r.from.is_none_or(|f| t >= f.at.to_utc()) && r.to.is_none_or(|to| t <= to.at.to_utc())
}

impl OrderFilter {
    pub(super) fn matches(&self, o: &world::Order, w: &World) -> bool {
        in_range(o.updated_at, &self.updated_at)
            && in_range(o.created_at, &self.created_at)
            && self
                .status
                .as_ref()
                .is_none_or(|s| s.contains(&o.status.into()))
            && self
                .market_id
                .as_ref()
                .is_none_or(|m| m.contains(&(w.markets[o.market].id as i32)))
            && self
                .number
                .as_ref()
                .is_none_or(|n| n.contains(&(o.number as i32)))
    }
}
