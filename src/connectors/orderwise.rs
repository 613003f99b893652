//! OrderWise's OWAPI: token handling and the export definitions tally reads.
//!
//! A token is minted from the API user's credentials and sent as a bearer token; on a 401 a new one
//! is minted once and the call repeated, and a second 401 stops the run. Each export is read with
//! keyset paging: the last row's id goes back as `@after_id` until a page has fewer than 1,000 rows
//! (or the instance answers 204). One request at a time: the load falls on the customer's SQL Server.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use indicatif::ProgressBar;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tokio::sync::Mutex;

use super::http::{Http, Replay, RetryPolicy};
use super::json::{LocalFit, decimal, flag, int, local_datetime};
use super::{Error, Warnings, money};
use crate::config::ExportIds;
use crate::model::{
    OwDespatch, OwDespatchLine, OwOrder, OwOrderLine, OwStock, OwVariant, Row, sku_key,
};
use crate::snapshot::Sink;

const SYSTEM: &str = "OrderWise";

/// Rows per export page.
pub const PAGE_ROWS: usize = 1000;

/// An OrderWise connection.
pub struct OrderWise {
    http: Http,
    base: String,
    user: String,
    password: String,
    user_env: String,
    password_env: String,
    token: Mutex<Option<String>>,
    tz: Tz,
}

/// The credentials and where they came from (for messages).
pub struct Credentials {
    pub user: String,
    pub password: String,
    pub user_env: String,
    pub password_env: String,
}

impl OrderWise {
    /// Connects to `base_url` (kept in the casing given), reading local times in `tz`.
    pub fn new(
        base_url: &str,
        credentials: Credentials,
        tz: Tz,
        policy: RetryPolicy,
    ) -> Result<OrderWise, Error> {
        Ok(OrderWise {
            http: Http::new(SYSTEM, policy)?,
            base: base_url.trim_end_matches('/').to_string(),
            user: credentials.user,
            password: credentials.password,
            user_env: credentials.user_env,
            password_env: credentials.password_env,
            token: Mutex::new(None),
            tz,
        })
    }

    async fn mint(&self) -> Result<String, Error> {
        let url = format!("{}/token/gettoken", self.base);
        let reply = self
            .http
            .send("token/gettoken", Replay::Safe, || {
                self.http
                    .client()
                    .get(&url)
                    .basic_auth(&self.user, Some(&self.password))
            })
            .await?;
        match reply.status.as_u16() {
            200 => serde_json::from_slice::<String>(&reply.body)
                .map_err(|e| Error::json(SYSTEM, "token/gettoken", &reply.body, &e)),
            401 | 403 => Err(Error::Auth {
                system: SYSTEM,
                what: "token/gettoken".into(),
                hint: format!(
                    "HTTP {}: check the API user in {} and its password in {}, and that the user may use the API",
                    reply.status.as_u16(),
                    self.user_env,
                    self.password_env
                ),
            }),
            404 => Err(Error::Status {
                system: SYSTEM,
                what: "token/gettoken".into(),
                status: 404,
                body: format!(
                    "no token endpoint under {}; check orderwise.base_url (it usually ends in /owapi)",
                    self.base
                ),
            }),
            status => Err(Error::Status {
                system: SYSTEM,
                what: "token/gettoken".into(),
                status,
                body: String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
                    .into_owned(),
            }),
        }
    }

    /// Signs in with the credentials (a new token): `tally doctor`'s check that they work.
    pub async fn sign_in(&self) -> Result<(), Error> {
        self.token(true).await.map(|_| ())
    }

    async fn token(&self, renew: bool) -> Result<String, Error> {
        let mut token = self.token.lock().await;
        if renew || token.is_none() {
            *token = Some(self.mint().await?);
        }
        Ok(token.clone().expect("just minted"))
    }

