//! The simulated Centra Integration API: a real GraphQL schema (async-graphql) implementing
//! `contracts/centra.graphql` type for type, argument for argument, over the sandbox's [`World`].
//! Transport rules (tokens, throttling, faults) live in [`super::server`]; this file is the schema.

// async-graphql's interface attributes repeat `ty = ...` per field by design.
#![allow(clippy::duplicated_attributes)]

use std::sync::Arc;

use async_graphql::{
    Context, EmptySubscription, Enum, InputObject, Interface, Object, Result, Scalar, ScalarType,
    Schema, SimpleObject, Value,
};
use base64::Engine;
use chrono::{DateTime, FixedOffset, Utc};
use rust_decimal::Decimal;

use super::server::Shared;
use super::world::{self, Status, World};

/// The sandbox's Centra schema type.
pub type CentraSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema over shared sandbox state.
pub fn schema(shared: Arc<Shared>) -> CentraSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .data(shared)
        .finish()
}

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
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(name = "Status")]
pub enum Status_ {
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

fn status_enum(s: &str) -> Status_ {
    match s {
        "INACTIVE" => Status_::Inactive,
        "CANCELLED" => Status_::Cancelled,
        _ => Status_::Active,
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
    id: i32,
    name: String,
    #[graphql(name = "type")]
    kind: StoreType,
}
#[derive(SimpleObject, Clone)]
pub struct Market {
    id: i32,
    name: String,
    store: Store,
}
#[derive(SimpleObject, Clone)]
pub struct Warehouse {
    id: i32,
    name: String,
}
#[derive(SimpleObject, Clone)]
pub struct Currency {
    code: String,
    decimal_digits: i32,
}

/// Money in major units. The wire type is `Float`, as in Centra; values are exact decimals with
/// at most four places, which a float's shortest text form reproduces exactly.
#[derive(Clone)]
pub struct MonetaryValue {
    value: Decimal,
    currency: Currency,
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
    from: Option<DateTimeTz>,
    to: Option<DateTimeTz>,
}
#[derive(InputObject, Clone)]
pub struct OrderFilter {
    updated_at: Option<DateRange>,
    created_at: Option<DateRange>,
    status: Option<Vec<OrderStatus>>,
    market_id: Option<Vec<i32>>,
    number: Option<Vec<i32>>,
}
#[derive(InputObject)]
pub struct ProductFilter {
    status: Option<Vec<ProductStatus>>,
    updated_at: Option<DateRange>,
}
#[derive(InputObject)]
pub struct ProductSizeFilter {
    #[graphql(name = "SKU")]
    sku: Option<Vec<String>>,
    #[graphql(name = "EAN")]
    ean: Option<Vec<String>>,
}

#[derive(SimpleObject)]
pub struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}
#[derive(SimpleObject)]
pub struct OrderEdge {
    cursor: String,
    node: Order,
}

pub struct OrderConnection {
    shared: Arc<Shared>,
    filter: Option<OrderFilter>,
    page_info: PageInfo,
    edges: Vec<OrderEdge>,
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
    order: world::Order,
    store: Store,
    market: Market,
    currency: Currency,
    country: String,
    lines: Vec<ProductOrderLine>,
    compact_dates: bool,
    tz: chrono_tz::Tz,
}

impl DirectToConsumerOrder {
    fn new(w: &World, o: &world::Order, shared: &Arc<Shared>) -> Self {
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
    fn money(&self, value: Decimal) -> MonetaryValue {
        MonetaryValue {
            value,
            currency: self.currency.clone(),
        }
    }
    fn time(&self, t: DateTime<Utc>) -> DateTimeTz {
        DateTimeTz {
            at: t.with_timezone(&self.tz).fixed_offset(),
            compact: self.compact_dates,
        }
    }
}

fn store(w: &World, i: usize) -> Store {
    let s = &w.stores[i];
    Store {
        id: s.id as i32,
        name: s.name.into(),
        kind: StoreType::DirectToConsumer,
    }
}

fn market(w: &World, i: usize) -> Market {
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
            .map(|s| {
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
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct OrderTotals {
    quantity: i32,
    line_values: MonetaryValue,
    shipping: MonetaryValue,
    handling: MonetaryValue,
    discounts: MonetaryValue,
    tax_added: MonetaryValue,
    tax_deducted: MonetaryValue,
    tax_included: MonetaryValue,
}
#[derive(SimpleObject, Clone)]
pub struct ShippingOption {
    id: i32,
    name: String,
}
#[derive(SimpleObject, Clone)]
pub struct ShippingPriceGroup {
    shipping_option: Option<ShippingOption>,
}
#[derive(SimpleObject, Clone)]
pub struct Country {
    code: String,
    name: String,
}
#[derive(SimpleObject, Clone)]
pub struct Address {
    country: Option<Country>,
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
    line: world::Line,
    product_number: String,
    product_name: String,
    size_name: String,
    size: ProductSize,
    currency: Currency,
}

impl ProductOrderLine {
    fn new(w: &World, l: &world::Line, currency: Currency, shared: &Arc<Shared>) -> Self {
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
    fn money(&self, value: Decimal) -> MonetaryValue {
        MonetaryValue {
            value,
            currency: self.currency.clone(),
        }
    }
}

fn to_f64(d: Decimal) -> f64 {
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
    carrier_name: Option<String>,
    service_name: Option<String>,
}
#[derive(SimpleObject, Clone)]
pub struct ShipmentLine {
    id: i32,
    quantity: i32,
    order_line: OrderLine,
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
    shipment: world::Shipment,
    number: String,
    lines: Vec<ShipmentLine>,
    tz: chrono_tz::Tz,
}

impl DirectToConsumerShipment {
    fn time(&self, t: DateTime<Utc>) -> DateTimeTz {
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
    product: world::Product,
    sizes: Vec<Vec<ProductSize>>,
    tz: chrono_tz::Tz,
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
    id: i32,
    name: String,
    variant_number: String,
    status: Status_,
    product_sizes: Vec<ProductSize>,
}

/// A product size; its stock is read from the live world when asked for.
#[derive(Clone)]
pub struct ProductSize {
    index: usize,
    size: world::Size,
    shared: Arc<Shared>,
}

impl ProductSize {
    fn new(w: &World, index: usize, shared: &Arc<Shared>) -> Self {
        ProductSize {
            index,
            size: w.sizes[index].clone(),
            shared: shared.clone(),
        }
    }
}

/// Checks `limit` (1..=200) and `page` (from 1) and returns the item range they select.
fn page_range(limit: Option<i32>, page: Option<i32>) -> Result<(usize, usize)> {
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
    warehouse: Warehouse,
    physical_quantity: i32,
    free_to_allocate_quantity: i32,
    allocated_quantity: i32,
}

#[derive(SimpleObject, Clone)]
pub struct UserError {
    message: String,
    path: Option<Vec<String>>,
}
#[derive(SimpleObject, Clone)]
pub struct UserWarning {
    message: String,
    path: Option<Vec<String>>,
}

/// The opaque cursor of an order position under a sort.
fn cursor(position: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("order:{position}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("order:")?
        .parse()
        .ok()
}

fn in_range(t: DateTime<Utc>, r: &Option<DateRange>) -> bool {
    let Some(r) = r else { return true };
    r.from.is_none_or(|f| t >= f.at.to_utc()) && r.to.is_none_or(|to| t <= to.at.to_utc())
}

impl OrderFilter {
    fn matches(&self, o: &world::Order, w: &World) -> bool {
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

pub struct Query;

#[Object]
impl Query {
    async fn rate_limits(&self, ctx: &Context<'_>) -> Vec<RateLimit> {
        ctx.data_unchecked::<Arc<Shared>>().rate_limits()
    }

    async fn stores(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Store>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok((0..w.stores.len())
            .skip(start)
            .take(end - start)
            .map(|i| store(&w, i))
            .collect())
    }

    async fn markets(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Market>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok((0..w.markets.len())
            .skip(start)
            .take(end - start)
            .map(|i| market(&w, i))
            .collect())
    }

    async fn warehouses(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Warehouse>> {
        let (start, end) = page_range(limit, page)?;
        let w = ctx
            .data_unchecked::<Arc<Shared>>()
            .world
            .read()
            .expect("world lock");
        Ok(w.warehouses
            .iter()
            .skip(start)
            .take(end - start)
            .map(|wh| Warehouse {
                id: wh.id as i32,
                name: wh.name.into(),
            })
            .collect())
    }

    async fn order_connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(20)")] first: Option<i32>,
        after: Option<String>,
        #[graphql(name = "where")] filter: Option<OrderFilter>,
        #[graphql(default_with = "Some(vec![OrderSort::IdAsc])")] sort: Option<Vec<OrderSort>>,
    ) -> Result<OrderConnection> {
        let first = first.unwrap_or(20);
        if !(1..=200).contains(&first) {
            return Err(format!("first must be between 1 and 200, got {first}").into());
        }
        let start = match &after {
            None => 0,
            Some(c) => decode_cursor(c).ok_or("after is not a cursor this API issued")? + 1,
        };
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        let sort = sort
            .unwrap_or_default()
            .first()
            .copied()
            .unwrap_or(OrderSort::IdAsc);
        let n = w.orders.len();
        // Position -> order index under the sort; only updatedAt needs a sorted copy.
        let by_updated: Vec<usize> = if sort == OrderSort::UpdatedAtAsc {
            let mut v: Vec<usize> = (0..n).collect();
            v.sort_by_key(|&i| (w.orders[i].updated_at, i));
            v
        } else {
            Vec::new()
        };
        let at = |p: usize| match sort {
            OrderSort::IdAsc | OrderSort::NumberAsc => p,
            OrderSort::IdDesc | OrderSort::NumberDesc => n - 1 - p,
            OrderSort::UpdatedAtAsc => by_updated[p],
        };
        let matches = |i: usize| filter.as_ref().is_none_or(|f| f.matches(&w.orders[i], &w));
        let mut edges = Vec::new();
        let mut last = None;
        let mut position = start;
        while position < n && edges.len() < first as usize {
            let i = at(position);
            if matches(i) {
                edges.push(OrderEdge {
                    cursor: cursor(position),
                    node: Order::DirectToConsumerOrder(DirectToConsumerOrder::new(
                        &w,
                        &w.orders[i],
                        shared,
                    )),
                });
                last = Some(position);
            }
            position += 1;
        }
        let has_next_page = (position..n).any(|p| matches(at(p)));
        drop(w);
        Ok(OrderConnection {
            shared: shared.clone(),
            filter,
            page_info: PageInfo {
                has_next_page,
                end_cursor: last.map(cursor),
            },
            edges,
        })
    }

    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<ProductFilter>,
        #[graphql(default_with = "Some(vec![ProductSort::IdAsc])")] sort: Option<Vec<ProductSort>>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<Product>> {
        let (start, end) = page_range(limit, page)?;
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        let mut selected: Vec<&world::Product> = w
            .products
            .iter()
            .filter(|p| {
                filter.as_ref().is_none_or(|f| {
                    f.status.as_ref().is_none_or(|s| {
                        s.iter().any(|s| {
                            matches!(
                                (s, p.status),
                                (ProductStatus::Active, "ACTIVE")
                                    | (ProductStatus::Inactive, "INACTIVE")
                                    | (ProductStatus::Cancelled, "CANCELLED")
                            )
                        })
                    }) && in_range(p.updated_at, &f.updated_at)
                })
            })
            .collect();
        if sort.unwrap_or_default().first() == Some(&ProductSort::IdDesc) {
            selected.reverse();
        }
        Ok(selected
            .into_iter()
            .skip(start)
            .take(end - start)
            .map(|p| Product {
                product: p.clone(),
                sizes: p
                    .variants
                    .iter()
                    .map(|v| {
                        v.sizes
                            .iter()
                            .map(|&s| ProductSize::new(&w, s, shared))
                            .collect()
                    })
                    .collect(),
                tz: w.timezone,
            })
            .collect())
    }

    async fn product_sizes(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] filter: Option<ProductSizeFilter>,
        #[graphql(default_with = "Some(20)")] limit: Option<i32>,
        #[graphql(default_with = "Some(1)")] page: Option<i32>,
    ) -> Result<Vec<ProductSize>> {
        let (start, end) = page_range(limit, page)?;
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let w = shared.world.read().expect("world lock");
        Ok(w.sizes
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                filter.as_ref().is_none_or(|f| {
                    f.sku.as_ref().is_none_or(|k| k.contains(&s.sku))
                        && f.ean
                            .as_ref()
                            .is_none_or(|e| s.ean.as_ref().is_some_and(|x| e.contains(x)))
                })
            })
            .skip(start)
            .take(end - start)
            .map(|(i, _)| ProductSize::new(&w, i, shared))
            .collect())
    }
}

#[derive(InputObject)]
pub struct WarehouseInput {
    id: Option<i32>,
}
#[derive(InputObject)]
pub struct ProductSizeInput {
    id: Option<i32>,
    #[graphql(name = "SKU")]
    sku: Option<String>,
    #[graphql(name = "EAN")]
    ean: Option<String>,
}
#[derive(InputObject)]
pub struct StockSetProductSizeInput {
    product_size: ProductSizeInput,
    quantity: i32,
}
#[derive(InputObject)]
pub struct StockSetInput {
    warehouse: WarehouseInput,
    description: String,
    stock_quantity_type: StockQuantityType,
    product_sizes: Vec<StockSetProductSizeInput>,
}
#[derive(InputObject)]
pub struct StockChangeProductSizeInput {
    product_size: ProductSizeInput,
    quantity: i32,
}
#[derive(InputObject)]
pub struct StockChangeInput {
    into_warehouse: Option<WarehouseInput>,
    out_from_warehouse: Option<WarehouseInput>,
    description: String,
    product_sizes: Vec<StockChangeProductSizeInput>,
}
#[derive(SimpleObject, Default)]
pub struct StockSetPayload {
    user_errors: Vec<UserError>,
    user_warnings: Vec<UserWarning>,
}
#[derive(SimpleObject, Default)]
pub struct StockChangePayload {
    user_errors: Vec<UserError>,
    user_warnings: Vec<UserWarning>,
}
#[derive(InputObject)]
pub struct OrderInput {
    id: Option<String>,
    number: Option<i32>,
}
#[derive(InputObject)]
pub struct OrderLineInput {
    id: i32,
}
#[derive(InputObject)]
pub struct ShipmentLineInput {
    order_line: OrderLineInput,
    quantity: i32,
}
#[derive(InputObject)]
pub struct ShipmentCreateInput {
    order: OrderInput,
    lines: Vec<ShipmentLineInput>,
    is_good_to_go: Option<bool>,
    send_email: Option<bool>,
}
#[derive(InputObject)]
pub struct ShipmentInfoInput {
    carrier: Option<String>,
    service: Option<String>,
    tracking_number: Option<String>,
    packages_number: Option<i32>,
}
#[derive(InputObject)]
pub struct ShipmentCompleteInput {
    shipped_at: Option<DateTimeTz>,
    send_email: Option<bool>,
    shipment_info: Option<ShipmentInfoInput>,
}
#[derive(SimpleObject, Default)]
pub struct ShipmentCreatePayload {
    shipment: Option<Shipment>,
    user_errors: Vec<UserError>,
    user_warnings: Vec<UserWarning>,
}
#[derive(SimpleObject, Default)]
pub struct ShipmentCompletePayload {
    shipment: Option<Shipment>,
    user_errors: Vec<UserError>,
    user_warnings: Vec<UserWarning>,
}

fn user_error(message: impl Into<String>, path: &[&str]) -> UserError {
    UserError {
        message: message.into(),
        path: Some(path.iter().map(|s| s.to_string()).collect()),
    }
}

fn find_size(w: &World, input: &ProductSizeInput) -> Option<usize> {
    w.sizes.iter().position(|s| {
        input.id.is_some_and(|id| id as i64 == s.id)
            || input.sku.as_ref().is_some_and(|k| *k == s.sku)
            || input
                .ean
                .as_ref()
                .is_some_and(|e| s.ean.as_ref() == Some(e))
    })
}

fn find_warehouse(w: &World, input: &WarehouseInput) -> Option<usize> {
    w.warehouses
        .iter()
        .position(|wh| input.id == Some(wh.id as i32))
}

fn stock_row(w: &mut World, size: usize, warehouse: usize) -> &mut world::CentraStock {
    if let Some(i) = w
        .centra_stock
        .iter()
        .position(|s| s.size == size && s.warehouse == warehouse)
    {
        &mut w.centra_stock[i]
    } else {
        w.centra_stock.push(world::CentraStock {
            size,
            warehouse,
            free: 0,
            allocated: 0,
        });
        w.centra_stock.last_mut().expect("just pushed")
    }
}

fn shipment_view(
    w: &World,
    o: &world::Order,
    s: &world::Shipment,
    shared: &Arc<Shared>,
) -> Shipment {
    let view = DirectToConsumerOrder::new(w, o, shared);
    Shipment::DirectToConsumerShipment(DirectToConsumerShipment {
        shipment: s.clone(),
        number: format!("{}-{}", o.number, s.n),
        lines: s
            .lines
            .iter()
            .map(|&(id, li, q)| ShipmentLine {
                id: id as i32,
                quantity: q as i32,
                order_line: OrderLine::ProductOrderLine(view.lines[li].clone()),
            })
            .collect(),
        tz: w.timezone,
    })
}

pub struct Mutation;

#[Object]
impl Mutation {
    /// Sets absolute levels per size in one warehouse; all-or-nothing.
    async fn set_stock(&self, ctx: &Context<'_>, input: StockSetInput) -> StockSetPayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let Some(wh) = find_warehouse(&w, &input.warehouse) else {
            return StockSetPayload {
                user_errors: vec![user_error("unknown warehouse", &["input", "warehouse"])],
                ..Default::default()
            };
        };
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (i, ps) in input.product_sizes.iter().enumerate() {
            match find_size(&w, &ps.product_size) {
                _ if ps.quantity < 0 => errors.push(user_error(
                    "quantity must be zero or more",
                    &["input", "productSizes", &i.to_string(), "quantity"],
                )),
                None => errors.push(user_error(
                    "unknown product size",
                    &["input", "productSizes", &i.to_string(), "productSize"],
                )),
                Some(s) => changes.push((s, ps.quantity as i64)),
            }
        }
        if !errors.is_empty() {
            return StockSetPayload {
                user_errors: errors,
                ..Default::default()
            };
        }
        for (s, q) in changes {
            let row = stock_row(&mut w, s, wh);
            row.free = match input.stock_quantity_type {
                StockQuantityType::FreeToAllocate => q,
                StockQuantityType::Physical => (q - row.allocated).max(0),
            };
        }
        StockSetPayload::default()
    }

    /// Adds (`intoWarehouse`) or removes (`outFromWarehouse`) units per size; never below zero.
    async fn change_stock(&self, ctx: &Context<'_>, input: StockChangeInput) -> StockChangePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let (wh, sign) = match (&input.into_warehouse, &input.out_from_warehouse) {
            (Some(into), None) => (find_warehouse(&w, into), 1),
            (None, Some(out)) => (find_warehouse(&w, out), -1),
            _ => {
                return StockChangePayload {
                    user_errors: vec![user_error(
                        "give exactly one of intoWarehouse and outFromWarehouse",
                        &["input"],
                    )],
                    ..Default::default()
                };
            }
        };
        let Some(wh) = wh else {
            return StockChangePayload {
                user_errors: vec![user_error("unknown warehouse", &["input"])],
                ..Default::default()
            };
        };
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        for (i, ps) in input.product_sizes.iter().enumerate() {
            let at = i.to_string();
            match find_size(&w, &ps.product_size) {
                _ if ps.quantity <= 0 => errors.push(user_error(
                    "quantity must be positive",
                    &["input", "productSizes", &at, "quantity"],
                )),
                None => errors.push(user_error(
                    "unknown product size",
                    &["input", "productSizes", &at, "productSize"],
                )),
                Some(s) => {
                    let free = w
                        .centra_stock
                        .iter()
                        .find(|r| r.size == s && r.warehouse == wh)
                        .map_or(0, |r| r.free);
                    if free + sign * (ps.quantity as i64) < 0 {
                        errors.push(user_error(
                            format!(
                                "only {free} free to allocate; cannot remove {}",
                                ps.quantity
                            ),
                            &["input", "productSizes", &at, "quantity"],
                        ));
                    } else {
                        changes.push((s, sign * ps.quantity as i64));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return StockChangePayload {
                user_errors: errors,
                ..Default::default()
            };
        }
        for (s, delta) in changes {
            stock_row(&mut w, s, wh).free += delta;
        }
        StockChangePayload::default()
    }

    /// Creates an unshipped shipment for quantities not yet in another shipment.
    async fn create_shipment(
        &self,
        ctx: &Context<'_>,
        input: ShipmentCreateInput,
    ) -> ShipmentCreatePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let found = w.orders.iter().position(|o| {
            input.order.id.as_ref().is_some_and(|id| *id == o.id)
                || input.order.number.is_some_and(|n| n as i64 == o.number)
        });
        let fail = |m: &str, path: &[&str]| ShipmentCreatePayload {
            user_errors: vec![user_error(m, path)],
            ..Default::default()
        };
        let Some(oi) = found else {
            return fail("unknown order", &["input", "order"]);
        };
        if input.lines.is_empty() {
            return fail("a shipment needs at least one line", &["input", "lines"]);
        }
        let next_line_id = w
            .orders
            .iter()
            .flat_map(|o| &o.shipments)
            .flat_map(|s| &s.lines)
            .map(|l| l.0)
            .max()
            .unwrap_or(0);
        let next_shipment_id = w
            .orders
            .iter()
            .flat_map(|o| &o.shipments)
            .map(|s| s.id)
            .max()
            .unwrap_or(0)
            + 1;
        let now = Utc::now();
        let o = &mut w.orders[oi];
        if matches!(o.status, Status::Cancelled | Status::Pending) {
            return fail("order cannot be shipped in its status", &["input", "order"]);
        }
        let mut lines = Vec::new();
        for (i, l) in input.lines.iter().enumerate() {
            let Some(li) = o.lines.iter().position(|x| x.id == l.order_line.id as i64) else {
                return fail("unknown order line", &["input", "lines", &i.to_string()]);
            };
            let in_shipments: i64 = o
                .shipments
                .iter()
                .flat_map(|s| &s.lines)
                .filter(|x| x.1 == li)
                .map(|x| x.2)
                .sum();
            if l.quantity <= 0 || in_shipments + l.quantity as i64 > o.lines[li].quantity {
                return fail(
                    "quantity exceeds what is left to ship",
                    &["input", "lines", &i.to_string(), "quantity"],
                );
            }
            lines.push((next_line_id + 1 + i as i64, li, l.quantity as i64));
        }
        let shipment = world::Shipment {
            id: next_shipment_id,
            n: o.shipments.len() as u32 + 1,
            created_at: now,
            updated_at: now,
            shipped_at: None,
            tracking: None,
            carrier: None,
            lines,
        };
        o.shipments.push(shipment.clone());
        o.updated_at = now;
        let o = w.orders[oi].clone();
        ShipmentCreatePayload {
            shipment: Some(shipment_view(&w, &o, &shipment, shared)),
            ..Default::default()
        }
    }

    /// Marks a shipment shipped with its tracking and carrier; the order's status follows.
    async fn complete_shipment(
        &self,
        ctx: &Context<'_>,
        id: i32,
        input: ShipmentCompleteInput,
    ) -> ShipmentCompletePayload {
        let shared = ctx.data_unchecked::<Arc<Shared>>();
        let mut w = shared.world.write().expect("world lock");
        let found = w.orders.iter().enumerate().find_map(|(oi, o)| {
            o.shipments
                .iter()
                .position(|s| s.id == id as i64)
                .map(|si| (oi, si))
        });
        let Some((oi, si)) = found else {
            return ShipmentCompletePayload {
                user_errors: vec![user_error("unknown shipment", &["id"])],
                ..Default::default()
            };
        };
        if w.orders[oi].shipments[si].shipped_at.is_some() {
            return ShipmentCompletePayload {
                user_errors: vec![user_error("shipment is already completed", &["id"])],
                ..Default::default()
            };
        }
        let now = Utc::now();
        let market_wh = w.markets[w.orders[oi].market].warehouse;
        let shipped: Vec<(usize, i64)> = {
            let o = &mut w.orders[oi];
            let s = &mut o.shipments[si];
            s.shipped_at = Some(input.shipped_at.map_or(now, |t| t.at.to_utc()));
            s.updated_at = now;
            if let Some(info) = &input.shipment_info {
                s.tracking = info.tracking_number.clone();
                s.carrier = Some((
                    info.carrier.clone().unwrap_or_default(),
                    info.service.clone().unwrap_or_default(),
                ));
            }
            let shipped = s
                .lines
                .iter()
                .map(|&(_, li, q)| (o.lines[li].size, q))
                .collect();
            let all_shipped = o
                .lines
                .iter()
                .enumerate()
                .all(|(li, l)| o.shipped_units(li) >= l.quantity);
            o.status = if all_shipped {
                Status::Shipped
            } else {
                Status::Processing
            };
            o.updated_at = now;
            shipped
        };
        // Centra decrements stock itself when it ships: the allocated units leave.
        for (size, q) in shipped {
            let row = stock_row(&mut w, size, market_wh);
            row.allocated = (row.allocated - q).max(0);
        }
        let o = w.orders[oi].clone();
        let s = o.shipments[si].clone();
        ShipmentCompletePayload {
            shipment: Some(shipment_view(&w, &o, &s, shared)),
            ..Default::default()
        }
    }
}
