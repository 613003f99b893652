//! The simulated OrderWise export definitions: the seven exports of `contracts/orderwise.md`, with
//! their parameters checked as a real instance checks them, keyset paging on the id column at 1,000
//! rows, `@since` on the amended time (inclusive, local time), money as exact JSON numbers and
//! datetimes as local `YYYY-MM-DDTHH:MM:SS` text.

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use serde_json::Value;

use super::world::World;

/// Rows per export page.
pub const PAGE_ROWS: usize = 1000;

/// The account an order of `session` is posted on: the customer its market maps to, or the
/// telephone desk's account for the session no market uses.
pub(super) fn customer_account(w: &World, session: i64) -> &'static str {
    w.markets
        .iter()
        .filter_map(|m| m.mapping)
        .find(|(s, _)| *s == session)
        .map_or("PHONE-SALES", |(_, customer)| customer)
}

/// The datetime format OrderWise writes and `@since` is given in.
pub const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

type Failure = (StatusCode, String);

/// One JSON value of a row, written exactly.
enum J<'a> {
    Int(i64),
    Str(&'a str),
    OptStr(Option<&'a str>),
    Dec(Decimal),
    Bool(bool),
    Time(NaiveDateTime),
}

fn row(fields: &[(&str, J)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        match value {
            J::Int(n) => out.push_str(&n.to_string()),
            J::Str(s) => out.push_str(&serde_json::to_string(s).expect("string")),
            J::OptStr(None) => out.push_str("null"),
            J::OptStr(Some(s)) => out.push_str(&serde_json::to_string(s).expect("string")),
            // The decimal's own text: a JSON number with no float in between.
            J::Dec(d) => out.push_str(&d.normalize().to_string()),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Time(t) => {
                out.push('"');
                out.push_str(&t.format(LOCAL_FORMAT).to_string());
                out.push('"');
            }
        }
    }
    out.push('}');
    out
}

/// The parameters of one export call.
struct Params {
    since: Option<NaiveDateTime>,
    after_id: i64,
    external_ref: Option<String>,
}

fn bad(message: impl Into<String>) -> Failure {
    (StatusCode::BAD_REQUEST, message.into())
}

fn parse_params(body: &[u8], lookup: bool) -> Result<Params, Failure> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("The request is invalid: {e}")))?;
    let list = value
        .as_array()
        .ok_or_else(|| bad("The request is invalid: expected an array of parameters."))?;
    let mut since = None;
    let mut after_id = None;
    let mut external_ref = None;
    for p in list {
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("Each parameter needs a name."))?;
        let value = p
            .get("value")
            .ok_or_else(|| bad(format!("Parameter {name} has no value.")))?;
        match name {
            "@since" if !lookup => {
                let text = value
                    .as_str()
                    .ok_or_else(|| bad("@since must be a string."))?;
                since = Some(if text.is_empty() {
                    None
                } else {
                    Some(
                        NaiveDateTime::parse_from_str(text, LOCAL_FORMAT).map_err(|_| {
                            bad(format!(
                                "@since {text:?} is not a datetime YYYY-MM-DDTHH:MM:SS."
                            ))
                        })?,
                    )
                });
            }
            "@external_ref" if lookup => {
                external_ref = Some(
                    value
                        .as_str()
                        .ok_or_else(|| bad("@external_ref must be a string."))?
                        .to_string(),
                );
            }
            "@after_id" => {
                after_id = Some(
                    value
                        .as_i64()
                        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
                        .ok_or_else(|| bad("@after_id must be an integer."))?,
                );
            }
            other => {
                return Err(bad(format!(
                    "The export definition has no parameter {other}."
                )));
            }
        }
    }
    let after_id = after_id.ok_or_else(|| bad("Parameter @after_id is required."))?;
    if lookup && external_ref.is_none() {
        return Err(bad("Parameter @external_ref is required."));
    }
    if !lookup && since.is_none() {
        return Err(bad("Parameter @since is required."));
    }
    Ok(Params {
        since: since.flatten(),
        after_id,
        external_ref,
    })
}

