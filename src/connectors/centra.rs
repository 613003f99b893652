//! Centra's Integration API (GraphQL): the queries tally sends and how their answers become rows.
//!
//! Orders come through `orderConnection` (200 per page, cursor paging, lines and shipments inside);
//! products with their sizes and stock per warehouse, markets and warehouses through `limit`/`page`
//! lists. The client paces itself from `rateLimits` read at the start. A 403 stops the run: the
//! token is missing, wrong or expired. A response with `errors` is never used, even with data.

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::http::{Http, Replay, RetryPolicy};
use super::json::{datetime_tz, decimal, int};
use super::{Error, Warnings, money};
use crate::model::{
    CentraMarket, CentraOrder, CentraOrderLine, CentraProduct, CentraShipment, CentraShipmentLine,
    CentraStock, CentraWarehouse, sku_key,
};
use crate::snapshot::Sink;

const SYSTEM: &str = "Centra";

/// Orders per `orderConnection` page (Centra's maximum).
pub const ORDER_PAGE: i64 = 200;
/// Items per `limit`/`page` list page (Centra's maximum).
pub const LIST_PAGE: i64 = 200;

/// The rate limits query, read once at the start to pace the client.
pub const RATE_LIMITS_QUERY: &str =
    "query RateLimits { rateLimits { type intervalSeconds quota usedQuota remainingQuota } }";

/// One page of orders with everything reconcile needs.
pub const ORDERS_QUERY: &str = r#"query Orders($first: Int!, $after: String, $where: OrderFilter, $withTotal: Boolean!) {
  orderConnection(first: $first, after: $after, where: $where, sort: [id_ASC]) {
    totalCount @include(if: $withTotal)
    pageInfo { hasNextPage endCursor }
    edges { node {
      id number status createdAt updatedAt orderDate isOnHold
      store { id name }
      market { id name }
      gross: grandTotal(includingTax: true) { value currency { code decimalDigits } }
      net: grandTotal(includingTax: false) { value }
      totals {
        lineValues { value } shipping { value } handling { value } discounts { value }
        taxAdded { value } taxDeducted { value } taxIncluded { value }
      }
      shippingPriceGroup { shippingOption { name } }
      shippingAddress { country { code } }
      lines {
        id quantity cancelledQuantity taxPercent discountPercent productNumber productName size
        unitPrice(includingTax: true) { value }
        gross: lineValue(includingTax: true) { value }
        net: lineValue(includingTax: false) { value }
        productSize { SKU }
      }
      shipments {
        id number createdAt updatedAt isShipped shippedAt trackingNumber
        carrierInformation { carrierName serviceName }
        lines { id quantity orderLine { id productSize { SKU } } }
      }
    } }
  }
}"#;

/// One page of products with their variants, sizes and stock per warehouse.
pub const PRODUCTS_QUERY: &str = r#"query Products($limit: Int!, $page: Int!) {
  products(limit: $limit, page: $page, sort: [id_ASC]) {
    id name productNumber status
    variants {
      id name variantNumber status
      productSizes {
        id SKU EAN sizeNumber isActive
        stock(limit: 200) { warehouse { id name } physicalQuantity freeToAllocateQuantity allocatedQuantity }
      }
    }
  }
}"#;

/// One page of markets with their stores.
pub const MARKETS_QUERY: &str = r#"query Markets($limit: Int!, $page: Int!) {
  markets(limit: $limit, page: $page) { id name store { id name type } }
}"#;

/// One page of warehouses.
pub const WAREHOUSES_QUERY: &str = r#"query Warehouses($limit: Int!, $page: Int!) {
  warehouses(limit: $limit, page: $page) { id name }
}"#;

/// Live stock of sizes by SKU, re-read before a stock correction.
pub const LIVE_STOCK_QUERY: &str = r#"query LiveStock($skus: [String!], $limit: Int!) {
  productSizes(where: {SKU: $skus}, limit: $limit) { id SKU stock(limit: 200) { warehouse { id } freeToAllocateQuantity } }
}"#;

/// One order's lines and shipments, re-read before a shipment is created.
pub const ORDER_SHIPMENTS_QUERY: &str = r#"query OrderShipments($number: Int!) {
  orderConnection(first: 1, where: {number: [$number]}) {
    edges { node { number lines { id quantity } shipments { id isShipped lines { quantity orderLine { id } } } } }
  }
}"#;

