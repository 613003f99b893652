//! `tally doctor`: everything a run needs, checked one line at a time, each passed or failed with
//! what to do (DESIGN.md "Onboarding a tenant").
//!
//! In order: the configuration parses; each secret variable is set; each API answers and accepts
//! the credentials; each system's clock (its HTTP `Date`) is within a minute of this machine's;
//! Centra's schema still offers every field and argument the connector uses ([`schema`]); each
//! export definition exists and returns the columns the contract lists; and, from the last 30
//! days of data, every market, warehouse, delivery method and VAT rate is mapped and the
//! configured time zone agrees with OrderWise's local times ([`data`]). A line that cannot run
//! because an earlier one failed says so and fails too.

mod data;
pub use data::DAYS;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::clock::Clock;
use crate::config::{Config, RawConfig};
use crate::connectors::http::RetryPolicy;

/// One line of the checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    /// What was checked (`configuration`, `secret CENTRA_TOKEN`, `export orders (101)`).
    pub check: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// What to do, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

fn pass(check: impl Into<String>, detail: impl Into<String>) -> Line {
    Line {
        check: check.into(),
        ok: true,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Line {
    Line {
        check: check.into(),
        ok: false,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

/// The columns each export must return (the contract's tables; `customer_account` is newer and
/// optional, so it is not required).
pub const EXPORT_COLUMNS: [(&str, &[&str]); 6] = [
    (
        "orders",
        &[
            "order_id",
            "order_number",
            "external_ref",
            "session_id",
            "order_datetime",
            "status",
            "currency_code",
            "total_net",
            "total_vat",
            "total_gross",
            "delivery_net",
            "delivery_vat",
            "delivery_gross",
            "discount_gross",
            "delivery_method",
            "amended_at",
        ],
    ),
    (
        "order_lines",
        &[
            "line_id",
            "order_id",
            "sku",
            "qty_required",
            "qty_sent",
            "item_gross",
            "line_net",
            "line_vat",
            "line_gross",
            "vat_code",
            "vat_rate",
            "amended_at",
        ],
    ),
    (
        "stock",
        &[
            "stock_id",
            "sku",
            "location_id",
            "location_name",
            "free",
            "overall",
            "amended_at",
        ],
    ),
    (
        "despatches",
        &[
            "despatch_id",
            "order_id",
            "order_number",
            "external_ref",
            "despatched_at",
            "tracking_number",
            "delivery_method",
            "courier",
            "amended_at",
        ],
    ),
    (
        "despatch_lines",
        &[
            "despatch_line_id",
            "despatch_id",
            "sku",
            "qty",
            "amended_at",
        ],
    ),
    (
        "variants",
        &[
            "variant_id",
            "sku",
            "product_code",
            "description",
            "ean",
            "discontinued",
            "is_kit",
            "sale_variant",
            "amended_at",
        ],
    ),
];

/// How far a system's clock may be from this machine's.
const CLOCK_SKEW: i64 = 60;

/// Reads a system's clock from the `Date` header of any answer at `url`.
async fn remote_clock(url: &str) -> Result<DateTime<Utc>, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| e.to_string())?;
    let reply = client.get(url).send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer within 15 s".to_string()
        } else {
            "cannot connect".to_string()
        }
    })?;
    let date = reply
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .ok_or("the answer has no Date header")?;
    let t = httpdate::parse_http_date(date).map_err(|_| format!("Date {date:?} does not parse"))?;
    Ok(DateTime::<Utc>::from(t))
}

fn clock_line(system: &str, now: DateTime<Utc>, theirs: Result<DateTime<Utc>, String>) -> Line {
    let check = format!("{system} clock");
    match theirs {
        Err(e) => fail(check, e, format!("check {system}'s base_url")),
        Ok(t) => {
            let skew = (t - now).num_seconds();
            if skew.abs() <= CLOCK_SKEW {
                pass(check, format!("{skew:+} s from this machine"))
            } else {
                fail(
                    check,
                    format!("{skew:+} s from this machine (more than {CLOCK_SKEW} s)"),
                    "fix the clock that is wrong (NTP): change times and month cut-offs depend on it",
                )
            }
        }
    }
}

