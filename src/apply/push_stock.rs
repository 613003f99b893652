//! Applying `push_stock`: re-reads each size's live free-to-allocate, sends one `changeStock` for
//! the sizes still at the planned starting figure, and resolves a lost answer by reading again.

use super::{Error, Outcome};
use crate::connectors::Error as ConnectorError;
use crate::connectors::centra::Centra;
use crate::connectors::centra_writes::Direction;
use crate::plan::SizeChange;

pub(super) async fn apply(
    centra: &Centra,
    key: &str,
    warehouse_id: i64,
    direction: &str,
    sizes: &[SizeChange],
) -> Result<Outcome, Error> {
    let skus: Vec<&str> = sizes.iter().map(|s| s.sku.as_str()).collect();
    let live = centra.free_stock(warehouse_id, &skus).await?;
    let mut pending: Vec<&SizeChange> = Vec::new();
    let mut notes = Vec::new();
    for s in sizes {
        match live.get(&s.sku) {
            Some(&f) if f == s.to => {}
            Some(&f) if f == s.from => pending.push(s),
            Some(&f) => notes.push(format!(
                "{} is {f} now, not {} as planned; left for the next snapshot",
                s.sku, s.from
            )),
            None => notes.push(format!("{} no longer exists in Centra", s.sku)),
        }
    }
    if pending.is_empty() {
        return Ok(if notes.is_empty() {
            Outcome::AlreadyDone("live stock already at the planned figures".into())
        } else {
            Outcome::Skipped(notes.join("; "))
        });
    }
    let direction = if direction == "in" {
        Direction::In
    } else {
        Direction::Out
    };
    let moves: Vec<(&str, i64)> = pending
        .iter()
        .map(|s| (s.sku.as_str(), (s.to - s.from).abs()))
        .collect();
    let answer = match centra
        .change_stock(warehouse_id, direction, &format!("tally {key}"), &moves)
        .await
    {
        Ok(answer) => answer,
        Err(ConnectorError::OutcomeUnknown { .. }) => {
            // The answer was lost: the live figures say whether it happened.
            let after = centra.free_stock(warehouse_id, &skus).await?;
            let applied = pending.iter().all(|s| after.get(&s.sku) == Some(&s.to));
            let untouched = pending.iter().all(|s| after.get(&s.sku) == Some(&s.from));
            return Ok(if applied {
                Outcome::Applied(format!(
                    "{} sizes; response lost, confirmed by re-reading",
                    pending.len()
                ))
            } else if untouched {
                Outcome::Failed("the write did not happen (response lost); run apply again".into())
            } else {
                Outcome::Failed(
                    "response lost and the live figures moved; re-extract and plan again".into(),
                )
            });
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(why) = answer.refused() {
        return Ok(Outcome::Failed(format!(
            "Centra refused it, nothing changed: {why}"
        )));
    }
    let mut detail = format!("{} sizes", pending.len());
    if let Some(warnings) = answer.warnings() {
        detail.push_str(&format!("; warnings: {warnings}"));
    }
    if !notes.is_empty() {
        detail.push_str(&format!("; {}", notes.join("; ")));
    }
    Ok(Outcome::Applied(detail))
}
