//! Reports: the consultant's audit, finance's month-end drift report and operations' exception
//! queue, each as HTML or PDF, rendered from a reconciled snapshot's `summary.json`,
//! `exceptions.parquet` and `period_orders.parquet`.
//!
//! The content of each report is built once, in Rust ([`audit`], [`month_end`], [`queue`]), and
//! handed to two minijinja templates in `reports/`: `<kind>.html` and `<kind>.typ`. The HTML is
//! self-contained (inline CSS and SVG, no script, no network). The Typst source is compiled to PDF
//! in process ([`pdf`]), with embedded fonts. Values from the data are escaped for the format they
//! land in: HTML escaping for `.html`, Typst markup escaping for `.typ` (see [`pdf::escape`]), so
//! a product name with markup or Typst syntax in it prints as text.

pub mod areas;
pub mod audit;
mod charts;
mod format;
pub mod month_end;
pub mod pdf;
pub mod queue;
pub mod read;
pub mod timeline;
pub mod workbook;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment, State, Value, context};
use rust_decimal::Decimal;

pub use format::{count, money};

use crate::reconcile::{self, CheckCount, Summary};
use areas::Area;

/// The report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The consultant's pre-integration audit.
    Audit,
    /// Finance's month-end drift report.
    MonthEnd,
    /// The operations exception queue.
    Exceptions,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Html,
    Pdf,
    /// An Excel workbook: the month-end report only (see [`workbook`]).
    Xlsx,
}

impl Kind {
    /// Every kind, in the order the demo writes them.
    pub const ALL: [Kind; 3] = [Kind::Audit, Kind::MonthEnd, Kind::Exceptions];

    fn stem(self) -> &'static str {
        match self {
            Kind::Audit => "audit",
            Kind::MonthEnd => "month_end",
            Kind::Exceptions => "exceptions",
        }
    }

    /// The report's title.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Audit => "Pre-integration audit",
            Kind::MonthEnd => "Month-end drift report",
            Kind::Exceptions => "Exception queue",
        }
    }

    /// The default file name of this report in `format`.
    pub fn file_name(self, format: Format) -> String {
        let ext = match format {
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Xlsx => "xlsx",
        };
        format!("{}.{ext}", self.stem().replace('_', "-"))
    }

    fn template(self, format: Format) -> String {
        let ext = match format {
            Format::Html => "html",
            Format::Pdf | Format::Xlsx => "typ",
        };
        format!("{}.{ext}", self.stem())
    }
}

