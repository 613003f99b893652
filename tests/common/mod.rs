//! Helpers shared by the integration tests: a sandbox on loopback with its configuration.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tally::clock::Clock;
use tally::config::{Config, Secrets};
use tally::connectors::http::RetryPolicy;
use tally::extract::{self, Extracted};
use tally::sandbox::{self, Behaviour, Params, RatePlan, Sandbox, World};
use tally::snapshot::Window;

/// The moments the test worlds are generated at, pinned so a test means the same on every day of
/// the year. In Europe/London each history (75 days) holds a summer-time change and a summer
/// month's last day (the 23:30 UTC trap):
/// - spring: clocks go forward on 29 March; 31 March is a summer month end;
/// - autumn: clocks go back on 25 October; 30 September is a summer month end.
pub const SPRING: &str = "2026-04-12T10:00:00Z";
pub const AUTUMN: &str = "2026-11-08T10:00:00Z";

/// `SPRING` or `AUTUMN` as a time.
pub fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A world generated at `now`.
pub fn world_at(seed: u64, orders: usize, now: DateTime<Utc>) -> World {
    sandbox::generate::generate(&Params {
        seed,
        orders,
        now,
        tile: 0,
    })
}

/// What [`world`] generates: `SPRING` for even seeds and `AUTUMN` for odd ones, so the suite covers
/// both summer-time changes.
pub fn params(seed: u64, orders: usize) -> Params {
    Params {
        seed,
        orders,
        now: at(if seed.is_multiple_of(2) {
            SPRING
        } else {
            AUTUMN
        }),
        tile: 0,
    }
}

/// A generated world (see [`params`]).
pub fn world(seed: u64, orders: usize) -> World {
    sandbox::generate::generate(&params(seed, orders))
}

/// A generated world (see [`params`]) written straight to a snapshot under `dir/snapshots`, with
/// its configuration checked as `dir/tally.toml`: a snapshot to reconcile without serving the APIs.
pub fn written(seed: u64, orders: usize, dir: &Path) -> (sandbox::snapshot::Written, Config) {
    let written = sandbox::snapshot::write(&params(seed, orders), &dir.join("snapshots"))
        .expect("the world is written");
    let cfg = Config::check(written.config.clone(), &dir.join("tally.toml"))
        .expect("the written config is valid");
    (written, cfg)
}

/// Serves `world` with the given fault rate on a free loopback port.
pub async fn serve(world: World, fault_rate: f64, seed: u64) -> Sandbox {
    let behaviour = Behaviour {
        fault_rate,
        fault_seed: seed,
        plan: RatePlan::LARGE,
        ..Behaviour::default()
    };
    sandbox::serve(world, behaviour, "127.0.0.1:0")
        .await
        .expect("sandbox starts")
}

/// The sandbox's configuration (checked) and secrets.
pub fn config(sb: &Sandbox, dir: &Path) -> (Config, Secrets) {
    let cfg = Config::check(sb.config(), &dir.join("tally.toml")).expect("sandbox config is valid");
    let secrets = cfg.secrets(&sb.env()).expect("sandbox secrets");
    (cfg, secrets)
}

/// A retry policy quick enough for tests.
pub fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        ..RetryPolicy::default()
    }
}

/// Extracts everything from `sb` into `dir/snapshots` at the sandbox's time, retrying quickly;
/// the extraction must succeed.
pub async fn snapshot(sb: &Sandbox, cfg: &Config, secrets: &Secrets, dir: &Path) -> Extracted {
    extract(sb.shared.clock, cfg, secrets, dir, quick_retry())
        .await
        .unwrap_or_else(|e| panic!("extraction from the sandbox failed: {e}"))
}

/// Extracts everything into `dir/snapshots`, at the time `clock` (the sandbox's) reads.
pub async fn extract(
    clock: Clock,
    cfg: &Config,
    secrets: &Secrets,
    dir: &Path,
    retry: RetryPolicy,
) -> Result<Extracted, tally::connectors::Error> {
    let opts = extract::Options {
        out: dir.join("snapshots"),
        window: Window::Full,
        progress: false,
        retry,
        clock,
    };
    extract::run(cfg, secrets, &opts).await
}

/// The `tally` binary with the sandbox's credentials in the variables its configuration names.
pub fn tally_for_sandbox() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tally"));
    cmd.env("TALLY_SANDBOX_CENTRA_TOKEN", sandbox::server::CENTRA_TOKEN)
        .env(
            "TALLY_SANDBOX_ORDERWISE_USER",
            sandbox::server::ORDERWISE_USER,
        )
        .env(
            "TALLY_SANDBOX_ORDERWISE_PASSWORD",
            sandbox::server::ORDERWISE_PASSWORD,
        );
    cmd
}

/// Serves `app` on a free loopback port: a stand-in for a system that misbehaves in a way the
/// sandbox does not.
pub async fn serve_router(
    app: axum::Router,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (
        addr,
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() }),
    )
}

/// Rows of `dataset` in `a` not in `b` and in `b` not in `a` (as multisets), and whether the
/// column names and types agree.
pub fn differences(a: &Path, b: &Path, dataset: &str) -> (i64, i64, bool) {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let f = |dir: &Path| {
        format!(
            "read_parquet('{}')",
            dir.join(format!("{dataset}.parquet")).display()
        )
    };
    let (fa, fb) = (f(a), f(b));
    let count = |sql: String| -> i64 { conn.query_row(&sql, [], |r| r.get(0)).unwrap() };
    let only_a = count(format!(
        "SELECT count(*) FROM (SELECT * FROM {fa} EXCEPT ALL SELECT * FROM {fb})"
    ));
    let only_b = count(format!(
        "SELECT count(*) FROM (SELECT * FROM {fb} EXCEPT ALL SELECT * FROM {fa})"
    ));
    let describe = |file: &str| -> Vec<(String, String)> {
        let mut stmt = conn
            .prepare(&format!("DESCRIBE SELECT * FROM {file}"))
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    (only_a, only_b, describe(&fa) == describe(&fb))
}

/// Centra shipment lines in the snapshot at `dir` whose shipment it does not hold. tally's writers
/// never leave one (Centra nests lines in their shipment, and a refresh replaces an order's
/// shipments and lines together); `centra_shipped_lines` in `queries/_views.sql` relies on it.
pub fn orphan_shipment_lines(dir: &Path) -> i64 {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = |dataset: &str| format!("read_parquet('{}')", dir.join(dataset).display());
    conn.query_row(
        &format!(
            "SELECT count(*) FROM {} WHERE shipment_id NOT IN (SELECT shipment_id FROM {})",
            file("centra/shipment_lines.parquet"),
            file("centra/shipments.parquet")
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}
