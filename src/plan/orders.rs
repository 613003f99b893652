//! `post_order`: each `order.missing_in_orderwise` exception reconcile reported, posted with
//! Centra's values as they are. What a person must fix first (an unmapped market, a SKU OrderWise
//! lacks, an order already shipped, a VAT rate without a code, a money value the snapshot lacks)
//! becomes a `no_action` naming the order and what is wrong. Nothing missing ever becomes 0.

use std::collections::BTreeMap;
use std::str::FromStr;

use duckdb::Connection;
use rust_decimal::Decimal;

use super::{Action, OrderLine};
use crate::config::Config;
use crate::reconcile::{Error, query_rows};

/// The reported missing orders, with what posting them needs from the snapshot.
const MISSING: &str = "
select x.\"check\" || ':' || x.key, e.number, e.market, e.currency, e.order_date_local,
       cast(e.gross_total as varchar), cast(e.net as varchar), cast(e.vat_total as varchar),
       cast(e.shipping_total as varchar), cast(e.discount_total as varchar),
       m.orderwise_session, m.orderwise_customer,
       exists (select 1 from centra_shipments s where s.order_number = e.number and s.is_shipped) as shipped
from exceptions x
join centra_order_figures e on e.order_key = x.order_number
left join cfg_markets m on m.centra_market = e.market
where x.\"check\" = 'order.missing_in_orderwise'
order by e.number";

/// The lines of those orders, with OrderWise's spelling of each SKU.
const MISSING_LINES: &str = "
select l.order_number, l.sku, v.sku, l.quantity, cast(l.unit_price as varchar),
       cast(l.line_gross as varchar), cast(l.line_net as varchar), cast(l.tax_percent as varchar)
from centra_order_lines l
left join (select sku_key, min(sku) as sku from ow_variants group by sku_key) v on v.sku_key = l.sku_key
where cast(l.order_number as varchar) in
      (select order_number from exceptions where \"check\" = 'order.missing_in_orderwise')
order by l.order_number, l.line_id";

/// A money field as the snapshot holds it: its name (for messages) and its text, if any.
type Field = (&'static str, Option<String>);

/// Parses every field, or names the first that is null or not a decimal.
fn money<const N: usize>(fields: [Field; N]) -> Result<[Decimal; N], String> {
    let mut out = [Decimal::ZERO; N];
    for (slot, (name, text)) in out.iter_mut().zip(fields) {
        *slot = match text.as_deref().map(Decimal::from_str) {
            Some(Ok(d)) => d,
            Some(Err(_)) => return Err(format!("{name} {:?} is not a decimal", text.unwrap())),
            None => return Err(format!("{name} is missing")),
        };
    }
    Ok(out)
}

fn round(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

struct Line {
    sku: Option<String>,
    ow_sku: Option<String>,
    quantity: i64,
    /// unit price, line gross, line net, tax percent
    money: [Field; 4],
}

struct Missing {
    fix: String,
    number: i64,
    market: String,
    currency: String,
    order_date: String,
    /// gross, net, VAT, shipping, discount
    money: [Field; 5],
    session: Option<i64>,
    customer: Option<String>,
    shipped: bool,
}

pub(super) fn plan(conn: &Connection, cfg: &Config) -> Result<Vec<Action>, Error> {
    let what = "planning orders";
    let mut lines: BTreeMap<i64, Vec<Line>> = BTreeMap::new();
    for (n, l) in query_rows(conn, MISSING_LINES, what, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            Line {
                sku: r.get(1)?,
                ow_sku: r.get(2)?,
                quantity: r.get(3)?,
                money: [
                    ("unit price", r.get(4)?),
                    ("line gross", r.get(5)?),
                    ("line net", r.get(6)?),
                    ("tax percent", r.get(7)?),
                ],
            },
        ))
    })? {
        lines.entry(n).or_default().push(l);
    }
    let orders = query_rows(conn, MISSING, what, |r| {
        Ok(Missing {
            fix: r.get(0)?,
            number: r.get(1)?,
            market: r.get(2)?,
            currency: r.get(3)?,
            order_date: r.get(4)?,
            money: [
                ("gross total", r.get(5)?),
                ("net total", r.get(6)?),
                ("VAT total", r.get(7)?),
                ("shipping", r.get(8)?),
                ("discount", r.get(9)?),
            ],
            session: r.get(10)?,
            customer: r.get(11)?,
            shipped: r.get(12)?,
        })
    })?;
    let vat_codes: BTreeMap<Decimal, String> = cfg
        .raw
        .vat_codes
        .iter()
        .filter_map(|(r, c)| {
            Decimal::from_str(r)
                .ok()
                .map(|r| (r.normalize(), c.clone()))
        })
        .collect();
    Ok(orders
        .into_iter()
        .map(|o| {
            let order_lines = lines.remove(&o.number).unwrap_or_default();
            let fixes = vec![o.fix.clone()];
            post(o, order_lines, &vat_codes)
                .unwrap_or_else(|reason| Action::NoAction { fixes, reason })
        })
        .collect())
}