    /// Runs export definition `id` (named `name` in config) with `params`; one page of rows.
    pub async fn export_page<T: DeserializeOwned>(
        &self,
        name: &str,
        id: u32,
        params: &serde_json::Value,
    ) -> Result<Vec<T>, Error> {
        let url = format!("{}/system/export-definition/{id}", self.base);
        let what = format!("export {name} (id {id}) with {params}");
        let body = serde_json::to_vec(params).expect("json");
        let reply = self
            .send_authorised(&what, Replay::Safe, &url, &body)
            .await?;
        match reply.status.as_u16() {
            200 => serde_json::from_slice(&reply.body)
                .map_err(|e| Error::json(SYSTEM, &what, &reply.body, &e)),
            204 => Ok(Vec::new()),
            401 => Err(self.refused(what)),
            403 => Err(Error::Auth {
                system: SYSTEM,
                what,
                hint: "HTTP 403: the API user's group lacks permission to run this export definition; grant it in OrderWise".into(),
            }),
            404 => Err(Error::Status {
                system: SYSTEM,
                what,
                status: 404,
                body: format!(
                    "no export definition {id}: check [orderwise.exports] {name} in tally.toml and orderwise.base_url"
                ),
            }),
            status => Err(Error::Status {
                system: SYSTEM,
                what,
                status,
                body: String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
                    .into_owned(),
            }),
        }
    }

