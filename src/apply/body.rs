//! The OrderWise sales-order body (contract: orderwise.md "Writes"), with money written as JSON
//! numbers from the decimal's own text: serde_json's `Value` would go through `f64`.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::plan::OrderLine;

/// A money value serialised as a JSON number with exactly its decimal digits.
struct Money(Decimal);

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        RawValue::from_string(self.0.normalize().to_string())
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Header<'a> {
    e_commerce_order_number: &'a str,
    order_date: &'a str,
    currency_code: &'a str,
    prices_include_vat: bool,
    delivery_method: Option<&'a str>,
    delivery_gross: Money,
    delivery_net: Money,
    delivery_vat: Money,
    discount_gross: Money,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Customer<'a> {
    account_number: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    variant_code: &'a str,
    quantity: i64,
    item_gross: Money,
    line_net: Money,
    line_vat: Money,
    line_gross: Money,
    vat_code: &'a str,
}

#[derive(Serialize)]
struct Totals {
    net: Money,
    vat: Money,
    gross: Money,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    order_header: Header<'a>,
    customer: Customer<'a>,
    order_lines: Vec<Line<'a>>,
    totals: Totals,
}

/// What an order body is made of.
pub struct OrderParts<'a> {
    pub reference: &'a str,
    pub order_date: &'a str,
    pub currency: &'a str,
    pub delivery_method: Option<&'a str>,
    pub delivery_gross: Decimal,
    pub delivery_net: Decimal,
    pub delivery_vat: Decimal,
    pub discount_gross: Decimal,
    pub customer: &'a str,
    pub lines: &'a [OrderLine],
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
}

/// The JSON bytes of an order post.
pub fn order(p: OrderParts) -> Vec<u8> {
    let body = Body {
        order_header: Header {
            e_commerce_order_number: p.reference,
            order_date: p.order_date,
            currency_code: p.currency,
            prices_include_vat: true,
            delivery_method: p.delivery_method,
            delivery_gross: Money(p.delivery_gross),
            delivery_net: Money(p.delivery_net),
            delivery_vat: Money(p.delivery_vat),
            discount_gross: Money(p.discount_gross),
        },
        customer: Customer {
            account_number: p.customer,
        },
        order_lines: p
            .lines
            .iter()
            .map(|l| Line {
                variant_code: &l.variant_code,
                quantity: l.quantity,
                item_gross: Money(l.item_gross),
                line_net: Money(l.line_net),
                line_vat: Money(l.line_vat),
                line_gross: Money(l.line_gross),
                vat_code: &l.vat_code,
            })
            .collect(),
        totals: Totals {
            net: Money(p.net),
            vat: Money(p.vat),
            gross: Money(p.gross),
        },
    };
    serde_json::to_vec(&body).expect("an order body serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_goes_out_as_exact_numbers() {
        let d = |s| Decimal::from_str(s).unwrap();
        let lines = vec![OrderLine {
            variant_code: "TS1001-BLK-M".into(),
            quantity: 2,
            item_gross: d("19.99"),
            line_net: d("33.3167"),
            line_vat: d("6.6633"),
            line_gross: d("39.98"),
            vat_code: "T1".into(),
        }];
        let bytes = order(OrderParts {
            reference: "100234",
            order_date: "2026-10-31T23:59:12",
            currency: "GBP",
            delivery_method: None,
            delivery_gross: d("4.95"),
            delivery_net: d("4.125"),
            delivery_vat: d("0.825"),
            discount_gross: d("0"),
            customer: "WEB-UK",
            lines: &lines,
            net: d("37.4417"),
            vat: d("7.4883"),
            gross: d("44.93"),
        });
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(r#""lineNet":33.3167"#), "{text}");
        assert!(
            text.contains(r#""eCommerceOrderNumber":"100234""#),
            "{text}"
        );
        assert!(text.contains(r#""gross":44.93"#), "{text}");
    }
}
