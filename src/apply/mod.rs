//! Apply: sends a reviewed plan to Centra and OrderWise, safely under throttling and crashes.
//!
//! Without `execute` it only says what it would send. With it, each action re-reads the live
//! state of its target first (a size's stock, an order's shipments, the OrderWise order lookup)
//! and sends only what is still missing; writes are sent once, and a write whose response is lost
//! is resolved by reading again, never by blind resending. Each outcome is appended to
//! `PLAN.journal` and fsync'd before the next action, so a run killed at any point continues where
//! it stopped: what the journal or the live state shows as done is not written twice.

mod body;
mod create_shipment;
mod journal;
mod post_order;
mod push_stock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use journal::{Entry, Journal};

use crate::config::{Config, Secrets};
use crate::connectors::Error as ConnectorError;
use crate::connectors::http::RetryPolicy;
use crate::plan::Action;

/// What can stop an apply run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {detail}")]
    Plan { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct Options {
    /// Send the writes; without it, only describe them.
    pub execute: bool,
    /// Apply at most this many actions in this run.
    pub batch_size: Option<usize>,
    /// Only actions of this kind (`push_stock`, `post_order`, `create_shipment`).
    pub only: Option<String>,
    pub retry: RetryPolicy,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per action: what was (or would be) sent, or why not.
    pub lines: Vec<String>,
    pub outcomes: BTreeMap<String, usize>,
}

/// Reads a plan file.
pub fn read_plan(path: &Path) -> Result<Vec<Action>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Plan {
                path: path.into(),
                detail: format!("line {}: {e}; write plans with `tally plan`", i + 1),
            })
        })
        .collect()
}

/// The journal's path beside a plan.
pub fn journal_path(plan: &Path) -> PathBuf {
    let mut s = plan.as_os_str().to_owned();
    s.push(".journal");
    PathBuf::from(s)
}

/// The outcome of one action.
pub(crate) enum Outcome {
    Applied(String),
    AlreadyDone(String),
    Skipped(String),
    Failed(String),
}

/// Applies the plan at `plan_path`.
pub async fn run(
    plan_path: &Path,
    cfg: &Config,
    secrets: &Secrets,
    opts: &Options,
) -> Result<Report, Error> {
    let actions = read_plan(plan_path)?;
    let journal_file = journal_path(plan_path);
    let mut journal = if opts.execute {
        Journal::open(&journal_file)?
    } else {
        Journal::read(&journal_file)
    };
    let mut report = Report::default();
    let selected: Vec<&Action> = actions
        .iter()
        .filter(|a| a.key().is_some())
        .filter(|a| opts.only.as_deref().is_none_or(|k| k == a.kind()))
        .filter(|a| !journal.is_done(a.key().expect("filtered")))
        .take(opts.batch_size.unwrap_or(usize::MAX))
        .collect();
    if !opts.execute {
        for a in selected {
            report.lines.push(format!("would {}", a.describe()));
            *report.outcomes.entry("dry_run".into()).or_default() += 1;
        }
        return Ok(report);
    }
    let (mut centra, orderwise) = crate::connectors::clients(cfg, secrets, opts.retry)?;
    centra.pace_for_writes().await?;
    for a in selected {
        let key = a.key().expect("filtered").to_string();
        let done = match a {
            Action::PushStock {
                key,
                warehouse_id,
                direction,
                sizes,
                ..
            } => push_stock::apply(&centra, key, *warehouse_id, direction, sizes).await?,
            Action::PostOrder { .. } => post_order::apply(&orderwise, cfg, a).await?,
            Action::CreateShipment { .. } => create_shipment::apply(&centra, a).await?,
            Action::NoAction { .. } => continue,
        };
        let (outcome, detail) = match done {
            Outcome::Applied(d) => ("applied", d),
            Outcome::AlreadyDone(d) => ("already_done", d),
            Outcome::Skipped(d) => ("skipped", d),
            Outcome::Failed(d) => ("failed", d),
        };
        journal.append(&Entry::new(&key, a.kind(), outcome, &detail))?;
        report
            .lines
            .push(format!("{outcome}: {} ({detail})", a.describe()));
        *report.outcomes.entry(outcome.into()).or_default() += 1;
    }
    Ok(report)
}
