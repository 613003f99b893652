//! Reports: HTML pages rendered by minijinja from a reconciled snapshot's exceptions and summary.
//!
//! Templates live in `reports/` (embedded at build time, so the binary runs anywhere); partials
//! start with `_`. Autoescaping is on for every `.html` template, so a value from the data (a
//! product name with markup in it) is always shown as text.

mod format;

use std::path::{Path, PathBuf};

use minijinja::{Environment, context};
use serde::Serialize;

pub use format::money;

use crate::reconcile::{self, Exception, Summary};

/// The report kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// The operations exception queue.
    Exceptions,
}

impl Kind {
    fn template(self) -> &'static str {
        match self {
            Kind::Exceptions => "exceptions.html",
        }
    }
    /// The default file name of this report.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Exceptions => "exceptions.html",
        }
    }
}

/// What can stop a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
    #[error("{path}: {detail}; run `tally reconcile` on the snapshot first")]
    Summary { path: PathBuf, detail: String },
    #[error("rendering {template}: {detail}")]
    Render { template: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

const TEMPLATES: &[(&str, &str)] = &[
    ("_style.html", include_str!("../../reports/_style.html")),
    (
        "exceptions.html",
        include_str!("../../reports/exceptions.html"),
    ),
];

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .expect("the embedded templates parse");
    }
    env.add_filter("money", format::money_filter);
    env.add_filter("datetime", format::datetime_filter);
    env
}

/// Exceptions of one owner, for the queue.
#[derive(Serialize)]
struct Group<'a> {
    owner: &'a str,
    rows: Vec<&'a Exception>,
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

/// Renders report `kind` of the reconciled snapshot in `dir` as HTML text.
pub fn render(dir: &Path, kind: Kind) -> Result<String, Error> {
    let summary = read_summary(dir)?;
    let exceptions = reconcile::read_exceptions(dir)?;
    render_with(kind, &summary, &exceptions)
}

/// Renders from data already read.
pub fn render_with(
    kind: Kind,
    summary: &Summary,
    exceptions: &[Exception],
) -> Result<String, Error> {
    let mut owners: Vec<&str> = exceptions.iter().map(|e| e.owner.as_str()).collect();
    owners.sort();
    owners.dedup();
    let rank = |s: &str| match s {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    };
    let groups: Vec<Group> = owners
        .into_iter()
        .map(|owner| {
            let mut rows: Vec<&Exception> =
                exceptions.iter().filter(|e| e.owner == owner).collect();
            rows.sort_by(|a, b| {
                rank(&a.severity)
                    .cmp(&rank(&b.severity))
                    .then(a.check.cmp(&b.check))
                    .then(a.key.cmp(&b.key))
            });
            Group { owner, rows }
        })
        .collect();
    let env = environment();
    let template = env.get_template(kind.template()).expect("embedded");
    template
        .render(context! {
            summary => summary,
            groups => groups,
            version => env!("CARGO_PKG_VERSION"),
        })
        .map_err(|e| Error::Render {
            template: kind.template().into(),
            detail: format!("{e:#}"),
        })
}

/// Renders and writes a report; returns where it went.
pub fn write(dir: &Path, kind: Kind, out: Option<&Path>) -> Result<PathBuf, Error> {
    let html = render(dir, kind)?;
    let path = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dir.join(kind.file_name()));
    std::fs::write(&path, html).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
