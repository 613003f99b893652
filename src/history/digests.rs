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

/// The digests of run `run`, whose data was taken at `data_at`; with `part_size`, an owner's
/// exceptions are split over several digests of at most that many.
pub(super) fn build(
    conn: &Connection,
    run: i64,
    data_at: DateTime<Utc>,
    min_severity: Severity,
    failed: Option<FailedRuns>,
    part_size: Option<usize>,
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
    let mut out = Vec::new();
    for owner in owners {
        // Escalated first, then new: what has waited longest leads, also when split in parts.
        let items: Vec<(bool, &Alerted)> = escalated
            .iter()
            .filter(|a| a.owner == owner)
            .map(|a| (true, a))
            .chain(new.iter().filter(|a| a.owner == owner).map(|a| (false, a)))
            .collect();
        let size = part_size.unwrap_or(usize::MAX).max(1);
        let chunks: Vec<&[(bool, &Alerted)]> = if items.is_empty() {
            vec![&[]]
        } else {
            items.chunks(size).collect()
        };
        let parts = chunks.len() as u32;
        let money_at_stake = money.remove(&owner).unwrap_or_default();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let part = i as u32 + 1;
            let pick = |escalated: bool| -> Vec<Alerted> {
                chunk
                    .iter()
                    .filter(|(e, _)| *e == escalated)
                    .map(|(_, a)| (*a).clone())
                    .collect()
            };
            out.push(Digest {
                id: if parts > 1 {
                    format!("run-{run}-{owner}-{part}")
                } else {
                    format!("run-{run}-{owner}")
                },
                run,
                owner: owner.clone(),
                at: data_at,
                new: pick(false),
                escalated: pick(true),
                resolved: resolved.get(&owner).copied().unwrap_or(0),
                money_at_stake: money_at_stake.clone(),
                failed_runs: failed.clone(),
                part,
                parts,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::History;

    #[test]
    fn a_json_digest_of_many_exceptions_is_split_into_parts_that_list_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("history.duckdb")).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-08T10:00:00Z")
            .unwrap()
            .to_utc();
        h.exec(
            &format!(
                "INSERT INTO exceptions (\"check\", key, entity, severity, owner, status,
                        first_seen, last_seen, opened_at, opened_run, last_run, detail, at_stake,
                        currency)
                 SELECT 'order.total_mismatch', CAST(i AS VARCHAR), 'order', 'high', 'finance',
                        'new', {t}, {t}, {t}, 1, 1, 'x', 1.25, 'GBP'
                 FROM range(1200) r(i)",
                t = ts(at)
            ),
            "seeding",
        )
        .unwrap();
        let parts = build(&h.conn, 1, at, Severity::Low, None, Some(500)).unwrap();
        let sizes: Vec<usize> = parts.iter().map(|d| d.new.len()).collect();
        assert_eq!(sizes, vec![500, 500, 200]);
        let ids: Vec<&str> = parts.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            ["run-1-finance-1", "run-1-finance-2", "run-1-finance-3"]
        );
        assert!(parts.iter().all(|d| d.parts == 3));
        assert_eq!(parts[2].money_at_stake["GBP"].to_string(), "1500.0000");
        let mut keys: Vec<&str> = parts
            .iter()
            .flat_map(|d| d.new.iter().map(|a| a.key.as_str()))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 1200, "each exception in exactly one part");
        let whole = build(&h.conn, 1, at, Severity::Low, None, None).unwrap();
        assert_eq!((whole.len(), whole[0].id.as_str()), (1, "run-1-finance"));
    }
}
