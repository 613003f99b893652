//! The whole pipeline against the sandbox on loopback: extract with faults injected, reconcile, and
//! compare the exceptions with the scenario's ground truth, check by check.

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use chrono::Datelike;

use tally::sandbox::Expected;

/// Expected and actual per check, printed one per line when they differ.
fn by_check(items: &[Expected]) -> BTreeMap<String, Vec<String>> {
    let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in items {
        m.entry(e.check.clone()).or_default().push(e.key.clone());
    }
    m
}

async fn pipeline_matches_truth(seed: u64, orders: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(seed, orders), 0.15, seed).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let snap = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let faults = sb.shared.stats.faults.load(Ordering::Relaxed);
    assert!(faults > 0, "seed {seed}: the fault path did not run");
    assert_eq!(common::orphan_shipment_lines(&snap.dir), 0, "seed {seed}");
    let outcome = tally::reconcile::run(&snap.dir, &cfg).unwrap();
    let found = tally::reconcile::read_exceptions(&snap.dir).unwrap();
    assert_eq!(outcome.summary.total as usize, found.len());
    let truth = sb.truth();
    let (missed, extra) = tally::demo::compare(&truth, &found);
    assert!(
        missed.is_empty() && extra.is_empty(),
        "seed {seed}, {orders} orders:\nmissed:\n{:#?}\nextra:\n{:#?}",
        by_check(&missed),
        by_check(&extra)
    );
    // The calendar's traps ran: an order at 23:30 UTC on a summer month's last day (already the
    // next month in local time) in every world, and in the autumn worlds an OrderWise local time in
    // the hour that happens twice, read and counted as a warning.
    let world = sb.shared.world.read().unwrap().clone();
    assert!(
        world.orders.iter().any(|o| {
            let t = o.created_at;
            t.format("%H:%M").to_string() == "23:30" && (t + chrono::Duration::days(1)).day() == 1
        }),
        "seed {seed}: no order at 23:30 UTC on a month's last day"
    );
    if world.now.month() == 11 {
        assert!(
            snap.manifest
                .warnings
                .iter()
                .any(|w| w.contains("repeated hour when Europe/London clocks go back")),
            "seed {seed}: {:?}",
            snap.manifest.warnings
        );
    }
    // Every stock drift the sandbox injected is reported, as injected.
    for injected in &world.stock_injections {
        assert!(
            found
                .iter()
                .any(|e| e.check == injected.check && e.key == injected.key),
            "seed {seed}: injected {injected:?} not reported"
        );
    }
    // Every check of the catalogue has injected cases in the scenario.
    for check in tally::reconcile::checks().unwrap() {
        assert!(
            truth.iter().any(|e| e.check == check.name),
            "seed {seed}: no case of {}",
            check.name
        );
    }
    sb.stop().await;
}

/// One test per seed and size, so a failure names both.
macro_rules! truth_tests {
    ($($name:ident: $seed:expr, $orders:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            pipeline_matches_truth($seed, $orders).await;
        }
    )*};
}

