//! `tally report SNAPSHOT --kind exceptions`: render a report of a reconciled snapshot.

use std::path::PathBuf;

use tally::report::Kind;

/// The output format of a report.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Html,
}

/// Render a report of a reconciled snapshot.
#[derive(clap::Args)]
pub struct Args {
    /// Snapshot directory, reconciled by `tally reconcile`.
    snapshot: PathBuf,
    /// Which report.
    #[arg(long, value_enum, default_value = "exceptions")]
    kind: Kind,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    format: Format,
    /// Where to write it (default: inside the snapshot directory).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Format::Html = args.format;
    let path = tally::report::write(&args.snapshot, args.kind, args.out.as_deref())?;
    println!("{}", path.display());
    Ok(0)
}