/// What can stop a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
    #[error("{path}: {detail}; run `tally reconcile` on the snapshot first")]
    Summary { path: PathBuf, detail: String },
    #[error("reading the store's history: {0}")]
    History(#[from] crate::history::Error),
    #[error("rendering {template}: {detail}")]
    Render { template: String, detail: String },
    #[error("typesetting the PDF from {template}: {detail}")]
    Pdf { template: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Everything a report is made from: a reconciled snapshot's summary, and a reader the reports
/// ask for the sums and the page of rows they show ([`read`]); no report holds every exception.
#[derive(Debug)]
pub struct Input {
    pub summary: Summary,
    /// The store's history of these exceptions, when the snapshot lives in a store that has one:
    /// the queue then shows status, age since first seen, escalations, what was resolved and the
    /// accepted ones apart.
    pub timeline: Option<timeline::Timeline>,
    db: read::Db,
    /// Whether a plan was given ([`Input::set_plan`]).
    planned: bool,
}

impl Input {
    /// Opens the reconciled snapshot in `dir`.
    pub fn read(dir: &Path) -> Result<Input, Error> {
        let summary = read_summary(dir)?;
        let timeline = timeline::read(dir, summary.extracted_at)?;
        let db = read::Db::open(
            dir,
            timeline.as_ref().map(|t| t.history.as_path()),
            &summary.engine.for_reading(),
        )?;
        Ok(Input {
            timeline,
            summary,
            db,
            planned: false,
        })
    }

    /// Gives the report the plan `tally plan` wrote for this snapshot: the queue then says per
    /// exception what the plan does, or why it holds it back. Without it, the queue says which
    /// checks `tally plan` acts on.
    pub fn set_plan(&mut self, plan: &[crate::plan::Action]) -> Result<(), Error> {
        self.db.set_plan(plan)?;
        self.planned = true;
        Ok(())
    }

    /// The reader of the snapshot's exceptions and period orders.
    pub fn db(&self) -> &read::Db {
        &self.db
    }

    /// A check's line in the summary.
    pub fn check(&self, name: &str) -> Option<&CheckCount> {
        self.summary.checks.iter().find(|c| c.check == name)
    }
}

const TEMPLATES: &[(&str, &str)] = &[
    ("_base.html", include_str!("../../reports/_base.html")),
    ("_style.html", include_str!("../../reports/_style.html")),
    ("_meta.html", include_str!("../../reports/_meta.html")),
    ("_page.typ", include_str!("../../reports/_page.typ")),
    ("audit.html", include_str!("../../reports/audit.html")),
    ("audit.typ", include_str!("../../reports/audit.typ")),
    (
        "month_end.html",
        include_str!("../../reports/month_end.html"),
    ),
    ("month_end.typ", include_str!("../../reports/month_end.typ")),
    (
        "exceptions.html",
        include_str!("../../reports/exceptions.html"),
    ),
    (
        "exceptions.typ",
        include_str!("../../reports/exceptions.typ"),
    ),
];

/// Writes a value into a template: HTML-escaped in `.html`, Typst-escaped in `.typ`.
fn formatter(
    out: &mut minijinja::Output,
    state: &State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    match state.auto_escape() {
        AutoEscape::Custom("typst") if !value.is_safe() => {
            if !(value.is_none() || value.is_undefined()) {
                let mut text = String::new();
                pdf::escape(&value.to_string(), &mut text);
                out.write_str(&text)?;
            }
            Ok(())
        }
        AutoEscape::Custom("typst") => Ok(out.write_str(&value.to_string())?),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else if name.ends_with(".typ") {
            AutoEscape::Custom("typst")
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(formatter);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .expect("the embedded templates parse");
    }
    env.add_filter("money", format::money_filter);
    env.add_filter("signed", format::signed_filter);
    env.add_filter("count", format::count_filter);
    env.add_filter("datetime", format::datetime_filter);
    env.add_filter("typst_string", |s: String| {
        Value::from_safe_string(pdf::string_literal(&s))
    });
    env
}

/// Reads a reconciled snapshot's summary.
pub fn read_summary(dir: &Path) -> Result<Summary, Error> {
    let path = dir.join(reconcile::SUMMARY_JSON);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Summary {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Summary {
        path,
        detail: e.to_string(),
    })
}

/// The charts every report can show, as SVG text.
fn charts(input: &Input) -> Result<BTreeMap<&'static str, Value>, Error> {
    let severities = [
        ("high", "#b3262d"),
        ("medium", "#e07b00"),
        ("low", "#9e9e9e"),
    ];
    // Drift by area, stacked by severity.
    let area_bars: Vec<charts::Bar> = Area::ALL
        .iter()
        .map(|&area| {
            let lines: Vec<&CheckCount> = input
                .summary
                .checks
                .iter()
                .filter(|c| Area::of(&c.check) == area)
                .collect();
            let segments = severities
                .iter()
                .map(|(sev, colour)| charts::Segment {
                    value: lines
                        .iter()
                        .filter(|c| c.severity.as_str() == *sev)
                        .map(|c| c.count as f64)
                        .sum(),
                    colour,
                })
                .collect();
            let total: u64 = lines.iter().map(|c| c.count).sum();
            charts::Bar {
                label: area.title().into(),
                segments,
                value_text: format!("{} exceptions", format::count(total as i64)),
            }
        })
        .collect();
    let by_area =
        charts::horizontal_bars("Exceptions by area and severity", &area_bars, &severities);
    // Money at stake by market, one chart per currency, stacked by area: the headline's parts, so
    // the bars of a currency add up to its headline figure.
    let area = Area::sql_of("\"check\"");
    let sums = input.db().rows(
        "summing the money at stake by currency, market and area",
        &format!(
            "SELECT currency, coalesce(market, '(no market)'), {area}, CAST(sum(at_stake) AS VARCHAR)
             FROM exceptions WHERE currency IS NOT NULL AND at_stake IS NOT NULL
             GROUP BY currency, market, {area}"
        ),
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                Area::at(r.get(2)?),
                reconcile::decimal_column(r, 3)?,
            ))
        },
    )?;
    let mut at_stake: BTreeMap<String, BTreeMap<String, BTreeMap<Area, Decimal>>> = BTreeMap::new();
    for (cur, market, area, amount) in sums {
        *at_stake
            .entry(cur)
            .or_default()
            .entry(market)
            .or_default()
            .entry(area)
            .or_default() += amount;
    }
    let area_legend: Vec<(&str, &str)> =
        Area::ALL.iter().map(|a| (a.title(), a.colour())).collect();
    let by_market: Vec<Value> = at_stake
        .iter()
        .map(|(cur, markets)| {
            let mut bars: Vec<(Decimal, charts::Bar)> = markets
                .iter()
                .map(|(market, areas)| {
                    let total: Decimal = areas.values().sum();
                    let bar = charts::Bar {
                        label: market.to_string(),
                        segments: areas
                            .iter()
                            .map(|(a, v)| charts::Segment {
                                value: f64::try_from(*v).unwrap_or(0.0),
                                colour: a.colour(),
                            })
                            .collect(),
                        value_text: money(total, cur),
                    };
                    (total, bar)
                })
                .collect();
            bars.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.label.cmp(&b.1.label)));
            let bars: Vec<charts::Bar> = bars.into_iter().map(|(_, b)| b).collect();
            Value::from_safe_string(charts::horizontal_bars(
                &format!("Money at stake by market in {cur}"),
                &bars,
                &area_legend,
            ))
        })
        .collect();
    // Exceptions over the data window, per day, stacked by area.
    let per_day = input.db().rows(
        "counting the dated exceptions per day and area",
        &format!(
            "SELECT epoch_ms(occurred_at) // 86400000 AS day, {area} AS area, count(*)
             FROM exceptions WHERE occurred_at IS NOT NULL GROUP BY day, area"
        ),
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                Area::at(r.get(1)?),
                r.get::<_, i64>(2)?,
            ))
        },
    )?;
    let mut days: BTreeMap<chrono::NaiveDate, BTreeMap<Area, u64>> = BTreeMap::new();
    for (day, area, n) in per_day {
        let Some(date) = chrono::DateTime::from_timestamp(day * 86_400, 0) else {
            continue;
        };
        *days
            .entry(date.date_naive())
            .or_default()
            .entry(area)
            .or_default() += n as u64;
    }
    let days: Vec<_> = days
        .into_iter()
        .map(|(d, areas)| {
            (
                d,
                areas
                    .into_iter()
                    .map(|(a, n)| charts::Segment {
                        value: n as f64,
                        colour: a.colour(),
                    })
                    .collect(),
            )
        })
        .collect();
    let timeline = charts::columns_over_time(
        "Dated exceptions per day of the data window",
        &days,
        &area_legend,
    );
    let mut out = BTreeMap::from([
        ("by_area", Value::from_safe_string(by_area)),
        ("by_market", Value::from(by_market)),
        ("timeline", Value::from_safe_string(timeline)),
    ]);
    if let Some(t) = &input.timeline {
        out.insert("trend", Value::from_safe_string(trend(t)));
    }
    Ok(out)
}