/// A stock delta for many sizes in one warehouse.
pub const CHANGE_STOCK_MUTATION: &str = r#"mutation ChangeStock($input: StockChangeInput!) {
  changeStock(input: $input) { userErrors { message path } userWarnings { message path } }
}"#;

/// Creates an unshipped shipment.
pub const CREATE_SHIPMENT_MUTATION: &str = r#"mutation CreateShipment($input: ShipmentCreateInput!) {
  createShipment(input: $input) { shipment { id } userErrors { message path } userWarnings { message path } }
}"#;

/// Completes a shipment with tracking, carrier and service.
pub const COMPLETE_SHIPMENT_MUTATION: &str = r#"mutation CompleteShipment($id: Int!, $input: ShipmentCompleteInput!) {
  completeShipment(id: $id, input: $input) { shipment { id isShipped } userErrors { message path } userWarnings { message path } }
}"#;

/// Every query the connector sends, for the test that validates them against the contract schema.
pub const ALL_QUERIES: [&str; 7] = [
    RATE_LIMITS_QUERY,
    ORDERS_QUERY,
    PRODUCTS_QUERY,
    MARKETS_QUERY,
    WAREHOUSES_QUERY,
    LIVE_STOCK_QUERY,
    ORDER_SHIPMENTS_QUERY,
];

/// Every mutation the connector sends (`tally apply`), for `tally doctor`'s schema check.
pub const ALL_MUTATIONS: [&str; 3] = [
    CHANGE_STOCK_MUTATION,
    CREATE_SHIPMENT_MUTATION,
    COMPLETE_SHIPMENT_MUTATION,
];

/// A Centra connection.
pub struct Centra {
    http: Http,
    url: String,
    token: String,
    token_env: String,
    budget_percent: u32,
}

/// The pace a client set from `rateLimits`: what the tenant allows and what tally takes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// The ten-second quota of the bucket that binds (requests, or mutations when writing).
    pub allowed_per_10s: u32,
    /// The requests per ten seconds the client paces itself to (`budget_percent` of the quota).
    pub paced_per_10s: u32,
}

#[derive(Deserialize)]
struct Response<T> {
    data: Option<T>,
    errors: Option<Vec<GqlError>>,
}

#[derive(Deserialize)]
struct GqlError {
    message: String,
    #[serde(default)]
    path: Option<Vec<serde_json::Value>>,
}

impl Centra {
    /// Connects to `base_url` with the token read from `token_env`, to pace itself to
    /// `budget_percent` of the tenant's rate limits once they are read.
    pub fn new(
        base_url: &str,
        token: String,
        token_env: &str,
        budget_percent: u32,
        policy: RetryPolicy,
    ) -> Result<Centra, Error> {
        Ok(Centra {
            http: Http::new(SYSTEM, policy)?,
            url: format!("{}/graphql", base_url.trim_end_matches('/')),
            token,
            token_env: token_env.into(),
            budget_percent: budget_percent.clamp(1, 100),
        })
    }

