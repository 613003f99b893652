//! The month-end workbook (`tally report SNAPSHOT --kind month-end --format xlsx`): the month-end
//! report in the tool finance closes the books in.
//!
//! Three sheets, each with a frozen header row, filters on and columns sized to fit:
//! - **Summary**: per month, market and currency, both systems' orders, net, VAT and gross, the
//!   differences, and how much of the gross difference exceptions explain, timing and rounding
//!   tolerate, and nothing accounts for ([`super::month_end`] computes it, as for the HTML);
//! - **Orders**: every order behind the differences, with its reason;
//! - **Exceptions**: every exception of the snapshot.
//!
//! The two long sheets are written in the writer's constant-memory mode, row by row as DuckDB
//! reads them from the snapshot: the workbook of ten million orders holds one row at a time, not
//! the hundreds of thousands it lists. Their columns have fixed widths (the mode cannot size a
//! column to rows it no longer holds).
//!
//! Amounts are numbers with the currency's format, months and times are dates. An xlsx number is
//! an IEEE double: amounts are converted from `Decimal` at the cell, the one place they leave exact
//! arithmetic, and read back to the penny (the test checks each against `summary.json`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::read::fail;
use super::{Error, Input, month_end};
use crate::reconcile::{
    EXCEPTION_COLUMNS, Exception, PERIOD_ORDER_COLUMNS, PeriodOrder, exception_row,
    period_order_row,
};

/// The Excel number format of an amount in `currency`.
fn money_format(currency: &str) -> Format {
    // Excel's pattern: positive;negative, with literal text in double quotes.
    let (prefix, suffix, decimals) = match currency {
        "GBP" => ("\"£\"".to_string(), String::new(), ".00"),
        "EUR" => ("\"€\"".to_string(), String::new(), ".00"),
        "USD" => ("\"$\"".to_string(), String::new(), ".00"),
        "SEK" | "NOK" | "DKK" => (String::new(), "\" kr\"".to_string(), ".00"),
        "JPY" => ("\"¥\"".to_string(), String::new(), ""),
        other => (String::new(), format!("\" {other}\""), ".00"),
    };
    let one = format!("{prefix}#,##0{decimals}{suffix}");
    let pattern = format!("{one};-{one}");
    Format::new().set_num_format(pattern)
}