/// Open exceptions per check over the last runs: the checks open in any of them, largest first.
fn trend(t: &timeline::Timeline) -> String {
    const COLOURS: [&str; 8] = [
        "#b3262d", "#e07b00", "#2e7d32", "#1565c0", "#6a1b9a", "#00838f", "#5d4037", "#9e9e9e",
    ];
    let runs: Vec<i64> = {
        let mut r: Vec<i64> = t.trend.iter().map(|p| p.run_id).collect();
        r.dedup();
        r
    };
    let mut checks: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for p in &t.trend {
        let i = runs.iter().position(|r| *r == p.run_id).expect("listed");
        checks
            .entry(p.check.as_str())
            .or_insert_with(|| vec![0.0; runs.len()])[i] = p.open as f64;
    }
    let mut ranked: Vec<(&str, Vec<f64>)> = checks.into_iter().collect();
    ranked.sort_by(|a, b| {
        let peak = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        peak(&b.1).total_cmp(&peak(&a.1)).then(a.0.cmp(b.0))
    });
    let series: Vec<charts::Series> = ranked
        .into_iter()
        .take(COLOURS.len())
        .zip(COLOURS)
        .map(|((check, values), colour)| charts::Series {
            label: check.to_string(),
            values,
            colour,
        })
        .collect();
    let labels: Vec<String> = runs.iter().map(|r| format!("run {r}")).collect();
    charts::lines(
        "Open exceptions per check over the last runs (the eight largest)",
        &labels,
        &series,
    )
}

