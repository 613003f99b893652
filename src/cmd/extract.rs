//! `tally extract`: snapshot both systems into Parquet.

use std::path::PathBuf;

use tally::config::{Config, process_env};
use tally::snapshot::Window;

/// Snapshot Centra and OrderWise into a new directory under --out.
#[derive(clap::Args)]
pub struct Args {
    /// Configuration file.
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Directory snapshots are written under.
    #[arg(long, default_value = "snapshots")]
    out: PathBuf,
    /// Read everything (the default).
    #[arg(long, conflicts_with = "since")]
    full: bool,
    /// Read only orders and despatches changed since this time (RFC 3339, e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    since: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let secrets = cfg.secrets(&process_env)?;
    let window = match &args.since {
        None => Window::Full,
        Some(text) => Window::Since {
            since: super::parse_time("--since", text)?,
        },
    };
    let opts = tally::extract::Options {
        out: args.out,
        window,
        progress: super::interactive(),
        retry: Default::default(),
        clock: tally::clock::Clock::system(),
    };
    let extracted = super::runtime()?.block_on(tally::extract::run(&cfg, &secrets, &opts))?;
    println!("snapshot: {}", extracted.dir.display());
    println!("Centra: {}", extracted.centra_rate);
    for f in &extracted.manifest.files {
        println!("  {:>9} rows  {}", f.rows, f.file);
    }
    if !extracted.manifest.warnings.is_empty() {
        println!(
            "{} warnings in manifest.json",
            extracted.manifest.warnings.len()
        );
    }
    Ok(0)
}
