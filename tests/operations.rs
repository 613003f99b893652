//! Scheduled runs against the sandbox: incremental refresh, the history's statuses, acceptances,
//! alerts through the outbox, failed runs, the store's lock, crashes during the history update,
//! and `tally watch` stopping on a signal.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use tally::alerts::Digest;
use tally::config::Config;
use tally::config::operations::{RawAlerts, RawRun, RawStore};
use tally::history::{Acceptance, Filter, History};
use tally::model::DATASETS;
use tally::run::{Cycle, Report, cycle};
use tally::sandbox::{Sandbox, live};
use tally::store::{Store, StoreLock};

const WEBHOOK_ENV: &str = "TALLY_TEST_WEBHOOK";

/// The sandbox's configuration with a store in `dir`, `fail_on = "high"`, and alerts when given.
fn ops_config(sb: &Sandbox, dir: &Path, alerts: Option<RawAlerts>) -> Config {
    let mut raw = sb.config();
    raw.store = Some(RawStore {
        dir: dir.join("store").to_string_lossy().into_owned(),
        ..RawStore::default()
    });
    raw.alerts = alerts;
    raw.run = Some(RawRun {
        fail_on: Some("high".into()),
    });
    let path = dir.join("tally.toml");
    std::fs::write(&path, raw.to_toml()).unwrap();
    Config::check(raw, &path).unwrap()
}

fn run_cycle<'a>(
    clock: tally::clock::Clock,
    cfg: &'a Config,
    env: &'a dyn Fn(&str) -> Option<String>,
) -> Cycle<'a> {
    Cycle {
        cfg,
        env,
        clock,
        retry: common::quick_retry(),
        progress: false,
        full: false,
    }
}

async fn ok(c: &Cycle<'_>) -> Report {
    let r = cycle(c, None).await.expect("the cycle runs");
    assert_eq!(r.outcome, "ok", "{:?}", r.lines);
    r
}

fn history(cfg: &Config) -> History {
    History::open(&cfg.operations.store.dir.join("history.duckdb")).unwrap()
}

