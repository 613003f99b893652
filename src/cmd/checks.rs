//! `tally checks`: the check catalogue, read from the headers of `queries/*.sql`.

use std::io::Write;

/// List every check with its entity, severity, owner, title, remedy and what its amount means.
#[derive(clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let checks = tally::reconcile::checks()?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &checks)?;
        writeln!(out)?;
        return Ok(0);
    }
    for c in &checks {
        writeln!(out, "{}", c.name)?;
        writeln!(
            out,
            "  entity: {}   severity: {}   owner: {}",
            c.entity, c.severity, c.owner
        )?;
        writeln!(out, "  {}", c.title)?;
        writeln!(out, "  remedy: {}", c.remedy)?;
        writeln!(out, "  amount: {}", c.amount)?;
        writeln!(out)?;
    }
    writeln!(out, "{} checks", checks.len())?;
    Ok(0)
}
