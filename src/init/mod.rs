//! `tally init`: from a file holding only the connection sections, a complete draft
//! configuration discovered from both systems (DESIGN.md "Onboarding a tenant").
//!
//! It extracts the last [`DAYS`] days of orders (and all stock, products and markets) into a
//! temporary snapshot, infers every mapping from the data ([`infer`]): a market maps to the
//! OrderWise session and customer most of its matched orders went through, a warehouse to the
//! locations whose free stock sums to its own SKU by SKU, a delivery method to the carrier and
//! service of the shipments of the same orders, a tax percent to the VAT code on the same lines,
//! the time zone to the one that puts Centra's UTC times at OrderWise's local ones. [`draft`]
//! writes each with its evidence, and a `# TODO` where it is thin, conflicting or missing.

pub mod draft;
pub mod infer;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::clock::Clock;
use crate::config::{Config, RawCentra, RawConfig, RawOrderWise, RawRules, RawStock};

/// Days of orders the inference reads.
pub const DAYS: i64 = 90;

/// The sections `tally init` needs; anything else in the file is ignored (and rewritten).
#[derive(Debug, Clone, Deserialize)]
pub struct Connections {
    pub timezone: Option<String>,
    pub centra: RawCentra,
    pub orderwise: RawOrderWise,
}

/// What can stop `tally init`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {detail}")]
    File { path: String, detail: String },
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error("reading both systems: {0}")]
    Extract(#[from] crate::connectors::Error),
    #[error("inferring the mappings: {0}")]
    Infer(String),
}

/// Reads the connection sections of `path`, discovers both systems and returns the draft text.
pub async fn run(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    clock: Clock,
) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::File {
        path: path.display().to_string(),
        detail: e.to_string(),
    })?;
    let conn: Connections = toml::from_str(&text).map_err(|e| Error::File {
        path: path.display().to_string(),
        detail: format!(
            "{}; tally init needs [centra], [orderwise] and [orderwise.exports]",
            e.message()
        ),
    })?;
    // A configuration with no mappings yet: enough to extract.
    let raw = RawConfig {
        timezone: conn
            .timezone
            .clone()
            .unwrap_or_else(|| "Europe/London".into()),
        centra: conn.centra.clone(),
        orderwise: conn.orderwise.clone(),
        stock: RawStock::default(),
        markets: Vec::new(),
        warehouses: Vec::new(),
        carriers: Vec::new(),
        vat_codes: BTreeMap::new(),
        rules: RawRules::default(),
        owners: BTreeMap::new(),
        store: None,
        alerts: None,
        escalation: BTreeMap::new(),
        run: None,
        engine: None,
    };
    let cfg = Config::check(raw.clone(), path)?;
    let secrets = cfg.secrets(env)?;
    let scratch = crate::extract::Scratch::recent(&cfg, &secrets, clock, DAYS, "init").await?;
    let session = crate::reconcile::session::open(&scratch.snapshot, &cfg)
        .map_err(|e| Error::Infer(e.to_string()))?;
    let inference = infer::infer(&session, conn.timezone.as_deref()).map_err(Error::Infer)?;
    Ok(draft::write(
        &raw,
        &inference,
        &scratch.snapshot,
        clock.now(),
    ))
}
