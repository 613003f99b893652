//! Applying `post_order`: looks the order up in OrderWise first, posts it once, and resolves a lost
//! answer by looking it up again, never by posting blind.

use super::{Error, Outcome};
use crate::config::Config;
use crate::connectors::Error as ConnectorError;
use crate::connectors::orderwise::{OrderWise, Posted};
use crate::plan::Action;

pub(super) async fn apply(
    orderwise: &OrderWise,
    cfg: &Config,
    a: &Action,
) -> Result<Outcome, Error> {
    let Action::PostOrder {
        order_number,
        session_id,
        customer,
        order_date,
        currency,
        delivery_method,
        delivery_gross,
        delivery_net,
        delivery_vat,
        discount_gross,
        lines,
        total_net,
        total_vat,
        total_gross,
        ..
    } = a
    else {
        unreachable!("called for post_order actions only")
    };
    let reference = order_number.to_string();
    let exists = |rows: &[crate::connectors::orderwise::OrderRow]| {
        rows.iter().any(|r| r.session_id == *session_id)
    };
    if exists(
        &orderwise
            .lookup(&cfg.raw.orderwise.exports, &reference)
            .await?,
    ) {
        return Ok(Outcome::AlreadyDone(
            "the order lookup finds it in the session".into(),
        ));
    }
    let body = super::body::order(super::body::OrderParts {
        reference: &reference,
        order_date,
        currency,
        delivery_method: delivery_method.as_deref(),
        delivery_gross: *delivery_gross,
        delivery_net: *delivery_net,
        delivery_vat: *delivery_vat,
        discount_gross: *discount_gross,
        customer,
        lines,
        net: *total_net,
        vat: *total_vat,
        gross: *total_gross,
    });
    for attempt in 0..2 {
        match orderwise.post_order(*session_id, &reference, &body).await {
            Ok(Posted::Created { order_id }) => {
                return Ok(Outcome::Applied(format!("OrderWise order id {order_id}")));
            }
            Ok(Posted::Exists { .. }) => {
                return Ok(Outcome::AlreadyDone(
                    "OrderWise answered 409: it exists".into(),
                ));
            }
            Err(ConnectorError::OutcomeUnknown { .. }) => {
                if exists(
                    &orderwise
                        .lookup(&cfg.raw.orderwise.exports, &reference)
                        .await?,
                ) {
                    return Ok(Outcome::Applied(
                        "response lost; the order lookup confirms it".into(),
                    ));
                }
                if attempt == 1 {
                    return Ok(Outcome::Failed(
                        "posting failed twice with no answer; run apply again".into(),
                    ));
                }
            }
            Err(ConnectorError::Status {
                status: 400, body, ..
            }) => {
                return Ok(Outcome::Failed(format!(
                    "OrderWise refused it, nothing created: {body}"
                )));
            }
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns")
}
