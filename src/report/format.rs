//! Number and time formatting for reports: money per ISO 4217 code with the currency's own decimals
//! and thousands separators, times in UTC.

use minijinja::Value;
use rust_decimal::{Decimal, RoundingStrategy};

/// Symbol and decimals for the currencies tally meets most; others show their code.
fn currency(code: &str) -> (&'static str, bool, u32) {
    // (symbol, symbol before the amount, decimals)
    match code {
        "GBP" => ("£", true, 2),
        "EUR" => ("€", true, 2),
        "USD" => ("$", true, 2),
        "SEK" => (" kr", false, 2),
        "NOK" => (" kr", false, 2),
        "DKK" => (" kr", false, 2),
        "JPY" => ("¥", true, 0),
        _ => ("", false, 2),
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234.5` in `GBP` -> `£1,234.50`; `-3` in `SEK` -> `-3.00 kr`; unknown codes get the code.
pub fn money(amount: Decimal, code: &str) -> String {
    let (symbol, before, decimals) = currency(code);
    let rounded = amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", decimals as usize, rounded.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut body = group_thousands(int);
    if !frac.is_empty() {
        body.push('.');
        body.push_str(frac);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    match (symbol, before) {
        ("", _) => format!("{sign}{body} {code}"),
        (s, true) => format!("{sign}{s}{body}"),
        (s, false) => format!("{sign}{body}{s}"),
    }
}

/// minijinja filter `money(code)`; the amount may be a string (exact) or a number.
pub fn money_filter(value: Value, code: Option<String>) -> String {
    let text = value.to_string();
    match text.parse::<Decimal>() {
        Ok(d) => money(d, code.as_deref().unwrap_or("")),
        Err(_) => text,
    }
}

/// `12345` -> `12,345`, `-3` -> `-3`.
pub fn count(n: i64) -> String {
    let digits = group_thousands(&n.unsigned_abs().to_string());
    if n < 0 { format!("-{digits}") } else { digits }
}

/// minijinja filter `count`: an integer with thousands separators.
pub fn count_filter(value: Value) -> String {
    match i64::try_from(value.clone()) {
        Ok(n) => count(n),
        Err(_) => value.to_string(),
    }
}

/// minijinja filter `signed(code)`: money with an explicit `+` when above zero, for differences.
pub fn signed_filter(value: Value, code: Option<String>) -> String {
    let text = money_filter(value.clone(), code);
    match value.to_string().parse::<Decimal>() {
        Ok(d) if d.round_dp(2) > Decimal::ZERO => format!("+{text}"),
        _ => text,
    }
}

/// minijinja filter `datetime`: an RFC 3339 string as `2026-11-26 15:04 UTC`.
pub fn datetime_filter(value: Value) -> String {
    if value.is_none() || value.is_undefined() {
        return "—".into();
    }
    let text = value.to_string();
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|t| t.to_utc().format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_follows_the_currency() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(money(d("1234567.8901"), "GBP"), "£1,234,567.89");
        assert_eq!(money(d("-19.995"), "EUR"), "-€20.00");
        assert_eq!(money(d("5"), "SEK"), "5.00 kr");
        assert_eq!(money(d("1200"), "JPY"), "¥1,200");
        assert_eq!(money(d("0.1"), "CHF"), "0.10 CHF");
        assert_eq!(money(d("-0.001"), "GBP"), "£0.00");
        assert_eq!(
            signed_filter(Value::from("12.5"), Some("GBP".into())),
            "+£12.50"
        );
        assert_eq!(
            signed_filter(Value::from("-12.5"), Some("GBP".into())),
            "-£12.50"
        );
        assert_eq!(
            signed_filter(Value::from("0.001"), Some("GBP".into())),
            "£0.00"
        );
    }

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(count(0), "0");
    }
}
