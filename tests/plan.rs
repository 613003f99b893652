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
    let snap = common::extract(&cfg, &secrets, tmp.path(), common::quick_retry())
        .await
        .unwrap();
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
