//! JSON value parsing both connectors share: money from the number's own text (never through
//! `f64`), integers that some tenants send as strings, and the two datetime forms.
//!
//! Used with `#[serde(deserialize_with = ...)]` on response structs parsed straight from the body
//! bytes by `serde_json` (raw values need that deserializer).

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Parses a JSON number's text (`19.99`, `-0.5`, `1e-3`) into a `Decimal` exactly.
pub fn decimal_from_text(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t);
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).map_err(|_| format!("{text} is not a decimal number"))
    } else {
        Decimal::from_str(t).map_err(|_| format!("{text} is not a decimal number"))
    }
}

/// A money or quantity value: a JSON number (or numeric string), parsed from its text.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw: &RawValue = Deserialize::deserialize(d)?;
    if raw.get() == "null" {
        return Err(D::Error::custom("expected a number, found null"));
    }
    decimal_from_text(raw.get()).map_err(D::Error::custom)
}

/// An integer sent as a JSON number or, on some Centra tenants, as a string (`"12345"`).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        Str(String),
    }
    match IntOrString::deserialize(d)? {
        IntOrString::Int(n) => Ok(n),
        IntOrString::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| D::Error::custom(format!("expected an integer, found {s:?}"))),
    }
}

/// A boolean sent as `true`/`false` or, from SQL Server exports, `1`/`0`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    match Flag::deserialize(d)? {
        Flag::Bool(b) => Ok(b),
        Flag::Int(0) => Ok(false),
        Flag::Int(1) => Ok(true),
        Flag::Int(n) => Err(D::Error::custom(format!("expected a boolean, found {n}"))),
    }
}

/// Centra's `DateTimeTz`: ISO-8601 with an offset written `+01:00` or `+0100`.
pub fn datetime_tz(s: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
}

/// How a local OrderWise time was turned into UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalFit {
    /// The local time names one instant.
    Exact,
    /// It falls in the autumn's repeated hour: the earlier instant was taken.
    Ambiguous,
    /// It falls in the spring's skipped hour: read as the hour after.
    Skipped,
}

/// An OrderWise datetime (`YYYY-MM-DDTHH:MM:SS`, no offset, the instance's local time) in UTC.
pub fn local_datetime(s: &str, tz: Tz) -> Option<(DateTime<Utc>, LocalFit)> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f"))
        .or_else(|_| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S"))
        .ok()?;
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Some((t.to_utc(), LocalFit::Exact)),
        chrono::LocalResult::Ambiguous(a, _) => Some((a.to_utc(), LocalFit::Ambiguous)),
        chrono::LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&later)
                .earliest()
                .map(|t| (t.to_utc(), LocalFit::Skipped))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Money {
        #[serde(deserialize_with = "decimal")]
        value: Decimal,
        #[serde(deserialize_with = "int")]
        number: i64,
    }

    #[test]
    fn money_keeps_its_text_exactly() {
        for text in [
            "0.1",
            "19.99",
            "33.3167",
            "1234567.8901",
            "-0.01",
            "0.30000000000000004",
        ] {
            let m: Money =
                serde_json::from_str(&format!(r#"{{"value": {text}, "number": 1}}"#)).unwrap();
            assert_eq!(m.value.to_string(), text);
        }
        let m: Money = serde_json::from_str(r#"{"value": 1.5e2, "number": "12345"}"#).unwrap();
        assert_eq!(m.value, Decimal::from(150));
        assert_eq!(m.number, 12345);
    }

    #[test]
    fn money_refuses_what_is_not_a_number() {
        for bad in [r#""abc""#, "null", "true", "[1]"] {
            let r: Result<Money, _> =
                serde_json::from_str(&format!(r#"{{"value": {bad}, "number": 1}}"#));
            assert!(r.is_err(), "{bad}");
        }
    }

    #[test]
    fn both_offset_forms_parse() {
        let a = datetime_tz("2026-10-31T23:59:12+01:00").unwrap();
        let b = datetime_tz("2026-10-31T23:59:12+0100").unwrap();
        assert_eq!(a, b);
        assert!(datetime_tz("2026-10-31 23:59").is_none());
    }

    #[test]
    fn london_local_times_become_utc() {
        let tz = chrono_tz::Europe::London;
        let (summer, fit) = local_datetime("2026-09-30T23:30:00", tz).unwrap();
        assert_eq!(summer.to_rfc3339(), "2026-09-30T22:30:00+00:00");
        assert_eq!(fit, LocalFit::Exact);
        let (_, fit) = local_datetime("2026-10-25T01:30:00", tz).unwrap();
        assert_eq!(fit, LocalFit::Ambiguous);
        let (_, fit) = local_datetime("2026-03-29T01:30:00", tz).unwrap();
        assert_eq!(fit, LocalFit::Skipped);
        assert!(local_datetime("31/10/2026", tz).is_none());
    }
}