/// Rows per table in the PDF's long listings (see `source`).
const PDF_TABLE_ROWS: usize = 100;

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// At most about this many listed rows in a PDF: the audit's appendix, the owners' queues,
    /// the orders behind the month-end lines (shared among them by [`budget`]). The page says
    /// how many more there are and that `exceptions.csv` (and the workbook) have them all: a
    /// PDF of 50,000 rows is 2,000 pages nobody reads, and typst needs about 0.2 MB per row to
    /// lay it out.
    pub pdf_rows: usize,
    /// The same for an HTML page. A page of a few tens of thousands of rows is what a browser
    /// still opens and a person still scrolls; past it the page says how many more there are and
    /// where they all are (`exceptions.csv`, the month-end workbook). The reports read only the
    /// rows they list, so the memory a report needs follows this, not the snapshot's size.
    pub html_rows: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pdf_rows: 10_000,
            html_rows: 50_000,
        }
    }
}

impl Options {
    /// The rows a report in `format` lists: its page. A workbook lists every row.
    pub fn rows(&self, format: Format) -> usize {
        match format {
            Format::Html => self.html_rows,
            Format::Pdf => self.pdf_rows,
            Format::Xlsx => usize::MAX,
        }
    }
}

/// Shares a budget of `total` listed rows among listings of the given lengths: all of each when they
/// fit, else each in proportion to its length (and at least its first 20 rows), so a long listing
/// cannot crowd out the others.
pub fn budget(lens: &[usize], total: usize) -> Vec<usize> {
    let sum: usize = lens.iter().sum();
    if sum <= total {
        return lens.to_vec();
    }
    lens.iter()
        .map(|&n| {
            let share = (total as u128 * n as u128 / sum as u128) as usize;
            share.max(n.min(20)).min(n)
        })
        .collect()
}

/// Renders report `kind` in `format` from data already read.
pub fn render(input: &Input, kind: Kind, format: Format, opts: &Options) -> Result<Vec<u8>, Error> {
    if format == Format::Xlsx {
        if kind != Kind::MonthEnd {
            return Err(Error::Render {
                template: kind.file_name(format),
                detail: "only the month-end report is a workbook; use --format html or pdf".into(),
            });
        }
        return workbook::month_end(input);
    }
    let text = source(input, kind, format, opts)?;
    match format {
        Format::Html | Format::Xlsx => Ok(text.into_bytes()),
        Format::Pdf => pdf::compile(&text).map_err(|detail| Error::Pdf {
            template: kind.template(format),
            detail,
        }),
    }
}

/// The text a template renders: the HTML page, or the Typst source of the PDF.
pub fn source(input: &Input, kind: Kind, format: Format, opts: &Options) -> Result<String, Error> {
    let env = environment();
    let name = kind.template(format);
    let template = env.get_template(&name).expect("embedded");
    let rows = opts.rows(format);
    let common = context! {
        title => kind.title(),
        summary => &input.summary,
        version => env!("CARGO_PKG_VERSION"),
        charts => charts(input)?,
        // Long PDF tables are typeset in chunks of this many rows: typst lays a table out as a
        // whole, so one table of thousands of rows costs far more time and memory than many.
        chunk => PDF_TABLE_ROWS,
    };
    let ctx = match kind {
        Kind::Audit => context! { audit => audit::build(input, rows)?, ..common },
        Kind::MonthEnd => context! { lines => month_end::build(input, rows)?, ..common },
        Kind::Exceptions => context! {
            owners => queue::build(input, rows)?,
            total => input.summary.total,
            timeline => input.timeline.is_some(),
            previous_run => input.timeline.as_ref().and_then(|t| t.previous_run)
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
            ..common
        },
    };
    template.render(ctx).map_err(|e| Error::Render {
        template: name.clone(),
        detail: format!("{e:#}"),
    })
}

/// Renders a report from data already read and writes it to `path` (through a temporary file, so
/// a reader never sees half a report).
pub fn write_to(
    input: &Input,
    kind: Kind,
    format: Format,
    opts: &Options,
    path: &Path,
) -> Result<(), Error> {
    let bytes = render(input, kind, format, opts)?;
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::budget;

    #[test]
    fn budget_keeps_everything_that_fits_and_shares_the_rest() {
        assert_eq!(budget(&[3, 4], 10), vec![3, 4]);
        assert_eq!(budget(&[9_000, 1_000], 1_000), vec![900, 100]);
        // A short listing keeps its first 20 rows however long the others are.
        assert_eq!(budget(&[100_000, 30], 1_000), vec![999, 20]);
        assert_eq!(budget(&[5, 100_000], 10), vec![5, 20]);
        assert_eq!(budget(&[], 10), Vec::<usize>::new());
    }
}
