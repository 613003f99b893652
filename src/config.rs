//! Configuration: `tally.toml` parsed in two steps.
//!
//! [`RawConfig`] mirrors the file exactly (serde, no I/O, unknown keys rejected), so a typo is caught
//! with the key's name. [`Config::check`] then parses the rule values and checks the mappings against
//! each other, naming the key at fault (`markets[2].centra_warehouse`) and what is expected, and
//! [`Config::secrets`] reads the secrets from the environment variables the file names. Nothing
//! else in tally reads the file.

pub mod engine;
pub mod operations;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Everything that can be wrong with a configuration, each naming the file and key at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{path}: cannot read the configuration: {source}; pass --config with the path to tally.toml"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: `{key}` {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error(
        "{path}: `{key}` names the environment variable {var}, which is not set; export it with the credential before running tally"
    )]
    MissingSecret {
        path: PathBuf,
        key: String,
        var: String,
    },
}

/// `tally.toml` as written, key for key. See DESIGN.md "Configuration".
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The OrderWise instance's local time zone; month ends are cut here.
    pub timezone: String,
    pub centra: RawCentra,
    pub orderwise: RawOrderWise,
    #[serde(default)]
    pub stock: RawStock,
    pub markets: Vec<MarketMapping>,
    pub warehouses: Vec<WarehouseMapping>,
    #[serde(default)]
    pub carriers: Vec<CarrierMapping>,
    #[serde(default)]
    pub vat_codes: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: RawRules,
    #[serde(default)]
    pub owners: BTreeMap<String, String>,
    /// Where `tally run` keeps snapshots and history (see [`operations`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<operations::RawStore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alerts: Option<operations::RawAlerts>,
    /// Owner -> hours an exception may stay open before its owner is alerted again.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub escalation: BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<operations::RawRun>,
    /// How DuckDB may use the machine (see [`engine`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<engine::RawEngine>,
}

/// `[centra]`: where the shop is, which environment variable holds its token, and how much of the
/// tenant's rate limits tally may use.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCentra {
    pub base_url: String,
    pub token_env: String,
    /// The share of each rate-limit budget (per cent of the `rateLimits` quota) tally paces itself
    /// to. Every integration on the tenant draws on the same buckets: lower it when others need
    /// room at the same hours (an ERP connector, a marketplace feed).
    #[serde(default = "default_budget_percent")]
    pub budget_percent: u32,
}

/// `[centra] budget_percent` when unset. 95%: a full extraction on the default plan reads as fast
/// as the tenant allows, and one request in twenty is left to whatever else shares the budget.
pub const DEFAULT_BUDGET_PERCENT: u32 = 95;

fn default_budget_percent() -> u32 {
    DEFAULT_BUDGET_PERCENT
}

/// `[orderwise]`: where the ERP is, its credentials' variables and its export definition ids.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrderWise {
    pub base_url: String,
    pub user_env: String,
    pub password_env: String,
    pub exports: ExportIds,
}

/// `[orderwise.exports]`: the ids under which the customer saved tally's export definitions.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExportIds {
    pub orders: u32,
    pub order_lines: u32,
    pub stock: u32,
    pub despatches: u32,
    pub despatch_lines: u32,
    pub variants: u32,
    pub order_lookup: u32,
}

/// `[stock]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawStock {
    pub orderwise_figure: String,
}

impl Default for RawStock {
    fn default() -> Self {
        RawStock {
            orderwise_figure: "free".into(),
        }
    }
}

/// One `[[markets]]` entry: a Centra market and where its orders go in OrderWise.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MarketMapping {
    pub centra_market: String,
    pub orderwise_session: i64,
    pub orderwise_customer: String,
    pub centra_warehouse: String,
}

/// One `[[warehouses]]` entry: the OrderWise locations summed into one Centra warehouse.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WarehouseMapping {
    pub centra_warehouse: String,
    pub orderwise_locations: Vec<String>,
}

/// One `[[carriers]]` entry: an OrderWise delivery method and Centra's carrier and service for it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CarrierMapping {
    pub orderwise_delivery_method: String,
    pub centra_carrier: String,
    pub centra_service: String,
}

/// `[rules]`, as text so a bad value gets an error naming its key.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    pub money_tolerance: String,
    pub settle_minutes: i64,
    pub shipment_sla_hours: i64,
}

