//! The operations exception queue: every exception exactly once, grouped by owner, oldest first,
//! with what to do and whether `tally plan` can fix it: per exception when the plan is given
//! (`tally report --plan`), else per check.
//!
//! When the snapshot lives in a store with a history ([`super::timeline`]), the queue knows time:
//! each row's status and age since first seen (not since the order date), what is new since the
//! last run, what is past its owner's escalation hours, what the run resolved, and the accepted
//! exceptions listed apart.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::Input;
use crate::plan;
use crate::reconcile::{EXCEPTION_COLUMNS, Exception, exception_row};

/// One exception as the queue lists it.
#[derive(Debug, Serialize)]
pub struct Item<'a> {
    pub check: String,
    pub title: &'a str,
    pub severity: String,
    pub key: String,
    pub market: Option<String>,
    /// When its subject happened (UTC date), none for stock and products.
    pub since: Option<String>,
    pub detail: String,
    pub amount: Option<Decimal>,
    pub currency: Option<String>,
    /// What to do: the check's remedy.
    pub remedy: &'a str,
    /// The action `tally plan` takes for it, if any.
    pub plan_action: Option<String>,
    /// Why the plan holds it back for a person (only known when the plan was given).
    pub held_back: Option<String>,
    /// From the history: new, open, reopened or accepted.
    pub status: Option<String>,
    /// From the history: when tally first saw it (UTC, minutes).
    pub first_seen: Option<String>,
    /// Time since first seen ("5 h", "3 d"), or since the order date without a history.
    pub age: Option<String>,
    /// Open longer than its owner's escalation hours (an escalation was sent).
    pub escalated: bool,
    /// Accepted: by whom and why.
    pub accepted: Option<String>,
}

/// An exception the run found resolved.
#[derive(Debug, Serialize)]
pub struct Resolved<'a> {
    pub check: &'a str,
    pub key: &'a str,
    pub first_seen: String,
    pub detail: &'a str,
}

/// What to do about one kind of exception in an owner's queue, said once rather than per row.
#[derive(Debug, Serialize)]
pub struct Todo<'a> {
    pub check: String,
    pub title: &'a str,
    pub count: u64,
    pub remedy: &'a str,
    pub plan_action: Option<&'static str>,
}

/// One owner's part of the queue.
#[derive(Debug, Serialize)]
pub struct Owner<'a> {
    pub owner: String,
    /// How many exceptions the owner has open (accepted ones apart).
    pub count: u64,
    /// The oldest of them: the report's share of its page ([`super::budget`]).
    pub items: Vec<Item<'a>>,
    /// How many of them `tally plan` can fix.
    pub fixable: u64,
    /// The kinds of exception in the queue, most frequent first.
    pub todo: Vec<Todo<'a>>,
    /// New or reopened since the last run (with a history).
    pub new: u64,
    /// Past the owner's escalation hours (with a history).
    pub escalated: u64,
    /// How many exceptions are accepted, apart from the queue (with a history).
    pub accepted_count: u64,
    /// The oldest accepted ones: their share of the page.
    pub accepted: Vec<Item<'a>>,
    /// Resolved by this run (with a history).
    pub resolved: Vec<Resolved<'a>>,
}

fn age(hours: i64) -> String {
    match hours {
        h if h < 1 => "<1 h".into(),
        h if h < 48 => format!("{h} h"),
        h => format!("{} d", h / 24),
    }
}

/// Each exception beside what the history and the plan say of it: the rows the queue counts and
/// lists. `accepted` is true for an exception accepted in the history; `since` orders the queue:
/// first seen with a history, else when its subject happened.
const QUEUE_ROWS: &str =
    "SELECT e.*, l.status AS life_status, epoch_ms(l.first_seen) AS life_first_seen,
           l.escalated_at IS NOT NULL AS life_escalated, l.accepted_by AS life_accepted_by,
           CAST(l.accepted_until AS VARCHAR) AS life_accepted_until,
           l.accepted_reason AS life_accepted_reason, p.action AS plan_action, p.held_back,
           coalesce(l.status = 'accepted', false) AS accepted,
           coalesce(epoch_ms(l.first_seen), epoch_ms(e.occurred_at)) AS since_ms
    FROM exceptions e
    LEFT JOIN life l ON l.\"check\" = e.\"check\" AND l.key = e.key
    LEFT JOIN planned p ON p.\"check\" = e.\"check\" AND p.key = e.key";

/// Per owner and check: open, accepted, new, escalated and planned exceptions.
struct Counts {
    owner: String,
    check: String,
    open: u64,
    accepted: u64,
    new: u64,
    escalated: u64,
    planned: u64,
}

