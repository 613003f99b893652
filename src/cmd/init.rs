//! `tally init`: a complete draft configuration, discovered from both systems.

use std::path::PathBuf;

use anyhow::Context;
use tally::config::process_env;

/// From a file with only [centra], [orderwise] and [orderwise.exports], write a complete draft
/// configuration with every mapping inferred from the data and its evidence.
#[derive(clap::Args)]
pub struct Args {
    /// The file with the connection sections (and optionally `timezone`).
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Where to write the draft (refuses to overwrite --config).
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    anyhow::ensure!(
        args.out != args.config,
        "--out {} is the file read: write the draft elsewhere and compare",
        args.out.display()
    );
    let text = super::runtime()?.block_on(tally::init::run(
        &args.config,
        &process_env,
        tally::clock::Clock::system(),
    ))?;
    std::fs::write(&args.out, &text).with_context(|| format!("writing {}", args.out.display()))?;
    let todos = text.lines().filter(|l| l.contains("# TODO")).count();
    println!("draft: {} ({todos} TODOs to review)", args.out.display());
    for l in text.lines().filter(|l| l.contains("# TODO")) {
        println!("  {}", l.trim_start_matches("# "));
    }
    println!(
        "next: review the TODOs, then `tally doctor --config {}`",
        args.out.display()
    );
    Ok(0)
}
