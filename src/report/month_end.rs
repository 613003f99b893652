//! Finance's month-end drift report: per local month, market and currency, both systems' totals
//! side by side, the difference, and the orders that make it up, grouped by reason. Each line's
//! reasons add up to its difference exactly; what no exception explains is shown as unexplained.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Input;
use crate::reconcile::{Delta, PeriodOrder, PeriodTotals};

/// The orders of one line that share a reason, and what they add up to.
#[derive(Debug, Serialize)]
pub struct Reason<'a> {
    /// The explaining check, or `settling`, `rounding`, `unexplained`.
    pub reason: &'a str,
    /// In words.
    pub title: String,
    /// Whether an exception explains these orders.
    pub explained: bool,
    pub count: usize,
    pub total: Delta,
    /// The orders (rounding differences are only counted: they are many and each is tiny).
    pub orders: Vec<&'a PeriodOrder>,
}

/// One month, market and currency.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub totals: &'a PeriodTotals,
    pub difference: Delta,
    pub reasons: Vec<Reason<'a>>,
    /// The part of the difference exceptions explain.
    pub explained: Delta,
    /// The part that timing (the settle window) and rounding within tolerance account for.
    pub tolerated: Delta,
    /// What nothing accounts for.
    pub unexplained: Delta,
    /// How many orders nothing accounts for.
    pub unexplained_orders: usize,
    /// Whether `finance.period_mismatch` flagged this line.
    pub flagged: bool,
    /// The reasons add up to the difference (they do by construction; shown so a reader sees it).
    pub reconciles: bool,
    /// The orders the PDF lists, reason by reason (its share of
    /// [`super::Options::pdf_rows`]; rounding is never listed), and how many it leaves out.
    pub pdf_orders: Vec<Listed<'a>>,
    pub pdf_left_out: usize,
}

/// One order in the PDF's listing, with its reason in words.
#[derive(Debug, Serialize)]
pub struct Listed<'a> {
    pub order: &'a PeriodOrder,
    pub reason: String,
}

/// A reason in words: the explaining check's title, or what timing and rounding mean.
pub(super) fn reason_title(input: &Input, reason: &str) -> String {
    match reason {
        "settling" => format!(
            "Placed within the {}-minute settle window: not expected in OrderWise yet",
            input.summary.settle_minutes
        ),
        "rounding" => format!(
            "Rounding within the tolerance of {} per order",
            input.summary.money_tolerance
        ),
        "unexplained" => "Unexplained: no exception accounts for these orders".into(),
        check => input
            .check(check)
            .map_or_else(|| check.to_string(), |c| c.title.clone()),
    }
}

fn reason_rank(reason: &str) -> u8 {
    match reason {
        "settling" => 1,
        "rounding" => 2,
        "unexplained" => 3,
        _ => 0,
    }
}

/// Builds the month-end lines, in month, market and currency order.
pub fn build<'a>(input: &'a Input, opts: &super::Options) -> Vec<Line<'a>> {
    // The lines finance.period_mismatch flagged, by their typed subject.
    let flagged: BTreeSet<(Option<&str>, Option<&str>, Option<&str>)> = input
        .exceptions
        .iter()
        .filter(|e| e.check == "finance.period_mismatch")
        .map(|e| {
            (
                e.period.as_deref(),
                e.market.as_deref(),
                e.currency.as_deref(),
            )
        })
        .collect();
    let mut orders: BTreeMap<(&str, &str, &str), Vec<&PeriodOrder>> = BTreeMap::new();
    for o in &input.period_orders {
        orders
            .entry((&o.month, &o.market, &o.currency))
            .or_default()
            .push(o);
    }
    let mut lines: Vec<Line> = input
        .summary
        .periods
        .iter()
        .map(|totals| {
            let key = (
                totals.month.as_str(),
                totals.market.as_str(),
                totals.currency.as_str(),
            );
            let mut by_reason: BTreeMap<(u8, &str), Vec<&PeriodOrder>> = BTreeMap::new();
            for o in orders.remove(&key).unwrap_or_default() {
                by_reason
                    .entry((reason_rank(&o.reason), &o.reason))
                    .or_default()
                    .push(o);
            }
            let mut explained = Delta::default();
            let mut tolerated = Delta::default();
            let mut unexplained = Delta::default();
            let reasons: Vec<Reason> = by_reason
                .into_iter()
                .map(|((rank, reason), list)| {
                    let mut total = Delta::default();
                    for o in &list {
                        total += &o.part;
                    }
                    match rank {
                        0 => explained += &total,
                        3 => unexplained += &total,
                        _ => tolerated += &total,
                    }
                    Reason {
                        reason,
                        title: reason_title(input, reason),
                        explained: rank == 0,
                        count: list.len(),
                        total,
                        orders: if reason == "rounding" {
                            Vec::new()
                        } else {
                            list
                        },
                    }
                })
                .collect();
            let difference = Delta::between(&totals.centra, &totals.orderwise);
            let mut sum = explained.clone();
            sum += &tolerated;
            sum += &unexplained;
            Line {
                totals,
                reconciles: sum == difference,
                flagged: flagged.contains(&(
                    Some(totals.month.as_str()),
                    Some(totals.market.as_str()),
                    Some(totals.currency.as_str()),
                )),
                explained,
                tolerated,
                unexplained,
                unexplained_orders: reasons
                    .iter()
                    .filter(|r| r.reason == "unexplained")
                    .map(|r| r.count)
                    .sum(),
                difference,
                reasons,
                pdf_orders: Vec::new(),
                pdf_left_out: 0,
            }
        })
        .collect();
    let lens: Vec<usize> = lines
        .iter()
        .map(|l| l.reasons.iter().map(|r| r.orders.len()).sum())
        .collect();
    for (line, rows) in lines.iter_mut().zip(super::budget(&lens, opts.pdf_rows)) {
        let all = line.reasons.iter().flat_map(|r| {
            r.orders.iter().map(|&o| Listed {
                order: o,
                reason: r.title.clone(),
            })
        });
        let listed: Vec<Listed> = all.take(rows).collect();
        line.pdf_left_out =
            line.reasons.iter().map(|r| r.orders.len()).sum::<usize>() - listed.len();
        line.pdf_orders = listed;
    }
    lines
}
