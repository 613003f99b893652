//! `tally plan` against a reconciled sandbox snapshot: every fixable exception gets exactly one
//! action or a reason why not, values are Centra's, keys are stable.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use tally::plan::{Action, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_covers_every_fixable_exception_once() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(21, 4000), 0.0, 21).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let snap = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    tally::reconcile::run(&snap.dir, &cfg).unwrap();
    let exceptions: BTreeSet<String> = tally::reconcile::read_exceptions(&snap.dir)
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}", e.check, e.key))
        .collect();
    let plan = tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 5 }).unwrap();

    // Each fix names a real exception, and no exception is fixed twice.
    let mut fixed: BTreeMap<String, &'static str> = BTreeMap::new();
    for a in &plan.actions {
        for f in a.fixes() {
            assert!(
                exceptions.contains(f),
                "{} fixes {f}, which reconcile did not report",
                a.kind()
            );
            assert!(
                fixed.insert(f.clone(), a.kind()).is_none(),
                "{f} is in two actions"
            );
        }
    }
    // Every exception of the fixable kinds has an action or a reason.
    for e in &exceptions {
        let fixable = [
            "stock.oversell_risk:",
            "stock.undersell:",
            "order.missing_in_orderwise:",
            "shipment.not_updated_in_centra:",
        ];
        if fixable.iter().any(|p| e.starts_with(p)) {
            assert!(
                fixed.contains_key(e),
                "{e} has neither an action nor a reason"
            );
        }
    }
    // Unknown SKUs and unmapped markets are left to a person, with the reason.
    let reasons: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::NoAction { reason, .. } => Some(reason.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("OrderWise does not know")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("no [[markets]] entry")),
        "{reasons:?}"
    );

    // Orders are posted with Centra's values, to the mapped session.
    let world = sb.shared.world.read().unwrap().clone();
    let mut posted = 0;
    for a in &plan.actions {
        if let Action::PostOrder {
            order_number,
            session_id,
            total_gross,
            lines,
            ..
        } = a
        {
            let o = world
                .orders
                .iter()
                .find(|o| o.number == *order_number)
                .unwrap();
            assert_eq!(*total_gross, o.totals.gross, "order {order_number}");
            assert_eq!(
                Some(*session_id),
                world.markets[o.market].mapping.map(|m| m.0)
            );
            assert_eq!(
                lines
                    .iter()
                    .map(|l| l.line_gross)
                    .sum::<rust_decimal::Decimal>(),
                o.totals.line_values
            );
            posted += 1;
        }
        if let Action::PushStock { sizes, .. } = a {
            assert!(sizes.len() <= 5 && !sizes.is_empty());
            assert!(sizes.iter().all(|s| s.to >= 0 && s.to != s.from));
        }
        if let Action::CreateShipment { lines, carrier, .. } = a {
            assert!(!lines.is_empty() && lines.iter().all(|l| l.quantity > 0));
            assert!(!carrier.is_empty());
        }
    }
    assert!(posted > 0);

    // Stable keys: the same snapshot plans the same actions with the same keys.
    let again = tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 5 }).unwrap();
    assert_eq!(plan.actions, again.actions);
    let keys: BTreeSet<&str> = plan.actions.iter().filter_map(|a| a.key()).collect();
    assert_eq!(
        keys.len(),
        plan.actions.iter().filter(|a| a.key().is_some()).count(),
        "keys are unique"
    );

    // The review table has a row per action.
    let out = snap.dir.join("plan.jsonl");
    let review = tally::plan::write(&plan, &out).unwrap();
    let csv = std::fs::read_to_string(review).unwrap();
    assert_eq!(csv.lines().count(), plan.actions.len() + 1);
    let jsonl = std::fs::read_to_string(&out).unwrap();
    let parsed: Vec<Action> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(parsed, plan.actions);
    sb.stop().await;
}

