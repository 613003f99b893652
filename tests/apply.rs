//! `tally apply` end to end against the sandbox: what the plan fixes is gone after a second
//! extraction, nothing else changes, and a lost response is never written twice.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use tally::apply::Options;

async fn exceptions_after_extract(
    cfg: &tally::config::Config,
    secrets: &tally::config::Secrets,
    dir: &std::path::Path,
) -> (std::path::PathBuf, BTreeSet<String>) {
    let snap = common::extract(cfg, secrets, dir, common::quick_retry())
        .await
        .unwrap();
    tally::reconcile::run(&snap.dir, cfg).unwrap();
    let found = tally::reconcile::read_exceptions(&snap.dir)
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}", e.check, e.key))
        .collect();
    (snap.dir, found)
}

async fn plan_apply_and_check(seed: u64, lost_write_rate: f64) {
    let tmp = tempfile::tempdir().unwrap();
    let behaviour = tally::sandbox::Behaviour {
        lost_write_rate,
        fault_seed: seed,
        ..Default::default()
    };
    let sb = tally::sandbox::serve(common::world(seed, 3000), behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let (snap, before) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("1")).await;
    let plan = tally::plan::build(&snap, &cfg, &Default::default()).unwrap();
    let plan_path = tmp.path().join("plan.jsonl");
    tally::plan::write(&plan, &plan_path).unwrap();
    let fixed: BTreeSet<String> = plan
        .actions
        .iter()
        .filter(|a| a.key().is_some())
        .flat_map(|a| a.fixes().to_vec())
        .collect();
    assert!(!fixed.is_empty());

    // A dry run sends nothing.
    let dry = Options {
        execute: false,
        batch_size: None,
        only: None,
        retry: common::quick_retry(),
    };
    let report = tally::apply::run(&plan_path, &cfg, &secrets, &dry)
        .await
        .unwrap();
    assert_eq!(
        report.outcomes.get("dry_run").copied(),
        Some(fixed_actions(&plan))
    );
    assert_eq!(sb.shared.stats.orders_posted.load(Ordering::Relaxed), 0);

    let run = Options {
        execute: true,
        ..dry
    };
    let posts_planned = plan
        .actions
        .iter()
        .filter(|a| a.kind() == "post_order")
        .count() as u64;
    assert!(
        posts_planned > 0,
        "seed {seed}: the scenario should have orders to post"
    );
    // Lost responses leave some actions failed for this run; the next run resolves them.
    for _ in 0..4 {
        let report = tally::apply::run(&plan_path, &cfg, &secrets, &run)
            .await
            .unwrap();
        if !report.outcomes.contains_key("failed") {
            break;
        }
    }
    let (_, after) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("2")).await;
    let still: Vec<&String> = fixed.iter().filter(|f| after.contains(*f)).collect();
    assert!(
        still.is_empty(),
        "seed {seed}: still there after apply: {still:?}"
    );
    // Nothing else changed, except month totals the posted orders were part of, and the stock of
    // the SKUs they hold: OrderWise allocates a posted order's units, so a SKU short in OrderWise
    // can go negative there (and its Centra comparison move) once its orders arrive.
    let posted_skus: BTreeSet<String> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            tally::plan::Action::PostOrder { lines, .. } => Some(lines),
            _ => None,
        })
        .flatten()
        .map(|l| l.variant_code.trim().to_lowercase())
        .collect();
    let moved_by_posting = |e: &str| {
        e.strip_prefix("stock.")
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(_, key)| key.rsplit_once('@'))
            .is_some_and(|(sku, _)| posted_skus.contains(&sku.trim().to_lowercase()))
    };
    let expected_after: BTreeSet<&String> = before.iter().filter(|e| !fixed.contains(*e)).collect();
    let changed: Vec<&String> = expected_after
        .symmetric_difference(&after.iter().collect())
        .copied()
        .filter(|e| !e.starts_with("finance.period_mismatch:") && !moved_by_posting(e))
        .collect();
    assert!(
        changed.is_empty(),
        "seed {seed}: apply changed other exceptions: {changed:?}"
    );
    // Each missing order was posted once: no OrderWise duplicates appeared.
    assert_eq!(
        sb.shared.stats.orders_posted.load(Ordering::Relaxed),
        posts_planned,
        "seed {seed}"
    );
    if lost_write_rate > 0.0 {
        assert!(
            sb.shared.stats.lost_writes.load(Ordering::Relaxed) > 0,
            "no response was lost"
        );
    }
    assert!(
        !after
            .iter()
            .any(|e| e.starts_with("order.duplicated_in_orderwise:") && !before.contains(e))
    );
    sb.stop().await;
}