fn header(sheet: &mut Worksheet, columns: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold().set_text_wrap();
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn finish(sheet: &mut Worksheet, rows: u32, columns: usize) -> Result<(), XlsxError> {
    sheet.autofilter(0, 0, rows.max(1), columns as u16 - 1)?;
    Ok(())
}

/// A sheet's columns, `(name, width in characters)`, for the constant-memory sheets: the width
/// is set before the rows are written.
fn widths(sheet: &mut Worksheet, columns: &[(&str, u16)]) -> Result<(), XlsxError> {
    for (c, (_, width)) in columns.iter().enumerate() {
        sheet.set_column_width(c as u16, *width)?;
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    header(sheet, &names)
}

fn xlsx(e: XlsxError) -> Error {
    Error::Render {
        template: "month-end.xlsx".into(),
        detail: e.to_string(),
    }
}

fn money(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    amount: Decimal,
    format: &Format,
) -> Result<(), XlsxError> {
    sheet.write_number_with_format(row, col, f64::try_from(amount).unwrap_or(0.0), format)?;
    Ok(())
}

/// The first day of a `YYYY-MM` month.
fn month(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok()
}

const SUMMARY: [&str; 20] = [
    "Month",
    "Market",
    "Currency",
    "Centra orders",
    "OrderWise orders",
    "Orders difference",
    "Centra net",
    "OrderWise net",
    "Net difference",
    "Centra VAT",
    "OrderWise VAT",
    "VAT difference",
    "Centra gross",
    "OrderWise gross",
    "Gross difference",
    "Explained by exceptions (gross)",
    "Timing and rounding (gross)",
    "Unexplained (gross)",
    "Unexplained orders",
    "Flagged by tally",
];

const ORDERS: [(&str, u16); 13] = [
    ("Month", 9),
    ("Market", 10),
    ("Currency", 9),
    ("Order", 12),
    ("OrderWise orders", 18),
    ("Reason", 48),
    ("Explained", 10),
    ("Orders difference", 10),
    ("Net difference", 13),
    ("VAT difference", 13),
    ("Gross difference", 13),
    ("Discounts difference", 13),
    ("Shipping difference", 13),
];

const EXCEPTIONS: [(&str, u16); 17] = [
    ("Check", 30),
    ("Severity", 9),
    ("Owner", 12),
    ("Key", 24),
    ("Order", 12),
    ("Market", 10),
    ("Currency", 9),
    ("Occurred at (UTC)", 17),
    ("Centra value", 16),
    ("OrderWise value", 16),
    ("Difference", 14),
    ("Amount", 13),
    ("At stake", 13),
    ("Detail", 80),
    ("Status", 10),
    ("First seen (UTC)", 17),
    ("Period", 9),
];

/// The workbook of a reconciled snapshot, as bytes.
pub fn month_end(input: &Input) -> Result<Vec<u8>, Error> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");

    let lines = month_end::totals(input)?;
    let sheet = book.add_worksheet().set_name("Summary").map_err(xlsx)?;
    summary(sheet, &lines, &date).map_err(xlsx)?;
    sheet.autofit();

    let sheet = book
        .add_worksheet_with_constant_memory()
        .and_then(|s| s.set_name("Orders"))
        .map_err(xlsx)?;
    widths(sheet, &ORDERS).map_err(xlsx)?;
    // Every order, rounding included (the HTML only counts those).
    let mut titles = std::collections::HashMap::new();
    let mut r = 0;
    input.db().each(
        "writing the workbook's orders",
        &format!(
            "SELECT {PERIOD_ORDER_COLUMNS} FROM period_orders
             ORDER BY month, market, currency, order_ref"
        ),
        |row| {
            let o = period_order_row(row).map_err(|e| fail("reading an order", e))?;
            r += 1;
            let title: &String = titles
                .entry(o.reason.clone())
                .or_insert_with(|| month_end::reason_title(input, &o.reason));
            order(sheet, r, &o, title, &date).map_err(xlsx)
        },
    )?;
    finish(sheet, r, ORDERS.len()).map_err(xlsx)?;

    let sheet = book
        .add_worksheet_with_constant_memory()
        .and_then(|s| s.set_name("Exceptions"))
        .map_err(xlsx)?;
    widths(sheet, &EXCEPTIONS).map_err(xlsx)?;
    let mut r = 0;
    input.db().each(
        "writing the workbook's exceptions",
        &format!(
            "SELECT {EXCEPTION_COLUMNS}, life_status, epoch_ms(life_first_seen) FROM (
                 SELECT e.*, l.status AS life_status, l.first_seen AS life_first_seen
                 FROM exceptions e
                 LEFT JOIN life l ON l.\"check\" = e.\"check\" AND l.key = e.key)
             ORDER BY \"check\", key"
        ),
        |row| {
            let read = |e| fail("reading an exception", e);
            let e = exception_row(row).map_err(read)?;
            let status: Option<String> = row.get(22).map_err(read)?;
            let first_seen = row
                .get::<_, Option<i64>>(23)
                .map_err(read)?
                .and_then(chrono::DateTime::from_timestamp_millis);
            r += 1;
            exception(sheet, r, &e, status.as_deref(), first_seen, &datetime).map_err(xlsx)
        },
    )?;
    finish(sheet, r, EXCEPTIONS.len()).map_err(xlsx)?;
    book.save_to_buffer().map_err(xlsx)
}

/// The Summary sheet: one row per month, market and currency.
fn summary(
    sheet: &mut Worksheet,
    lines: &[month_end::Line],
    date: &Format,
) -> Result<(), XlsxError> {
    header(sheet, &SUMMARY)?;
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        let t = l.totals;
        let cur = money_format(&t.currency);
        match month(&t.month) {
            Some(d) => sheet.write_datetime_with_format(r, 0, d, date)?,
            None => sheet.write_string(r, 0, &t.month)?,
        };
        sheet.write_string(r, 1, &t.market)?;
        sheet.write_string(r, 2, &t.currency)?;
        sheet.write_number(r, 3, t.centra.orders as f64)?;
        sheet.write_number(r, 4, t.orderwise.orders as f64)?;
        sheet.write_number(r, 5, l.difference.orders as f64)?;
        let figures = [
            (t.centra.net, t.orderwise.net, l.difference.net),
            (t.centra.vat, t.orderwise.vat, l.difference.vat),
            (t.centra.gross, t.orderwise.gross, l.difference.gross),
        ];
        for (k, (c, o, d)) in figures.into_iter().enumerate() {
            let col = 6 + 3 * k as u16;
            money(sheet, r, col, c, &cur)?;
            money(sheet, r, col + 1, o, &cur)?;
            money(sheet, r, col + 2, d, &cur)?;
        }
        money(sheet, r, 15, l.explained.gross, &cur)?;
        money(sheet, r, 16, l.tolerated.gross, &cur)?;
        money(sheet, r, 17, l.unexplained.gross, &cur)?;
        sheet.write_number(r, 18, l.unexplained_orders as f64)?;
        sheet.write_boolean(r, 19, l.flagged)?;
    }
    finish(sheet, lines.len() as u32, SUMMARY.len())
}