impl Default for RawRules {
    fn default() -> Self {
        RawRules {
            money_tolerance: "0.01".into(),
            settle_minutes: 60,
            shipment_sla_hours: 24,
        }
    }
}

/// Which OrderWise stock figure feeds the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StockFigure {
    /// In stock minus allocated: what is available to sell.
    Free,
    /// Physically in stock.
    Overall,
}

/// The rules behind the checks, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    /// A money difference above this is an exception; one at or below it is rounding.
    pub money_tolerance: Decimal,
    /// Orders younger than this are not expected in OrderWise yet.
    pub settle_minutes: i64,
    /// Despatches older than this must be shipped in Centra.
    pub shipment_sla_hours: i64,
}

/// The secrets, read from the environment variables the file names. Never logged or written.
#[derive(Clone)]
pub struct Secrets {
    pub centra_token: String,
    pub orderwise_user: String,
    pub orderwise_password: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// A checked configuration, ready for every stage.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// The file as written (secrets are only variable names, so it can be shown in reports).
    pub raw: RawConfig,
    pub timezone: Tz,
    pub stock_figure: StockFigure,
    pub rules: Rules,
    /// Check name -> owner override.
    pub owners: BTreeMap<String, String>,
    /// The store, alerts, escalation and exit threshold of scheduled runs.
    pub operations: operations::Operations,
    /// DuckDB's memory limit, spill directory and threads.
    pub engine: engine::Engine,
}

/// The owners a check may have.
pub const OWNERS: [&str; 4] = ["finance", "operations", "ecommerce", "merchandising"];

impl RawConfig {
    /// Parses `tally.toml` text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<RawConfig, Error> {
        toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: toml_message(&e),
        })
    }

    /// Reads and parses a `tally.toml` file.
    pub fn load(path: &Path) -> Result<RawConfig, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        RawConfig::parse(&text, path)
    }

    /// The file's text, for `tally demo` to write next to its reports as a worked example.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a RawConfig always serialises")
    }
}

/// toml's message names the key and line; keep it on one line.
fn toml_message(e: &toml::de::Error) -> String {
    let mut msg = e.message().to_string();
    if let Some(span) = e.span() {
        msg = format!("{msg} (at byte {})", span.start);
    }
    msg
}

impl Config {
    /// Loads a file and checks it, without secrets (for reconcile and report, which need none).
    pub fn load(path: &Path) -> Result<Config, Error> {
        Config::check(RawConfig::load(path)?, path)
    }