/// Rewrites one Parquet file of a snapshot through DuckDB with `select` (over `t`, the file).
fn rewrite_parquet(file: &std::path::Path, select: &str) {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let src = file.to_string_lossy().replace('\'', "''");
    let tmp = file.with_extension("rewritten");
    let dst = tmp.to_string_lossy().replace('\'', "''");
    conn.execute_batch(&format!(
        "CREATE TABLE t AS SELECT * FROM read_parquet('{src}');
         COPY ({select}) TO '{dst}' (FORMAT parquet);"
    ))
    .unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

/// World 22 (2,000 orders) served, extracted into `dir`, reconciled and planned: the sandbox (to
/// stop), the configuration, the snapshot and its plan.
async fn planned_world(
    dir: &std::path::Path,
) -> (
    tally::sandbox::Sandbox,
    tally::config::Config,
    tally::extract::Extracted,
    tally::plan::Plan,
) {
    let sb = common::serve(common::world(22, 2000), 0.0, 22).await;
    let (cfg, secrets) = common::config(&sb, dir);
    let snap = common::snapshot(&sb, &cfg, &secrets, dir).await;
    tally::reconcile::run(&snap.dir, &cfg).unwrap();
    let plan = tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 1 }).unwrap();
    (sb, cfg, snap, plan)
}

