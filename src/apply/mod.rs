//! Apply: sends a reviewed plan to Centra and OrderWise, safely under throttling and crashes.
//!
//! Without `execute` it only says what it would send. With it, each action re-reads the live
//! state of its target first (a size's stock, an order's shipments, the OrderWise order lookup)
//! and sends only what is still missing; writes are sent once, and a write whose response is lost
//! is resolved by reading again, never by blind resending. Each outcome is appended to
//! `PLAN.journal` and fsync'd before the next action, so a run killed at any point continues where
//! it stopped: what the journal or the live state shows as done is not written twice.

mod body;
mod journal;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

pub use journal::{Entry, Journal};

use crate::config::{Config, Secrets};
use crate::connectors::centra::{
    CHANGE_STOCK_MUTATION, COMPLETE_SHIPMENT_MUTATION, CREATE_SHIPMENT_MUTATION, Centra,
    LIVE_STOCK_QUERY, ORDER_SHIPMENTS_QUERY,
};
use crate::connectors::http::RetryPolicy;
use crate::connectors::orderwise::{OrderWise, Posted};
use crate::connectors::{Error as ConnectorError, json::int};
use crate::plan::{Action, SizeChange};

/// What can stop an apply run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {detail}")]
    Plan { path: PathBuf, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// How to apply.
#[derive(Debug, Clone)]
pub struct Options {
    /// Send the writes; without it, only describe them.
    pub execute: bool,
    /// Apply at most this many actions in this run.
    pub batch_size: Option<usize>,
    /// Only actions of this kind (`push_stock`, `post_order`, `create_shipment`).
    pub only: Option<String>,
    pub retry: RetryPolicy,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// One line per action: what was (or would be) sent, or why not.
    pub lines: Vec<String>,
    pub outcomes: BTreeMap<String, usize>,
}

/// Reads a plan file.
pub fn read_plan(path: &Path) -> Result<Vec<Action>, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::Plan {
                path: path.into(),
                detail: format!("line {}: {e}; write plans with `tally plan`", i + 1),
            })
        })
        .collect()
}

/// The journal's path beside a plan.
pub fn journal_path(plan: &Path) -> PathBuf {
    let mut s = plan.as_os_str().to_owned();
    s.push(".journal");
    PathBuf::from(s)
}

/// The outcome of one action.
enum Outcome {
    Applied(String),
    AlreadyDone(String),
    Skipped(String),
    Failed(String),
}

/// Applies the plan at `plan_path`.
pub async fn run(
    plan_path: &Path,
    cfg: &Config,
    secrets: &Secrets,
    opts: &Options,
) -> Result<Report, Error> {
    let actions = read_plan(plan_path)?;
    let journal_file = journal_path(plan_path);
    let mut journal = if opts.execute {
        Journal::open(&journal_file)?
    } else {
        Journal::read(&journal_file)
    };
    let mut report = Report::default();
    let selected: Vec<&Action> = actions
        .iter()
        .filter(|a| a.key().is_some())
        .filter(|a| opts.only.as_deref().is_none_or(|k| k == a.kind()))
        .filter(|a| !journal.is_done(a.key().expect("filtered")))
        .take(opts.batch_size.unwrap_or(usize::MAX))
        .collect();
    if !opts.execute {
        for a in selected {
            report.lines.push(format!("would {}", a.describe()));
            *report.outcomes.entry("dry_run".into()).or_default() += 1;
        }
        return Ok(report);
    }
    let (mut centra, orderwise) = crate::connectors::clients(cfg, secrets, opts.retry)?;
    centra.pace_for_writes().await?;
    for a in selected {
        let key = a.key().expect("filtered").to_string();
        let done = match a {
            Action::PushStock {
                key,
                warehouse_id,
                direction,
                sizes,
                ..
            } => push_stock(&centra, key, *warehouse_id, direction, sizes).await?,
            Action::PostOrder { .. } => post_order(&orderwise, cfg, a).await?,
            Action::CreateShipment { .. } => create_shipment(&centra, a).await?,
            Action::NoAction { .. } => continue,
        };
        let (outcome, detail) = match done {
            Outcome::Applied(d) => ("applied", d),
            Outcome::AlreadyDone(d) => ("already_done", d),
            Outcome::Skipped(d) => ("skipped", d),
            Outcome::Failed(d) => ("failed", d),
        };
        journal.append(&Entry::new(&key, a.kind(), outcome, &detail))?;
        report
            .lines
            .push(format!("{outcome}: {} ({detail})", a.describe()));
        *report.outcomes.entry(outcome.into()).or_default() += 1;
    }
    Ok(report)
}

