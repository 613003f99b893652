//! `tally accept` and `tally unaccept`: a person's decision that an exception is known and fine.

use std::path::PathBuf;

use chrono::NaiveDate;
use tally::config::Config;
use tally::history::Acceptance;
use tally::store::StoreLock;

/// Accept an exception: listed apart, no alerts, no exit status, until --until or a change.
#[derive(clap::Args)]
pub struct AcceptArgs {
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// The check, e.g. order.total_mismatch.
    check: String,
    /// The exception's key, as `tally history` shows it.
    key: String,
    /// Why it is acceptable (kept with who and when).
    #[arg(long)]
    reason: String,
    /// Accepted through this day (YYYY-MM-DD); without it, until its values change.
    #[arg(long)]
    until: Option<NaiveDate>,
}

/// Withdraw an acceptance: the exception is open again.
#[derive(clap::Args)]
pub struct UnacceptArgs {
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    check: String,
    key: String,
}

pub fn accept(args: AcceptArgs) -> anyhow::Result<u8> {
    anyhow::ensure!(
        !args.reason.trim().is_empty(),
        "--reason is empty; say why this exception is acceptable"
    );
    let cfg = Config::load(&args.config)?;
    let _lock = StoreLock::acquire(&cfg.operations.store.dir, "tally accept")?;
    let history = super::history::open(&cfg)?;
    let by = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    history.accept(
        &args.check,
        &args.key,
        &Acceptance {
            by: by.clone(),
            at: chrono::Utc::now(),
            reason: args.reason,
            until: args.until,
        },
    )?;
    println!(
        "accepted {} {} by {by}{}",
        args.check,
        args.key,
        args.until
            .map(|d| format!(" through {d}"))
            .unwrap_or_else(|| " until its values change".into())
    );
    Ok(0)
}

pub fn unaccept(args: UnacceptArgs) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let _lock = StoreLock::acquire(&cfg.operations.store.dir, "tally unaccept")?;
    let history = super::history::open(&cfg)?;
    history.unaccept(&args.check, &args.key)?;
    println!("{} {} is open again", args.check, args.key);
    Ok(0)
}