/// Rows of `items` (sorted by id) after `after_id`, amended at or after `since`, one page.
fn page<T>(
    items: &[T],
    id: impl Fn(&T) -> i64,
    amended: impl Fn(&T) -> NaiveDateTime,
    keep: impl Fn(&T) -> bool,
    p: &Params,
    render: impl Fn(&T) -> String,
) -> Vec<String> {
    let start = items.partition_point(|r| id(r) <= p.after_id);
    items[start..]
        .iter()
        .filter(|r| p.since.is_none_or(|s| amended(r) >= s) && keep(r))
        .take(PAGE_ROWS)
        .map(render)
        .collect()
}

/// Runs export definition `id` with the JSON parameter array `body`.
pub fn export(w: &World, id: u32, body: &[u8]) -> Result<Vec<String>, Failure> {
    let ids = w.config.orderwise.exports;
    let ow = &w.orderwise;
    let lookup = id == ids.order_lookup;
    let known = [
        ids.orders,
        ids.order_lines,
        ids.stock,
        ids.despatches,
        ids.despatch_lines,
        ids.variants,
        ids.order_lookup,
    ];
    if !known.contains(&id) {
        return Err((
            StatusCode::NOT_FOUND,
            format!("No export definition with id {id}."),
        ));
    }
    let p = parse_params(body, lookup)?;
    let order_row = |o: &super::world::OwOrder| {
        row(&[
            ("order_id", J::Int(o.order_id)),
            ("order_number", J::Str(&o.order_number())),
            ("external_ref", J::OptStr(o.external_ref.as_deref())),
            ("session_id", J::Int(o.session_id)),
            (
                "customer_account",
                J::Str(customer_account(w, o.session_id)),
            ),
            ("order_datetime", J::Time(o.order_datetime)),
            ("status", J::Str(o.status)),
            ("currency_code", J::Str(o.currency)),
            ("total_net", J::Dec(o.total_net)),
            ("total_vat", J::Dec(o.total_vat)),
            ("total_gross", J::Dec(o.total_gross)),
            ("delivery_net", J::Dec(o.delivery_net)),
            ("delivery_vat", J::Dec(o.delivery_vat)),
            ("delivery_gross", J::Dec(o.delivery_gross)),
            ("discount_gross", J::Dec(o.discount_gross)),
            ("delivery_method", J::OptStr(o.delivery_method)),
            ("amended_at", J::Time(o.amended_at)),
        ])
    };
    let rows = if lookup {
        let wanted = p.external_ref.clone().unwrap_or_default();
        page(
            &ow.orders,
            |o| o.order_id,
            |o| o.amended_at,
            |o| o.external_ref.as_deref() == Some(wanted.as_str()),
            &p,
            order_row,
        )
    } else if id == ids.orders {
        page(
            &ow.orders,
            |o| o.order_id,
            |o| o.amended_at,
            |_| true,
            &p,
            order_row,
        )
    } else if id == ids.order_lines {
        page(
            &ow.lines,
            |l| l.line_id,
            |l| l.amended_at,
            |_| true,
            &p,
            |l| {
                row(&[
                    ("line_id", J::Int(l.line_id)),
                    ("order_id", J::Int(l.order_id)),
                    ("sku", J::Str(&l.sku)),
                    ("qty_required", J::Dec(l.qty_required)),
                    ("qty_sent", J::Dec(l.qty_sent)),
                    ("item_gross", J::Dec(l.item_gross)),
                    ("line_net", J::Dec(l.line_net)),
                    ("line_vat", J::Dec(l.line_vat)),
                    ("line_gross", J::Dec(l.line_gross)),
                    ("vat_code", J::Str(l.vat_code)),
                    ("vat_rate", J::Dec(l.vat_rate)),
                    ("amended_at", J::Time(l.amended_at)),
                ])
            },
        )
    } else if id == ids.stock {
        page(
            &ow.stock,
            |s| s.stock_id,
            |s| s.amended_at,
            |_| true,
            &p,
            |s| {
                row(&[
                    ("stock_id", J::Int(s.stock_id)),
                    ("sku", J::Str(&s.sku)),
                    ("location_id", J::Int(s.location_id)),
                    ("location_name", J::Str(s.location_name)),
                    ("free", J::Dec(s.free)),
                    ("overall", J::Dec(s.overall)),
                    ("amended_at", J::Time(s.amended_at)),
                ])
            },
        )
    } else if id == ids.despatches {
        let number_of = |order_id: i64| {
            let i = ow.orders.partition_point(|o| o.order_id < order_id);
            ow.orders
                .get(i)
                .map(|o| o.order_number())
                .unwrap_or_default()
        };
        page(
            &ow.despatches,
            |d| d.despatch_id,
            |d| d.amended_at,
            |_| true,
            &p,
            |d| {
                row(&[
                    ("despatch_id", J::Int(d.despatch_id)),
                    ("order_id", J::Int(d.order_id)),
                    ("order_number", J::Str(&number_of(d.order_id))),
                    ("external_ref", J::OptStr(d.external_ref.as_deref())),
                    ("despatched_at", J::Time(d.despatched_at)),
                    ("tracking_number", J::OptStr(d.tracking_number.as_deref())),
                    ("delivery_method", J::Str(d.delivery_method)),
                    ("courier", J::Str(d.courier)),
                    ("amended_at", J::Time(d.amended_at)),
                ])
            },
        )
    } else if id == ids.despatch_lines {
        page(
            &ow.despatch_lines,
            |d| d.despatch_line_id,
            |d| d.amended_at,
            |_| true,
            &p,
            |d| {
                row(&[
                    ("despatch_line_id", J::Int(d.despatch_line_id)),
                    ("despatch_id", J::Int(d.despatch_id)),
                    ("sku", J::Str(&d.sku)),
                    ("qty", J::Dec(d.qty)),
                    ("amended_at", J::Time(d.amended_at)),
                ])
            },
        )
    } else {
        page(
            &ow.variants,
            |v| v.variant_id,
            |v| v.amended_at,
            |_| true,
            &p,
            |v| {
                row(&[
                    ("variant_id", J::Int(v.variant_id)),
                    ("sku", J::Str(&v.sku)),
                    ("product_code", J::Str(&v.product_code)),
                    ("description", J::Str(&v.description)),
                    ("ean", J::OptStr(v.ean.as_deref())),
                    ("discontinued", J::Bool(v.discontinued)),
                    ("is_kit", J::Bool(v.is_kit)),
                    ("sale_variant", J::Bool(v.sale_variant)),
                    ("amended_at", J::Time(v.amended_at)),
                ])
            },
        )
    };
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::generate::{Params as Gen, generate};

    fn world() -> World {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T12:00:00Z")
            .unwrap()
            .to_utc();
        generate(&Gen {
            seed: 1,
            orders: 3000,
            now,
            tile: 0,
        })
    }

    #[test]
    fn export_pages_at_a_thousand_rows_in_id_order() {
        let w = world();
        let first = export(
            &w,
            102,
            br#"[{"name":"@since","value":""},{"name":"@after_id","value":0}]"#,
        )
        .unwrap();
        assert_eq!(first.len(), PAGE_ROWS);
        let last: Value = serde_json::from_str(first.last().unwrap()).unwrap();
        let after = last["line_id"].as_i64().unwrap();
        let body =
            format!(r#"[{{"name":"@since","value":""}},{{"name":"@after_id","value":{after}}}]"#);
        let second = export(&w, 102, body.as_bytes()).unwrap();
        let next: Value = serde_json::from_str(&second[0]).unwrap();
        assert!(next["line_id"].as_i64().unwrap() > after);
    }

    #[test]
    fn missing_or_unknown_parameters_are_refused() {
        let w = world();
        assert_eq!(
            export(&w, 101, br#"[{"name":"@after_id","value":0}]"#)
                .unwrap_err()
                .0,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(export(&w, 101, br#"[{"name":"@since","value":""},{"name":"@after_id","value":0},{"name":"@x","value":1}]"#).unwrap_err().0, StatusCode::BAD_REQUEST);
        assert_eq!(export(&w, 999, b"[]").unwrap_err().0, StatusCode::NOT_FOUND);
        assert_eq!(
            export(&w, 101, b"{not json").unwrap_err().0,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn since_filters_on_amended_time() {
        let w = world();
        let body =
            br#"[{"name":"@since","value":"2099-01-01T00:00:00"},{"name":"@after_id","value":0}]"#;
        assert!(export(&w, 101, body).unwrap().is_empty());
    }
}

/// The body of `POST /sales/order` (contract: orderwise.md "Writes").
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedOrder {
    order_header: PostedHeader,
    customer: PostedCustomer,
    order_lines: Vec<PostedLine>,
    totals: PostedTotals,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedHeader {
    e_commerce_order_number: String,
    order_date: String,
    currency_code: String,
    prices_include_vat: bool,
    delivery_method: Option<String>,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    delivery_gross: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    delivery_net: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    delivery_vat: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    discount_gross: Decimal,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedCustomer {
    account_number: String,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostedLine {
    variant_code: String,
    quantity: i64,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    item_gross: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    line_net: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    line_vat: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    line_gross: Decimal,
    vat_code: String,
}

#[derive(Debug, serde::Deserialize)]
struct PostedTotals {
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    net: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    vat: Decimal,
    #[serde(deserialize_with = "crate::connectors::json::decimal")]
    gross: Decimal,
}

/// Creates a sales order as posted, with the real instance's rules: unknown variant codes,
/// delivery methods or totals that do not add up are refused (400, nothing created); an order
/// number already in the session is a 409 naming it. Returns (status, JSON body).
pub fn post_order(
    w: &mut World,
    session: i64,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> (StatusCode, String) {
    let msg = |m: String| serde_json::json!({ "message": m }).to_string();
    let order: PostedOrder = match serde_json::from_slice(body) {
        Ok(o) => o,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                msg(format!("The request is invalid: {e}")),
            );
        }
    };
    let h = &order.order_header;
    let reference = h.e_commerce_order_number.clone();
    if let Some(existing) = w.orderwise.orders.iter().find(|o| {
        o.session_id == session
            && o.external_ref.as_deref().map(str::trim) == Some(reference.trim())
    }) {
        let body = serde_json::json!({ "message": format!("Order {reference} already exists in session {session}."), "orderId": existing.order_id });
        return (StatusCode::CONFLICT, body.to_string());
    }
    if !w.config.markets.iter().any(|m| {
        m.orderwise_session == session && m.orderwise_customer == order.customer.account_number
    }) {
        return (
            StatusCode::BAD_REQUEST,
            msg(format!(
                "Unknown customer {} for session {session}.",
                order.customer.account_number
            )),
        );
    }
    if let Some(method) = &h.delivery_method
        && !w
            .config
            .carriers
            .iter()
            .any(|c| &c.orderwise_delivery_method == method)
    {
        return (
            StatusCode::BAD_REQUEST,
            msg(format!("Unknown delivery method {method}.")),
        );
    }
    for l in &order.order_lines {
        if !w.orderwise.variants.iter().any(|v| v.sku == l.variant_code) {
            return (
                StatusCode::BAD_REQUEST,
                msg(format!("Unknown variant code {}.", l.variant_code)),
            );
        }
        if l.line_net + l.line_vat != l.line_gross || l.quantity <= 0 {
            return (
                StatusCode::BAD_REQUEST,
                msg(format!("Line {} does not add up.", l.variant_code)),
            );
        }
    }
    let t = &order.totals;
    let lines_gross: Decimal = order.order_lines.iter().map(|l| l.line_gross).sum();
    if t.net + t.vat != t.gross
        || lines_gross + h.delivery_gross - h.discount_gross != t.gross
        || !h.prices_include_vat
    {
        return (
            StatusCode::BAD_REQUEST,
            msg("The order totals do not add up.".into()),
        );
    }
    let Ok(order_datetime) = NaiveDateTime::parse_from_str(&h.order_date, LOCAL_FORMAT) else {
        return (
            StatusCode::BAD_REQUEST,
            msg(format!(
                "orderDate {} is not YYYY-MM-DDTHH:MM:SS.",
                h.order_date
            )),
        );
    };
    let Some(currency) = ["GBP", "EUR", "SEK", "USD"]
        .into_iter()
        .find(|c| *c == h.currency_code)
    else {
        return (
            StatusCode::BAD_REQUEST,
            msg(format!("Unknown currency {}.", h.currency_code)),
        );
    };
    let rates: Vec<Decimal> = order
        .order_lines
        .iter()
        .map(|l| {
            w.config
                .vat_codes
                .iter()
                .find(|(_, c)| **c == l.vat_code)
                .and_then(|(r, _)| r.parse().ok())
                .unwrap_or_default()
        })
        .collect();
    let lines_for_stock: Vec<(String, Decimal)> = order
        .order_lines
        .iter()
        .map(|l| (l.variant_code.clone(), Decimal::from(l.quantity)))
        .collect();
    let now = w.local(now);
    let order_id = w
        .orderwise
        .orders
        .iter()
        .map(|o| o.order_id)
        .max()
        .unwrap_or(0)
        + 1;
    let line_id = w
        .orderwise
        .lines
        .iter()
        .map(|l| l.line_id)
        .max()
        .unwrap_or(0);
    for (n, (l, rate)) in (1..).zip(order.order_lines.iter().zip(rates)) {
        w.orderwise.lines.push(super::world::OwLine {
            line_id: line_id + n,
            order_id,
            sku: l.variant_code.clone(),
            qty_required: Decimal::from(l.quantity),
            qty_sent: Decimal::ZERO,
            item_gross: l.item_gross,
            line_net: l.line_net,
            line_vat: l.line_vat,
            line_gross: l.line_gross,
            vat_code: match l.vat_code.as_str() {
                "T0" => "T0",
                "T1" => "T1",
                "T5" => "T5",
                "T6" => "T6",
                "T7" => "T7",
                _ => "T9",
            },
            vat_rate: rate,
            amended_at: now,
        });
    }
    let delivery_method = h
        .delivery_method
        .as_ref()
        .and_then(|m| {
            w.config
                .carriers
                .iter()
                .position(|c| &c.orderwise_delivery_method == m)
        })
        .map(|i| super::generate::CARRIERS[i.min(super::generate::CARRIERS.len() - 1)].0);
    let order = super::world::OwOrder {
        order_id,
        external_ref: Some(reference),
        session_id: session,
        order_datetime,
        status: "Awaiting Despatch",
        currency,
        total_net: t.net,
        total_vat: t.vat,
        total_gross: t.gross,
        delivery_net: h.delivery_net,
        delivery_vat: h.delivery_vat,
        delivery_gross: h.delivery_gross,
        discount_gross: h.discount_gross,
        delivery_method,
        amended_at: now,
    };
    let number = order.order_number();
    w.orderwise.orders.push(order);
    allocate(w, session, &lines_for_stock);
    (
        StatusCode::CREATED,
        serde_json::json!({ "orderId": order_id, "orderNumber": number }).to_string(),
    )
}

/// OrderWise allocates a new order's units: free stock falls at the first location of the
/// warehouse the session's market draws from.
fn allocate(w: &mut World, session: i64, lines: &[(String, Decimal)]) {
    let Some(market) = w
        .config
        .markets
        .iter()
        .find(|m| m.orderwise_session == session)
    else {
        return;
    };
    let Some(location) = w
        .config
        .warehouses
        .iter()
        .find(|wh| wh.centra_warehouse == market.centra_warehouse)
        .and_then(|wh| wh.orderwise_locations.first().cloned())
    else {
        return;
    };
    for (sku, qty) in lines {
        if let Some(row) = w
            .orderwise
            .stock
            .iter_mut()
            .find(|s| &s.sku == sku && s.location_name == location)
        {
            row.free -= *qty;
        }
    }
}
