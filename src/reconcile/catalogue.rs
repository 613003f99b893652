//! The check catalogue: every `queries/*.sql` file (embedded at build time) with its header.
//!
//! A check file opens with `-- key: value` lines naming it (`check`, `entity`, `severity`, `owner`,
//! `title`, `remedy`, and `amount`: what its money at stake means); the rest is a DuckDB query
//! returning the subject columns that apply (`order_number`, `sku`, `warehouse`, ...: see
//! [`super::subject`]) and `centra_value, orderwise_value, difference, amount, currency, detail`.
//! The key is built from the subject, never written by a check. Files starting with `_` hold
//! shared views.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

include!(concat!(env!("OUT_DIR"), "/queries.rs"));

/// How urgent an exception is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            other => Err(format!(
                "{other:?} is not a severity; expected high, medium or low"
            )),
        }
    }
}

/// A check's header is incomplete or wrong.
#[derive(Debug, thiserror::Error)]
#[error("queries/{file}: {message}")]
pub struct HeaderError {
    pub file: String,
    pub message: String,
}

/// One check: its header and its query.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub entity: String,
    pub severity: Severity,
    pub owner: String,
    pub title: String,
    pub remedy: String,
    /// What the check's `amount` means (its `-- amount:` line), and whether it counts toward the
    /// headline money at stake (see `queries/after/money_at_stake.sql`).
    pub amount: String,
    #[serde(skip)]
    pub file: String,
    #[serde(skip)]
    pub sql: String,
}

impl Check {
    /// Parses a check file's header; `file` is its name, for messages.
    pub fn parse(file: &str, text: &str) -> Result<Check, HeaderError> {
        let err = |message: String| HeaderError {
            file: file.into(),
            message,
        };
        let mut fields = std::collections::BTreeMap::new();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("--") else {
                break;
            };
            if let Some((k, v)) = rest.trim().split_once(':') {
                let k = k.trim();
                if [
                    "check", "entity", "severity", "owner", "title", "remedy", "amount",
                ]
                .contains(&k)
                {
                    fields.insert(k.to_string(), v.trim().to_string());
                }
            }
        }
        let get = |k: &str| {
            fields
                .get(k)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| err(format!("the header has no `-- {k}:` line")))
        };
        let name = get("check")?;
        let stem = file.strip_suffix(".sql").unwrap_or(file);
        if name != stem {
            return Err(err(format!(
                "the header names check {name:?} but the file is {stem:?}; they must agree"
            )));
        }
        let severity: Severity = get("severity")?.parse().map_err(err)?;
        let owner = get("owner")?;
        if !crate::config::OWNERS.contains(&owner.as_str()) {
            return Err(err(format!(
                "owner {owner:?} is not one of {}",
                crate::config::OWNERS.join(", ")
            )));
        }
        Ok(Check {
            entity: get("entity")?,
            severity,
            owner,
            title: get("title")?,
            remedy: get("remedy")?,
            amount: get("amount")?,
            file: file.into(),
            sql: text.trim().trim_end_matches(';').to_string(),
            name,
        })
    }
}

/// Every check, sorted by name.
pub fn checks() -> Result<Vec<Check>, HeaderError> {
    QUERY_FILES
        .iter()
        .filter(|(f, _)| !f.starts_with('_'))
        .map(|(f, t)| Check::parse(f, t))
        .collect()
}

/// The shared view definitions, in file order.
pub fn shared_views() -> impl Iterator<Item = (&'static str, &'static str)> {
    QUERY_FILES
        .iter()
        .copied()
        .filter(|(f, _)| f.starts_with('_'))
}

/// The statements run after every check, in file order: they add context to the exceptions
/// (when, which market) and work out the month-end figures the reports show.
pub fn after_checks() -> impl Iterator<Item = (&'static str, &'static str)> {
    AFTER_FILES.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_check_has_a_valid_header() {
        let all = checks().unwrap();
        assert!(all.len() >= 10, "{}", all.len());
        assert!(all.iter().any(|c| c.name == "order.missing_in_orderwise"));
    }

    #[test]
    fn header_errors_name_the_file_and_key() {
        let text = "-- check: a.b\n-- entity: order\n-- severity: urgent\n-- owner: finance\n-- title: t\n-- remedy: r\n-- amount: none.\nselect 1";
        let e = Check::parse("a.b.sql", text).unwrap_err().to_string();
        assert!(e.contains("a.b.sql") && e.contains("urgent"), "{e}");
        let e = Check::parse("a.c.sql", &text.replace("urgent", "high"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.c"), "{e}");
        let e = Check::parse(
            "a.b.sql",
            &text.replace("urgent", "low").replace("-- remedy: r\n", ""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("remedy"), "{e}");
    }
}
