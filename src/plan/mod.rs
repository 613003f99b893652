//! Plan: the corrections that are safe to automate, computed from one snapshot.
//!
//! A plan acts on what reconcile reported: it selects its subjects from the snapshot's
//! `exceptions` (by their typed columns) and reads from the snapshot only the details an action
//! needs, so no rule of `queries/*.sql` is written again here. Three kinds of action (DESIGN.md
//! "Corrections"), one file each: `push_stock` (a `changeStock` delta per Centra warehouse, many
//! sizes per call), `post_order` (a Centra order OrderWise lacks, with Centra's values, no
//! recalculation) and `create_shipment` (an order despatched longer ago than the SLA that Centra
//! never shipped: the despatched units, then tracking, carrier and service). What a person must
//! fix first gets a `no_action` line saying why. Each action carries an idempotency key derived
//! from its content and the snapshot, and the exceptions it fixes (`check:key`, as reported).
//!
//! Output: the plan as JSON lines, and a review table (CSV) an operator can sign off.

mod orders;
mod shipments;
mod stock;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::reconcile;
use crate::snapshot::Snapshot;

/// The checks whose exceptions `tally plan` turns into actions, and the action for each. Every
/// other check needs a person (the reports say whom).
pub const ACTIONS: &[(&str, &str)] = &[
    ("order.missing_in_orderwise", "post_order"),
    ("shipment.not_updated_in_centra", "create_shipment"),
    ("stock.oversell_risk", "push_stock"),
    ("stock.undersell", "push_stock"),
];

/// The action `tally plan` takes for a check's exceptions, if it takes one.
pub fn action_for(check: &str) -> Option<&'static str> {
    ACTIONS.iter().find(|(c, _)| *c == check).map(|(_, a)| *a)
}

/// What can stop a plan.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
    #[error(transparent)]
    Snapshot(#[from] crate::snapshot::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// How to cut the plan.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Sizes per `changeStock` call.
    pub stock_batch: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { stock_batch: 50 }
    }
}

/// One size's stock correction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeChange {
    pub size_id: i64,
    pub sku: String,
    /// Centra's free-to-allocate in the snapshot.
    pub from: i64,
    /// What it should be.
    pub to: i64,
}

/// One line of an order to post, Centra's values as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The variant code as OrderWise writes it.
    pub variant_code: String,
    pub quantity: i64,
    pub item_gross: Decimal,
    pub line_net: Decimal,
    pub line_vat: Decimal,
    pub line_gross: Decimal,
    pub vat_code: String,
}

/// One shipment line to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    pub order_line_id: i64,
    pub sku: String,
    pub quantity: i64,
    /// Units of the line Centra had shipped at the snapshot: apply ships until `shipped_before +
    /// quantity` and not beyond, however often it runs.
    pub shipped_before: i64,
}

/// One action of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    PushStock {
        key: String,
        fixes: Vec<String>,
        warehouse: String,
        warehouse_id: i64,
        /// `in` adds units (intoWarehouse), `out` removes them (outFromWarehouse).
        direction: String,
        sizes: Vec<SizeChange>,
        amount: Option<Decimal>,
        currency: Option<String>,
    },
    PostOrder {
        key: String,
        fixes: Vec<String>,
        order_number: i64,
        session_id: i64,
        customer: String,
        order_date: String,
        currency: String,
        delivery_method: Option<String>,
        delivery_gross: Decimal,
        delivery_net: Decimal,
        delivery_vat: Decimal,
        discount_gross: Decimal,
        lines: Vec<OrderLine>,
        total_net: Decimal,
        total_vat: Decimal,
        total_gross: Decimal,
    },
    CreateShipment {
        key: String,
        fixes: Vec<String>,
        order_number: i64,
        lines: Vec<ShipmentLine>,
        tracking_number: Option<String>,
        carrier: String,
        service: String,
        shipped_at: String,
    },
    /// An exception a person must resolve first; the plan says why.
    NoAction { fixes: Vec<String>, reason: String },
}

