//! Connectors: the only code that talks to Centra and OrderWise.
//!
//! [`http`] owns timeouts, pacing and retries; [`centra`] and [`orderwise`] build requests and map
//! responses into the snapshot's rows ([`crate::model`]), streaming each page to a sink as it
//! arrives. Every error names the system, the call and what to do.

pub mod centra;
pub mod centra_writes;
pub mod http;
pub mod json;
pub mod orderwise;

use std::sync::{Arc, Mutex};

/// What can go wrong talking to a source system.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{system}: cannot set up the HTTP client: {detail}")]
    Setup {
        system: &'static str,
        detail: String,
    },
    #[error(
        "{system} is unreachable ({what}): {detail}; check base_url in tally.toml and that the host is up and reachable from here"
    )]
    Unreachable {
        system: &'static str,
        what: String,
        detail: String,
    },
    #[error(
        "{system} kept failing ({what}) after {attempts} attempts, last: {detail}; the service is struggling, try again later"
    )]
    GaveUp {
        system: &'static str,
        what: String,
        attempts: usize,
        detail: String,
    },
    #[error(
        "{system} write {what} failed in a way that leaves its outcome unknown ({detail}); re-read the live state before trying again"
    )]
    OutcomeUnknown {
        system: &'static str,
        what: String,
        detail: String,
    },
    #[error("{system} refused the credentials ({what}): {hint}")]
    Auth {
        system: &'static str,
        what: String,
        hint: String,
    },
    #[error("{system} answered HTTP {status} to {what}: {body}")]
    Status {
        system: &'static str,
        what: String,
        status: u16,
        body: String,
    },
    #[error(
        "{system} sent a response to {what} that is not the expected JSON ({detail}); it began: {excerpt}"
    )]
    Json {
        system: &'static str,
        what: String,
        detail: String,
        excerpt: String,
    },
    #[error("Centra reported errors for {what}: {messages}; nothing from this call was used")]
    GraphQl { what: String, messages: String },
    #[error("{system} {what}: {detail}")]
    Data {
        system: &'static str,
        what: String,
        detail: String,
    },
    #[error("writing the snapshot: {0}")]
    Snapshot(#[from] crate::snapshot::Error),
}

impl Error {
    /// A JSON error with an excerpt of the body around where parsing stopped.
    pub fn json(system: &'static str, what: &str, body: &[u8], e: &serde_json::Error) -> Error {
        let text = String::from_utf8_lossy(body);
        let excerpt: String = text.chars().take(160).collect();
        Error::Json {
            system,
            what: what.into(),
            detail: e.to_string(),
            excerpt,
        }
    }
}

/// Both clients for a configuration and its secrets.
pub fn clients(
    cfg: &crate::config::Config,
    secrets: &crate::config::Secrets,
    retry: http::RetryPolicy,
) -> Result<(centra::Centra, orderwise::OrderWise), Error> {
    let centra = centra::Centra::new(
        &cfg.raw.centra.base_url,
        secrets.centra_token.clone(),
        &cfg.raw.centra.token_env,
        cfg.raw.centra.budget_percent,
        retry,
    )?;
    let orderwise = orderwise::OrderWise::new(
        &cfg.raw.orderwise.base_url,
        orderwise::Credentials {
            user: secrets.orderwise_user.clone(),
            password: secrets.orderwise_password.clone(),
            user_env: cfg.raw.orderwise.user_env.clone(),
            password_env: cfg.raw.orderwise.password_env.clone(),
        },
        cfg.timezone,
        retry,
    )?;
    Ok((centra, orderwise))
}

/// Warnings collected during extraction: records that were kept but are odd (a value rounded to
/// four decimals, an unknown status, an ambiguous local time). They go into the manifest: nothing is
/// dropped silently. Capped so a systematic problem does not flood the manifest.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<WarningList>>);

#[derive(Debug, Default)]
struct WarningList {
    items: Vec<String>,
    more: u64,
    /// Warnings of one kind, counted: kind -> (rows, first example).
    counted: std::collections::BTreeMap<String, (u64, String)>,
}

/// The most warnings kept word for word.
const MAX_WARNINGS: usize = 500;

impl Warnings {
    /// Records one warning.
    pub fn push(&self, message: String) {
        let mut w = self.0.lock().expect("warnings lock");
        if w.items.len() < MAX_WARNINGS {
            w.items.push(message);
        } else {
            w.more += 1;
        }
    }

    /// Records one occurrence of a warning that is expected to repeat (a local time in the
    /// repeated autumn hour): the manifest gets one line per kind with a count and an example.
    pub fn count(&self, kind: String, example: String) {
        let mut w = self.0.lock().expect("warnings lock");
        let entry = w.counted.entry(kind).or_insert((0, example));
        entry.0 += 1;
    }

    /// All warnings, with a closing line counting those not kept.
    pub fn take(&self) -> Vec<String> {
        let w = self.0.lock().expect("warnings lock");
        let mut out: Vec<String> = w
            .counted
            .iter()
            .map(|(kind, (n, example))| format!("{kind}: {n} rows, for example {example}"))
            .collect();
        out.extend(w.items.iter().cloned());
        if w.more > 0 {
            out.push(format!("... and {} more warnings like these", w.more));
        }
        out
    }
}

/// Rounds a money value into the snapshot's `DECIMAL(18,4)`, warning when that changes it.
pub fn money(
    value: rust_decimal::Decimal,
    system: &'static str,
    what: impl FnOnce() -> String,
    warnings: &Warnings,
) -> Result<rust_decimal::Decimal, Error> {
    match crate::model::fit_money(value) {
        Ok((v, false)) => Ok(v),
        Ok((v, true)) => {
            warnings.push(format!(
                "{system} {}: {value} has more than 4 decimals, kept as {v}",
                what()
            ));
            Ok(v)
        }
        Err(detail) => Err(Error::Data {
            system,
            what: what(),
            detail,
        }),
    }
}
