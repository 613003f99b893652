//! `period_orders.parquet`: each order's part in a month-end difference (OrderWise minus Centra)
//! and why, as `queries/after/month_end.sql` works it out. The month-end report reads it.

use std::path::Path;

use rust_decimal::Decimal;
use serde::Serialize;

use super::{Error, PERIOD_ORDERS_PARQUET};

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
    /// Orders OrderWise counts minus orders Centra counts (-1 missing, +1 extra copy or unexpected).
    pub orders: i64,
    pub net: Decimal,
    pub vat: Decimal,
    pub gross: Decimal,
    pub discounts: Decimal,
    pub shipping: Decimal,
    /// The explaining check (`order.missing_in_orderwise`, ...), or `settling`, `rounding`,
    /// `unexplained`.
    pub reason: String,
}

/// Reads a reconciled snapshot's period orders, in month, market, currency and order order.
pub fn read_period_orders(dir: &Path) -> Result<Vec<PeriodOrder>, Error> {
    let path = dir.join(PERIOD_ORDERS_PARQUET);
    if !path.is_file() {
        return Err(Error::Io {
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not reconciled by this version of tally; run `tally reconcile` on the snapshot",
            ),
        });
    }
    let conn =
        duckdb::Connection::open_in_memory().map_err(|e| Error::duckdb("opening DuckDB", e))?;
    let sql = format!(
        "SELECT month, market, currency, order_ref, orderwise_orders, orders,
                CAST(net AS VARCHAR), CAST(vat AS VARCHAR), CAST(gross AS VARCHAR),
                CAST(discounts AS VARCHAR), CAST(shipping AS VARCHAR), reason
         FROM read_parquet('{}') ORDER BY month, market, currency, order_ref",
        path.to_string_lossy().replace('\'', "''")
    );
    let what = format!("reading {}", path.display());
    let mut stmt = conn.prepare(&sql).map_err(|e| Error::duckdb(&what, e))?;
    let dec = super::decimal_column;
    let rows = stmt
        .query_map([], |r| {
            Ok(PeriodOrder {
                month: r.get(0)?,
                market: r.get(1)?,
                currency: r.get(2)?,
                order_ref: r.get(3)?,
                orderwise_orders: r.get(4)?,
                orders: r.get(5)?,
                net: dec(r, 6)?,
                vat: dec(r, 7)?,
                gross: dec(r, 8)?,
                discounts: dec(r, 9)?,
                shipping: dec(r, 10)?,
                reason: r.get(11)?,
            })
        })
        .map_err(|e| Error::duckdb(&what, e))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::duckdb(&what, e))
}
