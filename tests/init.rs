//! `tally init` on the sandbox: from the connection sections alone, the draft reproduces the
//! configuration the sandbox was generated with, and marks the market it leaves unmapped as TODO.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use tally::clock::Clock;
use tally::config::RawConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_infers_the_sandbox_configuration_from_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    // Generated now: init reads the last 90 days by the system's time.
    let world = common::world_at(22, 1500, Utc::now());
    let unmapped: Vec<&'static str> = world
        .markets
        .iter()
        .filter(|m| m.mapping.is_none())
        .map(|m| m.name)
        .collect();
    let sb = common::serve(world, 0.0, 22).await;
    let generated = sb.config();
    // Only the connection sections, no timezone.
    let path = tmp.path().join("connections.toml");
    let connections = format!(
        "[centra]\nbase_url = {:?}\ntoken_env = {:?}\n\n[orderwise]\nbase_url = {:?}\nuser_env = {:?}\npassword_env = {:?}\n\n[orderwise.exports]\norders = 101\norder_lines = 102\nstock = 103\ndespatches = 104\ndespatch_lines = 105\nvariants = 106\norder_lookup = 107\n",
        generated.centra.base_url,
        generated.centra.token_env,
        generated.orderwise.base_url,
        generated.orderwise.user_env,
        generated.orderwise.password_env
    );
    std::fs::write(&path, connections).unwrap();
    let text = tally::init::run(&path, &sb.env(), Clock::system())
        .await
        .unwrap();
    let draft = RawConfig::parse(&text, &tmp.path().join("draft.toml"))
        .unwrap_or_else(|e| panic!("the draft parses: {e}\n{text}"));
    tally::config::Config::check(draft.clone(), &tmp.path().join("draft.toml"))
        .unwrap_or_else(|e| panic!("the draft checks: {e}\n{text}"));

    assert_eq!(draft.timezone, generated.timezone, "{text}");
    let markets = |c: &RawConfig| -> BTreeMap<String, (i64, String, String)> {
        c.markets
            .iter()
            .map(|m| {
                (
                    m.centra_market.clone(),
                    (
                        m.orderwise_session,
                        m.orderwise_customer.clone(),
                        m.centra_warehouse.clone(),
                    ),
                )
            })
            .collect()
    };
    assert_eq!(markets(&draft), markets(&generated), "{text}");
    let warehouses = |c: &RawConfig| -> BTreeMap<String, BTreeSet<String>> {
        c.warehouses
            .iter()
            .map(|w| {
                (
                    w.centra_warehouse.clone(),
                    w.orderwise_locations.iter().cloned().collect(),
                )
            })
            .collect()
    };
    assert_eq!(warehouses(&draft), warehouses(&generated), "{text}");
    let carriers = |c: &RawConfig| -> BTreeSet<(String, String, String)> {
        c.carriers
            .iter()
            .map(|x| {
                (
                    x.orderwise_delivery_method.clone(),
                    x.centra_carrier.clone(),
                    x.centra_service.clone(),
                )
            })
            .collect()
    };
    // Every generated carrier is inferred; one more may appear only under a TODO (the sandbox's
    // deliberately unmapped delivery method, seen on two orders: thin evidence).
    let inferred = carriers(&draft);
    assert!(inferred.is_superset(&carriers(&generated)), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    for extra in inferred.difference(&carriers(&generated)) {
        let at = lines
            .iter()
            .position(|l| *l == format!("orderwise_delivery_method = {:?}", extra.0))
            .unwrap();
        assert!(
            lines[at.saturating_sub(4)..at]
                .iter()
                .any(|l| l.starts_with("# TODO")),
            "{extra:?} is under a TODO in:\n{text}"
        );
    }
    // Every rate the orders use, with the generated code.
    for (rate, code) in &draft.vat_codes {
        assert_eq!(
            generated.vat_codes.get(rate),
            Some(code),
            "{rate} in {text}"
        );
    }
    assert!(!draft.vat_codes.is_empty());

    // The unmapped market is a TODO, commented out; evidence sits beside each mapping.
    for name in unmapped {
        assert!(
            text.lines()
                .any(|l| l.starts_with("# TODO: market") && l.contains(name)),
            "{name} marked TODO in:\n{text}"
        );
    }
    assert!(text.contains("matched orders"), "{text}");
    assert!(text.contains("free stock agrees on"), "{text}");
}
