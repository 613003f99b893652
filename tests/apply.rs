//! `tally apply` end to end against the sandbox: what the plan fixes is gone after a second
//! extraction, nothing else changes, and a lost response is never written twice.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use tally::apply::Options;

async fn exceptions_after_extract(
    sb: &tally::sandbox::Sandbox,
    cfg: &tally::config::Config,
    secrets: &tally::config::Secrets,
    dir: &std::path::Path,
) -> (std::path::PathBuf, BTreeSet<String>) {
    let snap = common::snapshot(sb, cfg, secrets, dir).await;
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
    let (snap, before) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("1")).await;
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
    let (_, after) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("2")).await;
    let still: Vec<&String> = fixed.iter().filter(|f| after.contains(*f)).collect();
    assert!(
        still.is_empty(),
        "seed {seed}: still there after apply: {still:?}"
    );
    let changed = changed_besides_the_plan(&plan, &fixed, &before, &after);
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

/// The exceptions that changed between `before` and `after` other than those the plan fixed and
/// those applying it moves by the rules: month totals the posted orders are part of, and the stock
/// of the SKUs they hold (OrderWise allocates a posted order's units, so a SKU short in OrderWise
/// can go negative there, and its Centra comparison move, once its orders arrive; whether it does
/// depends on the generated world, so both apply tests must allow it).
fn changed_besides_the_plan(
    plan: &tally::plan::Plan,
    fixed: &BTreeSet<String>,
    before: &BTreeSet<String>,
    after: &BTreeSet<String>,
) -> Vec<String> {
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
    expected_after
        .symmetric_difference(&after.iter().collect())
        .filter(|e| !e.starts_with("finance.period_mismatch:") && !moved_by_posting(e))
        .map(|e| e.to_string())
        .collect()
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

/// When to stop a `tally apply` process.
#[derive(Clone, Copy)]
enum KillAt {
    /// Once the sandbox has served this many more requests (Centra and OrderWise) since the start:
    /// a point counted in work done, so it lands mid-run on a fast machine and a slow one alike.
    Requests(u64),
    /// Never: let it finish.
    Never,
}

fn requests_served(shared: &tally::sandbox::Shared) -> u64 {
    shared.stats.centra_requests.load(Ordering::Relaxed)
        + shared.stats.orderwise_requests.load(Ordering::Relaxed)
}

/// Runs `tally apply --execute` as a process and kills it at `kill`; true if it finished first.
fn apply_killed_at(
    plan: &std::path::Path,
    config: &std::path::Path,
    shared: &tally::sandbox::Shared,
    kill: KillAt,
) -> bool {
    let mut child = common::tally_for_sandbox()
        .args(["apply", "--execute", "--config"])
        .arg(config)
        .arg(plan)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = requests_served(shared);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.success();
        }
        if let KillAt::Requests(n) = kill
            && requests_served(shared) - start >= n
        {
            child.kill().unwrap();
            child.wait().unwrap();
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
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
    let (snap, before) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("1")).await;
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
    let keys: Vec<String> = plan
        .actions
        .iter()
        .filter_map(|a| a.key().map(String::from))
        .collect();
    let (plan2, config2, shared) = (plan_path.clone(), config_path.clone(), sb.shared.clone());
    let kills = tokio::task::spawn_blocking(move || {
        let journal = tally::apply::journal_path(&plan2);
        let mut kills = 0;
        for _ in 0..20 {
            let log = tally::apply::Journal::read(&journal);
            let remaining = keys.iter().filter(|k| !log.is_done(k)).count() as u64;
            if remaining == 0 {
                break;
            }
            // A run reads Centra's rate limits, then re-reads every remaining target before
            // writing it: at least `remaining + 1` requests. Killing at or before `remaining`
            // requests always lands mid-run, however fast the machine.
            let at = KillAt::Requests(rng.random_range(1..=remaining.min(8)));
            assert!(
                !apply_killed_at(&plan2, &config2, &shared, at),
                "a run with {remaining} actions left finished before its kill point"
            );
            kills += 1;
        }
        // Then let it finish; lost responses may need a run or two more.
        for _ in 0..5 {
            if apply_killed_at(&plan2, &config2, &shared, KillAt::Never) {
                break;
            }
        }
        kills
    })
    .await
    .unwrap();
    assert!(kills >= 10, "only {kills} runs were interrupted");
    let (_, after) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("2")).await;
    let still: Vec<&String> = fixed.iter().filter(|f| after.contains(*f)).collect();
    assert!(still.is_empty(), "lost: {still:?}");
    let changed = changed_besides_the_plan(&plan, &fixed, &before, &after);
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
    let (snap, _) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("1")).await;
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
    let (snap, _) = exceptions_after_extract(&sb, &cfg, &secrets, &tmp.path().join("1")).await;
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
