//! `tally doctor`: a checklist of everything a run needs, one line each.

use std::path::PathBuf;

use tally::config::process_env;

/// Check the configuration, secrets, APIs, schema, export definitions, mappings, time zone and
/// clocks; exit 1 when any line fails.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// One JSON object per line (check, ok, detail, fix).
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let lines = super::runtime()?.block_on(tally::doctor::run(
        &args.config,
        &process_env,
        tally::clock::Clock::system(),
    ));
    for l in &lines {
        if args.json {
            println!("{}", serde_json::to_string(l)?);
        } else {
            let mark = if l.ok { "ok  " } else { "FAIL" };
            println!("{mark} {:<28} {}", l.check, l.detail);
            if let Some(fix) = &l.fix {
                println!("     {:<28} -> {fix}", "");
            }
        }
    }
    let failed = lines.iter().filter(|l| !l.ok).count();
    if !args.json {
        println!("{} checks, {} failed", lines.len(), failed);
    }
    Ok(u8::from(failed > 0))
}
