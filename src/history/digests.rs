//! Building a run's alert digests from the history, inside the run's transaction: one per owner
//! with something to say (new or reopened exceptions at or above `min_severity`, escalations, or
//! resolutions), with the owner's open money at stake.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use duckdb::Connection;
use rust_decimal::Decimal;

use super::{from_us, ts};
use crate::alerts::digest::{Alerted, Digest, FailedRuns};
use crate::reconcile::Severity;

/// A severity as a number in SQL, so `>=` means "at or above".
pub(super) const RANK: &str = "CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END";

/// [`RANK`] of a severity.
pub(super) fn rank(s: Severity) -> u8 {
    match s {
        Severity::High => 3,
        Severity::Medium => 2,
        Severity::Low => 1,
    }
}

/// A DECIMAL read as text, exactly.
fn decimal(r: &duckdb::Row, i: usize) -> duckdb::Result<Option<Decimal>> {
    Ok(r.get::<_, Option<String>>(i)?
        .and_then(|s| s.parse::<Decimal>().ok()))
}

fn query<T>(
    conn: &Connection,
    sql: &str,
    row: impl FnMut(&duckdb::Row<'_>) -> duckdb::Result<T>,
) -> duckdb::Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], row)?;
    rows.collect()
}

/// The digests of run `run`, whose data was taken at `data_at`.
pub(super) fn build(
    conn: &Connection,
    run: i64,
    data_at: DateTime<Utc>,
    min_severity: Severity,
    failed: Option<FailedRuns>,
) -> duckdb::Result<Vec<Digest>> {
    let at = ts(data_at);
    let min = rank(min_severity);
    let alerted = |filter: &str| {
        query(
            conn,
            &format!(
                "SELECT \"check\", entity, severity, owner, key, centra_value, orderwise_value,
                        difference, CAST(amount AS VARCHAR), currency, detail, status,
                        epoch_us(first_seen)
                 FROM exceptions WHERE last_run = {run} AND {RANK} >= {min} AND ({filter})
                 ORDER BY {RANK} DESC, amount DESC NULLS LAST, \"check\", key"
            ),
            |r| {
                Ok(Alerted {
                    check: r.get(0)?,
                    entity: r.get(1)?,
                    severity: r.get(2)?,
                    owner: r.get(3)?,
                    key: r.get(4)?,
                    centra_value: r.get(5)?,
                    orderwise_value: r.get(6)?,
                    difference: r.get(7)?,
                    amount: decimal(r, 8)?,
                    currency: r.get(9)?,
                    detail: r.get::<_, Option<String>>(10)?.unwrap_or_default(),
                    status: r.get(11)?,
                    first_seen: from_us(r.get(12)?).unwrap_or_default(),
                })
            },
        )
    };
    let new = alerted(&format!(
        "status IN ('new', 'reopened') AND opened_run = {run}"
    ))?;
    let escalated = alerted(&format!("escalated_at = {at}"))?;
    let resolved: BTreeMap<String, u64> = query(
        conn,
        &format!(
            "SELECT owner, count(*) FROM exceptions
             WHERE status = 'resolved' AND resolved_at = {at} GROUP BY owner"
        ),
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)),
    )?
    .into_iter()
    .collect();
    let mut money: BTreeMap<String, BTreeMap<String, Decimal>> = BTreeMap::new();
    for (owner, currency, sum) in query(
        conn,
        &format!(
            "SELECT owner, currency, CAST(sum(at_stake) AS VARCHAR) FROM exceptions
             WHERE last_run = {run} AND status IN ('new', 'open', 'reopened')
               AND at_stake IS NOT NULL AND currency IS NOT NULL
             GROUP BY owner, currency"
        ),
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                decimal(r, 2)?,
            ))
        },
    )? {
        money
            .entry(owner)
            .or_default()
            .insert(currency, sum.unwrap_or_default());
    }
    let mut owners: Vec<String> = new
        .iter()
        .chain(&escalated)
        .map(|a| a.owner.clone())
        .chain(resolved.keys().cloned())
        .collect();
    owners.sort();
    owners.dedup();
    Ok(owners
        .into_iter()
        .map(|owner| Digest {
            id: format!("run-{run}-{owner}"),
            run,
            at: data_at,
            new: new.iter().filter(|a| a.owner == owner).cloned().collect(),
            escalated: escalated
                .iter()
                .filter(|a| a.owner == owner)
                .cloned()
                .collect(),
            resolved: resolved.get(&owner).copied().unwrap_or(0),
            money_at_stake: money.remove(&owner).unwrap_or_default(),
            failed_runs: failed.clone(),
            owner,
        })
        .collect())
}