/// Row `r` of the Orders sheet.
fn order(
    sheet: &mut Worksheet,
    r: u32,
    o: &PeriodOrder,
    title: &str,
    date: &Format,
) -> Result<(), XlsxError> {
    let cur = money_format(&o.currency);
    match month(&o.month) {
        Some(d) => sheet.write_datetime_with_format(r, 0, d, date)?,
        None => sheet.write_string(r, 0, &o.month)?,
    };
    sheet.write_string(r, 1, &o.market)?;
    sheet.write_string(r, 2, &o.currency)?;
    sheet.write_string(r, 3, &o.order_ref)?;
    sheet.write_string(r, 4, o.orderwise_orders.as_deref().unwrap_or(""))?;
    sheet.write_string(r, 5, title)?;
    let explained = !matches!(o.reason.as_str(), "settling" | "rounding" | "unexplained");
    sheet.write_boolean(r, 6, explained)?;
    sheet.write_number(r, 7, o.part.orders as f64)?;
    let parts = [
        o.part.net,
        o.part.vat,
        o.part.gross,
        o.part.discounts,
        o.part.shipping,
    ];
    for (k, v) in parts.into_iter().enumerate() {
        money(sheet, r, 8 + k as u16, v, &cur)?;
    }
    Ok(())
}

/// Row `r` of the Exceptions sheet, with the history's status and first sighting.
fn exception(
    sheet: &mut Worksheet,
    r: u32,
    e: &Exception,
    status: Option<&str>,
    first_seen: Option<chrono::DateTime<chrono::Utc>>,
    datetime: &Format,
) -> Result<(), XlsxError> {
    let texts = [
        Some(e.check.as_str()),
        Some(e.severity.as_str()),
        Some(e.owner.as_str()),
        Some(e.key.as_str()),
        e.order_number.as_deref(),
        e.market.as_deref(),
        e.currency.as_deref(),
    ];
    for (c, t) in texts.into_iter().enumerate() {
        sheet.write_string(r, c as u16, t.unwrap_or(""))?;
    }
    if let Some(t) = e.occurred_at {
        sheet.write_datetime_with_format(r, 7, t.naive_utc(), datetime)?;
    }
    for (c, t) in [&e.centra_value, &e.orderwise_value, &e.difference]
        .into_iter()
        .enumerate()
    {
        sheet.write_string(r, 8 + c as u16, t.as_deref().unwrap_or(""))?;
    }
    let cur = money_format(e.currency.as_deref().unwrap_or(""));
    if let Some(a) = e.amount {
        money(sheet, r, 11, a, &cur)?;
    }
    if let Some(a) = e.at_stake {
        money(sheet, r, 12, a, &cur)?;
    }
    sheet.write_string(r, 13, &e.detail)?;
    if let Some(status) = status {
        sheet.write_string(r, 14, status)?;
    }
    if let Some(t) = first_seen {
        sheet.write_datetime_with_format(r, 15, t.naive_utc(), datetime)?;
    }
    sheet.write_string(r, 16, e.period.as_deref().unwrap_or(""))?;
    Ok(())
}
