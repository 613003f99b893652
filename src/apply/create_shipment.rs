//! Applying `create_shipment`: re-reads the order's shipments, creates one for what is still to
//! ship (or finds the one an earlier run created and did not complete), then completes it with
//! tracking, carrier and service. A lost answer is resolved by re-reading the shipments.

use std::collections::BTreeMap;

use super::{Error, Outcome};
use crate::connectors::Error as ConnectorError;
use crate::connectors::centra::Centra;
use crate::connectors::centra_writes::{Created, LiveShipment};
use crate::plan::Action;

/// Units per order line in shipments, shipped or not.
fn units(shipments: &[LiveShipment], shipped: bool) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for s in shipments.iter().filter(|s| s.is_shipped == shipped) {
        for l in &s.lines {
            *out.entry(l.order_line.id).or_default() += l.quantity;
        }
    }
    out
}

pub(super) async fn apply(centra: &Centra, a: &Action) -> Result<Outcome, Error> {
    let Action::CreateShipment {
        order_number,
        lines,
        tracking_number,
        carrier,
        service,
        shipped_at,
        ..
    } = a
    else {
        unreachable!("called for create_shipment actions only")
    };
    let live = centra.order_shipments(*order_number).await?;
    let shipped = units(&live, true);
    // What is still to ship: the planned total per line less what Centra has shipped.
    let need: BTreeMap<i64, i64> = lines
        .iter()
        .map(|l| {
            let done = shipped.get(&l.order_line_id).copied().unwrap_or(0);
            (l.order_line_id, l.shipped_before + l.quantity - done)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    if need.is_empty() {
        return Ok(Outcome::AlreadyDone(
            "Centra already shows these units shipped".into(),
        ));
    }
    // A shipment an earlier run created but did not complete carries exactly what is needed.
    let waiting = live.iter().find(|s| {
        !s.is_shipped && {
            let mut m = BTreeMap::new();
            for l in &s.lines {
                *m.entry(l.order_line.id).or_insert(0) += l.quantity;
            }
            m == need
        }
    });
    let id = match waiting {
        Some(s) => s.id,
        None => {
            let wanted: Vec<(i64, i64)> = need.iter().map(|(l, q)| (*l, *q)).collect();
            match centra.create_shipment(*order_number, &wanted).await {
                Ok(Created::Shipment(id)) => id,
                Ok(Created::Refused(why)) => {
                    return Ok(Outcome::Failed(format!(
                        "Centra refused the shipment, nothing created: {why}"
                    )));
                }
                Err(ConnectorError::OutcomeUnknown { .. }) => {
                    return Ok(Outcome::Failed("createShipment's answer was lost; the next run finds the shipment and completes it".into()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    match centra
        .complete_shipment(id, shipped_at, carrier, service, tracking_number.as_deref())
        .await
    {
        Ok(answer) => Ok(match answer.refused() {
            Some(why) => Outcome::Failed(format!("Centra refused completing shipment {id}: {why}")),
            None => Outcome::Applied(format!("shipment {id} created and completed")),
        }),
        Err(ConnectorError::OutcomeUnknown { .. }) => {
            let after = units(&centra.order_shipments(*order_number).await?, true);
            let complete = need.keys().all(|line| {
                let planned = lines
                    .iter()
                    .find(|l| l.order_line_id == *line)
                    .map_or(0, |l| l.shipped_before + l.quantity);
                after.get(line).copied().unwrap_or(0) >= planned
            });
            Ok(if complete {
                Outcome::Applied(format!(
                    "shipment {id}; response lost, confirmed by re-reading"
                ))
            } else {
                Outcome::Failed(format!(
                    "completing shipment {id} got no answer; the next run completes it"
                ))
            })
        }
        Err(e) => Err(e.into()),
    }
}