/// Writes the size of the rewritten `file` of the snapshot in `dir` into its manifest, as another
/// writer of the snapshot would have.
fn list_in_manifest(dir: &std::path::Path, file: &str) {
    let manifest_path = dir.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for f in manifest["files"].as_array_mut().unwrap() {
        if f["file"] == file {
            f["bytes"] = std::fs::metadata(dir.join(file)).unwrap().len().into();
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
}

/// Two despatches of one order at the same moment: the shipment planned takes its tracking number
/// and its carrier both from one of them (the later id), never one from each, and the same on
/// every run. Ranked by the time alone, each was whichever despatch a thread met first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipment_takes_tracking_and_carrier_from_one_despatch_when_two_share_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (sb, cfg, snap, plan) = planned_world(tmp.path()).await;
    let (number, carrier, shipped_at) = plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::CreateShipment {
                order_number,
                carrier,
                shipped_at,
                ..
            } => Some((*order_number, carrier.clone(), shipped_at.clone())),
            _ => None,
        })
        .expect("the scenario has a shipment to create");
    let other = cfg
        .raw
        .carriers
        .iter()
        .find(|c| c.centra_carrier != carrier)
        .expect("the sandbox maps more than one carrier");

    // A twin of the despatch the shipment was planned from: same order and moment, a later id,
    // another tracking number and another delivery method. It carries no lines, so the units to
    // ship stay the same.
    let orders = snap.dir.join("orderwise/orders.parquet");
    let despatches = snap.dir.join("orderwise/despatches.parquet");
    rewrite_parquet(
        &despatches,
        &format!(
            "SELECT * FROM t
             UNION ALL
             SELECT * REPLACE ((SELECT max(despatch_id) FROM t) + 1 AS despatch_id,
                               'TWIN-1' AS tracking_number,
                               '{method}' AS delivery_method)
             FROM (SELECT * FROM t
                   WHERE order_id IN (SELECT order_id FROM read_parquet('{orders}')
                                      WHERE external_ref_key = '{number}')
                     AND strftime(despatched_at, '%Y-%m-%dT%H:%M:%S+00:00') = '{shipped_at}'
                   ORDER BY despatch_id DESC LIMIT 1)",
            method = other.orderwise_delivery_method.replace('\'', "''"),
            orders = orders.to_string_lossy().replace('\'', "''"),
        ),
    );
    list_in_manifest(&snap.dir, "orderwise/despatches.parquet");
    for _ in 0..2 {
        let plan = tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 1 }).unwrap();
        let planned = plan
            .actions
            .iter()
            .find_map(|a| match a {
                Action::CreateShipment {
                    order_number,
                    tracking_number,
                    carrier,
                    service,
                    shipped_at: at,
                    ..
                } if *order_number == number => Some((
                    tracking_number.clone(),
                    carrier.clone(),
                    service.clone(),
                    at.clone(),
                )),
                _ => None,
            })
            .expect("the order still gets its shipment");
        assert_eq!(
            planned,
            (
                Some("TWIN-1".to_string()),
                other.centra_carrier.clone(),
                other.centra_service.clone(),
                shipped_at.clone()
            ),
            "order {number}"
        );
    }
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_acts_only_on_what_reconcile_reported_and_never_posts_a_missing_total() {
    let tmp = tempfile::tempdir().unwrap();
    let (sb, cfg, snap, plan) = planned_world(tmp.path()).await;
    let fixes = |plan: &tally::plan::Plan| -> BTreeMap<String, &'static str> {
        plan.actions
            .iter()
            .flat_map(|a| a.fixes().iter().map(move |f| (f.clone(), a.kind())))
            .collect()
    };
    let before = fixes(&plan);
    // One posted order and one pushed stock figure, chosen from the plan.
    let posted = plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::PostOrder { order_number, .. } => Some(*order_number),
            _ => None,
        })
        .expect("the scenario has an order to post");
    let pushed = before
        .iter()
        .find(|(f, kind)| **kind == "push_stock" && f.starts_with("stock.oversell_risk:"))
        .map(|(f, _)| f.clone())
        .expect("the scenario has an oversell to push");

    // Take both exceptions out of what reconcile reported: their actions go, the rest stay.
    let exceptions = snap.dir.join(tally::reconcile::EXCEPTIONS_PARQUET);
    let pushed_key = pushed
        .trim_start_matches("stock.oversell_risk:")
        .replace('\'', "''");
    rewrite_parquet(
        &exceptions,
        &format!(
            "SELECT * FROM t WHERE NOT (\"check\" = 'order.missing_in_orderwise' AND order_number = '{posted}')
                               AND NOT (\"check\" = 'stock.oversell_risk' AND key = '{pushed_key}')"
        ),
    );
    let after = fixes(&tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 1 }).unwrap());
    let gone: Vec<&String> = before.keys().filter(|f| !after.contains_key(*f)).collect();
    assert_eq!(
        gone,
        vec![&format!("order.missing_in_orderwise:{posted}"), &pushed],
        "exactly the two removed exceptions lose their actions"
    );
    assert!(after.keys().all(|f| before.contains_key(f)));

    // A Centra total the snapshot lacks is never posted as 0: the order waits for a person, named.
    tally::reconcile::run(&snap.dir, &cfg).unwrap();
    let orders = snap.dir.join("centra/orders.parquet");
    rewrite_parquet(
        &orders,
        &format!(
            "SELECT * REPLACE (CASE WHEN number = {posted} THEN NULL ELSE gross END AS gross) FROM t"
        ),
    );
    // The snapshot as another writer might have produced it: the manifest lists the new file.
    list_in_manifest(&snap.dir, "centra/orders.parquet");
    let plan = tally::plan::build(&snap.dir, &cfg, &Options { stock_batch: 1 }).unwrap();
    assert!(
        !plan.actions.iter().any(
            |a| matches!(a, Action::PostOrder { order_number, .. } if *order_number == posted)
        ),
        "order {posted} was posted without its total"
    );
    let reason = plan
        .actions
        .iter()
        .find_map(|a| match a {
            Action::NoAction { fixes, reason }
                if fixes.contains(&format!("order.missing_in_orderwise:{posted}")) =>
            {
                Some(reason.clone())
            }
            _ => None,
        })
        .expect("the order gets a no_action");
    assert!(
        reason.contains(&format!("order {posted}")) && reason.contains("gross total is missing"),
        "{reason}"
    );
    sb.stop().await;
}
