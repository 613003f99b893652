//! The consultant's pre-integration audit: health per area and what drives it, every gap with its
//! count, money at stake, worst examples, owner and remedy, the configuration and data window, and
//! an appendix of the exceptions by check and key, as many as the page holds (all of them in
//! `exceptions.csv`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::Input;
use super::areas::{self, Area, Health};
use crate::plan;
use crate::reconcile::{CheckCount, Exception};

/// How many examples each gap shows (the appendix has them all).
pub const EXAMPLES: usize = 5;

/// One check that found something.
#[derive(Debug, Serialize)]
pub struct Gap<'a> {
    pub check: &'a CheckCount,
    pub area: &'static str,
    /// The exceptions with the most money at stake first.
    pub examples: Vec<Exception>,
    pub plan_action: Option<&'static str>,
}

/// The audit's content.
#[derive(Debug, Serialize)]
pub struct Audit<'a> {
    pub health: Vec<Health>,
    pub gaps: Vec<Gap<'a>>,
    /// Checks that ran and found nothing: what is known to be right.
    pub clean: Vec<&'a CheckCount>,
    /// The first exceptions by check and key: the report's page of them.
    pub appendix: Vec<Exception>,
    /// How many exceptions there are in all.
    pub total: u64,
}

fn severity_rank(c: &CheckCount) -> u8 {
    match c.severity.as_str() {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// Builds the audit from a reconciled snapshot, listing at most `rows` exceptions in the appendix.
pub fn build<'a>(input: &'a Input, rows: usize) -> Result<Audit<'a>, super::Error> {
    use crate::reconcile::{EXCEPTION_COLUMNS, exception_row};
    // The examples: per check, the exceptions with the most money at stake first.
    let mut by_check: BTreeMap<String, Vec<Exception>> = BTreeMap::new();
    let examples = input.db().rows(
        "choosing each check's examples",
        &format!(
            "SELECT {EXCEPTION_COLUMNS} FROM exceptions
             QUALIFY row_number() OVER (PARTITION BY \"check\"
                                        ORDER BY amount DESC NULLS LAST, key) <= {EXAMPLES}
             ORDER BY \"check\", amount DESC NULLS LAST, key"
        ),
        exception_row,
    )?;
    for e in examples {
        by_check.entry(e.check.clone()).or_default().push(e);
    }
    let appendix = input.db().rows(
        "reading the appendix",
        &format!(
            "SELECT {EXCEPTION_COLUMNS} FROM exceptions ORDER BY \"check\", key LIMIT {}",
            rows.min(i64::MAX as usize)
        ),
        exception_row,
    )?;
    let mut gaps: Vec<Gap> = input
        .summary
        .checks
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| Gap {
            check: c,
            area: Area::of(&c.check).title(),
            examples: by_check.remove(c.check.as_str()).unwrap_or_default(),
            plan_action: plan::action_for(&c.check),
        })
        .collect();
    gaps.sort_by(|a, b| {
        Area::of(&a.check.check)
            .cmp(&Area::of(&b.check.check))
            .then(severity_rank(a.check).cmp(&severity_rank(b.check)))
            .then(b.check.count.cmp(&a.check.count))
            .then(a.check.check.cmp(&b.check.check))
    });
    Ok(Audit {
        health: areas::health(&input.summary, &areas::subjects(input.db())?),
        gaps,
        clean: input
            .summary
            .checks
            .iter()
            .filter(|c| c.count == 0)
            .collect(),
        appendix,
        total: input.summary.total,
    })
}