    /// Checks a parsed file: values parse, mappings refer to each other, nothing is duplicated.
    pub fn check(raw: RawConfig, path: &Path) -> Result<Config, Error> {
        let invalid = |key: String, message: String| Error::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        let timezone: Tz = raw.timezone.parse().map_err(|_| {
            invalid(
                "timezone".into(),
                format!(
                    "is {:?}; expected an IANA time zone name such as \"Europe/London\"",
                    raw.timezone
                ),
            )
        })?;
        for (key, url) in [
            ("centra.base_url", &raw.centra.base_url),
            ("orderwise.base_url", &raw.orderwise.base_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid(
                    key.into(),
                    format!("is {url:?}; expected an http:// or https:// URL"),
                ));
            }
        }
        if !(1..=100).contains(&raw.centra.budget_percent) {
            return Err(invalid(
                "centra.budget_percent".into(),
                format!(
                    "is {}; expected a share of the rate limits from 1 to 100 (per cent)",
                    raw.centra.budget_percent
                ),
            ));
        }
        let stock_figure = match raw.stock.orderwise_figure.as_str() {
            "free" => StockFigure::Free,
            "overall" => StockFigure::Overall,
            other => {
                return Err(invalid(
                    "stock.orderwise_figure".into(),
                    format!("is {other:?}; expected \"free\" or \"overall\""),
                ));
            }
        };
        let money_tolerance: Decimal = raw.rules.money_tolerance.parse().map_err(|_| {
            invalid(
                "rules.money_tolerance".into(),
                format!(
                    "is {:?}; expected a decimal amount such as \"0.01\"",
                    raw.rules.money_tolerance
                ),
            )
        })?;
        if money_tolerance.is_sign_negative() {
            return Err(invalid(
                "rules.money_tolerance".into(),
                "is negative; expected zero or more".into(),
            ));
        }
        if raw.rules.settle_minutes < 0 {
            return Err(invalid(
                "rules.settle_minutes".into(),
                "is negative; expected minutes, zero or more".into(),
            ));
        }
        if raw.rules.shipment_sla_hours < 0 {
            return Err(invalid(
                "rules.shipment_sla_hours".into(),
                "is negative; expected hours, zero or more".into(),
            ));
        }
        let warehouses: BTreeSet<&str> = raw
            .warehouses
            .iter()
            .map(|w| w.centra_warehouse.as_str())
            .collect();
        if warehouses.len() != raw.warehouses.len() {
            return Err(invalid(
                "warehouses".into(),
                "maps one Centra warehouse twice; list each once with all its locations".into(),
            ));
        }
        for (i, w) in raw.warehouses.iter().enumerate() {
            if w.orderwise_locations.is_empty() {
                return Err(invalid(
                    format!("warehouses[{i}].orderwise_locations"),
                    "is empty; expected at least one OrderWise location name".into(),
                ));
            }
        }
        let mut markets = BTreeSet::new();
        for (i, m) in raw.markets.iter().enumerate() {
            if !markets.insert(m.centra_market.as_str()) {
                return Err(invalid(
                    format!("markets[{i}].centra_market"),
                    format!("{:?} is mapped twice; keep one entry", m.centra_market),
                ));
            }
            if !warehouses.contains(m.centra_warehouse.as_str()) {
                return Err(invalid(
                    format!("markets[{i}].centra_warehouse"),
                    format!(
                        "is {:?}, which no [[warehouses]] entry maps; add it there or fix the name",
                        m.centra_warehouse
                    ),
                ));
            }
        }
        for (rate, code) in &raw.vat_codes {
            if rate.parse::<Decimal>().is_err() {
                return Err(invalid(
                    format!("vat_codes.{rate:?}"),
                    format!("maps to {code:?} but {rate:?} is not a tax percent such as \"20\""),
                ));
            }
        }
        for (check, owner) in &raw.owners {
            if !OWNERS.contains(&owner.as_str()) {
                return Err(invalid(
                    format!("owners.{check:?}"),
                    format!("is {owner:?}; expected one of {}", OWNERS.join(", ")),
                ));
            }
        }
        let operations = operations::check(
            raw.store.as_ref(),
            raw.alerts.as_ref(),
            &raw.escalation,
            raw.run.as_ref(),
            path,
        )?;
        let engine = engine::check(raw.engine.as_ref(), path)?;
        Ok(Config {
            engine,
            operations,
            path: path.to_path_buf(),
            timezone,
            stock_figure,
            rules: Rules {
                money_tolerance,
                settle_minutes: raw.rules.settle_minutes,
                shipment_sla_hours: raw.rules.shipment_sla_hours,
            },
            owners: raw.owners.clone(),
            raw,
        })
    }

    /// Reads the secrets from the variables the file names, through `env` (the process environment
    /// in production, a table in the demo and tests).
    pub fn secrets(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secrets, Error> {
        let get = |key: &str, var: &str| {
            env(var)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Error::MissingSecret {
                    path: self.path.clone(),
                    key: key.into(),
                    var: var.into(),
                })
        };
        Ok(Secrets {
            centra_token: get("centra.token_env", &self.raw.centra.token_env)?,
            orderwise_user: get("orderwise.user_env", &self.raw.orderwise.user_env)?,
            orderwise_password: get("orderwise.password_env", &self.raw.orderwise.password_env)?,
        })
    }

    /// The mapping of a Centra market, if any.
    pub fn market(&self, centra_market: &str) -> Option<&MarketMapping> {
        self.raw
            .markets
            .iter()
            .find(|m| m.centra_market == centra_market)
    }
}

