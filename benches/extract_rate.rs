//! Extraction at the rate-limit bound (issue 11): a full `tally extract` against the sandbox on
//! Centra's default plan (60 requests per 10 s), at 100,000 and at 1,000,000 orders.
//!
//! On the default plan an extraction is bound by the request budget, not by the machine, so the
//! figures that matter are how much of the budget it used (requests per second against the rate
//! `rateLimits` allows, counted by the client and by the server) and whether its memory stays flat
//! as the shop grows ten times. The sandbox runs in this process; each size's `tally extract` runs
//! as a child, and every child is started before the first world is generated: Linux counts into a
//! child's peak RSS the peak of the process it was spawned from, so a child started after the
//! 100,000-order world had been served carried that world's memory into the 1,000,000-order
//! figure (274 MB in the run of 2026-12-02, where `tally extract` itself peaked at 99 MB).
//! `TALLY_EXTRACT_ORDERS` picks other sizes (comma-separated).
//! Run: `cargo bench --bench extract_rate` (about 20 minutes: 1M orders are some 5,000 requests at
//! 5.7 per second).

mod common;

use std::process::Command;
use std::sync::atomic::Ordering;

use chrono::Utc;
use common::process::{Run, Started};
use tally::sandbox::{self, Behaviour, Params, RatePlan};

fn main() {
    let sizes: Vec<usize> = std::env::var("TALLY_EXTRACT_ORDERS")
        .unwrap_or_else(|_| "100000,1000000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .expect("a number of orders")
        })
        .collect();
    // Every child first, while this process is small (see the module doc).
    let waiting: Vec<Waiting> = sizes.into_iter().map(Waiting::start).collect();
    let rows: Vec<Row> = waiting.into_iter().map(extract_at).collect();

    println!();
    println!(
        "{:>9} {:>9} {:>10} {:>9} {:>8} {:>8} {:>6} {:>10}",
        "orders", "wall", "peak RSS", "Centra", "req/s", "allowed", "share", "OrderWise"
    );
    for r in &rows {
        println!(
            "{:>9} {:>8.1}s {:>7} MB {:>9} {:>8.2} {:>8.2} {:>5.1}% {:>10}",
            r.orders,
            r.run.wall.as_secs_f64(),
            r.run.peak_rss_kb / 1024,
            r.centra_requests,
            r.per_second,
            r.allowed_per_second,
            r.percent,
            r.orderwise_requests
        );
    }
    println!(
        "goal: at least 90% of the allowed rate; peak RSS flat from the smallest to the largest"
    );
    if let (Some(small), Some(large)) = (rows.first(), rows.last()) {
        println!(
            "peak RSS, largest / smallest: {:.2}x for {:.0}x the orders",
            large.run.peak_rss_kb as f64 / small.run.peak_rss_kb as f64,
            large.orders as f64 / small.orders as f64
        );
    }
}

/// One size's measurement.
struct Row {
    orders: usize,
    run: Run,
    centra_requests: u64,
    orderwise_requests: u64,
    per_second: f64,
    allowed_per_second: f64,
    percent: f64,
}

/// One size's `tally extract`, started and waiting for its configuration.
struct Waiting {
    orders: usize,
    /// Holds the configuration and the snapshot; removed when dropped.
    tmp: tempfile::TempDir,
    config: std::path::PathBuf,
    child: Started,
}

impl Waiting {
    /// Starts a shell that waits for its go on stdin, then becomes `tally extract` with the
    /// configuration written by then.
    fn start(orders: usize) -> Waiting {
        let tmp = tempfile::tempdir().unwrap();
        let config = tmp.path().join("tally.toml");
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(r#"read -r go && exec "$0" extract --config "$1" --out "$2""#)
            .arg(env!("CARGO_BIN_EXE_tally"))
            .arg(&config)
            .arg(tmp.path().join("snapshots"));
        let template = sandbox::generate::config_template();
        for (var, value) in [
            (&template.centra.token_env, sandbox::CENTRA_TOKEN),
            (&template.orderwise.user_env, sandbox::ORDERWISE_USER),
            (
                &template.orderwise.password_env,
                sandbox::ORDERWISE_PASSWORD,
            ),
        ] {
            command.env(var, value);
        }
        let child = Started::spawn(&format!("tally extract, {orders} orders"), &mut command);
        Waiting {
            orders,
            tmp,
            config,
            child,
        }
    }
}

/// Serves a business of `orders` orders on the default plan and lets its waiting child extract
/// all of it.
fn extract_at(waiting: Waiting) -> Row {
    let Waiting {
        orders,
        tmp: _tmp,
        config,
        mut child,
    } = waiting;
    let rt = tokio::runtime::Runtime::new().unwrap();
    eprintln!("generating {orders} orders...");
    let world = sandbox::generate::generate(&Params {
        seed: 1,
        orders,
        now: Utc::now(),
        tile: 0,
    });
    let behaviour = Behaviour {
        plan: RatePlan::DEFAULT,
        ..Default::default()
    };
    let sb = rt
        .block_on(sandbox::serve(world, behaviour, "127.0.0.1:0"))
        .unwrap();
    std::fs::write(&config, sb.config().to_toml()).unwrap();
    child.go("go");
    let run = child.finish();
    print!("{}", run.stdout);

    // The client's own account: "Centra: N requests in S s: R/s of the A/s ...".
    let line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Centra: "))
        .expect("tally extract prints its Centra rate");
    let number_before = |marker: &str| -> f64 {
        let head = &line[..line.find(marker).expect(marker)];
        let word = head.rsplit([' ', '(']).next().unwrap_or_default();
        word.parse()
            .unwrap_or_else(|_| panic!("{word:?} in {line:?}"))
    };
    let client_requests = number_before(" requests") as u64;
    let seconds = number_before(" s:");
    let allowed_per_second = number_before("/s its rate limits allow");
    let centra_requests = sb.shared.stats.centra_requests.load(Ordering::Relaxed);
    assert_eq!(
        client_requests, centra_requests,
        "the client's count of its Centra requests is the server's"
    );
    let orderwise_requests = sb.shared.stats.orderwise_requests.load(Ordering::Relaxed);
    assert_eq!(
        sb.shared.stats.throttled.load(Ordering::Relaxed),
        0,
        "a paced extraction is never throttled"
    );
    rt.block_on(sb.stop());
    let per_second = centra_requests as f64 / seconds;
    Row {
        orders,
        run,
        centra_requests,
        orderwise_requests,
        per_second,
        allowed_per_second,
        percent: 100.0 * per_second / allowed_per_second,
    }
}