/// The queue, owners in name order, each oldest first (undated last), then by severity, check
/// and key, listing at most about `rows` exceptions in all (shared among the owners).
pub fn build<'a>(input: &'a Input, rows: usize) -> Result<Vec<Owner<'a>>, super::Error> {
    let counts = input.db().rows(
        "counting the queue",
        &format!(
            "SELECT owner, \"check\",
                    count(*) FILTER (WHERE NOT accepted),
                    count(*) FILTER (WHERE accepted),
                    count(*) FILTER (WHERE life_status IN ('new', 'reopened')),
                    count(*) FILTER (WHERE life_escalated AND NOT accepted),
                    count(*) FILTER (WHERE plan_action IS NOT NULL AND NOT accepted)
             FROM ({QUEUE_ROWS}) GROUP BY owner, \"check\" ORDER BY owner, \"check\""
        ),
        |r| {
            let n = |i| r.get::<_, i64>(i).map(|n| n as u64);
            Ok(Counts {
                owner: r.get(0)?,
                check: r.get(1)?,
                open: n(2)?,
                accepted: n(3)?,
                new: n(4)?,
                escalated: n(5)?,
                planned: n(6)?,
            })
        },
    )?;
    let mut owners: Vec<Owner> = Vec::new();
    for c in counts {
        if owners.last().is_none_or(|o| o.owner != c.owner) {
            owners.push(empty(c.owner.clone()));
        }
        let o = owners.last_mut().expect("pushed above");
        o.count += c.open;
        o.accepted_count += c.accepted;
        o.new += c.new;
        o.escalated += c.escalated;
        // Given the plan, what it does per exception; else what it does for the check.
        o.fixable += match (input.planned, plan::action_for(&c.check)) {
            (true, _) => c.planned,
            (false, Some(_)) => c.open,
            (false, None) => 0,
        };
        if c.open > 0 {
            let check = input.check(&c.check);
            o.todo.push(Todo {
                title: check.map_or("", |k| k.title.as_str()),
                remedy: check.map_or("", |k| k.remedy.as_str()),
                plan_action: plan::action_for(&c.check),
                check: c.check,
                count: c.open,
            });
        }
    }
    if let Some(t) = &input.timeline {
        for r in &t.resolved {
            let Some(owner) = r.owner.as_deref() else {
                continue;
            };
            let resolved = Resolved {
                check: &r.check,
                key: &r.key,
                first_seen: r.first_seen.format("%Y-%m-%d %H:%M").to_string(),
                detail: r.detail.as_deref().unwrap_or(""),
            };
            match owners.iter_mut().find(|o| o.owner == owner) {
                Some(o) => o.resolved.push(resolved),
                None => {
                    let mut o = empty(owner.to_string());
                    o.resolved.push(resolved);
                    owners.push(o);
                }
            }
        }
        owners.sort_by(|a, b| a.owner.cmp(&b.owner));
    }
    for o in &mut owners {
        o.todo
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.check.cmp(&b.check)));
    }
    // Each owner's open and accepted exceptions are two listings sharing the page.
    let lens: Vec<usize> = owners
        .iter()
        .flat_map(|o| [o.count as usize, o.accepted_count as usize])
        .collect();
    let shares = super::budget(&lens, rows);
    for (o, share) in owners.iter_mut().zip(shares.chunks(2)) {
        o.items = list(input, &o.owner, false, share[0])?;
        o.accepted = list(input, &o.owner, true, share[1])?;
    }
    Ok(owners)
}

fn empty<'a>(owner: String) -> Owner<'a> {
    Owner {
        owner,
        count: 0,
        items: Vec::new(),
        fixable: 0,
        todo: Vec::new(),
        new: 0,
        escalated: 0,
        accepted_count: 0,
        accepted: Vec::new(),
        resolved: Vec::new(),
    }
}

/// The `rows` oldest of an owner's open (or accepted) exceptions.
fn list<'a>(
    input: &'a Input,
    owner: &str,
    accepted: bool,
    rows: usize,
) -> Result<Vec<Item<'a>>, super::Error> {
    if rows == 0 {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {EXCEPTION_COLUMNS}, life_status, life_first_seen, life_escalated,
                life_accepted_by, life_accepted_until, life_accepted_reason, plan_action,
                held_back
         FROM ({QUEUE_ROWS})
         WHERE owner = {} AND accepted = {accepted}
         ORDER BY since_ms IS NULL, since_ms,
                  CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
                  \"check\", key
         LIMIT {}",
        crate::history::text(owner),
        rows.min(i64::MAX as usize)
    );
    input.db().rows("listing the queue", &sql, |r| {
        let e = exception_row(r)?;
        let life = Life {
            status: r.get(22)?,
            first_seen: r
                .get::<_, Option<i64>>(23)?
                .and_then(DateTime::from_timestamp_millis),
            escalated: r.get::<_, Option<bool>>(24)?.unwrap_or(false),
            accepted_by: r.get(25)?,
            accepted_until: r.get(26)?,
            accepted_reason: r.get(27)?,
            plan_action: r.get(28)?,
            held_back: r.get(29)?,
        };
        Ok(item(input, e, life))
    })
}

/// What the history and the plan say of one exception.
struct Life {
    status: Option<String>,
    first_seen: Option<DateTime<Utc>>,
    escalated: bool,
    accepted_by: Option<String>,
    accepted_until: Option<String>,
    accepted_reason: Option<String>,
    plan_action: Option<String>,
    held_back: Option<String>,
}

fn item<'a>(input: &'a Input, e: Exception, life: Life) -> Item<'a> {
    let extracted = input.summary.extracted_at;
    let check = input.check(&e.check);
    let accepted = (life.status.as_deref() == Some("accepted")).then(|| {
        format!(
            "accepted by {}{}: {}",
            life.accepted_by.as_deref().unwrap_or("?"),
            life.accepted_until
                .map(|d| format!(" through {d}"))
                .unwrap_or_default(),
            life.accepted_reason.unwrap_or_default()
        )
    });
    Item {
        title: check.map_or("", |c| &c.title),
        remedy: check.map_or("", |c| &c.remedy),
        plan_action: if input.planned {
            life.plan_action
        } else {
            plan::action_for(&e.check).map(str::to_string)
        },
        held_back: life.held_back,
        since: e.occurred_at.map(|t| t.format("%Y-%m-%d").to_string()),
        age: life
            .first_seen
            .map(|t| (extracted - t).num_hours())
            .or(e.occurred_at.map(|t| (extracted - t).num_hours()))
            .map(|h| age(h.max(0))),
        escalated: life.escalated && accepted.is_none(),
        status: life.status,
        first_seen: life
            .first_seen
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string()),
        accepted,
        check: e.check,
        severity: e.severity,
        key: e.key,
        market: e.market,
        detail: e.detail,
        amount: e.amount,
        currency: e.currency,
    }
}