fn fixed_actions(plan: &tally::plan::Plan) -> usize {
    plan.actions.iter().filter(|a| a.key().is_some()).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_fixes_what_the_plan_says_and_nothing_else() {
    plan_apply_and_check(31, 0.0).await;
    plan_apply_and_check(32, 0.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_responses_are_resolved_by_reading_not_by_writing_again() {
    plan_apply_and_check(33, 0.3).await;
}

/// Runs `tally apply --execute` as a process and kills it after `after`; true if it finished first.
fn apply_killed_after(
    plan: &std::path::Path,
    config: &std::path::Path,
    after: std::time::Duration,
) -> bool {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["apply", "--execute", "--config"])
        .arg(config)
        .arg(plan)
        .env(
            "TALLY_SANDBOX_CENTRA_TOKEN",
            tally::sandbox::server::CENTRA_TOKEN,
        )
        .env(
            "TALLY_SANDBOX_ORDERWISE_USER",
            tally::sandbox::server::ORDERWISE_USER,
        )
        .env(
            "TALLY_SANDBOX_ORDERWISE_PASSWORD",
            tally::sandbox::server::ORDERWISE_PASSWORD,
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if started.elapsed() >= after {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_at_random_points_finishes_without_duplicates_or_losses() {
    use rand::{Rng, SeedableRng};
    let tmp = tempfile::tempdir().unwrap();
    // A plan of 60 writes per 10 s (paced to 48), so a run takes seconds and kills land mid-way.
    let behaviour = tally::sandbox::Behaviour {
        lost_write_rate: 0.1,
        fault_seed: 41,
        plan: tally::sandbox::RatePlan {
            requests: 600,
            mutations: 60,
        },
        ..Default::default()
    };
    let sb = tally::sandbox::serve(common::world(41, 3000), behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let config_path = tmp.path().join("tally.toml");
    std::fs::write(&config_path, cfg.raw.to_toml()).unwrap();
    let (snap, before) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("1")).await;
    let plan = tally::plan::build(&snap, &cfg, &tally::plan::Options { stock_batch: 3 }).unwrap();
    let plan_path = tmp.path().join("plan.jsonl");
    tally::plan::write(&plan, &plan_path).unwrap();
    let fixed: BTreeSet<String> = plan
        .actions
        .iter()
        .filter(|a| a.key().is_some())
        .flat_map(|a| a.fixes().to_vec())
        .collect();
    let posts_planned = plan
        .actions
        .iter()
        .filter(|a| a.kind() == "post_order")
        .count() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(41);
    let (plan2, config2) = (plan_path.clone(), config_path.clone());
    let kills = tokio::task::spawn_blocking(move || {
        let mut kills = 0;
        for _ in 0..20 {
            let after = std::time::Duration::from_millis(rng.random_range(50..600));
            if !apply_killed_after(&plan2, &config2, after) {
                kills += 1;
            }
        }
        // Then let it finish; lost responses may need a run or two more.
        for _ in 0..5 {
            if apply_killed_after(&plan2, &config2, std::time::Duration::from_secs(120)) {
                break;
            }
        }
        kills
    })
    .await
    .unwrap();
    assert!(kills >= 15, "only {kills} of 20 runs were interrupted");
    let (_, after) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("2")).await;
    let still: Vec<&String> = fixed.iter().filter(|f| after.contains(*f)).collect();
    assert!(still.is_empty(), "lost: {still:?}");
    let expected_after: BTreeSet<&String> = before.iter().filter(|e| !fixed.contains(*e)).collect();
    let changed: Vec<&String> = expected_after
        .symmetric_difference(&after.iter().collect())
        .copied()
        .filter(|e| !e.starts_with("finance.period_mismatch:"))
        .collect();
    assert!(changed.is_empty(), "duplicated or changed: {changed:?}");
    assert_eq!(
        sb.shared.stats.orders_posted.load(Ordering::Relaxed),
        posts_planned,
        "each order posted exactly once"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_within_the_default_mutation_budget_is_not_throttled() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = tally::sandbox::serve(common::world(51, 600), Default::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let (snap, _) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("1")).await;
    let plan = tally::plan::build(&snap, &cfg, &tally::plan::Options { stock_batch: 2 }).unwrap();
    let plan_path = tmp.path().join("plan.jsonl");
    tally::plan::write(&plan, &plan_path).unwrap();
    // Now the tenant is on Centra's default plan: 20 mutations and 60 requests per 10 s.
    sb.shared.set_plan(tally::sandbox::RatePlan::DEFAULT);
    let opts = Options {
        execute: true,
        batch_size: None,
        only: None,
        retry: common::quick_retry(),
    };
    let throttled_before = sb.shared.stats.throttled.load(Ordering::Relaxed);
    let report = tally::apply::run(&plan_path, &cfg, &secrets, &opts)
        .await
        .unwrap();
    assert!(
        !report.outcomes.contains_key("failed"),
        "{:?}",
        report.lines
    );
    let applied = report.outcomes.get("applied").copied().unwrap_or(0);
    assert!(applied >= 5, "{:?}", report.outcomes);
    let throttled = sb.shared.stats.throttled.load(Ordering::Relaxed) - throttled_before;
    assert!(throttled <= 2, "{throttled} requests were throttled");
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing_and_batch_size_and_only_limit_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = tally::sandbox::serve(common::world(61, 1500), Default::default(), "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let (snap, _) = exceptions_after_extract(&cfg, &secrets, &tmp.path().join("1")).await;
    let plan = tally::plan::build(&snap, &cfg, &tally::plan::Options { stock_batch: 2 }).unwrap();
    let plan_path = tmp.path().join("plan.jsonl");
    tally::plan::write(&plan, &plan_path).unwrap();
    let dry = Options {
        execute: false,
        batch_size: None,
        only: None,
        retry: common::quick_retry(),
    };
    tally::apply::run(&plan_path, &cfg, &secrets, &dry)
        .await
        .unwrap();
    assert!(
        !tally::apply::journal_path(&plan_path).exists(),
        "a dry run created the journal"
    );
    // Two stock actions only, then the rest of the stock actions.
    let step = Options {
        execute: true,
        batch_size: Some(2),
        only: Some("push_stock".into()),
        retry: common::quick_retry(),
    };
    let first = tally::apply::run(&plan_path, &cfg, &secrets, &step)
        .await
        .unwrap();
    assert_eq!(
        first.outcomes.values().sum::<usize>(),
        2,
        "{:?}",
        first.lines
    );
    assert!(
        first.lines.iter().all(|l| l.contains("changeStock")),
        "{:?}",
        first.lines
    );
    assert_eq!(sb.shared.stats.orders_posted.load(Ordering::Relaxed), 0);
    let rest = Options {
        batch_size: None,
        ..step
    };
    let second = tally::apply::run(&plan_path, &cfg, &secrets, &rest)
        .await
        .unwrap();
    let stock_actions = plan
        .actions
        .iter()
        .filter(|a| a.kind() == "push_stock")
        .count();
    assert_eq!(
        second.outcomes.values().sum::<usize>(),
        stock_actions - 2,
        "journalled actions ran again"
    );
    sb.stop().await;
}
