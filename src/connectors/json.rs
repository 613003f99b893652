//! JSON value parsing both connectors share: money from the number's own text (never through
//! `f64`), integers that some tenants send as strings, and the two datetime forms.
//!
//! Used with `#[serde(deserialize_with = ...)]` on response structs parsed straight from the body
//! bytes by `serde_json` (raw values need that deserializer).

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// The most decimal places a `Decimal` holds.
const MAX_SCALE: u32 = 28;

/// Parses a JSON number's text (`19.99`, `-0.5`, `1e-3`, or the same in quotes) into a `Decimal`
/// exactly. A value a `Decimal` cannot hold exactly (more than 28 decimal places that are not
/// zeros, or too large) is an error saying so: money is never rounded silently here.
pub fn decimal_from_text(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    let t = t
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t);
    let not_a_number = || format!("{text} is not a decimal number");
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(at) => {
            let exp: i64 = t[at + 1..]
                .strip_prefix('+')
                .unwrap_or(&t[at + 1..])
                .parse()
                .map_err(|_| not_a_number())?;
            (&t[..at], exp)
        }
        None => (t, 0),
    };
    let (negative, unsigned) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let is_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !is_digits(int)
        || !is_digits(frac)
        || (unsigned.contains('.') && frac.is_empty())
    {
        return Err(not_a_number());
    }
    // digits × 10^-scale, with the exponent folded into the scale.
    let mut digits: String = format!("{int}{frac}").trim_start_matches('0').to_string();
    let mut scale = frac.len() as i64 - exponent;
    if digits.is_empty() {
        return Ok(Decimal::ZERO);
    }
    // Zeros beyond what a Decimal holds are harmless; anything else there would be rounded.
    while scale > MAX_SCALE as i64 && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    if scale < 0 {
        if digits.len() as i64 - scale > 29 {
            return Err(format!("{text} is too large for a decimal"));
        }
        digits.push_str(&"0".repeat((-scale) as usize));
        scale = 0;
    }
    if scale > MAX_SCALE as i64 {
        return Err(format!(
            "{text} has more than {MAX_SCALE} decimal places; tally does not round money silently"
        ));
    }
    let too_large = || format!("{text} is too large for a decimal");
    if digits.len() > 29 {
        return Err(too_large());
    }
    let units: i128 = digits.parse().map_err(|_| too_large())?;
    let value =
        Decimal::try_from_i128_with_scale(if negative { -units } else { units }, scale as u32)
            .map_err(|_| too_large())?;
    Ok(value)
}

/// A money or quantity value: a JSON number (or numeric string), parsed from its text.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    let raw: &RawValue = Deserialize::deserialize(d)?;
    if raw.get() == "null" {
        return Err(D::Error::custom("expected a number, found null"));
    }
    decimal_from_text(raw.get()).map_err(D::Error::custom)
}

/// An integer sent as a JSON number or, on some Centra tenants, as a string (`"12345"`). Anything
/// else is an error saying what arrived instead ("invalid type: boolean `true`, expected an
/// integer...").
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct IntVisitor;
    impl serde::de::Visitor<'_> for IntVisitor {
        type Value = i64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an integer, or a string holding one")
        }
        fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<i64, E> {
            Ok(n)
        }
        fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<i64, E> {
            i64::try_from(n).map_err(|_| E::custom(format!("integer {n} is too large")))
        }
        fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<i64, E> {
            s.trim()
                .parse()
                .map_err(|_| E::custom(format!("expected an integer, found {s:?}")))
        }
    }
    d.deserialize_any(IntVisitor)
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

    #[test]
    fn money_beyond_a_decimal_is_refused_not_rounded() {
        // 29 decimal places of which the last is not zero: rounding would lose it.
        let e = decimal_from_text("0.12345678901234567890123456789").unwrap_err();
        assert!(e.contains("decimal places"), "{e}");
        // Zeros beyond 28 places lose nothing.
        assert_eq!(
            decimal_from_text("1.50000000000000000000000000000000").unwrap(),
            Decimal::new(15, 1)
        );
        let e = decimal_from_text("1e40").unwrap_err();
        assert!(e.contains("too large"), "{e}");
        let e = decimal_from_text("123456789012345678901234567890").unwrap_err();
        assert!(e.contains("too large"), "{e}");
        for bad in [
            "", "-", ".5", "5.", "1e", "1e+", "0x10", "1_000", "+1", "1.2.3", "NaN", "--1",
        ] {
            assert!(decimal_from_text(bad).is_err(), "{bad:?} parsed");
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_money_text_parses_exactly(units in proptest::prelude::any::<i64>(), scale in 0u32..=18) {
            let d = Decimal::new(units, scale);
            proptest::prop_assert_eq!(decimal_from_text(&d.to_string()).unwrap(), d);
            proptest::prop_assert_eq!(decimal_from_text(&format!("\"{d}\"")).unwrap(), d);
        }

        #[test]
        fn exponent_text_parses_exactly(units in -999_999_999i64..999_999_999, exp in -20i32..=12) {
            let d = decimal_from_text(&format!("{units}e{exp}")).unwrap();
            let want = if exp >= 0 {
                Decimal::from(units) * Decimal::from(10i64.pow(exp as u32))
            } else {
                Decimal::new(units, (-exp) as u32)
            };
            proptest::prop_assert_eq!(d, want);
        }

        #[test]
        fn any_text_is_a_value_or_an_error_never_a_panic(text in "\\PC{0,40}") {
            let _ = decimal_from_text(&text);
        }

        #[test]
        fn many_decimals_either_parse_exactly_or_are_refused(int in 0u64..1_000_000, frac in "[0-9]{1,40}") {
            let text = format!("{int}.{frac}");
            match decimal_from_text(&text) {
                // Exact: the decimal prints back the same digits (less trailing zeros).
                Ok(d) => {
                    let digits = |s: &str| match s.split_once('.') {
                        Some((i, f)) if !f.trim_end_matches('0').is_empty() => {
                            format!("{i}.{}", f.trim_end_matches('0'))
                        }
                        Some((i, _)) => i.to_string(),
                        None => s.to_string(),
                    };
                    proptest::prop_assert_eq!(digits(&d.to_string()), digits(&text));
                }
                Err(e) => proptest::prop_assert!(e.contains("decimal places") || e.contains("too large"), "{}", e),
            }
        }
    }
}