    /// POSTs `body` (JSON) to `url` with the current token. A 401 means the request was refused
    /// before it ran, so even a write may be sent again: a new token is minted and the request sent
    /// once more. Returns the last reply, whatever its status.
    async fn send_authorised(
        &self,
        what: &str,
        replay: Replay,
        url: &str,
        body: &[u8],
    ) -> Result<super::http::Reply, Error> {
        let mut renewed = false;
        loop {
            let token = self.token(renewed).await?;
            let reply = self
                .http
                .send(what, replay, || {
                    self.http
                        .client()
                        .post(url)
                        .bearer_auth(&token)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body.to_vec())
                })
                .await?;
            if reply.status.as_u16() == 401 && !renewed {
                renewed = true;
                continue;
            }
            return Ok(reply);
        }
    }

    /// A freshly minted token was refused too.
    fn refused(&self, what: String) -> Error {
        Error::Auth {
            system: SYSTEM,
            what,
            hint: format!(
                "a freshly minted token was refused too: the user in {} may lack API access",
                self.user_env
            ),
        }
    }

    /// Reads export `name` (id `id`) with keyset paging: `params(after)` builds each page's
    /// parameters from the last id read, and `each` takes every row. Rows must come in increasing
    /// id order, at most [`PAGE_ROWS`] a page: anything else is an error, never a row read twice
    /// or skipped.
    async fn keyset<T: DeserializeOwned + Keyed>(
        &self,
        name: &str,
        id: u32,
        params: impl Fn(i64) -> serde_json::Value,
        mut each: impl FnMut(T) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut after = 0i64;
        loop {
            let rows: Vec<T> = self.export_page(name, id, &params(after)).await?;
            let n = rows.len();
            if n > PAGE_ROWS {
                return Err(Error::Data {
                    system: SYSTEM,
                    what: format!("export {name} (id {id})"),
                    detail: format!(
                        "a page held {n} rows, more than the {PAGE_ROWS} the API pages at"
                    ),
                });
            }
            for row in rows {
                let key = row.key();
                if key <= after {
                    return Err(Error::Data {
                        system: SYSTEM,
                        what: format!("export {name} (id {id})"),
                        detail: format!(
                            "row id {key} is not after {after}: the definition must order by its id column ascending"
                        ),
                    });
                }
                after = key;
                each(row)?;
            }
            if n < PAGE_ROWS {
                return Ok(());
            }
        }
    }

    /// Reads a whole export with keyset paging, mapping each row into `sink`.
    async fn export_all<T, R>(
        &self,
        name: &str,
        id: u32,
        since: &str,
        sink: &mut Sink<R>,
        progress: &ProgressBar,
        map: impl Fn(T, &Self) -> Result<R, Error>,
    ) -> Result<(), Error>
    where
        T: DeserializeOwned + Keyed,
        R: Row,
    {
        self.keyset(
            name,
            id,
            |after| json!([{ "name": "@since", "value": since }, { "name": "@after_id", "value": after }]),
            |row: T| {
                sink.push(map(row, self)?)?;
                progress.inc(1);
                Ok(())
            },
        )
        .await
    }

    fn time(
        &self,
        text: &str,
        what: impl Fn() -> String,
        warnings: &Warnings,
    ) -> Result<DateTime<Utc>, Error> {
        local_time(text, self.tz, what, warnings)
    }

    /// Reads every export into its sink. `since` limits orders, lines and despatches.
    pub async fn extract(
        &self,
        ids: &ExportIds,
        since: Option<DateTime<Utc>>,
        sinks: &mut OrderWiseSinks,
        warnings: &Warnings,
        progress: &ProgressBar,
    ) -> Result<(), Error> {
        let since_text = since
            .map(|s| {
                s.with_timezone(&self.tz)
                    .format("%Y-%m-%dT%H:%M:%S")
                    .to_string()
            })
            .unwrap_or_default();
        let w = warnings;
        let m = |v: Decimal, what: &dyn Fn() -> String| money(v, SYSTEM, what, w);
        self.export_all(
            "orders",
            ids.orders,
            &since_text,
            &mut sinks.orders,
            progress,
            |r: OrderRow, c| {
                let what = || format!("orders row {}", r.order_id);
                let external_ref_key = r.external_ref.as_deref().map(|s| s.trim().to_string());
                Ok(OwOrder {
                    order_id: r.order_id,
                    order_number: r.order_number.clone(),
                    external_ref_key,
                    external_ref: r.external_ref.clone(),
                    session_id: r.session_id,
                    customer_account: r.customer_account.clone(),
                    order_datetime: c.time(
                        &r.order_datetime,
                        || format!("orders row {} order_datetime", r.order_id),
                        w,
                    )?,
                    order_month: local_month(&r.order_datetime),
                    order_datetime_raw: r.order_datetime.clone(),
                    status: r.status.clone(),
                    currency_code: r.currency_code.clone(),
                    total_net: m(r.total_net, &what)?,
                    total_vat: m(r.total_vat, &what)?,
                    total_gross: m(r.total_gross, &what)?,
                    delivery_net: m(r.delivery_net, &what)?,
                    delivery_vat: m(r.delivery_vat, &what)?,
                    delivery_gross: m(r.delivery_gross, &what)?,
                    discount_gross: m(r.discount_gross, &what)?,
                    delivery_method: r.delivery_method.clone(),
                    amended_at: c.time(
                        &r.amended_at,
                        || format!("orders row {} amended_at", r.order_id),
                        w,
                    )?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        self.export_all(
            "order_lines",
            ids.order_lines,
            &since_text,
            &mut sinks.lines,
            progress,
            |r: LineRow, c| {
                let what = || format!("order_lines row {}", r.line_id);
                Ok(OwOrderLine {
                    line_id: r.line_id,
                    order_id: r.order_id,
                    sku_key: sku_key(&r.sku),
                    sku: r.sku.clone(),
                    qty_required: m(r.qty_required, &what)?,
                    qty_sent: m(r.qty_sent, &what)?,
                    item_gross: m(r.item_gross, &what)?,
                    line_net: m(r.line_net, &what)?,
                    line_vat: m(r.line_vat, &what)?,
                    line_gross: m(r.line_gross, &what)?,
                    vat_code: r.vat_code.clone(),
                    vat_rate: m(r.vat_rate, &what)?,
                    amended_at: c.time(&r.amended_at, what, w)?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        // Stock and variants are state, not events: always read whole.
        self.export_all(
            "stock",
            ids.stock,
            "",
            &mut sinks.stock,
            progress,
            |r: StockRow, c| {
                let what = || format!("stock row {}", r.stock_id);
                Ok(OwStock {
                    stock_id: r.stock_id,
                    sku_key: sku_key(&r.sku),
                    sku: r.sku.clone(),
                    location_id: r.location_id,
                    location_name: r.location_name.clone(),
                    free: m(r.free, &what)?,
                    overall: m(r.overall, &what)?,
                    amended_at: c.time(&r.amended_at, what, w)?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        self.export_all(
            "despatches",
            ids.despatches,
            &since_text,
            &mut sinks.despatches,
            progress,
            |r: DespatchRow, c| {
                let what = || format!("despatches row {}", r.despatch_id);
                Ok(OwDespatch {
                    despatch_id: r.despatch_id,
                    order_id: r.order_id,
                    order_number: r.order_number.clone(),
                    external_ref_key: r.external_ref.as_deref().map(|s| s.trim().to_string()),
                    external_ref: r.external_ref.clone(),
                    despatched_at: c.time(&r.despatched_at, what, w)?,
                    despatched_at_raw: r.despatched_at.clone(),
                    tracking_number: r.tracking_number.clone(),
                    delivery_method: r.delivery_method.clone(),
                    courier: r.courier.clone(),
                    amended_at: c.time(&r.amended_at, what, w)?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        self.export_all(
            "despatch_lines",
            ids.despatch_lines,
            &since_text,
            &mut sinks.despatch_lines,
            progress,
            |r: DespatchLineRow, c| {
                let what = || format!("despatch_lines row {}", r.despatch_line_id);
                Ok(OwDespatchLine {
                    despatch_line_id: r.despatch_line_id,
                    despatch_id: r.despatch_id,
                    sku_key: sku_key(&r.sku),
                    sku: r.sku.clone(),
                    qty: m(r.qty, &what)?,
                    amended_at: c.time(&r.amended_at, what, w)?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        self.export_all(
            "variants",
            ids.variants,
            "",
            &mut sinks.variants,
            progress,
            |r: VariantRow, c| {
                let what = || format!("variants row {}", r.variant_id);
                Ok(OwVariant {
                    variant_id: r.variant_id,
                    sku_key: sku_key(&r.sku),
                    sku: r.sku.clone(),
                    product_code: r.product_code.clone(),
                    description: r.description.clone(),
                    ean: r.ean.clone(),
                    discontinued: r.discontinued,
                    is_kit: r.is_kit,
                    sale_variant: r.sale_variant,
                    amended_at: c.time(&r.amended_at, what, w)?,
                    amended_at_raw: r.amended_at,
                })
            },
        )
        .await?;
        Ok(())
    }
}

/// What posting an order did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// 201: created.
    Created { order_id: i64 },
    /// 409: an order with that number exists in the session.
    Exists { order_id: Option<i64> },
}

impl OrderWise {
    /// The orders carrying `external_ref` (the `order_lookup` export): 0, 1 or, when something went
    /// wrong, more.
    pub async fn lookup(
        &self,
        ids: &ExportIds,
        external_ref: &str,
    ) -> Result<Vec<OrderRow>, Error> {
        let mut all = Vec::new();
        self.keyset(
            "order_lookup",
            ids.order_lookup,
            |after| json!([{ "name": "@external_ref", "value": external_ref }, { "name": "@after_id", "value": after }]),
            |row: OrderRow| {
                all.push(row);
                Ok(())
            },
        )
        .await?;
        Ok(all)
    }

    /// Posts a sales order to `session`, once. A lost response is [`Error::OutcomeUnknown`]: look the
    /// order up before trying again.
    pub async fn post_order(
        &self,
        session: i64,
        reference: &str,
        body: &[u8],
    ) -> Result<Posted, Error> {
        let url = format!("{}/sales/order?session_id={session}", self.base);
        let what = format!("sales/order for {reference}");
        let reply = self
            .send_authorised(&what, Replay::Never, &url, body)
            .await?;
        let parsed: serde_json::Value =
            serde_json::from_slice(&reply.body).unwrap_or(serde_json::Value::Null);
        match reply.status.as_u16() {
            200..=202 => match parsed["orderId"].as_i64() {
                Some(order_id) => Ok(Posted::Created { order_id }),
                None => Err(Error::Data {
                    system: SYSTEM,
                    what,
                    detail: format!(
                        "the order was accepted (status {}) but the reply has no integer orderId: {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                            .chars()
                            .take(200)
                            .collect::<String>()
                    ),
                }),
            },
            409 => Ok(Posted::Exists {
                order_id: parsed["orderId"].as_i64(),
            }),
            401 => Err(self.refused(what)),
            status => Err(Error::Status {
                system: SYSTEM,
                what,
                status,
                body: parsed["message"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| String::from_utf8_lossy(&reply.body).into_owned()),
            }),
        }
    }
}

/// An OrderWise local datetime in UTC. A time in the hour repeated when clocks go back is read as
/// the first of the two, one in the hour skipped when they go forward as an hour later; both are
/// counted in the manifest's warnings. Text that is not a datetime is an error naming `what`.
pub(crate) fn local_time(
    text: &str,
    tz: chrono_tz::Tz,
    what: impl Fn() -> String,
    warnings: &Warnings,
) -> Result<DateTime<Utc>, Error> {
    match local_datetime(text, tz) {
        Some((t, LocalFit::Exact)) => Ok(t),
        Some((t, LocalFit::Ambiguous)) => {
            warnings.count(
                format!("OrderWise local times in the repeated hour when {tz} clocks go back, read as the first of the two"),
                format!("{} {text}", what()),
            );
            Ok(t)
        }
        Some((t, LocalFit::Skipped)) => {
            warnings.count(
                format!("OrderWise local times that do not exist in {tz} (clocks went forward), read as an hour later"),
                format!("{} {text}", what()),
            );
            Ok(t)
        }
        None => Err(Error::Data {
            system: SYSTEM,
            what: what(),
            detail: format!("{text:?} is not a datetime YYYY-MM-DDTHH:MM:SS"),
        }),
    }
}

/// The month (`YYYY-MM`) of an OrderWise local datetime, read from its text: it is already local.
pub(crate) fn local_month(text: &str) -> String {
    text.trim().chars().take(7).collect()
}

/// The sinks of the OrderWise datasets.
pub struct OrderWiseSinks {
    pub orders: Sink<OwOrder>,
    pub lines: Sink<OwOrderLine>,
    pub stock: Sink<OwStock>,
    pub despatches: Sink<OwDespatch>,
    pub despatch_lines: Sink<OwDespatchLine>,
    pub variants: Sink<OwVariant>,
}

/// An export row's id column, for keyset paging.
trait Keyed {
    fn key(&self) -> i64;
}

macro_rules! keyed {
    ($t:ty, $f:ident) => {
        impl Keyed for $t {
            fn key(&self) -> i64 {
                self.$f
            }
        }
    };
}

/// A row of the `orders` export (and of `order_lookup`).
#[derive(Debug, Clone, Deserialize)]
pub struct OrderRow {
    #[serde(deserialize_with = "int")]
    pub order_id: i64,
    pub order_number: String,
    pub external_ref: Option<String>,
    #[serde(deserialize_with = "int")]
    pub session_id: i64,
    /// Newer export definitions only; `None` from a server that does not return it.
    #[serde(default)]
    pub customer_account: Option<String>,
    pub order_datetime: String,
    pub status: String,
    pub currency_code: String,
    #[serde(deserialize_with = "decimal")]
    pub total_net: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub total_vat: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub total_gross: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub delivery_net: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub delivery_vat: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub delivery_gross: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub discount_gross: Decimal,
    pub delivery_method: Option<String>,
    pub amended_at: String,
}
keyed!(OrderRow, order_id);

#[derive(Deserialize)]
struct LineRow {
    #[serde(deserialize_with = "int")]
    line_id: i64,
    #[serde(deserialize_with = "int")]
    order_id: i64,
    sku: String,
    #[serde(deserialize_with = "decimal")]
    qty_required: Decimal,
    #[serde(deserialize_with = "decimal")]
    qty_sent: Decimal,
    #[serde(deserialize_with = "decimal")]
    item_gross: Decimal,
    #[serde(deserialize_with = "decimal")]
    line_net: Decimal,
    #[serde(deserialize_with = "decimal")]
    line_vat: Decimal,
    #[serde(deserialize_with = "decimal")]
    line_gross: Decimal,
    vat_code: Option<String>,
    #[serde(deserialize_with = "decimal")]
    vat_rate: Decimal,
    amended_at: String,
}
keyed!(LineRow, line_id);

#[derive(Deserialize)]
struct StockRow {
    #[serde(deserialize_with = "int")]
    stock_id: i64,
    sku: String,
    #[serde(deserialize_with = "int")]
    location_id: i64,
    location_name: String,
    #[serde(deserialize_with = "decimal")]
    free: Decimal,
    #[serde(deserialize_with = "decimal")]
    overall: Decimal,
    amended_at: String,
}
keyed!(StockRow, stock_id);

#[derive(Deserialize)]
struct DespatchRow {
    #[serde(deserialize_with = "int")]
    despatch_id: i64,
    #[serde(deserialize_with = "int")]
    order_id: i64,
    order_number: String,
    external_ref: Option<String>,
    despatched_at: String,
    tracking_number: Option<String>,
    delivery_method: Option<String>,
    courier: Option<String>,
    amended_at: String,
}
keyed!(DespatchRow, despatch_id);

#[derive(Deserialize)]
struct DespatchLineRow {
    #[serde(deserialize_with = "int")]
    despatch_line_id: i64,
    #[serde(deserialize_with = "int")]
    despatch_id: i64,
    sku: String,
    #[serde(deserialize_with = "decimal")]
    qty: Decimal,
    amended_at: String,
}
keyed!(DespatchLineRow, despatch_line_id);

#[derive(Deserialize)]
struct VariantRow {
    #[serde(deserialize_with = "int")]
    variant_id: i64,
    sku: String,
    product_code: String,
    description: String,
    ean: Option<String>,
    #[serde(deserialize_with = "flag")]
    discontinued: bool,
    #[serde(deserialize_with = "flag")]
    is_kit: bool,
    #[serde(deserialize_with = "flag")]
    sale_variant: bool,
    amended_at: String,
}
keyed!(VariantRow, variant_id);
