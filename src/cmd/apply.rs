//! `tally apply PLAN`: send a reviewed plan (a dry run unless --execute).

use std::path::PathBuf;

use tally::config::{Config, process_env};

/// The action kinds --only accepts.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Kind {
    PushStock,
    PostOrder,
    CreateShipment,
}

/// Apply a plan written by `tally plan`: without --execute, show what would be sent.
#[derive(clap::Args)]
pub struct Args {
    /// Plan file (JSON lines) written by `tally plan`.
    plan: PathBuf,
    /// Configuration file (connections and mappings).
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Send the writes.
    #[arg(long)]
    execute: bool,
    /// Apply at most N actions in this run.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Only actions of this kind.
    #[arg(long, value_enum)]
    only: Option<Kind>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let secrets = if args.execute {
        cfg.secrets(&process_env)?
    } else {
        cfg.secrets(&|_| Some("dry-run".into()))?
    };
    let opts = tally::apply::Options {
        execute: args.execute,
        batch_size: args.batch_size,
        only: args.only.map(|k| match k {
            Kind::PushStock => "push_stock".into(),
            Kind::PostOrder => "post_order".into(),
            Kind::CreateShipment => "create_shipment".into(),
        }),
        retry: Default::default(),
    };
    let report =
        super::runtime()?.block_on(tally::apply::run(&args.plan, &cfg, &secrets, &opts))?;
    for line in &report.lines {
        println!("{line}");
    }
    let counts: Vec<String> = report
        .outcomes
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    println!(
        "{}",
        if counts.is_empty() {
            "nothing to do".into()
        } else {
            counts.join(", ")
        }
    );
    println!(
        "journal: {}",
        tally::apply::journal_path(&args.plan).display()
    );
    Ok(if report.outcomes.contains_key("failed") {
        1
    } else {
        0
    })
}