impl Action {
    /// The action's kind as written in the plan.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::PushStock { .. } => "push_stock",
            Action::PostOrder { .. } => "post_order",
            Action::CreateShipment { .. } => "create_shipment",
            Action::NoAction { .. } => "no_action",
        }
    }

    /// The idempotency key (none for `no_action`).
    pub fn key(&self) -> Option<&str> {
        match self {
            Action::PushStock { key, .. }
            | Action::PostOrder { key, .. }
            | Action::CreateShipment { key, .. } => Some(key),
            Action::NoAction { .. } => None,
        }
    }

    /// The exceptions it fixes, as `check:key`.
    pub fn fixes(&self) -> &[String] {
        match self {
            Action::PushStock { fixes, .. }
            | Action::PostOrder { fixes, .. }
            | Action::CreateShipment { fixes, .. }
            | Action::NoAction { fixes, .. } => fixes,
        }
    }

    /// Units the action moves.
    pub fn units(&self) -> i64 {
        match self {
            Action::PushStock { sizes, .. } => sizes.iter().map(|s| (s.to - s.from).abs()).sum(),
            Action::PostOrder { lines, .. } => lines.iter().map(|l| l.quantity).sum(),
            Action::CreateShipment { lines, .. } => lines.iter().map(|l| l.quantity).sum(),
            Action::NoAction { .. } => 0,
        }
    }

    /// Money the action puts right, with its currency.
    pub fn money(&self) -> Option<(Decimal, String)> {
        match self {
            Action::PushStock {
                amount: Some(a),
                currency: Some(c),
                ..
            } => Some((*a, c.clone())),
            Action::PostOrder {
                total_gross,
                currency,
                ..
            } => Some((*total_gross, currency.clone())),
            _ => None,
        }
    }

    /// One line saying what the action sends, for the review table and apply's report.
    pub fn describe(&self) -> String {
        match self {
            Action::PushStock {
                warehouse,
                direction,
                sizes,
                ..
            } => format!(
                "changeStock {} {warehouse}: {}",
                if direction == "in" { "into" } else { "out of" },
                sizes
                    .iter()
                    .map(|s| format!("{} {:+}", s.sku, s.to - s.from))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::PostOrder {
                order_number,
                session_id,
                lines,
                total_gross,
                currency,
                ..
            } => {
                format!(
                    "post order {order_number} to session {session_id}: {} lines, {total_gross} {currency}",
                    lines.len()
                )
            }
            Action::CreateShipment {
                order_number,
                lines,
                tracking_number,
                carrier,
                service,
                ..
            } => format!(
                "ship order {order_number}: {} ({carrier} {service}, tracking {})",
                lines
                    .iter()
                    .map(|l| format!("{} x{}", l.sku, l.quantity))
                    .collect::<Vec<_>>()
                    .join(", "),
                tracking_number.as_deref().unwrap_or("none")
            ),
            Action::NoAction { reason, .. } => format!("no action: {reason}"),
        }
    }

    /// Sets the idempotency key from the action's content and the snapshot it came from.
    fn seal(mut self, snapshot_id: &str) -> Action {
        let content = serde_json::to_string(&self).expect("an action serialises");
        let mut h = Sha256::new();
        h.update(snapshot_id.as_bytes());
        h.update(content.as_bytes());
        let digest = hex::encode(h.finalize());
        let key = format!("{}-{}", self.kind(), &digest[..16]);
        match &mut self {
            Action::PushStock { key: k, .. }
            | Action::PostOrder { key: k, .. }
            | Action::CreateShipment { key: k, .. } => *k = key,
            Action::NoAction { .. } => {}
        }
        self
    }
}

/// A plan: its snapshot and actions.
#[derive(Debug, Clone)]
pub struct Plan {
    pub snapshot_id: String,
    pub actions: Vec<Action>,
}

/// Per kind: actions, units, money per currency.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindSummary {
    pub actions: usize,
    pub units: i64,
    pub money: BTreeMap<String, Decimal>,
    pub fixes: usize,
}

impl Plan {
    /// Counts, units and money per action kind.
    pub fn summary(&self) -> BTreeMap<&'static str, KindSummary> {
        let mut out: BTreeMap<&'static str, KindSummary> = BTreeMap::new();
        for a in &self.actions {
            let s = out.entry(a.kind()).or_default();
            s.actions += 1;
            s.units += a.units();
            s.fixes += a.fixes().len();
            if let Some((m, c)) = a.money() {
                *s.money.entry(c).or_default() += m;
            }
        }
        out
    }
}

/// Computes the plan of the snapshot in `dir`.
pub fn build(dir: &Path, cfg: &Config, opts: &Options) -> Result<Plan, Error> {
    let snapshot = Snapshot::open(dir)?;
    let conn = reconcile::session::open(&snapshot, cfg)?;
    reconcile::session::attach_exceptions(&conn, dir)?;
    let id = snapshot.manifest.snapshot_id.clone();
    let mut actions = Vec::new();
    actions.extend(stock::plan(&conn, opts)?);
    actions.extend(orders::plan(&conn, cfg)?);
    actions.extend(shipments::plan(&conn, cfg)?);
    let actions = actions.into_iter().map(|a| a.seal(&id)).collect();
    Ok(Plan {
        snapshot_id: id,
        actions,
    })
}

/// The review table's path beside a plan file.
pub fn review_path(plan: &Path) -> PathBuf {
    let mut s = plan.as_os_str().to_owned();
    s.push(".review.csv");
    PathBuf::from(s)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the plan (JSON lines) to `out` and its review table beside it.
pub fn write(plan: &Plan, out: &Path) -> Result<PathBuf, Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut text = String::new();
    for a in &plan.actions {
        text.push_str(&serde_json::to_string(a).expect("an action serialises"));
        text.push('\n');
    }
    std::fs::write(out, text).map_err(io(out))?;
    let mut csv = String::from("action,key,target,change,units,amount,currency,fixes,note\n");
    for a in &plan.actions {
        let (target, note) = match a {
            Action::PushStock { warehouse, .. } => (warehouse.clone(), String::new()),
            Action::PostOrder { order_number, .. }
            | Action::CreateShipment { order_number, .. } => {
                (format!("order {order_number}"), String::new())
            }
            Action::NoAction { reason, .. } => (String::new(), reason.clone()),
        };
        let change = if note.is_empty() {
            a.describe()
        } else {
            String::new()
        };
        let (amount, currency) = a
            .money()
            .map(|(m, c)| (m.to_string(), c))
            .unwrap_or_default();
        let row = [
            a.kind().to_string(),
            a.key().unwrap_or("").to_string(),
            target,
            change,
            a.units().to_string(),
            amount,
            currency,
            a.fixes().join(" "),
            note,
        ];
        csv.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    let review = review_path(out);
    std::fs::write(&review, csv).map_err(io(&review))?;
    Ok(review)
}
