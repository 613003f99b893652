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
//! Amounts are numbers with the currency's format, months and times are dates. An xlsx number is
//! an IEEE double: amounts are converted from `Decimal` at the cell, the one place they leave exact
//! arithmetic, and read back to the penny (the test checks each against `summary.json`).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

use super::{Input, Options, month_end};

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
    sheet.autofit();
    Ok(())
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

const ORDERS: [&str; 13] = [
    "Month",
    "Market",
    "Currency",
    "Order",
    "OrderWise orders",
    "Reason",
    "Explained",
    "Orders difference",
    "Net difference",
    "VAT difference",
    "Gross difference",
    "Discounts difference",
    "Shipping difference",
];

const EXCEPTIONS: [&str; 17] = [
    "Check",
    "Severity",
    "Owner",
    "Key",
    "Order",
    "Market",
    "Currency",
    "Occurred at (UTC)",
    "Centra value",
    "OrderWise value",
    "Difference",
    "Amount",
    "At stake",
    "Detail",
    "Status",
    "First seen (UTC)",
    "Period",
];

/// The workbook of a reconciled snapshot, as bytes.
pub fn month_end(input: &Input, opts: &Options) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm");

    let lines = month_end::build(input, opts);
    let sheet = book.add_worksheet().set_name("Summary")?;
    header(sheet, &SUMMARY)?;
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        let t = l.totals;
        let cur = money_format(&t.currency);
        match month(&t.month) {
            Some(d) => sheet.write_datetime_with_format(r, 0, d, &date)?,
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
    finish(sheet, lines.len() as u32, SUMMARY.len())?;

    let sheet = book.add_worksheet().set_name("Orders")?;
    header(sheet, &ORDERS)?;
    // Every order, rounding included (the HTML only counts those).
    let mut titles = std::collections::HashMap::new();
    let mut r = 0;
    for o in &input.period_orders {
        r += 1;
        let title = titles
            .entry(o.reason.as_str())
            .or_insert_with(|| month_end::reason_title(input, &o.reason));
        let cur = money_format(&o.currency);
        match month(&o.month) {
            Some(d) => sheet.write_datetime_with_format(r, 0, d, &date)?,
            None => sheet.write_string(r, 0, &o.month)?,
        };
        sheet.write_string(r, 1, &o.market)?;
        sheet.write_string(r, 2, &o.currency)?;
        sheet.write_string(r, 3, &o.order_ref)?;
        sheet.write_string(r, 4, o.orderwise_orders.as_deref().unwrap_or(""))?;
        sheet.write_string(r, 5, title.as_str())?;
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
    }
    finish(sheet, r, ORDERS.len())?;

    let sheet = book.add_worksheet().set_name("Exceptions")?;
    header(sheet, &EXCEPTIONS)?;
    let life = |check: &str, key: &str| {
        input
            .timeline
            .as_ref()
            .and_then(|t| t.entries.get(&(check.to_string(), key.to_string())))
    };
    for (i, e) in input.exceptions.iter().enumerate() {
        let r = i as u32 + 1;
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
            sheet.write_datetime_with_format(r, 7, t.naive_utc(), &datetime)?;
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
        if let Some(l) = life(&e.check, &e.key) {
            sheet.write_string(r, 14, &l.status)?;
            sheet.write_datetime_with_format(r, 15, l.first_seen.naive_utc(), &datetime)?;
        }
        sheet.write_string(r, 16, e.period.as_deref().unwrap_or(""))?;
    }
    finish(sheet, input.exceptions.len() as u32, EXCEPTIONS.len())?;
    book.save_to_buffer()
}
