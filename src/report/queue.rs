//! The operations exception queue: every exception exactly once, grouped by owner, oldest first,
//! with what to do and whether `tally plan` can fix it: per exception when the plan is given
//! (`tally report --plan`), else per check.
//!
//! When the snapshot lives in a store with a history ([`super::timeline`]), the queue knows time:
//! each row's status and age since first seen (not since the order date), what is new since the
//! last run, what is past its owner's escalation hours, what the run resolved, and the accepted
//! exceptions listed apart.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::Input;
use crate::plan;

/// One exception as the queue lists it.
#[derive(Debug, Serialize)]
pub struct Item<'a> {
    pub check: &'a str,
    pub title: &'a str,
    pub severity: &'a str,
    pub key: &'a str,
    pub market: Option<&'a str>,
    /// When its subject happened (UTC date), none for stock and products.
    pub since: Option<String>,
    pub detail: &'a str,
    pub amount: Option<Decimal>,
    pub currency: Option<&'a str>,
    /// What to do: the check's remedy.
    pub remedy: &'a str,
    /// The action `tally plan` takes for it, if any.
    pub plan_action: Option<&'static str>,
    /// Why the plan holds it back for a person (only known when the plan was given).
    pub held_back: Option<&'a str>,
    /// From the history: new, open, reopened or accepted.
    pub status: Option<&'a str>,
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
    pub check: &'a str,
    pub title: &'a str,
    pub count: usize,
    pub remedy: &'a str,
    pub plan_action: Option<&'static str>,
}

/// One owner's part of the queue.
#[derive(Debug, Serialize)]
pub struct Owner<'a> {
    pub owner: &'a str,
    pub items: Vec<Item<'a>>,
    /// How many of them `tally plan` can fix.
    pub fixable: usize,
    /// The kinds of exception in the queue, most frequent first.
    pub todo: Vec<Todo<'a>>,
    /// How many of the items the PDF lists (its share of [`super::Options::pdf_rows`]).
    pub pdf_rows: usize,
    /// New or reopened since the last run (with a history).
    pub new: usize,
    /// Past the owner's escalation hours (with a history).
    pub escalated: usize,
    /// Accepted exceptions, apart from the queue (with a history).
    pub accepted: Vec<Item<'a>>,
    /// Resolved by this run (with a history).
    pub resolved: Vec<Resolved<'a>>,
}

impl<'a> Owner<'a> {
    fn empty(owner: &'a str) -> Owner<'a> {
        Owner {
            owner,
            items: Vec::new(),
            fixable: 0,
            todo: Vec::new(),
            pdf_rows: 0,
            new: 0,
            escalated: 0,
            accepted: Vec::new(),
            resolved: Vec::new(),
        }
    }
}

fn age(hours: i64) -> String {
    match hours {
        h if h < 1 => "<1 h".into(),
        h if h < 48 => format!("{h} h"),
        h => format!("{} d", h / 24),
    }
}

fn rank(severity: &str) -> u8 {
    match severity {
        "high" => 0,
        "medium" => 1,
        _ => 2,
    }
}

/// The queue, owners in name order, each oldest first (undated last), then by severity, check
/// and key.
pub fn build<'a>(input: &'a Input, opts: &super::Options) -> Vec<Owner<'a>> {
    let extracted: DateTime<Utc> = input.summary.extracted_at;
    let life = |e: &crate::reconcile::Exception| {
        input
            .timeline
            .as_ref()
            .and_then(|t| t.entries.get(&(e.check.clone(), e.key.clone())))
    };
    // With a history, oldest means first seen earliest; without, the subject's own time.
    let since = |e: &crate::reconcile::Exception| life(e).map(|l| l.first_seen).or(e.occurred_at);
    let mut exceptions: Vec<_> = input.exceptions.iter().collect();
    exceptions.sort_by(|a, b| {
        a.owner
            .cmp(&b.owner)
            .then(
                since(a)
                    .is_none()
                    .cmp(&since(b).is_none())
                    .then(since(a).cmp(&since(b))),
            )
            .then(rank(&a.severity).cmp(&rank(&b.severity)))
            .then(a.check.cmp(&b.check))
            .then(a.key.cmp(&b.key))
    });
    // What the plan does per exception (`check:key`), when the caller read one.
    let planned: Option<HashMap<String, &crate::plan::Action>> = input.plan.as_ref().map(|plan| {
        plan.iter()
            .flat_map(|a| a.fixes().iter().map(move |f| (f.clone(), a)))
            .collect()
    });
    let mut owners: Vec<Owner> = Vec::new();
    for e in exceptions {
        let (plan_action, held_back) = match &planned {
            None => (plan::action_for(&e.check), None),
            Some(planned) => match planned.get(&format!("{}:{}", e.check, e.key)) {
                Some(crate::plan::Action::NoAction { reason, .. }) => (None, Some(reason.as_str())),
                Some(action) => (Some(action.kind()), None),
                None => (None, None),
            },
        };
        let check = input.check(&e.check);
        let life = life(e);
        let item = Item {
            check: &e.check,
            title: check.map_or("", |c| &c.title),
            severity: &e.severity,
            key: &e.key,
            market: e.market.as_deref(),
            since: e.occurred_at.map(|t| t.format("%Y-%m-%d").to_string()),
            detail: &e.detail,
            amount: e.amount,
            currency: e.currency.as_deref(),
            remedy: check.map_or("", |c| &c.remedy),
            plan_action,
            held_back,
            status: life.map(|l| l.status.as_str()),
            first_seen: life.map(|l| l.first_seen.format("%Y-%m-%d %H:%M").to_string()),
            age: life
                .map(|l| (extracted - l.first_seen).num_hours())
                .or(e.occurred_at.map(|t| (extracted - t).num_hours()))
                .map(|h| age(h.max(0))),
            escalated: life.is_some_and(|l| l.escalated_at.is_some() && l.status != "accepted"),
            accepted: life.filter(|l| l.status == "accepted").map(|l| {
                format!(
                    "accepted by {}{}: {}",
                    l.accepted_by.as_deref().unwrap_or("?"),
                    l.accepted_until
                        .map(|d| format!(" through {d}"))
                        .unwrap_or_default(),
                    l.accepted_reason.as_deref().unwrap_or("")
                )
            }),
        };
        if owners.last().is_none_or(|o| o.owner != e.owner) {
            owners.push(Owner::empty(&e.owner));
        }
        let o = owners.last_mut().expect("pushed above");
        if item.accepted.is_some() {
            o.accepted.push(item);
        } else {
            o.new += usize::from(matches!(item.status, Some("new" | "reopened")));
            o.escalated += usize::from(item.escalated);
            o.items.push(item);
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
                    let mut o = Owner::empty(owner);
                    o.resolved.push(resolved);
                    owners.push(o);
                }
            }
        }
        owners.sort_by(|a, b| a.owner.cmp(b.owner));
    }
    for o in &mut owners {
        o.fixable = o.items.iter().filter(|i| i.plan_action.is_some()).count();
        for item in &o.items {
            match o.todo.iter_mut().find(|t| t.check == item.check) {
                Some(t) => t.count += 1,
                None => o.todo.push(Todo {
                    check: item.check,
                    title: item.title,
                    count: 1,
                    remedy: item.remedy,
                    plan_action: plan::action_for(item.check),
                }),
            }
        }
        o.todo
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.check.cmp(b.check)));
    }
    let lens: Vec<usize> = owners.iter().map(|o| o.items.len()).collect();
    for (o, rows) in owners.iter_mut().zip(super::budget(&lens, opts.pdf_rows)) {
        o.pdf_rows = rows;
    }
    owners
}