fn rows(dir: &Path, dataset: &str) -> i64 {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.query_row(
        &format!(
            "SELECT count(*) FROM read_parquet('{}')",
            dir.join(format!("{dataset}.parquet")).display()
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_refresh_equals_a_full_extraction_after_live_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(7, 1500), 0.0, 7).await;
    let cfg = ops_config(&sb, tmp.path(), None);
    let env = sb.env();
    let c = run_cycle(sb.shared.clock, &cfg, &env);
    let first = ok(&c).await;
    assert!(
        first.lines[0].starts_with("refresh: full (no complete snapshot"),
        "{:?}",
        first.lines
    );
    let base = first.snapshot.clone().unwrap();

    let kinds: BTreeSet<&str> = live::apply(&sb.shared, |w, state, now| {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..120 {
            live::step(w, state, now, &mut rng);
        }
        state.log.iter().map(|c| c.kind).collect()
    });
    assert_eq!(
        kinds,
        BTreeSet::from([
            "cancel",
            "despatch",
            "drift",
            "fix",
            "new_order",
            "stock_move"
        ]),
        "every kind of live change happened"
    );
    let new_orders = sb
        .shared
        .live
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|c| c.kind == "new_order")
        .count();

    let second = ok(&c).await;
    assert!(
        second.lines[0].starts_with("refresh: incremental"),
        "{:?}",
        second.lines
    );
    let merged = second.snapshot.clone().unwrap();
    let manifest = tally::snapshot::Snapshot::open(&merged).unwrap().manifest;
    let refresh = manifest
        .refresh
        .clone()
        .expect("the manifest names its base");
    assert_eq!(
        refresh.base,
        tally::snapshot::Snapshot::open(&base)
            .unwrap()
            .manifest
            .snapshot_id
    );
    assert_eq!(
        manifest.window,
        tally::snapshot::Window::Full,
        "a merged snapshot is complete"
    );
    assert_eq!(common::orphan_shipment_lines(&merged), 0);

    let (_, secrets) = common::config(&sb, tmp.path());
    let full = common::snapshot(&sb, &cfg, &secrets, &tmp.path().join("full")).await;
    for dataset in DATASETS {
        let (only_merged, only_full, same_types) = common::differences(&merged, &full.dir, dataset);
        assert_eq!((only_merged, only_full), (0, 0), "{dataset}: rows differ");
        assert!(same_types, "{dataset}: column names or types differ");
        assert_eq!(
            manifest.rows(dataset),
            full.manifest.rows(dataset),
            "{dataset}: manifest row counts"
        );
    }
    assert_eq!(
        rows(&merged, "centra/orders"),
        rows(&base, "centra/orders") + new_orders as i64,
        "the new orders are in the merged snapshot"
    );
    assert!(
        !tmp.path().join("store/.refresh").exists(),
        "the changes were merged and removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_follows_each_exception_from_new_to_resolved_reopened_and_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let world = common::world(8, 1200);
    let truth = world.truth.clone();
    let clean = live::clean_orders(&world, 1, 8);
    let sb = common::serve(world, 0.0, 8).await;
    let cfg = ops_config(&sb, tmp.path(), None);
    let env = sb.env();
    let c = run_cycle(sb.shared.clock, &cfg, &env);

    let first = ok(&c).await;
    let r = first.result.clone().unwrap();
    assert_eq!((r.new, r.resolved), (truth.len() as u64, 0));
    let h = history(&cfg);
    let all = h.entries(&Filter::default()).unwrap();
    let seen: BTreeSet<(String, String)> = all
        .iter()
        .map(|e| (e.check.clone(), e.key.clone()))
        .collect();
    let expected: BTreeSet<(String, String)> = truth
        .iter()
        .map(|e| (e.check.clone(), e.key.clone()))
        .collect();
    assert_eq!(
        seen, expected,
        "the history holds exactly the exceptions reconcile found"
    );
    assert!(all.iter().all(|e| e.status == "new"));
    let highs = all
        .iter()
        .filter(|e| e.severity.as_deref() == Some("high"))
        .count() as u64;
    assert_eq!(r.failing, highs);
    assert_eq!(first.exit_code(), if highs > 0 { 3 } else { 0 });
    let first_seen = all[0].first_seen;
    drop(h);

    let second = ok(&c).await;
    let r = second.result.clone().unwrap();
    assert_eq!(
        (r.new, r.reopened, r.resolved, r.open),
        (0, 0, 0, truth.len() as u64)
    );
    let h = history(&cfg);
    assert!(
        h.entries(&Filter::default())
            .unwrap()
            .iter()
            .all(|e| e.status == "open")
    );

    // Accept one generated total mismatch (until its values change) and one other exception
    // through yesterday: the first stays accepted, the second comes back on the next run.
    let accepted = truth
        .iter()
        .find(|e| e.check == "order.total_mismatch")
        .unwrap()
        .clone();
    let lapsing = truth
        .iter()
        .find(|e| e.check != "order.total_mismatch" && e.check.starts_with("order."))
        .unwrap()
        .clone();
    let now = sb.shared.clock.now();
    let acceptance = |until| Acceptance {
        by: "ops-lead".into(),
        at: now,
        reason: "known: the ERP rounds this client's totals".into(),
        until,
    };
    h.accept(&accepted.check, &accepted.key, &acceptance(None))
        .unwrap();
    h.accept(
        &lapsing.check,
        &lapsing.key,
        &acceptance(Some((now - chrono::Duration::days(1)).date_naive())),
    )
    .unwrap();
    drop(h);

    // Fresh drift on a clean order.
    let fresh = clean[0];
    live::apply(&sb.shared, |w, state, now| {
        live::drift_total(w, state, fresh, Decimal::new(500, 2), now).unwrap();
    });
    let third = ok(&c).await;
    let r = third.result.clone().unwrap();
    let h = history(&cfg);
    let fresh_key = fresh.to_string();
    assert_eq!(entry(&h, "order.total_mismatch", &fresh_key).status, "new");
    assert_eq!(entry(&h, &accepted.check, &accepted.key).status, "accepted");
    assert_eq!(
        entry(&h, &lapsing.check, &lapsing.key).status,
        "reopened",
        "its date passed"
    );
    assert_eq!(
        entry(&h, &accepted.check, &accepted.key).first_seen,
        first_seen
    );
    assert_eq!(r.accepted, 1);
    let highs_open = h
        .entries(&Filter {
            status: Some("open".into()),
            ..Filter::default()
        })
        .unwrap()
        .iter()
        .filter(|e| e.severity.as_deref() == Some("high"))
        .count() as u64;
    assert_eq!(
        r.failing, highs_open,
        "accepted exceptions never count toward the exit status"
    );

    // The snapshot's exceptions carry status and first_seen.
    let snap = third.snapshot.clone().unwrap();
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let (st, seen_ms): (String, i64) = conn
        .query_row(
            &format!(
                "SELECT status, epoch_us(first_seen) FROM read_parquet('{}') WHERE \"check\" = ? AND key = ?",
                snap.join("exceptions.parquet").display()
            ),
            [&accepted.check, &accepted.key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (st.as_str(), seen_ms),
        ("accepted", first_seen.timestamp_micros())
    );
    let csv = std::fs::read_to_string(snap.join("exceptions.csv")).unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",status,first_seen"),
        "{}",
        csv.lines().next().unwrap()
    );
    drop(h);

    // The queue knows time: status per row, the accepted one apart, the trend over the runs.
    let page = queue_page(&snap);
    let rows = attributes(&page, "data-exception");
    assert_eq!(rows.len() as u64, r.open, "every open exception once");
    assert!(!rows.contains(&format!("{} {}", accepted.check, accepted.key)));
    assert_eq!(
        attributes(&page, "data-accepted"),
        vec![format!("{} {}", accepted.check, accepted.key)]
    );
    let statuses: std::collections::BTreeMap<String, String> = rows
        .into_iter()
        .zip(attributes(&page, "data-status"))
        .collect();
    assert_eq!(
        statuses[&format!("order.total_mismatch {fresh_key}")],
        "new"
    );
    assert_eq!(
        statuses[&format!("{} {}", lapsing.check, lapsing.key)],
        "reopened"
    );
    assert!(page.contains("Open exceptions per check over the last runs"));
    let pdf = {
        use tally::report::{self, Format, Input, Kind, Options};
        let input = Input::read(&snap).unwrap();
        report::render(&input, Kind::Exceptions, Format::Pdf, &Options::default()).unwrap()
    };
    let text = pdf_extract::extract_text_from_mem(&pdf).unwrap();
    for words in [
        "new since the last run",
        "accepted, listed apart",
        &fresh_key,
    ] {
        assert!(text.contains(words), "{words:?} in the PDF");
    }

    // The accepted one's values change: it is back. The fresh drift is fixed: resolved.
    live::apply(&sb.shared, |w, state, now| {
        let n: i64 = accepted.key.parse().unwrap();
        live::drift_total(w, state, n, Decimal::new(37, 2), now).unwrap();
        live::fix_total(w, state, fresh, now).unwrap();
    });
    let fourth = ok(&c).await;
    assert!(fourth.result.as_ref().unwrap().resolved >= 1);
    let h = history(&cfg);
    assert_eq!(
        entry(&h, &accepted.check, &accepted.key).status,
        "reopened",
        "values changed"
    );
    let gone = entry(&h, "order.total_mismatch", &fresh_key);
    assert_eq!(gone.status, "resolved");
    assert!(gone.resolved_at.is_some());
    drop(h);
    let page = queue_page(fourth.snapshot.as_ref().unwrap());
    assert!(
        attributes(&page, "data-resolved").contains(&format!("order.total_mismatch {fresh_key}")),
        "the queue lists what the run resolved"
    );

    // Drifted again: reopened, first seen kept.
    live::apply(&sb.shared, |w, state, now| {
        live::drift_total(w, state, fresh, Decimal::new(700, 2), now).unwrap();
    });
    ok(&c).await;
    let h = history(&cfg);
    let back = entry(&h, "order.total_mismatch", &fresh_key);
    assert_eq!(
        (back.status.as_str(), back.first_seen),
        ("reopened", gone.first_seen)
    );
    assert_eq!(h.runs(10).unwrap().len(), 5);
    drop(h);

    // The command line reads the same history.
    let out = common::tally_for_sandbox()
        .args(["history", "--config"])
        .arg(tmp.path().join("tally.toml"))
        .args(["--json", "--status", "reopened"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["key"] == fresh_key.as_str() && l["status"] == "reopened")
    );
    for l in &lines {
        for field in [
            "check",
            "key",
            "status",
            "first_seen",
            "last_seen",
            "resolved_at",
            "accepted_reason",
        ] {
            assert!(l.get(field).is_some(), "{field} in {l}");
        }
    }
}

