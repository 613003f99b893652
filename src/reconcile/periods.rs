//! `period_orders.parquet`: each order's part in a month-end difference (OrderWise minus Centra)
//! and why, as `queries/after/month_end.sql` works it out. The month-end report reads it.

use std::path::Path;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Error, Figures, PERIOD_ORDERS_PARQUET};

/// A signed difference of the six month-end figures (OrderWise minus Centra).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Delta {
    pub orders: i64,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub shipping: Decimal,
}

impl Delta {
    /// OrderWise's figures minus Centra's.
    pub fn between(centra: &Figures, orderwise: &Figures) -> Delta {
        Delta {
            orders: orderwise.orders as i64 - centra.orders as i64,
            net: orderwise.net - centra.net,
            vat: orderwise.vat - centra.vat,
            gross: orderwise.gross - centra.gross,
            discounts: orderwise.discounts - centra.discounts,
            shipping: orderwise.shipping - centra.shipping,
        }
    }
}

impl std::ops::AddAssign<&Delta> for Delta {
    fn add_assign(&mut self, o: &Delta) {
        self.orders += o.orders;
        self.net += o.net;
        self.vat += o.vat;
        self.gross += o.gross;
        self.discounts += o.discounts;
        self.shipping += o.shipping;
    }
}

/// One order's part in the difference of one month, market and currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodOrder {
    pub month: String,
    pub market: String,
    pub currency: String,
    /// The Centra order number (or OrderWise's own number for an order Centra never had).
    pub order_ref: String,
    /// OrderWise's numbers for the order in this line, if it has any.
    pub orderwise_orders: Option<String>,
    /// Its part: orders OrderWise counts minus orders Centra counts (-1 missing, +1 extra copy or
    /// unexpected), and the same for each money figure.
    pub part: Delta,
    /// The explaining check (`order.missing_in_orderwise`, ...), or `settling`, `rounding`,
    /// `unexplained`.
    pub reason: String,
}

/// The columns of `period_orders.parquet` that [`period_order_row`] reads, in its order.
pub(crate) const PERIOD_ORDER_COLUMNS: &str = "month, market, currency, order_ref,
    orderwise_orders, orders, CAST(net AS VARCHAR), CAST(vat AS VARCHAR),
    CAST(gross AS VARCHAR), CAST(discounts AS VARCHAR), CAST(shipping AS VARCHAR), reason";

/// The six figures of a [`Delta`] as text from columns `first..first + 6` (orders, net, VAT,
/// gross, discounts, shipping): one order's part, or a sum of parts.
pub(crate) fn delta_columns(r: &duckdb::Row<'_>, first: usize) -> duckdb::Result<Delta> {
    let dec = |i| super::decimal_column(r, first + i);
    Ok(Delta {
        orders: r.get(first)?,
        net: dec(1)?,
        vat: dec(2)?,
        gross: dec(3)?,
        discounts: dec(4)?,
        shipping: dec(5)?,
    })
}

/// One period order from a row of [`PERIOD_ORDER_COLUMNS`].
pub(crate) fn period_order_row(r: &duckdb::Row<'_>) -> duckdb::Result<PeriodOrder> {
    Ok(PeriodOrder {
        month: r.get(0)?,
        market: r.get(1)?,
        currency: r.get(2)?,
        order_ref: r.get(3)?,
        orderwise_orders: r.get(4)?,
        part: delta_columns(r, 5)?,
        reason: r.get(11)?,
    })
}

/// Reads a reconciled snapshot's period orders, in month, market, currency and order order:
/// every row. The reports read theirs a page at a time (`report::Input`).
pub fn read_period_orders(dir: &Path) -> Result<Vec<PeriodOrder>, Error> {
    let (conn, path, file) = super::open_output(
        dir,
        PERIOD_ORDERS_PARQUET,
        "not reconciled by this version of tally; run `tally reconcile` on the snapshot",
    )?;
    let sql = format!(
        "SELECT {PERIOD_ORDER_COLUMNS} FROM read_parquet({file})
         ORDER BY month, market, currency, order_ref"
    );
    let what = format!("reading {}", path.display());
    super::query_rows(&conn, &sql, &what, period_order_row)
}
