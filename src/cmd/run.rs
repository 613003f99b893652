//! `tally run`: one scheduled cycle (refresh, reconcile, history, alerts, prune).

use std::path::PathBuf;

use tally::config::{Config, process_env};

/// One cycle over the store: refresh the snapshot, reconcile, update the history, send alerts.
#[derive(clap::Args)]
pub struct Args {
    /// Configuration file; `[store]`, `[alerts]`, `[escalation]` and `[run]` apply.
    #[arg(long, default_value = "tally.toml")]
    pub config: PathBuf,
    /// Extract everything instead of the changes since the last snapshot.
    #[arg(long)]
    pub full: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let cycle = tally::run::Cycle {
        cfg: &cfg,
        env: &process_env,
        clock: tally::clock::Clock::system(),
        retry: Default::default(),
        progress: super::interactive(),
        full: args.full,
    };
    let report = super::runtime()?.block_on(tally::run::cycle(&cycle, None))?;
    print_report(&report);
    Ok(report.exit_code())
}

/// Prints a cycle's lines (run and watch): stage lines to stdout, a failure to stderr.
pub fn print_report(report: &tally::run::Report) {
    println!("run {}: {}", report.run_id, report.outcome);
    for line in &report.lines {
        println!("  {line}");
    }
    for d in report.result.iter().flat_map(|r| &r.digests) {
        println!("  alert queued for {}: {}", d.owner, d.headline());
    }
    if let Some(e) = &report.error {
        eprintln!("tally: run {} {}: {e}", report.run_id, report.outcome);
    }
}