/// The `post_order` of one missing order, or why a person must act first.
fn post(
    o: Missing,
    lines: Vec<Line>,
    vat_codes: &BTreeMap<Decimal, String>,
) -> Result<Action, String> {
    let number = o.number;
    let (Some(session), Some(customer)) = (o.session, o.customer) else {
        return Err(format!(
            "order {number} is from market \"{}\", which no [[markets]] entry maps; map it first",
            o.market
        ));
    };
    let unknown: Vec<&str> = lines
        .iter()
        .filter(|l| l.ow_sku.is_none())
        .map(|l| l.sku.as_deref().unwrap_or("(no SKU)"))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "order {number} has SKUs OrderWise does not know ({}); create the variants first",
            unknown.join(", ")
        ));
    }
    if o.shipped {
        return Err(format!(
            "order {number} is already shipped in Centra: posting it would have the warehouse ship it again; book it in OrderWise as despatched by hand"
        ));
    }
    if lines.is_empty() {
        return Err(format!(
            "order {number} has no lines in the snapshot; re-extract before posting it"
        ));
    }
    let bad = |e: String| {
        format!(
            "order {number}: Centra's {e} in the snapshot, so it cannot be posted with Centra's values; re-extract, or correct the order in Centra"
        )
    };
    let [gross, net, vat, shipping, discount] = money(o.money).map_err(bad)?;
    let mut posted = Vec::new();
    let mut first_rate = None;
    for l in lines {
        let sku = l.ow_sku.clone().expect("checked above");
        let [unit, line_gross, line_net, rate] =
            money(l.money).map_err(|e| bad(format!("{e} on the {sku} line")))?;
        let Some(code) = vat_codes.get(&rate.normalize()) else {
            return Err(format!(
                "order {number} has a {rate}% line and [vat_codes] has no code for it; add one"
            ));
        };
        first_rate.get_or_insert(rate);
        posted.push(OrderLine {
            variant_code: sku,
            quantity: l.quantity,
            item_gross: unit,
            line_net,
            line_vat: line_gross - line_net,
            line_gross,
            vat_code: code.clone(),
        });
    }
    let rate = first_rate.expect("at least one line");
    let delivery_vat = round(shipping * rate / (Decimal::ONE_HUNDRED + rate), 4);
    Ok(Action::PostOrder {
        key: String::new(),
        fixes: vec![o.fix],
        order_number: number,
        session_id: session,
        customer,
        order_date: o.order_date.replace(' ', "T"),
        currency: o.currency,
        delivery_method: None,
        delivery_gross: shipping,
        delivery_net: shipping - delivery_vat,
        delivery_vat,
        discount_gross: discount,
        lines: posted,
        total_net: net,
        total_vat: vat,
        total_gross: gross,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_names_the_missing_or_malformed_field_instead_of_a_zero() {
        let ok = money([("gross total", Some("12.50".into()))]).unwrap();
        assert_eq!(ok[0], Decimal::new(1250, 2));
        let e = money([("gross total", Some("1".into())), ("net total", None)]).unwrap_err();
        assert_eq!(e, "net total is missing");
        let e = money([("VAT total", Some("n/a".into()))]).unwrap_err();
        assert!(e.contains("VAT total") && e.contains("n/a"), "{e}");
    }
}
