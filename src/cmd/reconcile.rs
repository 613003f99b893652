//! `tally reconcile SNAPSHOT`: run every check in queries/ against one snapshot.

use std::path::PathBuf;

use anyhow::Context;
use tally::config::Config;
use tally::reconcile::Severity;

/// Run every check over a snapshot; write exceptions.parquet, exceptions.csv and summary.json into it.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot directory written by `tally extract`.
    snapshot: PathBuf,
    /// Configuration file (mappings and rules).
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Exit with status 3 if any exception is at or above this severity (for schedulers).
    #[arg(long, value_enum)]
    fail_on: Option<Severity>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let outcome = tally::reconcile::run(&args.snapshot, &cfg)
        .with_context(|| format!("reconciling {}", args.snapshot.display()))?;
    print_summary(&outcome.summary);
    println!(
        "exceptions: {}",
        args.snapshot
            .join(tally::reconcile::EXCEPTIONS_CSV)
            .display()
    );
    Ok(outcome.exit_code(args.fail_on))
}

/// The per-check table reconcile and demo print.
pub fn print_summary(s: &tally::reconcile::Summary) {
    println!(
        "compared {} Centra orders with {} OrderWise orders ({} matched), {} SKUs, {} despatches",
        s.compared.centra_orders,
        s.compared.orderwise_orders,
        s.compared.matched_orders,
        s.compared.skus,
        s.compared.despatches
    );
    for c in s.checks.iter().filter(|c| c.count > 0) {
        let money: Vec<String> = c
            .amount
            .iter()
            .map(|(cur, a)| tally::report::money(*a, cur))
            .collect();
        println!(
            "  {:>6}  {:<34} {:<7} {:<13} {}",
            c.count,
            c.check,
            c.severity,
            c.owner,
            money.join("  ")
        );
    }
    let money: Vec<String> = s
        .money_at_stake
        .iter()
        .map(|(cur, a)| tally::report::money(*a, cur))
        .collect();
    println!(
        "{} exceptions; money at stake: {}",
        s.total,
        if money.is_empty() {
            "none".into()
        } else {
            money.join(", ")
        }
    );
    if let Some(window) = s
        .warnings
        .iter()
        .find(|w| w.starts_with("this snapshot holds only"))
    {
        println!("warning: {window}");
    }
    if !s.warnings.is_empty() {
        println!(
            "{} warnings in summary.json (extraction warnings from manifest.json included)",
            s.warnings.len()
        );
    }
}