/// One exception's life in the history.
fn entry(h: &History, check: &str, key: &str) -> tally::history::Entry {
    h.entries(&Filter {
        check: Some(check.into()),
        key: Some(key.into()),
        status: None,
    })
    .unwrap()
    .pop()
    .unwrap_or_else(|| panic!("{check} {key} is in the history"))
}

/// The exception queue of a snapshot in the store, as HTML.
fn queue_page(snapshot: &Path) -> String {
    use tally::report::{self, Format, Input, Kind, Options};
    let input = Input::read(snapshot).unwrap();
    assert!(
        input.timeline.is_some(),
        "a snapshot in a store with a history has a timeline"
    );
    String::from_utf8(
        report::render(&input, Kind::Exceptions, Format::Html, &Options::default()).unwrap(),
    )
    .unwrap()
}

/// The values of an HTML attribute, in page order.
fn attributes(page: &str, name: &str) -> Vec<String> {
    let needle = format!("{name}=\"");
    page.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &page[i + needle.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

/// A webhook receiver that refuses the first `fail` posts with HTTP 500, then records bodies.
async fn receiver(fail: Arc<AtomicUsize>, got: Arc<Mutex<Vec<String>>>) -> String {
    use axum::routing::post;
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let fail = fail.clone();
            let got = got.clone();
            async move {
                if fail.load(Ordering::SeqCst) > 0 {
                    fail.fetch_sub(1, Ordering::SeqCst);
                    return axum::http::StatusCode::INTERNAL_SERVER_ERROR;
                }
                got.lock().unwrap().push(body);
                axum::http::StatusCode::OK
            }
        }),
    );
    let (addr, _) = common::serve_router(app).await;
    format!("http://{addr}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_wait_in_the_outbox_until_the_receiver_recovers_and_are_never_sent_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(10, 1000), 0.0, 10).await;
    let mut cfg = ops_config(
        &sb,
        tmp.path(),
        Some(RawAlerts {
            webhook_env: WEBHOOK_ENV.into(),
            format: "json".into(),
            min_severity: "low".into(),
            failed_runs: 2,
        }),
    );
    cfg.operations.escalation = [("finance".to_string(), 0)].into();
    let fail = Arc::new(AtomicUsize::new(usize::MAX / 2));
    let got = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(fail.clone(), got.clone()).await;
    // First nothing listens; then the receiver fails; then it recovers.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let url = Arc::new(Mutex::new(closed));
    let sb_env = sb.env();
    let env = {
        let url = url.clone();
        move |v: &str| {
            if v == WEBHOOK_ENV {
                Some(url.lock().unwrap().clone())
            } else {
                sb_env(v)
            }
        }
    };
    let c = run_cycle(sb.shared.clock, &cfg, &env);

    let first = ok(&c).await;
    let queued = first.result.as_ref().unwrap().digests.clone();
    let owners: BTreeSet<&str> = queued.iter().map(|d| d.owner.as_str()).collect();
    assert!(owners.len() >= 3, "one digest per owner: {owners:?}");
    assert!(first.delivery.delivered.is_empty());
    assert_eq!(first.delivery.failed.len(), queued.len());
    assert!(
        first.delivery.failed[0].1.contains("cannot connect"),
        "{:?}",
        first.delivery.failed
    );
    assert!(
        first
            .lines
            .iter()
            .any(|l| l.contains("stay queued for the next run"))
    );
    let finance = queued.iter().find(|d| d.owner == "finance").unwrap();
    assert_eq!(
        finance.escalated.len(),
        finance.new.len(),
        "0 hours: every open one escalates"
    );
    let ops = queued.iter().find(|d| d.owner == "operations").unwrap();
    assert!(
        ops.escalated.is_empty(),
        "no escalation hours for operations"
    );
    // Each digest's money at stake is its owner's share of the snapshot's headline.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = first.snapshot.as_ref().unwrap().join("exceptions.parquet");
    for d in &queued {
        assert!(d.new.iter().all(|a| a.owner == d.owner));
        let mut stmt = conn
            .prepare(&format!(
                "SELECT currency, CAST(sum(at_stake) AS VARCHAR) FROM read_parquet('{}')
                 WHERE owner = ? AND at_stake IS NOT NULL GROUP BY currency",
                file.display()
            ))
            .unwrap();
        let expected: std::collections::BTreeMap<String, Decimal> = stmt
            .query_map([&d.owner], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .unwrap()
            .map(|r| {
                let (c, a) = r.unwrap();
                (c, a.parse().unwrap())
            })
            .collect();
        assert_eq!(d.money_at_stake, expected, "{}", d.owner);
    }

    *url.lock().unwrap() = hook.clone();
    let second = ok(&c).await;
    assert!(
        second.result.as_ref().unwrap().digests.is_empty(),
        "nothing new, nothing escalated again"
    );
    assert_eq!(
        second.delivery.failed.len(),
        queued.len(),
        "HTTP 500: still queued"
    );
    assert!(second.delivery.failed[0].1.contains("HTTP 500"));

    fail.store(0, Ordering::SeqCst);
    let third = ok(&c).await;
    assert_eq!(third.delivery.delivered.len(), queued.len());
    let fourth = ok(&c).await;
    assert!(fourth.delivery.delivered.is_empty() && fourth.delivery.failed.is_empty());

    let bodies = got.lock().unwrap().clone();
    assert_eq!(
        bodies.len(),
        queued.len(),
        "each digest delivered exactly once"
    );
    let received: Vec<Digest> = bodies
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    let ids: BTreeSet<&str> = received.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), received.len());
    for d in &received {
        let original = queued.iter().find(|q| q.id == d.id).unwrap();
        assert_eq!(d, original, "the posted digest is the one queued");
        let raw: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        for field in [
            "id",
            "run",
            "owner",
            "new",
            "escalated",
            "resolved",
            "money_at_stake",
        ] {
            assert!(raw.get(field).is_some(), "{field}");
        }
    }
    let outbox = history(&cfg).outbox().unwrap();
    assert!(
        outbox
            .iter()
            .all(|(_, attempts, delivered)| *delivered && *attempts == 3),
        "{outbox:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_runs_resolve_nothing_and_alert_once_when_they_repeat() {
    let tmp = tempfile::tempdir().unwrap();
    let world = common::world(12, 600);
    let truth = world.truth.len();
    let sb = common::serve(world, 0.0, 12).await;
    let cfg = ops_config(
        &sb,
        tmp.path(),
        Some(RawAlerts {
            webhook_env: WEBHOOK_ENV.into(),
            format: "slack".into(),
            min_severity: "high".into(),
            failed_runs: 2,
        }),
    );
    let got = Arc::new(Mutex::new(Vec::new()));
    let hook = receiver(Arc::new(AtomicUsize::new(0)), got.clone()).await;
    let env = sb.env_with(WEBHOOK_ENV, &hook);
    let mut c = run_cycle(sb.shared.clock, &cfg, &env);
    c.retry.attempts = 2;
    ok(&c).await;
    sb.stop().await;
    let mut failures = Vec::new();
    for _ in 0..3 {
        let r = cycle(&c, None).await.unwrap();
        assert_eq!(
            (r.outcome.as_str(), r.exit_code()),
            ("failed", 1),
            "{:?}",
            r.lines
        );
        failures.push(r);
    }
    let h = history(&cfg);
    assert_eq!(
        h.entries(&Filter {
            status: Some("open".into()),
            ..Filter::default()
        })
        .unwrap()
        .len(),
        truth,
        "a failed run resolves nothing"
    );
    let runs = h.runs(10).unwrap();
    assert_eq!(runs.iter().filter(|r| r.outcome == "failed").count(), 3);
    assert!(
        runs[0].error.as_deref().unwrap().contains("unreachable"),
        "{:?}",
        runs[0].error
    );
    let bodies = got.lock().unwrap().clone();
    let failing: Vec<&String> = bodies
        .iter()
        .filter(|b| b.contains("failed 2 runs in a row"))
        .collect();
    assert_eq!(
        failing.len(),
        1,
        "alerted once, at the second failure: {bodies:?}"
    );
    let v: serde_json::Value = serde_json::from_str(failing[0]).unwrap();
    assert!(v["blocks"].is_array(), "Slack Block Kit");
}

