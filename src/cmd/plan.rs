//! `tally plan SNAPSHOT`: the corrections that are safe to automate, for review.

use std::path::PathBuf;

use anyhow::Context;
use tally::config::Config;

/// Turn a snapshot's fixable exceptions into actions (JSON lines) and a review table (CSV).
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot directory written by `tally extract`.
    snapshot: PathBuf,
    /// Configuration file (mappings and rules).
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Where to write the plan (default: plan.jsonl in the snapshot).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Sizes per changeStock call.
    #[arg(long, default_value_t = 50)]
    stock_batch: usize,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let opts = tally::plan::Options {
        stock_batch: args.stock_batch,
    };
    let plan = tally::plan::build(&args.snapshot, &cfg, &opts)
        .with_context(|| format!("planning {}", args.snapshot.display()))?;
    let out = args.out.unwrap_or_else(|| args.snapshot.join("plan.jsonl"));
    let review = tally::plan::write(&plan, &out)?;
    for (kind, s) in plan.summary() {
        let money: Vec<String> = s
            .money
            .iter()
            .map(|(c, a)| tally::report::money(*a, c))
            .collect();
        println!(
            "  {:>5} {:<16} {:>7} units  fixes {:>5}  {}",
            s.actions,
            kind,
            s.units,
            s.fixes,
            money.join("  ")
        );
    }
    for a in plan
        .actions
        .iter()
        .filter(|a| a.kind() == "no_action")
        .take(10)
    {
        if let tally::plan::Action::NoAction { reason, .. } = a {
            println!("  needs a person: {reason}");
        }
    }
    println!("plan: {}", out.display());
    println!("review: {}", review.display());
    Ok(0)
}