/// The process environment, for [`Config::secrets`].
pub fn process_env(var: &str) -> Option<String> {
    std::env::var(var).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
timezone = "Europe/London"
[centra]
base_url = "https://brand.centra.com"
token_env = "CENTRA_TOKEN"
[orderwise]
base_url = "https://tenant.orderwisecloud.com/owapi"
user_env = "ORDERWISE_USER"
password_env = "ORDERWISE_PASSWORD"
[orderwise.exports]
orders = 101
order_lines = 102
stock = 103
despatches = 104
despatch_lines = 105
variants = 106
order_lookup = 107
[stock]
orderwise_figure = "free"
[[markets]]
centra_market = "United Kingdom"
orderwise_session = 1
orderwise_customer = "WEB-UK"
centra_warehouse = "Main"
[[warehouses]]
centra_warehouse = "Main"
orderwise_locations = ["MAIN"]
[[carriers]]
orderwise_delivery_method = "DPD Next Day"
centra_carrier = "DPD"
centra_service = "Next Day"
[vat_codes]
"20" = "T1"
"0" = "T0"
[rules]
money_tolerance = "0.01"
settle_minutes = 60
shipment_sla_hours = 24
[owners]
"order.tax_mismatch" = "finance"
"#;

    fn check(text: &str) -> Result<Config, Error> {
        let path = Path::new("tally.toml");
        Config::check(RawConfig::parse(text, path)?, path)
    }

    #[test]
    fn design_example_parses_with_every_key() {
        let cfg = check(EXAMPLE).unwrap();
        assert_eq!(cfg.timezone, chrono_tz::Europe::London);
        assert_eq!(cfg.rules.money_tolerance, Decimal::new(1, 2));
        assert_eq!(cfg.raw.orderwise.exports.order_lookup, 107);
        assert_eq!(cfg.stock_figure, StockFigure::Free);
        assert_eq!(cfg.market("United Kingdom").unwrap().orderwise_session, 1);
        assert_eq!(cfg.owners["order.tax_mismatch"], "finance");
    }

    #[test]
    fn missing_key_is_named() {
        let text = EXAMPLE.replace("token_env = \"CENTRA_TOKEN\"\n", "");
        let err = check(&text).unwrap_err().to_string();
        assert!(err.contains("token_env"), "{err}");
    }

    #[test]
    fn unknown_key_is_named() {
        let text = EXAMPLE.replace(
            "settle_minutes = 60",
            "settle_minutes = 60\nsettle_mins = 5",
        );
        let err = check(&text).unwrap_err().to_string();
        assert!(err.contains("settle_mins"), "{err}");
    }

    #[test]
    fn market_with_unmapped_warehouse_names_its_index() {
        let text = EXAMPLE.replace(
            "centra_warehouse = \"Main\"\n[[warehouses]]",
            "centra_warehouse = \"Nowhere\"\n[[warehouses]]",
        );
        let err = check(&text).unwrap_err().to_string();
        assert!(err.contains("markets[0].centra_warehouse"), "{err}");
        assert!(err.contains("Nowhere"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (from, to, key) in [
            ("\"Europe/London\"", "\"Europe/Londn\"", "timezone"),
            ("\"0.01\"", "\"one penny\"", "rules.money_tolerance"),
            ("\"free\"", "\"available\"", "stock.orderwise_figure"),
            ("= \"finance\"", "= \"accounts\"", "owners"),
            (
                "\"https://brand.centra.com\"",
                "\"brand.centra.com\"",
                "centra.base_url",
            ),
        ] {
            let err = check(&EXAMPLE.replace(from, to)).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn budget_percent_defaults_to_95_and_must_be_a_share() {
        assert_eq!(check(EXAMPLE).unwrap().raw.centra.budget_percent, 95);
        let with = |n: &str| {
            EXAMPLE.replace(
                "token_env = \"CENTRA_TOKEN\"\n",
                &format!("token_env = \"CENTRA_TOKEN\"\nbudget_percent = {n}\n"),
            )
        };
        assert_eq!(check(&with("60")).unwrap().raw.centra.budget_percent, 60);
        for bad in ["0", "101"] {
            let err = check(&with(bad)).unwrap_err().to_string();
            assert!(err.contains("centra.budget_percent"), "{bad}: {err}");
        }
    }

    #[test]
    fn missing_secret_names_the_variable_not_a_value() {
        let cfg = check(EXAMPLE).unwrap();
        let err = cfg.secrets(&|_| None).unwrap_err().to_string();
        assert!(err.contains("CENTRA_TOKEN"), "{err}");
        let secrets = cfg.secrets(&|v| Some(format!("s3cret-{v}"))).unwrap();
        assert!(!format!("{secrets:?}").contains("s3cret"));
    }
}
