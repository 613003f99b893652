//! The consultant's pre-integration audit: health per area and what drives it, every gap with its
//! count, money at stake, worst examples, owner and remedy, the configuration and data window, and
//! an appendix of every exception.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
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
    pub examples: Vec<&'a Exception>,
    pub plan_action: Option<&'static str>,
}

/// The audit's content.
#[derive(Debug, Serialize)]
pub struct Audit<'a> {
    pub health: Vec<Health>,
    pub gaps: Vec<Gap<'a>>,
    /// Checks that ran and found nothing: what is known to be right.
    pub clean: Vec<&'a CheckCount>,
    /// Every exception, by check and key.
    pub appendix: &'a [Exception],
}

fn severity_rank(c: &CheckCount) -> u8 {
    match c.severity.as_str() {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// Builds the audit from a reconciled snapshot.
pub fn build<'a>(input: &'a Input) -> Audit<'a> {
    let mut by_check: BTreeMap<&str, Vec<&Exception>> = BTreeMap::new();
    for e in &input.exceptions {
        by_check.entry(&e.check).or_default().push(e);
    }
    let mut gaps: Vec<Gap> = input
        .summary
        .checks
        .iter()
        .filter(|c| c.count > 0)
        .map(|c| {
            let mut examples = by_check.remove(c.check.as_str()).unwrap_or_default();
            examples.sort_by(|a, b| {
                b.amount
                    .unwrap_or(Decimal::MIN)
                    .cmp(&a.amount.unwrap_or(Decimal::MIN))
                    .then(a.key.cmp(&b.key))
            });
            examples.truncate(EXAMPLES);
            Gap {
                check: c,
                area: Area::of(&c.check).title(),
                examples,
                plan_action: plan::action_for(&c.check),
            }
        })
        .collect();
    gaps.sort_by(|a, b| {
        Area::of(&a.check.check)
            .cmp(&Area::of(&b.check.check))
            .then(severity_rank(a.check).cmp(&severity_rank(b.check)))
            .then(b.check.count.cmp(&a.check.count))
            .then(a.check.check.cmp(&b.check.check))
    });
    Audit {
        health: areas::health(&input.summary, &input.exceptions),
        gaps,
        clean: input
            .summary
            .checks
            .iter()
            .filter(|c| c.count == 0)
            .collect(),
        appendix: &input.exceptions,
    }
}
