//! The configuration of scheduled runs: `[store]`, `[alerts]`, `[escalation]` and `[run]`
//! (DESIGN.md "Operations"). All optional: a file without them still reconciles by hand, and
//! `tally run` uses the defaults below.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Error, OWNERS};
use crate::reconcile::Severity;

/// `[store]` as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStore {
    /// Snapshots and `history.duckdb`; relative to the configuration file's directory, so a cron
    /// job finds the same store from any working directory.
    pub dir: String,
    /// Complete snapshots kept; the history outlives them.
    pub keep_snapshots: usize,
    /// Incremental refreshes cannot see deletions: a full extraction at least this often.
    pub full_every_hours: i64,
    /// Changes are re-read from this long before the last snapshot started (clock skew, slow
    /// commits in the sources).
    pub overlap_minutes: i64,
}

impl Default for RawStore {
    fn default() -> Self {
        RawStore {
            dir: "tally-data".into(),
            keep_snapshots: 30,
            full_every_hours: 24,
            overlap_minutes: 10,
        }
    }
}

/// `[alerts]` as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    /// The environment variable holding the webhook URL (a secret: it grants posting).
    pub webhook_env: String,
    /// `slack`, `teams` or `json`.
    #[serde(default = "default_format")]
    pub format: String,
    #[serde(default = "default_min_severity")]
    pub min_severity: String,
    /// Alert once when tally itself has failed this many runs in a row.
    #[serde(default = "default_failed_runs")]
    pub failed_runs: u32,
}

fn default_format() -> String {
    "json".into()
}
fn default_min_severity() -> String {
    "medium".into()
}
fn default_failed_runs() -> u32 {
    2
}

/// `[run]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    /// `tally run` exits 3 when a new or open, not accepted, exception at or above this exists.
    pub fail_on: Option<String>,
}

/// Where the store is and how snapshots are refreshed, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreSettings {
    pub dir: PathBuf,
    pub keep_snapshots: usize,
    pub full_every_hours: i64,
    pub overlap_minutes: i64,
}

/// How digests are posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertFormat {
    /// Slack Block Kit, to an incoming webhook.
    Slack,
    /// A Microsoft Teams Adaptive Card, to a Workflows webhook.
    Teams,
    /// One plain JSON object per digest (DESIGN.md pins its fields).
    Json,
}

/// `[alerts]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    pub webhook_env: String,
    pub format: AlertFormat,
    pub min_severity: Severity,
    pub failed_runs: u32,
}

/// Everything a scheduled run needs beyond the mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operations {
    pub store: StoreSettings,
    /// `None`: no `[alerts]`, so runs record history but post nothing.
    pub alerts: Option<AlertSettings>,
    /// Owner -> hours an exception may stay open before it is escalated.
    pub escalation: BTreeMap<String, i64>,
    pub fail_on: Option<Severity>,
}

/// Checks the operations sections of the file at `path`.
pub fn check(
    store: Option<&RawStore>,
    alerts: Option<&RawAlerts>,
    escalation: &BTreeMap<String, i64>,
    run: Option<&RawRun>,
    path: &Path,
) -> Result<Operations, Error> {
    let invalid = |key: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        message,
    };
    let raw = store.cloned().unwrap_or_default();
    if raw.full_every_hours < 1 {
        return Err(invalid(
            "store.full_every_hours",
            "must be at least 1: deletions are only seen by a full extraction".into(),
        ));
    }
    if raw.overlap_minutes < 0 {
        return Err(invalid(
            "store.overlap_minutes",
            "is negative; expected minutes, zero or more".into(),
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let store = StoreSettings {
        dir: base.join(&raw.dir),
        keep_snapshots: raw.keep_snapshots.max(1),
        full_every_hours: raw.full_every_hours,
        overlap_minutes: raw.overlap_minutes,
    };
    let alerts = match alerts {
        None => None,
        Some(a) => Some(AlertSettings {
            webhook_env: a.webhook_env.clone(),
            format: match a.format.as_str() {
                "slack" => AlertFormat::Slack,
                "teams" => AlertFormat::Teams,
                "json" => AlertFormat::Json,
                other => {
                    return Err(invalid(
                        "alerts.format",
                        format!("is {other:?}; expected \"slack\", \"teams\" or \"json\""),
                    ));
                }
            },
            min_severity: a
                .min_severity
                .parse()
                .map_err(|e: String| invalid("alerts.min_severity", e))?,
            failed_runs: a.failed_runs.max(1),
        }),
    };
    for (owner, hours) in escalation {
        if !OWNERS.contains(&owner.as_str()) {
            return Err(invalid(
                &format!("escalation.{owner:?}"),
                format!("is not an owner; expected one of {}", OWNERS.join(", ")),
            ));
        }
        if *hours < 0 {
            return Err(invalid(
                &format!("escalation.{owner:?}"),
                "is negative; expected hours, zero or more".into(),
            ));
        }
    }
    let fail_on = match run.and_then(|r| r.fail_on.as_deref()) {
        None => None,
        Some(s) => Some(s.parse().map_err(|e: String| invalid("run.fail_on", e))?),
    };
    Ok(Operations {
        store,
        alerts,
        escalation: escalation.clone(),
        fail_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_and_the_store_sits_beside_the_file() {
        let ops = check(
            None,
            None,
            &BTreeMap::new(),
            None,
            Path::new("/etc/tally/tally.toml"),
        )
        .unwrap();
        assert_eq!(ops.store.dir, PathBuf::from("/etc/tally/tally-data"));
        assert_eq!(
            (ops.store.keep_snapshots, ops.store.full_every_hours),
            (30, 24)
        );
        assert!(ops.alerts.is_none() && ops.fail_on.is_none());
    }

    #[test]
    fn bad_values_are_named_by_key() {
        let alerts = RawAlerts {
            webhook_env: "W".into(),
            format: "email".into(),
            min_severity: "medium".into(),
            failed_runs: 2,
        };
        let err = check(
            None,
            Some(&alerts),
            &BTreeMap::new(),
            None,
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("alerts.format") && err.contains("email"),
            "{err}"
        );
        let esc = BTreeMap::from([("warehouse".to_string(), 4)]);
        let err = check(None, None, &esc, None, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("escalation.\"warehouse\""), "{err}");
        let run = RawRun {
            fail_on: Some("urgent".into()),
        };
        let err = check(
            None,
            None,
            &BTreeMap::new(),
            Some(&run),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("run.fail_on"), "{err}");
    }
}
