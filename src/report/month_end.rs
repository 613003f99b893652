//! Finance's month-end drift report: per local month, market and currency, both systems' totals
//! side by side, the difference, and the orders that make it up, grouped by reason. Each line's
//! reasons add up to its difference exactly; what no exception explains is shown as unexplained.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::Input;
use crate::reconcile::{
    Delta, PERIOD_ORDER_COLUMNS, PeriodOrder, PeriodTotals, delta_columns, period_order_row,
};

/// The orders of one line that share a reason, and what they add up to.
#[derive(Debug, Serialize)]
pub struct Reason {
    /// The explaining check, or `settling`, `rounding`, `unexplained`.
    pub reason: String,
    /// In words.
    pub title: String,
    /// Whether an exception explains these orders.
    pub explained: bool,
    pub count: u64,
    pub total: Delta,
}

/// One month, market and currency.
#[derive(Debug, Serialize)]
pub struct Line<'a> {
    pub totals: &'a PeriodTotals,
    pub difference: Delta,
    pub reasons: Vec<Reason>,
    /// The part of the difference exceptions explain.
    pub explained: Delta,
    /// The part that timing (the settle window) and rounding within tolerance account for.
    pub tolerated: Delta,
    /// What nothing accounts for.
    pub unexplained: Delta,
    /// How many orders nothing accounts for.
    pub unexplained_orders: u64,
    /// Whether `finance.period_mismatch` flagged this line.
    pub flagged: bool,
    /// The reasons add up to the difference (they do by construction; shown so a reader sees it).
    pub reconciles: bool,
    /// The orders the report lists, reason by reason (its share of the page; rounding
    /// differences are only counted: they are many and each is tiny), and how many it leaves
    /// out.
    pub orders: Vec<Listed>,
    pub left_out: u64,
}

/// One order in a line's listing, with its reason in words.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub order: PeriodOrder,
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

/// The order reasons are shown in: the explaining checks (0), then settling, rounding and
/// unexplained.
const REASON_RANK: &str = "CASE reason WHEN 'settling' THEN 1 WHEN 'rounding' THEN 2
                                       WHEN 'unexplained' THEN 3 ELSE 0 END";

/// A line's key: month, market and currency.
type LineKey = (String, String, String);

/// Builds the month-end lines, in month, market and currency order, listing at most about `rows`
/// orders in all (shared among the lines).
pub fn build<'a>(input: &'a Input, rows: usize) -> Result<Vec<Line<'a>>, super::Error> {
    let mut lines = totals(input)?;
    list_orders(input, &mut lines, rows)?;
    Ok(lines)
}

