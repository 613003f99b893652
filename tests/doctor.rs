//! `tally doctor` against the sandbox: every line passes on a good configuration (but the market
//! the sandbox leaves unmapped on purpose), and each line fails, alone, when its subject is broken
//! on purpose.

mod common;

use std::path::Path;

use chrono::Utc;
use tally::clock::Clock;
use tally::config::RawConfig;
use tally::doctor::{self, Line};
use tally::sandbox::{self, Behaviour, Sandbox};

/// A sandbox generated now (doctor compares clocks and reads the last 30 days by the system's
/// time), with `behaviour`.
async fn sandbox(behaviour: Behaviour) -> Sandbox {
    let world = common::world_at(20, 800, Utc::now());
    sandbox::serve(world, behaviour, "127.0.0.1:0")
        .await
        .unwrap()
}

/// Runs doctor on `raw` written to `dir`, with the sandbox's credentials changed by `env`.
async fn doctor(raw: &RawConfig, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Vec<Line> {
    let path = dir.join("tally.toml");
    std::fs::write(&path, raw.to_toml()).unwrap();
    doctor::run(&path, env, Clock::system()).await
}

/// The lines that failed, by check.
fn failed(lines: &[Line]) -> Vec<&str> {
    lines
        .iter()
        .filter(|l| !l.ok)
        .map(|l| l.check.as_str())
        .collect()
}

fn line<'a>(lines: &'a [Line], check: &str) -> &'a Line {
    lines
        .iter()
        .find(|l| l.check == check)
        .unwrap_or_else(|| panic!("a line {check:?} in {lines:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_passes_on_the_sandbox_but_the_market_it_leaves_unmapped() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = sandbox(Behaviour::default()).await;
    // The sandbox also despatches one drifted order by a delivery method its configuration does
    // not map (`shipment.unmapped_carrier`); doctor must name it exactly when that despatch falls
    // in the 30 days it reads, which depends on the day the world is generated.
    let (unmapped, unmapped_method_recent) = {
        let w = sb.shared.world.read().unwrap();
        let window = w.local(w.now - chrono::Duration::days(doctor::DAYS));
        (
            w.markets.iter().find(|m| m.mapping.is_none()).unwrap().name,
            w.orderwise.despatches.iter().any(|d| {
                d.delivery_method == sandbox::drift::orders::UNMAPPED_DELIVERY.0
                    && d.amended_at >= window
            }),
        )
    };
    let lines = doctor(&sb.config(), tmp.path(), &sb.env()).await;
    let mut expected = vec!["markets"];
    if unmapped_method_recent {
        expected.push("delivery methods");
        let methods = line(&lines, "delivery methods");
        let name = sandbox::drift::orders::UNMAPPED_DELIVERY.0;
        assert!(methods.detail.contains(name), "{methods:?}");
    }
    assert_eq!(failed(&lines), expected, "{lines:#?}");
    let markets = line(&lines, "markets");
    assert!(markets.detail.contains(unmapped), "{markets:?}");
    assert!(markets.fix.as_deref().unwrap().contains("[[markets]]"));
    for check in [
        "configuration",
        "Centra API",
        "Centra schema",
        "OrderWise API",
        "export orders (101)",
        "export variants (106)",
        "Centra clock",
        "OrderWise clock",
        "warehouses",
        "VAT rates",
        "warehouse stock",
        "time zone Europe/London",
    ] {
        assert!(line(&lines, check).ok, "{check}");
    }
    let tz = line(&lines, "time zone Europe/London");
    assert!(
        tz.detail.contains("matched orders are at its offset"),
        "{tz:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_thing_fails_its_own_line() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = sandbox(Behaviour::default()).await;
    let good = sb.config();
    let env = sb.env();

    // A secret not set: its line fails, and the APIs are not tried.
    let token_var = good.centra.token_env.clone();
    let without = |v: &str| if v == token_var { None } else { env(v) };
    let lines = doctor(&good, tmp.path(), &without).await;
    assert!(!line(&lines, &format!("secret {token_var}")).ok);
    assert!(!line(&lines, "APIs").ok);

    // Wrong credentials: each API's line.
    let centra_var = good.centra.token_env.clone();
    let wrong_token = |v: &str| {
        if v == centra_var {
            Some("nope".into())
        } else {
            env(v)
        }
    };
    let lines = doctor(&good, tmp.path(), &wrong_token).await;
    assert!(!line(&lines, "Centra API").ok, "{lines:#?}");
    assert!(line(&lines, "OrderWise API").ok);
    let password_var = good.orderwise.password_env.clone();
    let wrong_password = |v: &str| {
        if v == password_var {
            Some("nope".into())
        } else {
            env(v)
        }
    };
    let lines = doctor(&good, tmp.path(), &wrong_password).await;
    assert!(!line(&lines, "OrderWise API").ok, "{lines:#?}");
    assert!(line(&lines, "Centra API").ok);

    // An export id that does not exist.
    let mut raw = good.clone();
    raw.orderwise.exports.orders = 999;
    let lines = doctor(&raw, tmp.path(), &env).await;
    let export = line(&lines, "export orders (999)");
    assert!(!export.ok && export.detail.contains("999"), "{export:?}");

    // The wrong time zone.
    let mut raw = good.clone();
    raw.timezone = "Asia/Tokyo".into();
    let lines = doctor(&raw, tmp.path(), &env).await;
    let tz = line(&lines, "time zone Asia/Tokyo");
    assert!(!tz.ok && tz.detail.contains("UTC+"), "{tz:?}");

    // A delivery method and a VAT rate without a mapping.
    let mut raw = good.clone();
    let dropped = raw.carriers.remove(0).orderwise_delivery_method;
    raw.vat_codes.remove("20");
    let lines = doctor(&raw, tmp.path(), &env).await;
    let methods = line(&lines, "delivery methods");
    assert!(
        !methods.ok && methods.detail.contains(&dropped),
        "{methods:?}"
    );
    let vat = line(&lines, "VAT rates");
    assert!(!vat.ok && vat.detail.contains("\"20\""), "{vat:?}");

    // A location mapped to the wrong warehouse.
    let mut raw = good.clone();
    let moved = raw.warehouses[0].orderwise_locations.pop().unwrap();
    raw.warehouses[1].orderwise_locations.push(moved);
    let lines = doctor(&raw, tmp.path(), &env).await;
    let stock = line(&lines, "warehouse stock");
    assert!(!stock.ok, "{stock:?}");

    // A configuration that does not parse.
    let path = tmp.path().join("broken.toml");
    std::fs::write(
        &path,
        "timezone = \"Europe/London\"\n[centra]\nbase_url = 1\n",
    )
    .unwrap();
    let lines = doctor::run(&path, &env, Clock::system()).await;
    assert_eq!(failed(&lines), ["configuration"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_saved_from_an_old_statement_is_named_with_its_missing_column() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = sandbox(Behaviour {
        missing_export_column: Some("vat_rate"),
        ..Behaviour::default()
    })
    .await;
    let lines = doctor(&sb.config(), tmp.path(), &sb.env()).await;
    let export = line(&lines, "export order_lines (102)");
    assert!(
        !export.ok && export.detail.contains("vat_rate"),
        "{export:?}"
    );
    assert!(line(&lines, "export orders (101)").ok);
}

/// A Centra stand-in that answers introspection with the sandbox's schema changed by `edit`, and
/// stamps every answer with a `Date` five minutes fast.
async fn altered_centra(sb: &Sandbox, edit: impl Fn(&mut serde_json::Value)) -> String {
    let token = sandbox::server::CENTRA_TOKEN;
    let body = serde_json::json!({ "query": doctor::schema::INTROSPECTION_QUERY }).to_string();
    let answer = reqwest::Client::new()
        .post(format!("http://{}/graphql", sb.addr))
        .bearer_auth(token)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let real: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let mut altered = real;
    edit(&mut altered);
    let body = altered.to_string();
    let fast =
        httpdate::fmt_http_date(std::time::SystemTime::now() + std::time::Duration::from_secs(300));
    let app = axum::Router::new().route(
        "/graphql",
        axum::routing::any(move || {
            let body = body.clone();
            let fast = fast.clone();
            async move {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "application/json".to_string(),
                        ),
                        (axum::http::header::DATE, fast),
                    ],
                    body,
                )
            }
        }),
    );
    let (addr, _) = common::serve_router(app).await;
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_or_retyped_field_and_a_fast_clock_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = sandbox(Behaviour::default()).await;
    let url = altered_centra(&sb, |v| {
        for t in v["data"]["__schema"]["types"].as_array_mut().unwrap() {
            if t["name"] == "Order" {
                let fields = t["fields"].as_array_mut().unwrap();
                fields.retain(|f| f["name"] != "isOnHold");
                for f in fields.iter_mut() {
                    if f["name"] == "number" {
                        f["type"] = serde_json::json!({"kind": "NON_NULL", "name": null,
                            "ofType": {"kind": "SCALAR", "name": "String", "ofType": null}});
                    }
                }
            }
        }
    })
    .await;
    let mut raw = sb.config();
    raw.centra.base_url = url;
    let lines = doctor(&raw, tmp.path(), &sb.env()).await;
    let schema = line(&lines, "Centra schema");
    assert!(!schema.ok, "{schema:?}");
    assert!(
        schema.detail.contains("Order.isOnHold is gone"),
        "{schema:?}"
    );
    assert!(
        schema
            .detail
            .contains("Order.number is String! here, Int! in the contract"),
        "{schema:?}"
    );
    let clock = line(&lines, "Centra clock");
    let skew: i64 = clock.detail.split(' ').next().unwrap().parse().unwrap();
    assert!(!clock.ok && (295..=305).contains(&skew), "{clock:?}");
    assert!(line(&lines, "OrderWise clock").ok);
}