#[test]
fn a_second_run_is_refused_while_the_store_is_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The command runs on the system clock: the world is generated now.
    let sb = rt.block_on(common::serve(
        common::world_at(14, 200, chrono::Utc::now()),
        0.0,
        14,
    ));
    let cfg = ops_config(&sb, tmp.path(), None);
    std::fs::create_dir_all(&cfg.operations.store.dir).unwrap();
    let lock = StoreLock::acquire(&cfg.operations.store.dir, "tally run").unwrap();
    let out = common::tally_for_sandbox()
        .args(["run", "--config"])
        .arg(tmp.path().join("tally.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("in use by `tally run`")
            && err.contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    drop(lock);
    let out = common::tally_for_sandbox()
        .args(["run", "--config"])
        .arg(tmp.path().join("tally.toml"))
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks the history is one run's whole result: the exceptions not resolved are exactly those
/// the latest successful run counted. Returns the number of runs recorded.
fn consistent(history: &History) -> usize {
    let runs = history.runs(1000).unwrap();
    let all = history.entries(&Filter::default()).unwrap();
    let standing = all.iter().filter(|e| e.status != "resolved").count() as i64;
    match runs.iter().find(|r| r.outcome == "ok") {
        Some(r) => assert_eq!(
            Some(standing),
            r.open.zip(r.accepted).map(|(o, a)| o + a),
            "standing exceptions after run {}",
            r.run_id
        ),
        None => assert!(all.is_empty()),
    }
    runs.len()
}

#[test]
fn killing_a_run_during_the_history_update_leaves_the_previous_state() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The command runs on the system clock: the world is generated now.
    let world = common::world_at(16, 1500, chrono::Utc::now());
    let clean = live::clean_orders(&world, 12, 16);
    let sb = rt.block_on(common::serve(world, 0.0, 16));
    ops_config(&sb, tmp.path(), None);
    let config = tmp.path().join("tally.toml");
    let store = tmp.path().join("store");
    let run = || {
        common::tally_for_sandbox()
            .args(["run", "--config"])
            .arg(&config)
            .env("TALLY_TEST_HISTORY_PAUSE_MS", "150")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let drift = |i: usize| {
        live::apply(&sb.shared, |w, state, now| {
            live::drift_total(w, state, clean[i], Decimal::new(300, 2), now).unwrap();
        })
    };
    // One whole run: how long it takes, and the state to compare with.
    let started = Instant::now();
    let status = run().wait().unwrap();
    assert!(matches!(status.code(), Some(0) | Some(3)));
    let whole = started.elapsed();
    let mut runs = consistent(&History::open(&store.join("history.duckdb")).unwrap());
    assert_eq!(runs, 1);

    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut inside_update = 0;
    for i in 0..10 {
        drift(i);
        let snapshots_before = Store::open(&store).unwrap().complete_snapshots().len();
        let mut child = run();
        // Most of a run is the paused update, so random points land inside it.
        let at = whole.mul_f64(rand::Rng::random_range(&mut rng, 0.3..1.0));
        std::thread::sleep(at);
        let killed = child.try_wait().unwrap().is_none();
        let _ = child.kill();
        child.wait().unwrap();
        let h = History::open(&store.join("history.duckdb")).unwrap();
        let now_runs = consistent(&h);
        drop(h);
        let snapshots_after = Store::open(&store).unwrap().complete_snapshots().len();
        if killed && now_runs == runs && snapshots_after > snapshots_before {
            inside_update += 1;
        }
        assert!(
            now_runs == runs || now_runs == runs + 1,
            "all of a run or none of it"
        );
        runs = now_runs;
    }
    assert!(
        inside_update >= 3,
        "only {inside_update} kills landed after the snapshot was complete"
    );
    let status = run().wait().unwrap();
    assert!(
        matches!(status.code(), Some(0) | Some(3)),
        "a run after the crashes completes"
    );
    let h = History::open(&store.join("history.duckdb")).unwrap();
    consistent(&h);
    for n in &clean[..10] {
        let e = h
            .entries(&Filter {
                check: Some("order.total_mismatch".into()),
                key: Some(n.to_string()),
                status: None,
            })
            .unwrap();
        assert_eq!(e.len(), 1, "drift on {n} is in the history once");
        assert_ne!(e[0].status, "resolved");
    }
    assert!(
        !Store::open(&store)
            .unwrap()
            .snapshots()
            .read_dir()
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".partial-"))
    );
}