/// The month-end lines with their reasons and totals, listing no orders (`orders` is empty and
/// `left_out` is 0): for the workbook, which lists every order on a sheet of its own.
pub fn totals<'a>(input: &'a Input) -> Result<Vec<Line<'a>>, super::Error> {
    let db = input.db();
    // The lines finance.period_mismatch flagged, by their typed subject.
    let flagged: BTreeSet<LineKey> = db
        .rows(
            "reading the flagged month-end lines",
            "SELECT period, market, currency FROM exceptions
             WHERE \"check\" = 'finance.period_mismatch'
               AND period IS NOT NULL AND market IS NOT NULL AND currency IS NOT NULL",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?
        .into_iter()
        .collect();
    // Each line's reasons: how many orders and what their parts add up to.
    let sums = db.rows(
        "summing the month-end reasons",
        &format!(
            "SELECT month, market, currency, reason, {REASON_RANK} AS rank, count(*),
                    CAST(sum(orders) AS BIGINT), CAST(sum(net) AS VARCHAR),
                    CAST(sum(vat) AS VARCHAR), CAST(sum(gross) AS VARCHAR),
                    CAST(sum(discounts) AS VARCHAR), CAST(sum(shipping) AS VARCHAR)
             FROM period_orders
             GROUP BY month, market, currency, reason
             ORDER BY month, market, currency, rank, reason"
        ),
        |r| {
            let key: LineKey = (r.get(0)?, r.get(1)?, r.get(2)?);
            let reason: String = r.get(3)?;
            let rank: i32 = r.get(4)?;
            Ok((
                key,
                rank,
                reason,
                r.get::<_, i64>(5)? as u64,
                delta_columns(r, 6)?,
            ))
        },
    )?;
    let mut by_line: BTreeMap<LineKey, Vec<(i32, Reason)>> = BTreeMap::new();
    for (key, rank, reason, count, total) in sums {
        let title = reason_title(input, &reason);
        by_line.entry(key).or_default().push((
            rank,
            Reason {
                explained: rank == 0,
                reason,
                title,
                count,
                total,
            },
        ));
    }
    let lines: Vec<Line> = input
        .summary
        .periods
        .iter()
        .map(|totals| {
            let key = (
                totals.month.clone(),
                totals.market.clone(),
                totals.currency.clone(),
            );
            let mut explained = Delta::default();
            let mut tolerated = Delta::default();
            let mut unexplained = Delta::default();
            let mut unexplained_orders = 0;
            let mut reasons = Vec::new();
            for (rank, reason) in by_line.remove(&key).unwrap_or_default() {
                match rank {
                    0 => explained += &reason.total,
                    3 => {
                        unexplained += &reason.total;
                        unexplained_orders += reason.count;
                    }
                    _ => tolerated += &reason.total,
                }
                reasons.push(reason);
            }
            let difference = Delta::between(&totals.centra, &totals.orderwise);
            let mut sum = explained.clone();
            sum += &tolerated;
            sum += &unexplained;
            Line {
                totals,
                reconciles: sum == difference,
                flagged: flagged.contains(&key),
                explained,
                tolerated,
                unexplained,
                unexplained_orders,
                difference,
                reasons,
                orders: Vec::new(),
                left_out: 0,
            }
        })
        .collect();
    Ok(lines)
}

/// Lists each line's share of `rows` orders behind it, and counts the rest in `left_out`.
fn list_orders(input: &Input, lines: &mut [Line], rows: usize) -> Result<(), super::Error> {
    let db = input.db();
    // The listed orders: every reason's but rounding's, each line its share of the page.
    let listed = |l: &Line| -> u64 {
        l.reasons
            .iter()
            .filter(|r| r.reason != "rounding")
            .map(|r| r.count)
            .sum()
    };
    let lens: Vec<usize> = lines.iter().map(|l| listed(l) as usize).collect();
    let shares = super::budget(&lens, rows);
    let groups: Vec<(Vec<&str>, usize)> = lines
        .iter()
        .zip(&shares)
        .map(|(l, &n)| {
            let t = l.totals;
            (
                vec![t.month.as_str(), t.market.as_str(), t.currency.as_str()],
                n,
            )
        })
        .collect();
    db.budgets("line_rows", &groups)?;
    let orders = db.rows(
        "listing the orders behind the month-end lines",
        &format!(
            "SELECT {PERIOD_ORDER_COLUMNS} FROM (
                 SELECT p.*, b.page_rows,
                        row_number() OVER (PARTITION BY p.month, p.market, p.currency
                                           ORDER BY {REASON_RANK}, p.reason, p.order_ref) AS n
                 FROM period_orders p
                 JOIN line_rows b ON b.g1 = p.month AND b.g2 = p.market AND b.g3 = p.currency
                 WHERE p.reason <> 'rounding')
             WHERE n <= page_rows
             ORDER BY month, market, currency, n"
        ),
        period_order_row,
    )?;
    let mut by_line: BTreeMap<LineKey, Vec<Listed>> = BTreeMap::new();
    for order in orders {
        let key = (
            order.month.clone(),
            order.market.clone(),
            order.currency.clone(),
        );
        let reason = reason_title(input, &order.reason);
        by_line
            .entry(key)
            .or_default()
            .push(Listed { order, reason });
    }
    for line in lines.iter_mut() {
        let t = line.totals;
        let key = (t.month.clone(), t.market.clone(), t.currency.clone());
        line.orders = by_line.remove(&key).unwrap_or_default();
        line.left_out = listed(line) - line.orders.len() as u64;
    }
    Ok(())
}