truth_tests! {
    pipeline_seed_1_small_matches_truth: 1, 1500;
    pipeline_seed_2_small_matches_truth: 2, 1500;
    pipeline_seed_3_small_matches_truth: 3, 1500;
    pipeline_seed_4_small_matches_truth: 4, 1500;
    pipeline_seed_5_small_matches_truth: 5, 1500;
    pipeline_seed_1_large_matches_truth: 1, 8000;
    pipeline_seed_2_large_matches_truth: 2, 8000;
    pipeline_seed_3_large_matches_truth: 3, 8000;
    pipeline_seed_4_large_matches_truth: 4, 8000;
    pipeline_seed_5_large_matches_truth: 5, 8000;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_fail_on_high_exits_3_and_summary_counts_match() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(9, 800), 0.0, 9).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let snap = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let outcome = tally::reconcile::run(&snap.dir, &cfg).unwrap();
    assert_eq!(outcome.exit_code(Some(tally::reconcile::Severity::High)), 3);
    assert_eq!(outcome.exit_code(None), 0);
    let per_check: u64 = outcome.summary.checks.iter().map(|c| c.count).sum();
    assert_eq!(per_check, outcome.summary.total);
    assert_eq!(outcome.summary.compared.centra_orders, 800);
    for f in [
        "exceptions.parquet",
        "exceptions.csv",
        "summary.json",
        "period_orders.parquet",
    ] {
        assert!(snap.dir.join(f).is_file(), "{f}");
    }
    let csv = std::fs::read_to_string(snap.dir.join("exceptions.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        "check,entity,severity,owner,key,centra_value,orderwise_value,difference,amount,currency,detail,\
         market,occurred_at,order_number,ow_order_id,ow_order_number,sku,warehouse,location,period,\
         delivery_method,at_stake"
    );
    assert_eq!(csv.lines().count() as u64, outcome.summary.total + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_window_extracts_recent_changes_and_reconcile_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(13, 2000), 0.0, 13).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let since = sb.shared.clock.now() - chrono::Duration::days(3);
    let opts = tally::extract::Options {
        out: tmp.path().join("snapshots"),
        window: tally::snapshot::Window::Since { since },
        progress: false,
        retry: common::quick_retry(),
        clock: sb.shared.clock,
    };
    let snap = tally::extract::run(&cfg, &secrets, &opts).await.unwrap();
    let recent = sb
        .shared
        .world
        .read()
        .unwrap()
        .orders
        .iter()
        .filter(|o| o.updated_at >= since)
        .count() as u64;
    assert_eq!(snap.manifest.rows("centra/orders"), recent);
    assert!(recent > 0 && recent < 2000, "{recent}");
    let outcome = tally::reconcile::run(&snap.dir, &cfg).unwrap();
    assert!(
        outcome.summary.warnings[0].starts_with("this snapshot holds only"),
        "{:?}",
        outcome.summary.warnings
    );
    sb.stop().await;
}