    /// Requests sent so far, retries included (what Centra's request bucket counts).
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// Sends one query and returns its data, refusing any response that carries errors.
    pub async fn query<T: DeserializeOwned>(
        &self,
        what: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<T, Error> {
        self.send(what, query, variables, Replay::Safe).await
    }

    /// Sends one mutation, once: a failure whose outcome is unknown comes back as
    /// [`Error::OutcomeUnknown`] for the caller to resolve by re-reading.
    pub async fn mutate<T: DeserializeOwned>(
        &self,
        what: &str,
        mutation: &str,
        variables: serde_json::Value,
    ) -> Result<T, Error> {
        self.send(what, mutation, variables, Replay::Never).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        what: &str,
        query: &str,
        variables: serde_json::Value,
        replay: Replay,
    ) -> Result<T, Error> {
        let body =
            serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("json");
        let reply = self
            .http
            .send(what, replay, || {
                self.http
                    .client()
                    .post(&self.url)
                    .bearer_auth(&self.token)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        match reply.status.as_u16() {
            200 => {}
            401 | 403 => {
                return Err(Error::Auth {
                    system: SYSTEM,
                    what: what.into(),
                    hint: format!(
                        "HTTP {}: the token in {} is missing, wrong or expired (Centra tokens last 30 days by default); create a new Integration API token and export it",
                        reply.status.as_u16(),
                        self.token_env
                    ),
                });
            }
            status => {
                return Err(Error::Status {
                    system: SYSTEM,
                    what: what.into(),
                    status,
                    body: String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
                        .into_owned(),
                });
            }
        }
        let parsed: Response<T> = serde_json::from_slice(&reply.body)
            .map_err(|e| Error::json(SYSTEM, what, &reply.body, &e))?;
        if let Some(errors) = parsed.errors.filter(|e| !e.is_empty()) {
            let messages = errors
                .iter()
                .map(|e| match &e.path {
                    Some(p) => format!(
                        "{} (at {})",
                        e.message,
                        serde_json::to_string(p).unwrap_or_default()
                    ),
                    None => e.message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::GraphQl {
                what: what.into(),
                messages,
            });
        }
        parsed.data.ok_or_else(|| Error::Data {
            system: SYSTEM,
            what: what.into(),
            detail: "the response has neither data nor errors".into(),
        })
    }

    /// The ten-second quota of each rate-limit bucket (`REQUEST_COUNT`, `MUTATION_COUNT`...).
    async fn ten_second_quotas(&self) -> Result<std::collections::BTreeMap<String, i64>, Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Limits {
            rate_limits: Vec<Limit>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Limit {
            #[serde(rename = "type")]
            kind: String,
            interval_seconds: String,
            #[serde(deserialize_with = "int")]
            quota: i64,
        }
        let limits: Limits = self
            .query("rateLimits", RATE_LIMITS_QUERY, json!({}))
            .await?;
        Ok(limits
            .rate_limits
            .into_iter()
            .filter(|l| l.interval_seconds == "TEN_SECONDS")
            .map(|l| (l.kind, l.quota.max(1)))
            .collect())
    }

    /// Paces every request to `budget_percent` of `budget` per ten seconds, spread evenly: the
    /// rest is left to the integrations that share the tenant. Rounded down, so the pace never
    /// exceeds the share.
    fn pace_to(&mut self, budget: i64) -> Pace {
        let allowed = budget.clamp(1, i64::from(u32::MAX)) as u32;
        let paced = ((u64::from(allowed) * u64::from(self.budget_percent)) / 100).max(1) as u32;
        self.http.pace(paced, std::time::Duration::from_secs(10));
        Pace {
            allowed_per_10s: allowed,
            paced_per_10s: paced,
        }
    }

    /// Reads `rateLimits` and paces the client to the request budget (for extraction: reads).
    pub async fn pace_from_rate_limits(&mut self) -> Result<Pace, Error> {
        let quotas = self.ten_second_quotas().await?;
        Ok(self.pace_to(quotas.get("REQUEST_COUNT").copied().unwrap_or(60)))
    }

    /// Reads `rateLimits` and paces every request to the smaller of the mutation and request
    /// budgets: applying a plan is mostly writes.
    pub async fn pace_for_writes(&mut self) -> Result<Pace, Error> {
        let quotas = self.ten_second_quotas().await?;
        let budget = quotas
            .get("MUTATION_COUNT")
            .copied()
            .unwrap_or(20)
            .min(quotas.get("REQUEST_COUNT").copied().unwrap_or(60));
        Ok(self.pace_to(budget))
    }

    /// Streams every order updated in the window into the four order sinks.
    pub async fn orders(
        &self,
        since: Option<DateTime<Utc>>,
        tz: chrono_tz::Tz,
        sinks: &mut OrderSinks,
        warnings: &Warnings,
        progress: &ProgressBar,
    ) -> Result<(), Error> {
        let filter = since.map(|s| json!({ "updatedAt": { "from": s.to_rfc3339() } }));
        let mut after: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        loop {
            let what = match &after {
                None => "orderConnection (first page)".to_string(),
                Some(c) => format!("orderConnection page after cursor {c}"),
            };
            let variables = json!({ "first": ORDER_PAGE, "after": after, "where": filter, "withTotal": after.is_none() });
            let page: OrdersData = self.query(&what, ORDERS_QUERY, variables).await?;
            let conn = page.order_connection;
            if let Some(total) = conn.total_count {
                progress.set_length(total.max(0) as u64);
            }
            for edge in conn.edges {
                edge.node.into_rows(sinks, warnings, tz, &what)?;
                progress.inc(1);
            }
            if !conn.page_info.has_next_page {
                return Ok(());
            }
            match conn.page_info.end_cursor {
                Some(c) if seen.insert(c.clone()) => after = Some(c),
                Some(c) => {
                    return Err(Error::Data {
                        system: SYSTEM,
                        what,
                        detail: format!(
                            "hasNextPage is true but endCursor {c:?} points back to a page already read; paging would repeat rows"
                        ),
                    });
                }
                None => {
                    return Err(Error::Data {
                        system: SYSTEM,
                        what,
                        detail:
                            "hasNextPage is true but endCursor is missing; paging cannot continue"
                                .into(),
                    });
                }
            }
        }
    }

    /// Streams every product size (and its stock per warehouse) into the two sinks.
    pub async fn products(
        &self,
        products: &mut Sink<CentraProduct>,
        stock: &mut Sink<CentraStock>,
        progress: &ProgressBar,
    ) -> Result<(), Error> {
        self.numbered_pages("products", PRODUCTS_QUERY, |data: ProductsData, what| {
            let n = data.products.len();
            for p in data.products {
                for v in p.variants {
                    for s in v.product_sizes {
                        if s.stock.len() as i64 >= LIST_PAGE {
                            return Err(Error::Data {
                                system: SYSTEM,
                                what: what.into(),
                                detail: format!(
                                    "size {} lists stock in 200 or more warehouses; tally reads at most 199",
                                    s.sku
                                ),
                            });
                        }
                        for st in &s.stock {
                            stock.push(CentraStock {
                                size_id: s.id,
                                sku: s.sku.clone(),
                                sku_key: sku_key(&s.sku),
                                warehouse_id: st.warehouse.id,
                                warehouse: st.warehouse.name.clone(),
                                physical: st.physical_quantity,
                                free_to_allocate: st.free_to_allocate_quantity,
                                allocated: st.allocated_quantity,
                            })?;
                        }
                        products.push(CentraProduct {
                            product_id: p.id,
                            product_number: p.product_number.clone(),
                            product_name: p.name.clone(),
                            product_status: p.status.clone(),
                            variant_id: v.id,
                            variant_number: v.variant_number.clone(),
                            variant_name: v.name.clone(),
                            variant_status: v.status.clone(),
                            size_id: s.id,
                            sku_key: sku_key(&s.sku),
                            sku: s.sku,
                            ean: s.ean,
                            size_number: s.size_number,
                            is_active: s.is_active,
                        })?;
                    }
                }
                progress.inc(1);
            }
            Ok(n)
        })
        .await
    }

    /// Reads a page-numbered list (`limit`, `page`) to its end: `each` takes one page's data (and
    /// what to call the page in messages) and returns how many items it held; a page of fewer than
    /// [`LIST_PAGE`] items is the last.
    async fn numbered_pages<T: DeserializeOwned>(
        &self,
        list: &str,
        query: &str,
        mut each: impl FnMut(T, &str) -> Result<usize, Error>,
    ) -> Result<(), Error> {
        let mut page = 1;
        loop {
            let what = format!("{list} page {page}");
            let data: T = self
                .query(&what, query, json!({ "limit": LIST_PAGE, "page": page }))
                .await?;
            if (each(data, &what)? as i64) < LIST_PAGE {
                return Ok(());
            }
            page += 1;
        }
    }

    /// Every market with its store.
    pub async fn markets(&self, sink: &mut Sink<CentraMarket>) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Data {
            markets: Vec<Market>,
        }
        #[derive(Deserialize)]
        struct Market {
            #[serde(deserialize_with = "int")]
            id: i64,
            name: String,
            store: Store,
        }
        #[derive(Deserialize)]
        struct Store {
            #[serde(deserialize_with = "int")]
            id: i64,
            name: String,
            #[serde(rename = "type")]
            kind: String,
        }
        self.numbered_pages("markets", MARKETS_QUERY, |data: Data, _| {
            let n = data.markets.len();
            for m in data.markets {
                sink.push(CentraMarket {
                    market_id: m.id,
                    market: m.name,
                    store_id: m.store.id,
                    store: m.store.name,
                    store_type: m.store.kind,
                })?;
            }
            Ok(n)
        })
        .await
    }

    /// Every warehouse.
    pub async fn warehouses(&self, sink: &mut Sink<CentraWarehouse>) -> Result<(), Error> {
        #[derive(Deserialize)]
        struct Data {
            warehouses: Vec<IdAndName>,
        }
        self.numbered_pages("warehouses", WAREHOUSES_QUERY, |data: Data, _| {
            let n = data.warehouses.len();
            for w in data.warehouses {
                sink.push(CentraWarehouse {
                    warehouse_id: w.id,
                    warehouse: w.name,
                })?;
            }
            Ok(n)
        })
        .await
    }
}

/// The sinks one order page writes into.
pub struct OrderSinks {
    pub orders: Sink<CentraOrder>,
    pub lines: Sink<CentraOrderLine>,
    pub shipments: Sink<CentraShipment>,
    pub shipment_lines: Sink<CentraShipmentLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersData {
    order_connection: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    #[serde(default, deserialize_with = "opt_int")]
    total_count: Option<i64>,
    page_info: PageInfo,
    edges: Vec<Edge>,
}

fn opt_int<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "int")] i64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Edge {
    node: OrderNode,
}

/// Anything Centra names by id and name: a store, a market, a warehouse.
#[derive(Deserialize)]
struct IdAndName {
    #[serde(deserialize_with = "int")]
    id: i64,
    name: String,
}

/// A `MonetaryValue` read without its currency (the order's currency applies).
#[derive(Deserialize)]
struct Amount {
    #[serde(deserialize_with = "decimal")]
    value: Decimal,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Currency {
    code: String,
    #[serde(deserialize_with = "int")]
    decimal_digits: i64,
}

#[derive(Deserialize)]
struct ValueWithCurrency {
    #[serde(deserialize_with = "decimal")]
    value: Decimal,
    currency: Currency,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Totals {
    line_values: Amount,
    shipping: Amount,
    handling: Amount,
    discounts: Amount,
    tax_added: Amount,
    tax_deducted: Amount,
    tax_included: Amount,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShippingPriceGroup {
    shipping_option: Option<ShippingOption>,
}

/// A shipping option, known to tally by its name only.
#[derive(Deserialize)]
struct ShippingOption {
    name: String,
}

#[derive(Deserialize)]
struct Address {
    country: Option<Country>,
}

#[derive(Deserialize)]
struct Country {
    code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderNode {
    id: String,
    #[serde(deserialize_with = "int")]
    number: i64,
    status: String,
    created_at: String,
    updated_at: String,
    order_date: String,
    is_on_hold: bool,
    store: IdAndName,
    market: IdAndName,
    gross: ValueWithCurrency,
    net: Amount,
    totals: Totals,
    shipping_price_group: Option<ShippingPriceGroup>,
    shipping_address: Option<Address>,
    lines: Vec<LineNode>,
    shipments: Vec<ShipmentNode>,
}

#[derive(Deserialize)]
struct SizeRef {
    #[serde(rename = "SKU")]
    sku: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    #[serde(deserialize_with = "int")]
    quantity: i64,
    #[serde(deserialize_with = "int")]
    cancelled_quantity: i64,
    #[serde(deserialize_with = "decimal")]
    tax_percent: Decimal,
    #[serde(deserialize_with = "decimal")]
    discount_percent: Decimal,
    product_number: String,
    product_name: String,
    size: String,
    unit_price: Amount,
    gross: Amount,
    net: Amount,
    product_size: Option<SizeRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    number: String,
    created_at: String,
    updated_at: String,
    is_shipped: bool,
    shipped_at: Option<String>,
    tracking_number: Option<String>,
    carrier_information: Option<Carrier>,
    lines: Vec<ShipmentLineNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Carrier {
    carrier_name: Option<String>,
    service_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShipmentLineNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    #[serde(deserialize_with = "int")]
    quantity: i64,
    order_line: OrderLineRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineRef {
    #[serde(deserialize_with = "int")]
    id: i64,
    product_size: Option<SizeRef>,
}

/// The order statuses the contract names; any other is kept and warned about.
const STATUSES: [&str; 5] = ["PENDING", "CONFIRMED", "PROCESSING", "SHIPPED", "CANCELLED"];

fn time(text: &str, order: i64, field: &str) -> Result<DateTime<Utc>, Error> {
    datetime_tz(text)
        .map(|t| t.to_utc())
        .ok_or_else(|| Error::Data {
            system: SYSTEM,
            what: format!("order {order}"),
            detail: format!("{field} {text:?} is not an ISO-8601 time with an offset"),
        })
}

impl OrderNode {
    fn into_rows(
        self,
        sinks: &mut OrderSinks,
        warnings: &Warnings,
        tz: chrono_tz::Tz,
        page: &str,
    ) -> Result<(), Error> {
        let n = self.number;
        if !STATUSES.contains(&self.status.as_str()) {
            warnings.push(format!("Centra order {n}: unknown status {:?} (kept as is; no check expects it in OrderWise)", self.status));
        }
        let m = |v: Decimal, field: &str| {
            money(
                v,
                SYSTEM,
                || format!("order {n} {field} ({page})"),
                warnings,
            )
        };
        let t = &self.totals;
        let order_date = time(&self.order_date, n, "orderDate")?;
        let local = order_date.with_timezone(&tz);
        sinks.orders.push(CentraOrder {
            id: self.id.clone(),
            number: n,
            status: self.status.clone(),
            created_at: time(&self.created_at, n, "createdAt")?,
            updated_at: time(&self.updated_at, n, "updatedAt")?,
            order_date,
            order_date_local: local.format("%Y-%m-%d %H:%M:%S").to_string(),
            order_month: local.format("%Y-%m").to_string(),
            is_on_hold: self.is_on_hold,
            store: self.store.name.clone(),
            market_id: self.market.id,
            market: self.market.name.clone(),
            currency: self.gross.currency.code.clone(),
            currency_decimals: self.gross.currency.decimal_digits,
            gross: m(self.gross.value, "grandTotal")?,
            net: m(self.net.value, "grandTotal(includingTax: false)")?,
            line_values: m(t.line_values.value, "totals.lineValues")?,
            shipping: m(t.shipping.value, "totals.shipping")?,
            handling: m(t.handling.value, "totals.handling")?,
            discounts: m(t.discounts.value, "totals.discounts")?,
            tax_added: m(t.tax_added.value, "totals.taxAdded")?,
            tax_deducted: m(t.tax_deducted.value, "totals.taxDeducted")?,
            tax_included: m(t.tax_included.value, "totals.taxIncluded")?,
            shipping_option: self
                .shipping_price_group
                .and_then(|g| g.shipping_option)
                .map(|o| o.name),
            country: self
                .shipping_address
                .and_then(|a| a.country)
                .map(|c| c.code),
        })?;
        for l in self.lines {
            let sku = l.product_size.map(|s| s.sku);
            sinks.lines.push(CentraOrderLine {
                order_number: n,
                line_id: l.id,
                sku_key: sku.as_deref().map(sku_key),
                sku,
                product_number: l.product_number,
                product_name: l.product_name,
                size: l.size,
                quantity: l.quantity,
                cancelled_quantity: l.cancelled_quantity,
                tax_percent: m(l.tax_percent, "line taxPercent")?,
                discount_percent: m(l.discount_percent, "line discountPercent")?,
                unit_price: m(l.unit_price.value, "line unitPrice")?,
                line_gross: m(l.gross.value, "line lineValue")?,
                line_net: m(l.net.value, "line lineValue(includingTax: false)")?,
            })?;
        }
        for s in self.shipments {
            let carrier = s.carrier_information;
            sinks.shipments.push(CentraShipment {
                order_number: n,
                shipment_id: s.id,
                number: s.number,
                created_at: time(&s.created_at, n, "shipment createdAt")?,
                updated_at: time(&s.updated_at, n, "shipment updatedAt")?,
                is_shipped: s.is_shipped,
                shipped_at: s
                    .shipped_at
                    .as_deref()
                    .map(|t| time(t, n, "shipment shippedAt"))
                    .transpose()?,
                tracking_number: s.tracking_number,
                carrier: carrier.as_ref().and_then(|c| c.carrier_name.clone()),
                service: carrier.and_then(|c| c.service_name),
            })?;
            for sl in s.lines {
                let sku = sl.order_line.product_size.map(|p| p.sku);
                sinks.shipment_lines.push(CentraShipmentLine {
                    order_number: n,
                    shipment_id: s.id,
                    shipment_line_id: sl.id,
                    order_line_id: sl.order_line.id,
                    sku_key: sku.as_deref().map(sku_key),
                    sku,
                    quantity: sl.quantity,
                })?;
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct ProductsData {
    products: Vec<ProductNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    name: String,
    product_number: String,
    status: String,
    variants: Vec<VariantNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VariantNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    name: String,
    variant_number: String,
    status: String,
    product_sizes: Vec<SizeNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SizeNode {
    #[serde(deserialize_with = "int")]
    id: i64,
    #[serde(rename = "SKU")]
    sku: String,
    #[serde(rename = "EAN")]
    ean: Option<String>,
    size_number: String,
    is_active: bool,
    stock: Vec<StockNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockNode {
    warehouse: IdAndName,
    #[serde(deserialize_with = "int")]
    physical_quantity: i64,
    #[serde(deserialize_with = "int")]
    free_to_allocate_quantity: i64,
    #[serde(deserialize_with = "int")]
    allocated_quantity: i64,
}
