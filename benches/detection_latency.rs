//! Detection latency: the time from drift happening in a live shop to its alert, with
//! `tally watch --every 2m` on Centra's default rate-limit plan (DESIGN.md "Operations").
//!
//! A sandbox of `TALLY_LATENCY_ORDERS` orders (default 1,000,000) keeps changing (new orders,
//! despatches, cancellations, stock moves, 10 a minute); every 40 s one OrderWise total is edited
//! (fresh drift, logged with its time). The store's first, full extraction runs on the large plan
//! (at the default plan a million orders take half an hour to read, once); then the tenant moves to
//! the default plan (60 requests per 10 s) and the watch runs for `TALLY_LATENCY_MINUTES` (default
//! 12). A receiver on loopback records when each digest arrives. Printed: per injected drift, the
//! delay to its alert (median and worst), and per cycle its duration and the requests it used
//! against the 720 the plan allows in two minutes.
//!
//! Not criterion: one measurement takes minutes of wall time by design. Run with
//! `cargo bench --bench detection_latency`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tally::config::Config;
use tally::config::operations::{RawAlerts, RawStore};
use tally::run::{Cycle, cycle};
use tally::sandbox::{self, Behaviour, Params, RatePlan, live};

/// Drift injected: the Centra order number and when.
type Injected = Arc<Mutex<Vec<(i64, DateTime<Utc>)>>>;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` asks for a listing; this bench has no quick mode.
    }
    let orders = env_number("TALLY_LATENCY_ORDERS", 1_000_000) as usize;
    let minutes = env_number("TALLY_LATENCY_MINUTES", 12);
    let every = Duration::from_secs(120);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let world = sandbox::generate::generate(&Params {
        seed: 3,
        orders,
        now: Utc::now(),
        tile: 0,
    });
    let clean = live::clean_orders(&world, 200, 3);
    eprintln!(
        "generated {orders} orders in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let sb = rt
        .block_on(sandbox::serve(world, Behaviour::default(), "127.0.0.1:0"))
        .unwrap();
    let clock = sb.shared.clock;
    let (url, inbox) = rt.block_on(tally::demo::watch::receiver(clock)).unwrap();
    let mut raw = sb.config();
    raw.store = Some(RawStore {
        dir: tmp.path().join("store").to_string_lossy().into_owned(),
        ..RawStore::default()
    });
    raw.alerts = Some(RawAlerts {
        webhook_env: "LATENCY_WEBHOOK".into(),
        format: "json".into(),
        min_severity: "low".into(),
        failed_runs: 2,
    });
    let cfg = Config::check(raw, &tmp.path().join("tally.toml")).unwrap();
    let env = sb.env_with("LATENCY_WEBHOOK", &url);
    let c = Cycle {
        cfg: &cfg,
        env: &env,
        clock,
        retry: Default::default(),
        progress: false,
        full: false,
    };
    let t = std::time::Instant::now();
    let first = rt.block_on(cycle(&c, None)).unwrap();
    eprintln!(
        "first (full) cycle on the large plan: {:.0} s: {:?}",
        t.elapsed().as_secs_f64(),
        first.lines
    );
    sb.shared.set_plan(RatePlan::DEFAULT);
    let stats = &sb.shared.stats;
    let requests = || {
        (
            stats
                .centra_requests
                .load(std::sync::atomic::Ordering::Relaxed),
            stats
                .orderwise_requests
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    };
    let changes = rt.spawn(live::run(sb.shared.clone(), 10.0, 3));
    let injected: Injected = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut cycles: Vec<(f64, u64, u64, String)> = Vec::new();
    rt.block_on(async {
        let inject = {
            let injected = injected.clone();
            let shared = sb.shared.clone();
            async move {
                let until = tokio::time::Instant::now() + Duration::from_secs(60 * minutes);
                let mut next = clean.into_iter();
                while tokio::time::Instant::now() < until {
                    tokio::time::sleep(Duration::from_secs(40)).await;
                    let Some(number) = next.next() else { break };
                    let drift = live::apply(&shared, |w, state, now| {
                        live::drift_total(w, state, number, Decimal::new(1234, 2), now)
                    });
                    if let Some(change) = drift {
                        injected.lock().unwrap().push((number, change.at));
                    }
                }
                // One more cycle after the last injection, then stop.
                tokio::time::sleep(every + Duration::from_secs(90)).await;
                let _ = stop_tx.send(true);
            }
        };
        let mut before = requests();
        let mut started = std::time::Instant::now();
        let watch = tally::run::watch::watch(&c, every, stop_rx, |r| {
            let now = requests();
            let line = match r {
                Ok(report) => report
                    .lines
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" | "),
                Err(e) => e.to_string(),
            };
            cycles.push((
                started.elapsed().as_secs_f64(),
                now.0 - before.0,
                now.1 - before.1,
                line,
            ));
            before = now;
            started = std::time::Instant::now();
        });
        tokio::join!(inject, watch);
    });
    changes.abort();
    let inbox = inbox.lock().unwrap().clone();
    let fixes: Vec<(i64, DateTime<Utc>)> = sb
        .shared
        .live
        .lock()
        .unwrap()
        .log
        .iter()
        .filter(|c| c.kind == "fix")
        .filter_map(|c| Some((c.exception.as_ref()?.key.parse().ok()?, c.at)))
        .collect();
    let mut fixed_first = 0;
    let mut delays = Vec::new();
    for (number, at) in injected.lock().unwrap().iter() {
        let key = number.to_string();
        let alerted = inbox.iter().find(|(t, d)| {
            *t >= *at
                && d.new
                    .iter()
                    .any(|a| a.check == "order.total_mismatch" && a.key == key)
        });
        // The live shop also fixes drift (as people do): one fixed before the next cycle read it
        // never existed for tally, and is counted apart rather than as a miss.
        let fixed = fixes
            .iter()
            .find(|(n, t)| *n == *number && *t > *at)
            .map(|(_, t)| *t);
        match (alerted, fixed) {
            (Some((t, _)), f) if f.is_none_or(|f| f > *t) => {
                delays.push((*t - *at).num_milliseconds() as f64 / 1000.0)
            }
            (_, Some(f)) => {
                fixed_first += 1;
                println!(
                    "  drift on order {number} at {}: fixed by the shop {} s later, before a cycle saw it",
                    at.format("%H:%M:%S"),
                    (f - *at).num_seconds()
                );
            }
            (None, None) => println!("  drift on order {number} at {at}: NO ALERT"),
            (Some(_), None) => unreachable!("matched by the first arm"),
        }
    }
    delays.sort_by(f64::total_cmp);
    println!(
        "detection latency, {orders} orders, tally watch --every 2m, Centra default plan (60 requests / 10 s):"
    );
    for (secs, centra, ow, line) in cycles.iter().skip(1) {
        println!(
            "  {secs:>6.1} s since the last: {centra:>4} Centra requests ({:.0}% of 720 per 2 min), {ow:>4} OrderWise; {line}",
            *centra as f64 / 720.0 * 100.0
        );
    }
    let n = delays.len();
    if n > 0 {
        println!(
            "  injected {} drifts ({fixed_first} fixed by the shop before any cycle), alerted {n}: median {:.0} s, worst {:.0} s (goal: under 300 s)",
            injected.lock().unwrap().len(),
            delays[n / 2],
            delays[n - 1]
        );
    }
    rt.block_on(sb.stop());
}
