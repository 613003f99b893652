//! The operations exception queue: every exception exactly once, grouped by owner, oldest first,
//! with what to do and whether `tally plan` can fix it: per exception when the plan is given
//! (`tally report --plan`), else per check.

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
    /// Days between then and the snapshot.
    pub age_days: Option<i64>,
    pub detail: &'a str,
    pub amount: Option<Decimal>,
    pub currency: Option<&'a str>,
    /// What to do: the check's remedy.
    pub remedy: &'a str,
    /// The action `tally plan` takes for it, if any.
    pub plan_action: Option<&'static str>,
    /// Why the plan holds it back for a person (only known when the plan was given).
    pub held_back: Option<&'a str>,
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
    let mut exceptions: Vec<_> = input.exceptions.iter().collect();
    exceptions.sort_by(|a, b| {
        a.owner
            .cmp(&b.owner)
            .then(
                a.occurred_at
                    .is_none()
                    .cmp(&b.occurred_at.is_none())
                    .then(a.occurred_at.cmp(&b.occurred_at)),
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
        let item = Item {
            check: &e.check,
            title: check.map_or("", |c| &c.title),
            severity: &e.severity,
            key: &e.key,
            market: e.market.as_deref(),
            since: e.occurred_at.map(|t| t.format("%Y-%m-%d").to_string()),
            age_days: e.occurred_at.map(|t| (extracted - t).num_days().max(0)),
            detail: &e.detail,
            amount: e.amount,
            currency: e.currency.as_deref(),
            remedy: check.map_or("", |c| &c.remedy),
            plan_action,
            held_back,
        };
        match owners.last_mut() {
            Some(o) if o.owner == e.owner => o.items.push(item),
            _ => owners.push(Owner {
                owner: &e.owner,
                items: vec![item],
                fixable: 0,
                todo: Vec::new(),
                pdf_rows: 0,
            }),
        }
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
