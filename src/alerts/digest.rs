//! A digest: what one owner is told after a run. Built by the history in the run's transaction and
//! kept in the outbox as JSON, so a retry posts exactly what was queued.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One exception in a digest: the exception schema's fields plus its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alerted {
    pub check: String,
    pub entity: String,
    pub severity: String,
    pub owner: String,
    pub key: String,
    pub centra_value: Option<String>,
    pub orderwise_value: Option<String>,
    pub difference: Option<String>,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    pub detail: String,
    /// `new`, `reopened` or `open` (an escalated one).
    pub status: String,
    pub first_seen: DateTime<Utc>,
}

/// tally's own failures, when several runs in a row failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRuns {
    /// Failed runs in a row.
    pub count: u32,
    /// When the first of them started.
    pub since: DateTime<Utc>,
    pub last_error: String,
}

/// One owner's digest of one run (`format = "json"` posts exactly this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// Unique and stable across retries: a receiver can drop a duplicate.
    pub id: String,
    pub run: i64,
    /// An owner, or `tally` for a digest about tally's own failures.
    pub owner: String,
    /// When the run's data was taken.
    pub at: DateTime<Utc>,
    /// New and reopened exceptions at or above `min_severity`, largest amount first.
    pub new: Vec<Alerted>,
    /// Exceptions open longer than the owner's escalation hours, each sent once per episode.
    pub escalated: Vec<Alerted>,
    /// How many of the owner's exceptions this run found resolved.
    pub resolved: u64,
    /// The owner's open, not accepted, money at stake per currency.
    pub money_at_stake: BTreeMap<String, Decimal>,
    /// Set when tally itself failed runs in a row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_runs: Option<FailedRuns>,
    /// This digest's place among the owner's digests of the run: a JSON digest lists every
    /// exception, so a run with thousands (a new store's first) is posted in parts of at most
    /// [`PART_SIZE`] exceptions, each a request a webhook accepts. Totals repeat in each part.
    #[serde(default = "one")]
    pub part: u32,
    #[serde(default = "one")]
    pub parts: u32,
}

/// The most exceptions one JSON digest lists.
pub const PART_SIZE: usize = 500;

fn one() -> u32 {
    1
}

impl Digest {
    /// A one-line summary, for the run's output and a card's fallback text.
    pub fn headline(&self) -> String {
        if self.owner == "tally"
            && let Some(f) = &self.failed_runs
        {
            return format!(
                "tally has failed {} runs in a row since {}: {}",
                f.count,
                f.since.format("%Y-%m-%d %H:%M UTC"),
                f.last_error
            );
        }
        let money: Vec<String> = self
            .money_at_stake
            .iter()
            .map(|(c, a)| crate::report::money(*a, c))
            .collect();
        let part = if self.parts > 1 {
            format!(" (part {} of {})", self.part, self.parts)
        } else {
            String::new()
        };
        format!(
            "tally for {}{part}: {} new, {} escalated, {} resolved; {} at stake",
            self.owner,
            self.new.len(),
            self.escalated.len(),
            self.resolved,
            if money.is_empty() {
                "nothing".to_string()
            } else {
                money.join(" + ")
            }
        )
    }
}