/// Runs every check for the configuration at `path`, reading secrets through `env`.
pub async fn run(path: &Path, env: &dyn Fn(&str) -> Option<String>, clock: Clock) -> Vec<Line> {
    let mut lines = Vec::new();
    let raw = match RawConfig::load(path) {
        Ok(r) => r,
        Err(e) => {
            lines.push(fail(
                "configuration",
                e.to_string(),
                "fix the file and run doctor again",
            ));
            return lines;
        }
    };
    let cfg = match Config::check(raw, path) {
        Ok(c) => {
            lines.push(pass(
                "configuration",
                format!("{} parses and checks", path.display()),
            ));
            c
        }
        Err(e) => {
            lines.push(fail(
                "configuration",
                e.to_string(),
                "fix the key named and run doctor again",
            ));
            return lines;
        }
    };
    let vars = [
        ("centra.token_env", &cfg.raw.centra.token_env),
        ("orderwise.user_env", &cfg.raw.orderwise.user_env),
        ("orderwise.password_env", &cfg.raw.orderwise.password_env),
    ];
    for (key, var) in vars {
        lines.push(match env(var).filter(|v| !v.is_empty()) {
            Some(_) => pass(format!("secret {var}"), format!("set ({key})")),
            None => fail(
                format!("secret {var}"),
                format!("not set ({key} names it)"),
                format!("export {var} with the credential"),
            ),
        });
    }
    if let Some(alerts) = &cfg.operations.alerts {
        let var = &alerts.webhook_env;
        lines.push(match env(var).filter(|v| !v.is_empty()) {
            Some(_) => pass(format!("secret {var}"), "set (alerts.webhook_env)"),
            None => fail(
                format!("secret {var}"),
                "not set (alerts.webhook_env names it): alerts would wait in the outbox",
                format!("export {var} with the webhook URL"),
            ),
        });
    }
    let now = clock.now();
    let centra_url = format!("{}/graphql", cfg.raw.centra.base_url.trim_end_matches('/'));
    let ow_url = format!(
        "{}/token/gettoken",
        cfg.raw.orderwise.base_url.trim_end_matches('/')
    );
    let (centra_clock, ow_clock) = tokio::join!(remote_clock(&centra_url), remote_clock(&ow_url));
    lines.push(clock_line("Centra", now, centra_clock));
    lines.push(clock_line("OrderWise", now, ow_clock));
    let secrets = match cfg.secrets(env) {
        Ok(s) => s,
        Err(e) => {
            lines.push(fail(
                "APIs",
                format!("not tried: {e}"),
                "set the secrets above first",
            ));
            return lines;
        }
    };
    let retry = RetryPolicy {
        attempts: 3,
        ..RetryPolicy::default()
    };
    let (centra, orderwise) = match crate::connectors::clients(&cfg, &secrets, retry) {
        Ok(c) => c,
        Err(e) => {
            lines.push(fail("APIs", e.to_string(), "check the base URLs"));
            return lines;
        }
    };
    let introspection = centra
        .query::<serde_json::Value>(
            "schema introspection",
            schema::INTROSPECTION_QUERY,
            serde_json::json!({}),
        )
        .await;
    let centra_ok = match introspection {
        Err(e) => {
            lines.push(fail(
                "Centra API",
                e.to_string(),
                "check centra.base_url and the token",
            ));
            false
        }
        Ok(data) => {
            lines.push(pass("Centra API", "answers and accepts the token"));
            let mut documents: Vec<&str> = crate::connectors::centra::ALL_QUERIES.to_vec();
            documents.extend(crate::connectors::centra::ALL_MUTATIONS);
            let (checked, problems) = schema::check(&data, &documents);
            lines.push(if problems.is_empty() {
                pass(
                    "Centra schema",
                    format!("all {checked} fields the connector uses are there with their types"),
                )
            } else {
                fail(
                    "Centra schema",
                    problems.join("; "),
                    "the Centra API changed: upgrade tally, or ask Centra about the field",
                )
            });
            true
        }
    };
    let ow_ok = match orderwise.sign_in().await {
        Err(e) => {
            lines.push(fail(
                "OrderWise API",
                e.to_string(),
                "check orderwise.base_url and the user and password",
            ));
            false
        }
        Ok(()) => {
            lines.push(pass(
                "OrderWise API",
                "answers and accepts the user and password",
            ));
            true
        }
    };
    if ow_ok {
        let ids = &cfg.raw.orderwise.exports;
        let id_of = |name: &str| match name {
            "orders" => ids.orders,
            "order_lines" => ids.order_lines,
            "stock" => ids.stock,
            "despatches" => ids.despatches,
            "despatch_lines" => ids.despatch_lines,
            _ => ids.variants,
        };
        for (name, columns) in EXPORT_COLUMNS {
            let id = id_of(name);
            let check = format!("export {name} ({id})");
            let params = serde_json::json!([
                {"name": "@since", "value": ""},
                {"name": "@after_id", "value": 0}
            ]);
            let page = orderwise
                .export_page::<serde_json::Map<String, serde_json::Value>>(name, id, &params)
                .await;
            lines.push(match page {
                Err(e) => fail(
                    check,
                    e.to_string(),
                    format!("save connectors/orderwise/export-definitions/{name}.sql as an API Export Definition and put its id in [orderwise.exports] {name}"),
                ),
                Ok(rows) => match rows.first() {
                    None => pass(check, "exists; returned no rows, so its columns could not be checked"),
                    Some(row) => {
                        let missing: Vec<&str> =
                            columns.iter().copied().filter(|c| !row.contains_key(*c)).collect();
                        if missing.is_empty() {
                            pass(check, format!("returns all {} columns", columns.len()))
                        } else {
                            fail(
                                check,
                                format!("lacks {}", missing.join(", ")),
                                format!("update the definition from connectors/orderwise/export-definitions/{name}.sql"),
                            )
                        }
                    }
                },
            });
        }
    }
    if centra_ok && ow_ok {
        lines.extend(data::check(&cfg, &secrets, clock).await);
    } else {
        lines.push(fail(
            "recent data",
            "not read: an API above failed",
            "fix the API lines first",
        ));
    }
    lines
}