/// A snapshot written in tiles (as `tally sandbox --write-snapshot` writes a large business) is
/// one business to reconcile: its exceptions equal the tiles' union truth exactly, the months
/// judged on the tiles' summed totals; the tiles' SKUs and order numbers never meet; and the
/// memory it needs does not grow with the number of tiles (it holds two at most; the scale bench
/// measures it).
#[test]
fn a_snapshot_written_in_tiles_reconciles_to_its_truth() {
    for seed in [6, 7] {
        let tmp = tempfile::tempdir().unwrap();
        let params = common::params(seed, 1500);
        let written =
            tally::sandbox::snapshot::write_in_tiles(&params, 500, &tmp.path().join("snapshots"))
                .unwrap();
        let cfg =
            tally::config::Config::check(written.config.clone(), &tmp.path().join("tally.toml"))
                .unwrap();
        tally::reconcile::run(&written.dir, &cfg).unwrap();
        let found = tally::reconcile::read_exceptions(&written.dir).unwrap();
        let (missed, extra) = tally::demo::compare(&written.truth, &found);
        assert!(
            missed.is_empty() && extra.is_empty(),
            "seed {seed}:\nmissed:\n{:#?}\nextra:\n{:#?}",
            by_check(&missed),
            by_check(&extra)
        );
        let snapshot = tally::snapshot::Snapshot::open(&written.dir).unwrap();
        assert_eq!(snapshot.manifest.rows("centra/orders"), 1500);
        assert_eq!(
            common::orphan_shipment_lines(&written.dir),
            0,
            "seed {seed}"
        );
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let counts = |file: &str, column: &str| -> (i64, i64) {
            conn.query_row(
                &format!(
                    "SELECT count(*), count(DISTINCT {column}) FROM read_parquet('{}')",
                    snapshot.file(file).display()
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        for (file, column) in [
            ("centra/orders", "number"),
            ("centra/products", "sku"),
            ("centra/order_lines", "line_id"),
            ("orderwise/orders", "order_id"),
            ("orderwise/order_lines", "line_id"),
            ("orderwise/variants", "sku"),
            ("orderwise/stock", "stock_id"),
        ] {
            let (rows, distinct) = counts(file, column);
            assert_eq!(
                rows, distinct,
                "seed {seed}: {file}.{column} repeats across tiles"
            );
        }
        // Three tiles' catalogues: three times one world's products.
        let one = common::world(seed, 500);
        assert_eq!(
            snapshot.manifest.rows("centra/markets"),
            one.markets.len() as u64,
            "markets are written once"
        );
        assert!(
            written.truth.iter().any(|e| e.key.contains("T002")),
            "the third tile's drift is in the truth"
        );
    }
}

/// A partial run (`reconcile::run_only`, what the scale bench measures) computes only the shared
/// tables its checks read: each family of checks run on its own finds exactly what it found in the
/// whole run, and a shared table it needed but skipped would have failed the run.
#[test]
fn a_family_of_checks_run_alone_finds_what_it_finds_in_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (written, cfg) = common::written(5, 1200, tmp.path());
    tally::reconcile::run(&written.dir, &cfg).unwrap();
    let all = tally::reconcile::read_exceptions(&written.dir).unwrap();
    for family in [
        "order.",
        "shipment.",
        "stock.",
        "product.",
        "finance.",
        "market.",
    ] {
        let whole = all.iter().filter(|e| e.check.starts_with(family)).count() as i64;
        assert!(whole > 0, "the world has no {family} exceptions to compare");
        let alone =
            tally::reconcile::run_only(&written.dir, &cfg, |c| c.name.starts_with(family)).unwrap();
        assert_eq!(alone, whole, "{family}");
    }
}

/// Reconcile writes the same files on every run of one snapshot, whatever the threads: DuckDB keeps
/// no insertion order here and may aggregate and join in any order, so every output is ordered in
/// full and every pick among tied rows is ranked to the end (`sku_names`, `sku_prices`,
/// `after/money_at_stake.sql`). Each file is compared byte for byte across a run on one thread and
/// two on eight. A world this small may hold no tie at all: the fixtures of those three test the
/// ties themselves.
#[test]
fn reconcile_writes_the_same_files_on_every_run() {
    use tally::reconcile::{EXCEPTIONS_CSV, EXCEPTIONS_PARQUET, PERIOD_ORDERS_PARQUET};
    let tmp = tempfile::tempdir().unwrap();
    let (written, mut cfg) = common::written(8, 3000, tmp.path());
    let mut runs = Vec::new();
    for threads in [1, 8, 8] {
        cfg.engine.threads = threads;
        tally::reconcile::run(&written.dir, &cfg).unwrap();
        let files = [EXCEPTIONS_CSV, EXCEPTIONS_PARQUET, PERIOD_ORDERS_PARQUET]
            .map(|f| std::fs::read(written.dir.join(f)).unwrap());
        assert!(files[0].len() > 1000, "the world has exceptions to write");
        runs.push((threads, files));
    }
    for (threads, files) in &runs[1..] {
        for (i, name) in [EXCEPTIONS_CSV, EXCEPTIONS_PARQUET, PERIOD_ORDERS_PARQUET]
            .iter()
            .enumerate()
        {
            assert!(
                files[i] == runs[0].1[i],
                "{name} on {threads} threads differs from the run on 1"
            );
        }
    }
}

/// The suspect orders tally finds in Rust (`suspect_orders`) are those the same checksums in SQL
/// find (`queries/portable/suspect_orders.sql`, what tally ran until stop 26, kept for other
/// engines): the same orders without a tracking number, and every order whose items differ. Rust
/// weighs a tracking number that is blank but not null, where the SQL counts it as missing, so it
/// may also find the items of an order without a number to differ; of no other order.
#[test]
fn the_suspect_orders_found_in_rust_are_those_the_sql_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let (written, cfg) = common::written(6, 3000, tmp.path());
    let snapshot = tally::snapshot::Snapshot::open(&written.dir).unwrap();
    let conn = tally::reconcile::session::open(&snapshot, &cfg).unwrap();
    let numbers = |flag: &str| -> std::collections::BTreeSet<i64> {
        let mut stmt = conn
            .prepare(&format!("SELECT number FROM suspect_orders WHERE {flag}"))
            .unwrap();
        stmt.query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let (rust_differs, rust_untracked) = (numbers("differs"), numbers("tracking_missing"));
    conn.execute_batch(include_str!("../queries/portable/suspect_orders.sql"))
        .unwrap();
    let (sql_differs, sql_untracked) = (numbers("differs"), numbers("tracking_missing"));
    assert!(
        sql_differs.len() > 20,
        "the world has orders whose items differ"
    );
    assert!(
        sql_untracked.len() > 5,
        "the world has orders without a tracking number"
    );
    assert_eq!(rust_untracked, sql_untracked);
    let missed: Vec<_> = sql_differs.difference(&rust_differs).collect();
    assert!(missed.is_empty(), "the Rust checksums missed {missed:?}");
    let beyond: Vec<_> = rust_differs
        .difference(&sql_differs)
        .filter(|n| !sql_untracked.contains(n))
        .collect();
    assert!(
        beyond.is_empty(),
        "the Rust checksums also found {beyond:?}"
    );
}
