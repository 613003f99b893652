//! Alerts: after each run, one digest per owner, delivered through the history's outbox.
//!
//! The history queues digests in the run's own transaction ([`digest`]), so a crash never loses
//! or duplicates one. [`deliver`] then posts every undelivered digest in the format `[alerts]`
//! names ([`render`]): a failed post (timeout, 5xx, connection refused) stays queued and is tried
//! again next run; a delivered one is marked and never sent again. Delivery never changes a run's
//! exit status, which is about exceptions.

pub mod digest;
pub mod render;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::operations::AlertSettings;
use crate::history::{self, History};
pub use digest::Digest;

/// How long one post may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// What one delivery round did.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    pub delivered: Vec<String>,
    /// Digest id and why its post failed; each stays queued.
    pub failed: Vec<(String, String)>,
    /// Queued but not tried, with why (no webhook URL set).
    pub waiting: Option<String>,
}

impl History {
    /// Undelivered digests, oldest first.
    pub fn undelivered(&self) -> Result<Vec<Digest>, history::Error> {
        let texts = self.rows(
            "SELECT digest FROM outbox WHERE delivered_at IS NULL ORDER BY created_at, id",
            "reading the outbox",
            |r| r.get::<_, String>(0),
        )?;
        Ok(texts
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect())
    }

    /// Records one delivery attempt.
    pub fn mark_attempt(
        &self,
        id: &str,
        delivered: Option<DateTime<Utc>>,
        error: Option<&str>,
    ) -> Result<(), history::Error> {
        self.exec(
            &format!(
                "UPDATE outbox SET attempts = attempts + 1, delivered_at = {}, last_error = {}
                 WHERE id = {}",
                delivered.map_or("NULL".into(), history::ts),
                error.map_or("NULL".into(), history::text),
                history::text(id)
            ),
            "recording a delivery",
        )
    }

    /// `(id, attempts, delivered)` of every queued or delivered digest, for tests and `doctor`.
    pub fn outbox(&self) -> Result<Vec<(String, i64, bool)>, history::Error> {
        self.rows(
            "SELECT id, attempts, delivered_at IS NOT NULL FROM outbox ORDER BY created_at, id",
            "reading the outbox",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }
}

/// Posts every undelivered digest to the webhook in `env(settings.webhook_env)`.
pub async fn deliver(
    history: &History,
    settings: &AlertSettings,
    env: &dyn Fn(&str) -> Option<String>,
    now: DateTime<Utc>,
) -> Result<Delivery, history::Error> {
    let pending = history.undelivered()?;
    let mut out = Delivery::default();
    if pending.is_empty() {
        return Ok(out);
    }
    let Some(url) = env(&settings.webhook_env).filter(|u| !u.is_empty()) else {
        out.waiting = Some(format!(
            "{} alerts wait in the outbox: the environment variable {} (alerts.webhook_env) is not set",
            pending.len(),
            settings.webhook_env
        ));
        return Ok(out);
    };
    let client = match reqwest::Client::builder().timeout(POST_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            out.waiting = Some(format!("cannot set up the HTTP client for alerts: {e}"));
            return Ok(out);
        }
    };
    for digest in pending {
        let body = render::body(&digest, settings.format);
        let sent = client
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        // The URL is a secret: errors name the digest and the failure, never the URL.
        let error = match sent {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("the webhook answered HTTP {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Some(format!(
                "the webhook did not answer within {} s",
                POST_TIMEOUT.as_secs()
            )),
            Err(e) if e.is_connect() => Some("cannot connect to the webhook".to_string()),
            Err(_) => Some("the post to the webhook failed".to_string()),
        };
        match error {
            None => {
                history.mark_attempt(&digest.id, Some(now), None)?;
                out.delivered.push(digest.id);
            }
            Some(e) => {
                history.mark_attempt(&digest.id, None, Some(&e))?;
                out.failed.push((digest.id, e));
            }
        }
    }
    Ok(out)
}