#[derive(Deserialize)]
struct LiveSizes {
    #[serde(rename = "productSizes")]
    sizes: Vec<LiveSize>,
}

#[derive(Deserialize)]
struct LiveSize {
    #[serde(rename = "SKU")]
    sku: String,
    stock: Vec<LiveStock>,
}

#[derive(Deserialize)]
struct LiveStock {
    warehouse: LiveWarehouse,
    #[serde(rename = "freeToAllocateQuantity", deserialize_with = "int")]
    free: i64,
}

#[derive(Deserialize)]
struct LiveWarehouse {
    #[serde(deserialize_with = "int")]
    id: i64,
}

#[derive(Deserialize)]
struct Payload {
    #[serde(rename = "userErrors")]
    user_errors: Vec<UserError>,
    #[serde(rename = "userWarnings", default)]
    user_warnings: Vec<UserError>,
}

#[derive(Deserialize)]
struct UserError {
    message: String,
}

/// The `userErrors`/`userWarnings` payload of mutation `field` in a response's data.
fn mutation_payload(data: &serde_json::Value, field: &str) -> Result<Payload, Error> {
    serde_json::from_value(data[field].clone()).map_err(|e| Error::Plan {
        path: PathBuf::from(field),
        detail: format!("Centra's {field} answer is not the expected payload: {e}"),
    })
}