#[test]
fn watch_runs_cycles_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // The command runs on the system clock: the world is generated now.
    let sb = rt.block_on(common::serve(
        common::world_at(18, 800, chrono::Utc::now()),
        0.0,
        18,
    ));
    ops_config(&sb, tmp.path(), None);
    let mut child = common::tally_for_sandbox()
        .args(["watch", "--every", "1s", "--config"])
        .arg(tmp.path().join("tally.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !seen.iter().any(|l: &String| l.starts_with("run 3:")) {
        let line = rx
            .recv_timeout(deadline - Instant::now())
            .expect("three cycles within two minutes");
        seen.push(line);
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let waited = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "watch stops within a minute of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    seen.extend(rx.try_iter());
    assert!(
        seen.iter()
            .any(|l| l.starts_with("tally watch: stopped after")),
        "{seen:?}"
    );
    let store = Store::open(&tmp.path().join("store")).unwrap();
    let leftovers: Vec<PathBuf> = store
        .snapshots()
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.join("manifest.json").is_file())
        .collect();
    assert!(leftovers.is_empty(), "no partial snapshot: {leftovers:?}");
    let h = History::open(&store.history()).unwrap();
    let runs = h.runs(100).unwrap();
    assert!(runs.len() >= 3);
    assert!(
        runs.iter()
            .all(|r| r.outcome == "ok" || r.outcome == "abandoned"),
        "{runs:?}"
    );
    assert!(runs.iter().any(|r| {
        r.refresh
            .as_deref()
            .is_some_and(|x| x.starts_with("incremental"))
    }));
}
