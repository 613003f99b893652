//! `tally history`: every exception's life in the store's history, and the last runs.

use std::path::PathBuf;

use tally::config::Config;
use tally::history::{Filter, History};

/// Show exceptions' status, first and last seen, and acceptances.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Only this check.
    #[arg(long)]
    check: Option<String>,
    /// Only this key.
    #[arg(long)]
    key: Option<String>,
    /// Only this status (`open` includes new and reopened).
    #[arg(long, value_parser = ["new", "open", "reopened", "accepted", "resolved"])]
    status: Option<String>,
    /// One JSON object per exception.
    #[arg(long)]
    json: bool,
    /// List the last runs instead.
    #[arg(long, conflicts_with_all = ["check", "key", "status"])]
    runs: bool,
}

/// Opens the history of the store `cfg` names, refusing to create one where none exists.
pub fn open(cfg: &Config) -> anyhow::Result<History> {
    let store = tally::store::Store {
        dir: cfg.operations.store.dir.clone(),
    };
    let path = store.history();
    anyhow::ensure!(
        path.is_file(),
        "{}: no history yet; `tally run` creates it (store.dir in {})",
        path.display(),
        cfg.path.display()
    );
    Ok(History::open(&path)?)
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let history = open(&cfg)?;
    if args.runs {
        for r in history.runs(50)? {
            if args.json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "run {:>5}  {}  {:<9} {}",
                    r.run_id,
                    r.started_at.format("%Y-%m-%d %H:%M:%S"),
                    r.outcome,
                    r.error.as_deref().or(r.refresh.as_deref()).unwrap_or("")
                );
            }
        }
        return Ok(0);
    }
    let entries = history.entries(&Filter {
        check: args.check,
        key: args.key,
        status: args.status,
    })?;
    for e in &entries {
        if args.json {
            println!(
                "{}",
                serde_json::json!({
                    "check": e.check,
                    "key": e.key,
                    "status": e.status,
                    "first_seen": e.first_seen,
                    "last_seen": e.last_seen,
                    "resolved_at": e.resolved_at,
                    "accepted_reason": e.accepted_reason,
                    "accepted_by": e.accepted_by,
                    "accepted_until": e.accepted_until,
                    "owner": e.owner,
                    "severity": e.severity,
                })
            );
        } else {
            let extra = match (&e.accepted_reason, &e.resolved_at) {
                (Some(r), _) => format!(
                    " accepted by {}: {r}",
                    e.accepted_by.as_deref().unwrap_or("?")
                ),
                (None, Some(t)) => format!(" resolved {}", t.format("%Y-%m-%d %H:%M")),
                _ => String::new(),
            };
            println!(
                "{:<9} {:<32} {:<28} first seen {}  last seen {}{extra}",
                e.status,
                e.check,
                e.key,
                e.first_seen.format("%Y-%m-%d %H:%M"),
                e.last_seen.format("%Y-%m-%d %H:%M"),
            );
        }
    }
    if !args.json {
        println!("{} exceptions", entries.len());
    }
    Ok(0)
}