fn messages(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn live_free(
    centra: &Centra,
    warehouse_id: i64,
    sizes: &[SizeChange],
) -> Result<BTreeMap<String, i64>, Error> {
    let skus: Vec<&str> = sizes.iter().map(|s| s.sku.as_str()).collect();
    let live: LiveSizes = centra
        .query(
            "productSizes (live stock)",
            LIVE_STOCK_QUERY,
            json!({ "skus": skus, "limit": 200 }),
        )
        .await?;
    Ok(live
        .sizes
        .into_iter()
        .map(|s| {
            let free = s
                .stock
                .iter()
                .filter(|st| st.warehouse.id == warehouse_id)
                .map(|st| st.free)
                .sum();
            (s.sku, free)
        })
        .collect())
}

async fn push_stock(
    centra: &Centra,
    key: &str,
    warehouse_id: i64,
    direction: &str,
    sizes: &[SizeChange],
) -> Result<Outcome, Error> {
    let live = live_free(centra, warehouse_id, sizes).await?;
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
    let warehouse = json!({ "id": warehouse_id });
    let input = json!({
        "intoWarehouse": if direction == "in" { warehouse.clone() } else { serde_json::Value::Null },
        "outFromWarehouse": if direction == "out" { warehouse } else { serde_json::Value::Null },
        "description": format!("tally {key}"),
        "productSizes": pending.iter().map(|s| json!({ "productSize": { "SKU": s.sku }, "quantity": (s.to - s.from).abs() })).collect::<Vec<_>>(),
    });
    let sent = centra
        .mutate::<serde_json::Value>(
            "changeStock",
            CHANGE_STOCK_MUTATION,
            json!({ "input": input }),
        )
        .await;
    let payload = match sent {
        Ok(v) => v,
        Err(ConnectorError::OutcomeUnknown { .. }) => {
            // The response was lost: the live figures say whether it happened.
            let after = live_free(centra, warehouse_id, sizes).await?;
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
    let p = mutation_payload(&payload, "changeStock")?;
    if !p.user_errors.is_empty() {
        return Ok(Outcome::Failed(format!(
            "Centra refused it, nothing changed: {}",
            messages(&p.user_errors)
        )));
    }
    let mut detail = format!("{} sizes", pending.len());
    if !p.user_warnings.is_empty() {
        detail.push_str(&format!("; warnings: {}", messages(&p.user_warnings)));
    }
    if !notes.is_empty() {
        detail.push_str(&format!("; {}", notes.join("; ")));
    }
    Ok(Outcome::Applied(detail))
}

async fn post_order(orderwise: &OrderWise, cfg: &Config, a: &Action) -> Result<Outcome, Error> {
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
    let body = body::order(body::OrderParts {
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

#[derive(Deserialize)]
struct OrderShipments {
    #[serde(rename = "orderConnection")]
    connection: ShipConnection,
}

#[derive(Deserialize)]
struct ShipConnection {
    edges: Vec<ShipEdge>,
}

#[derive(Deserialize)]
struct ShipEdge {
    node: ShipOrder,
}

#[derive(Deserialize)]
struct ShipOrder {
    shipments: Vec<LiveShipment>,
}

#[derive(Deserialize)]
struct LiveShipment {
    #[serde(deserialize_with = "int")]
    id: i64,
    #[serde(rename = "isShipped")]
    is_shipped: bool,
    lines: Vec<LiveShipmentLine>,
}

#[derive(Deserialize)]
struct LiveShipmentLine {
    #[serde(deserialize_with = "int")]
    quantity: i64,
    #[serde(rename = "orderLine")]
    order_line: LiveLineRef,
}

#[derive(Deserialize)]
struct LiveLineRef {
    #[serde(deserialize_with = "int")]
    id: i64,
}

async fn shipments_of(centra: &Centra, number: i64) -> Result<Vec<LiveShipment>, Error> {
    let live: OrderShipments = centra
        .query(
            &format!("order {number} shipments"),
            ORDER_SHIPMENTS_QUERY,
            json!({ "number": number }),
        )
        .await?;
    Ok(live
        .connection
        .edges
        .into_iter()
        .flat_map(|e| e.node.shipments)
        .collect())
}

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

async fn create_shipment(centra: &Centra, a: &Action) -> Result<Outcome, Error> {
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
    let live = shipments_of(centra, *order_number).await?;
    let shipped = units(&live, true);
    // What is still to ship: the planned total per line less what Centra has shipped.
    let need: BTreeMap<i64, i64> = lines
        .iter()
        .map(|l| {
            (
                l.order_line_id,
                l.shipped_before + l.quantity - shipped.get(&l.order_line_id).copied().unwrap_or(0),
            )
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
            let input = json!({
                "order": { "number": order_number },
                "lines": need.iter().map(|(line, q)| json!({ "orderLine": { "id": line }, "quantity": q })).collect::<Vec<_>>(),
                "isGoodToGo": true,
                "sendEmail": false,
            });
            match centra
                .mutate::<serde_json::Value>(
                    "createShipment",
                    CREATE_SHIPMENT_MUTATION,
                    json!({ "input": input }),
                )
                .await
            {
                Ok(v) => {
                    let p = mutation_payload(&v, "createShipment")?;
                    if !p.user_errors.is_empty() {
                        return Ok(Outcome::Failed(format!(
                            "Centra refused the shipment, nothing created: {}",
                            messages(&p.user_errors)
                        )));
                    }
                    v["createShipment"]["shipment"]["id"].as_i64().unwrap_or(0)
                }
                Err(ConnectorError::OutcomeUnknown { .. }) => {
                    return Ok(Outcome::Failed("createShipment's answer was lost; the next run finds the shipment and completes it".into()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let input = json!({
        "shippedAt": shipped_at,
        "sendEmail": false,
        "shipmentInfo": { "carrier": carrier, "service": service, "trackingNumber": tracking_number },
    });
    match centra
        .mutate::<serde_json::Value>(
            "completeShipment",
            COMPLETE_SHIPMENT_MUTATION,
            json!({ "id": id, "input": input }),
        )
        .await
    {
        Ok(v) => {
            let p = mutation_payload(&v, "completeShipment")?;
            if !p.user_errors.is_empty() {
                return Ok(Outcome::Failed(format!(
                    "Centra refused completing shipment {id}: {}",
                    messages(&p.user_errors)
                )));
            }
            Ok(Outcome::Applied(format!(
                "shipment {id} created and completed"
            )))
        }
        Err(ConnectorError::OutcomeUnknown { .. }) => {
            let after = units(&shipments_of(centra, *order_number).await?, true);
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
