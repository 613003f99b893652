//! `tally report SNAPSHOT --kind audit|month-end|exceptions --format html|pdf`: render one report
//! of a reconciled snapshot.

use std::path::PathBuf;

use tally::report::{Format, Kind};

/// Render a report of a reconciled snapshot: the consultant's audit, finance's month-end drift
/// report or the operations exception queue, as self-contained HTML or as PDF.
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
    /// Where to write it (default: `<kind>.<format>` inside the snapshot directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The plan `tally plan` wrote for this snapshot: the exception queue then says, exception by
    /// exception, what the plan does or why it holds it back.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// In a PDF, list at most about this many rows, shared among its listings (the rest are
    /// counted on the page and are in exceptions.csv and the month-end workbook).
    #[arg(long, default_value_t = tally::report::Options::default().pdf_rows)]
    pdf_rows: usize,
    /// The same for an HTML page. The report reads only the rows it lists, so its memory follows
    /// this figure, not the snapshot's size.
    #[arg(long, default_value_t = tally::report::Options::default().html_rows)]
    html_rows: usize,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let opts = tally::report::Options {
        pdf_rows: args.pdf_rows,
        html_rows: args.html_rows,
    };
    let mut input = tally::report::Input::read(&args.snapshot)?;
    if let Some(plan) = &args.plan {
        input.set_plan(&tally::apply::read_plan(plan)?)?;
    }
    let path = args
        .out
        .unwrap_or_else(|| args.snapshot.join(args.kind.file_name(args.format)));
    tally::report::write_to(&input, args.kind, args.format, &opts, &path)?;
    println!("{}", path.display());
    Ok(0)
}
