//! Ten million orders on two cores (issue 11): the whole catalogue, side by side with its floor.
//!
//! On one snapshot of `TALLY_SCALE_ORDERS` orders (default 10,000,000; written once by
//! `tally sandbox --write-snapshot` under `TALLY_SCALE_DIR`, default `/var/tmp/tally-scale`, and
//! reused while tally writes snapshots in the same `snapshot::LAYOUT`), each of these runs in a
//! process of its own, timed wall-clock with its peak RSS:
//! - `tally reconcile`: the whole catalogue, its exceptions compared with the truth as multisets;
//! - the order-level checks alone (`order.*` and the shared tables they read), in-process from the
//!   library;
//! - the four order money checks alone (total, VAT, discount, shipping; with `matched_orders`):
//!   what the bare join compares, as tally checks it;
//! - a bare DuckDB join of the two order files comparing gross, VAT, discount and shipping: the
//!   floor for the order checks;
//! - the same comparison in polars (lazy API, streaming engine), from the bench-only crate in
//!   `benches/polars/` (built on first use; skipped with the reason when it cannot be built, or
//!   when `TALLY_SCALE_NO_POLARS` is set).
//!
//! Then every report of the reconciled snapshot (the three kinds in HTML and PDF, and the
//! month-end workbook), each a `tally report` process, with its wall time and peak RSS: the
//! reports read only the rows they list, so their memory follows the page, not the snapshot.
//!
//! It prints each figure, the ratios, and the per-check and per-step times of `summary.json`.
//! Run: `cargo bench --bench scale`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::process::Run;
use tally::snapshot::LAYOUT;

/// The allocator `tally` runs with (see `src/main.rs`), so that the in-process children (the order
/// checks, the bare DuckDB join) are timed as the command is.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Set in a child process this bench starts: which measured part to run.
const CHILD: &str = "TALLY_SCALE_CHILD";
/// The order checks that compare what the bare DuckDB join compares.
const MONEY_CHECKS: [&str; 4] = [
    "order.total_mismatch",
    "order.tax_mismatch",
    "order.discount_mismatch",
    "order.shipping_mismatch",
];
/// The world's seed and moment, fixed so the snapshot is the same every time it is written.
const SEED: u64 = 11;
const AT: &str = "2026-11-08T10:00:00Z";

fn main() {
    if let Ok(part) = std::env::var(CHILD) {
        let snapshot = std::env::var("TALLY_SCALE_SNAPSHOT").expect("snapshot");
        let config = std::env::var("TALLY_SCALE_CONFIG").expect("config");
        child(&part, Path::new(&snapshot), Path::new(&config));
        return;
    }
    let orders: usize = std::env::var("TALLY_SCALE_ORDERS")
        .ok()
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let root = PathBuf::from(
        std::env::var("TALLY_SCALE_DIR").unwrap_or_else(|_| "/var/tmp/tally-scale".into()),
    )
    .join(orders.to_string());
    let world = World::ensure(&root, orders);
    println!(
        "snapshot: {} ({} orders, seed {SEED}, at {AT})",
        world.snapshot.display(),
        orders
    );

    let tally = Run::measure(
        "tally reconcile: whole catalogue",
        Command::new(env!("CARGO_BIN_EXE_tally")).args([
            "reconcile".as_ref(),
            world.snapshot.as_os_str(),
            "--config".as_ref(),
            world.config.as_os_str(),
        ]),
    );
    let (missed, extra, found) = world.against_truth();
    println!(
        "  exceptions: {found}; against the truth: {missed} missed, {extra} extra{}",
        if missed == 0 && extra == 0 {
            " (exact)"
        } else {
            "  <-- NOT EXACT"
        }
    );
    let order_checks = Run::measure("order-level checks alone", &mut world.child("order-checks"));
    let money_checks = Run::measure(
        "order money checks (4 fields)",
        &mut world.child("money-checks"),
    );
    let duckdb = Run::measure(
        "bare DuckDB join (4 money fields)",
        &mut world.child("duckdb"),
    );
    let polars = if std::env::var_os("TALLY_SCALE_NO_POLARS").is_some() {
        Err("TALLY_SCALE_NO_POLARS is set".to_string())
    } else {
        polars_binary()
    };
    let polars = polars.map(|bin| {
        Run::measure(
            "polars lazy, streaming engine",
            Command::new(bin).arg(&world.snapshot),
        )
    });

    println!();
    println!("{:<36} {:>9} {:>12}", "part", "wall", "peak RSS");
    let parts: Vec<&Run> = [
        Some(&tally),
        Some(&order_checks),
        Some(&money_checks),
        Some(&duckdb),
    ]
    .into_iter()
    .flatten()
    .chain(polars.as_ref().ok())
    .collect();
    for r in &parts {
        println!(
            "{:<36} {:>8.2}s {:>9} MB",
            r.label,
            r.wall.as_secs_f64(),
            r.peak_rss_kb / 1024
        );
    }
    let ratio = |a: &Run, b: &Run| a.wall.as_secs_f64() / b.wall.as_secs_f64();
    println!(
        "order checks / bare DuckDB join: {:.2}x (goal: at most 1.3x)",
        ratio(&order_checks, &duckdb)
    );
    println!(
        "order money checks / bare DuckDB join (the same four fields): {:.2}x",
        ratio(&money_checks, &duckdb)
    );
    match &polars {
        Ok(p) => {
            println!(
                "polars / bare DuckDB join: {:.2}x; polars / order checks: {:.2}x (goal: at least 3x)",
                ratio(p, &duckdb),
                ratio(p, &order_checks)
            );
            if p.stdout.trim() != duckdb.stdout.trim() {
                println!(
                    "  polars counted {} differing orders, DuckDB {}  <-- NOT THE SAME",
                    p.stdout.trim(),
                    duckdb.stdout.trim()
                );
            }
        }
        Err(why) => println!("polars: not run ({why})"),
    }
    world.print_timings();
    world.render_reports();
}

/// The snapshot under test, its configuration and truth.
struct World {
    snapshot: PathBuf,
    config: PathBuf,
    truth: PathBuf,
}

impl World {
    /// The snapshot of `orders` orders under `root`, written (and its writing measured) when absent
    /// or written in another layout than this tally's (`layout.txt` beside it).
    fn ensure(root: &Path, orders: usize) -> World {
        let snapshots = root.join("snapshots");
        let config = root.join("tally.toml");
        let truth = root.join("truth.jsonl");
        let layout = root.join("layout.txt");
        let same_layout = std::fs::read_to_string(&layout).is_ok_and(|l| l == LAYOUT);
        if !same_layout
            || tally::extract::latest(&snapshots).is_none()
            || !config.is_file()
            || !truth.is_file()
        {
            let _ = std::fs::remove_dir_all(root);
            std::fs::create_dir_all(root).expect("scale directory");
            Run::measure(
                "tally sandbox --write-snapshot",
                Command::new(env!("CARGO_BIN_EXE_tally"))
                    .args(["sandbox", "--seed", &SEED.to_string(), "--at", AT])
                    .args(["--orders", &orders.to_string()])
                    .arg("--write-snapshot")
                    .arg(&snapshots)
                    .arg("--truth")
                    .arg(&truth)
                    .arg("--write-config")
                    .arg(&config),
            );
            std::fs::write(&layout, LAYOUT).expect("layout.txt");
        }
        World {
            snapshot: tally::extract::latest(&snapshots).expect("a written snapshot"),
            config,
            truth,
        }
    }

    /// Renders every report of the reconciled snapshot, each in a `tally report` process, and
    /// prints its wall time, peak RSS and size.
    fn render_reports(&self) {
        // Beside the snapshots directory, not in it: it holds only snapshots.
        let out = self.config.with_file_name("reports");
        std::fs::create_dir_all(&out).expect("a directory for the reports");
        println!();
        println!("every report, each its own `tally report` process:");
        let reports = [
            ("audit", "html"),
            ("audit", "pdf"),
            ("month-end", "html"),
            ("month-end", "pdf"),
            ("month-end", "xlsx"),
            ("exceptions", "html"),
            ("exceptions", "pdf"),
        ];
        for (kind, format) in reports {
            let path = out.join(format!("{kind}.{format}"));
            let label = format!("{kind} {format}");
            let run = Run::measure(
                &label,
                Command::new(env!("CARGO_BIN_EXE_tally"))
                    .args(["report".as_ref(), self.snapshot.as_os_str()])
                    .args(["--kind", kind, "--format", format, "--out"])
                    .arg(&path),
            );
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            println!("  {} wrote {} MB", run.label, size / 1_000_000);
        }
    }

    /// This bench again, as a child running `part`.
    fn child(&self, part: &str) -> Command {
        let mut c = Command::new(std::env::current_exe().expect("the bench's path"));
        c.env(CHILD, part)
            .env("TALLY_SCALE_SNAPSHOT", &self.snapshot)
            .env("TALLY_SCALE_CONFIG", &self.config);
        c
    }

    /// (missed, extra, found): the reported exceptions against the truth, as multisets of (check,
    /// key), counted in a child process: the truth of 10M is hundreds of megabytes, and a child
    /// forked from this process would count this process's peak into its own.
    fn against_truth(&self) -> (i64, i64, i64) {
        let out = self
            .child("truth")
            .env("TALLY_SCALE_TRUTH", &self.truth)
            .output()
            .expect("the truth counted in a child");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        let n: Vec<i64> = text
            .split_whitespace()
            .map(|n| n.parse().expect("three counts"))
            .collect();
        (n[0], n[1], n[2])
    }

    /// The per-check and per-step times of the whole catalogue's `summary.json`, slowest first.
    fn print_timings(&self) {
        let summary: serde_json::Value = serde_json::from_slice(
            &std::fs::read(self.snapshot.join("summary.json")).expect("summary.json"),
        )
        .expect("summary.json parses");
        let mut rows: Vec<(String, u64)> = Vec::new();
        for s in summary["steps"].as_array().into_iter().flatten() {
            rows.push((
                s["step"].as_str().unwrap_or("?").to_string(),
                s["millis"].as_u64().unwrap_or(0),
            ));
        }
        for c in summary["checks"].as_array().into_iter().flatten() {
            rows.push((
                format!("check {}", c["check"].as_str().unwrap_or("?")),
                c["millis"].as_u64().unwrap_or(0),
            ));
        }
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        println!();
        println!("whole catalogue, by step and check (summary.json):");
        for (what, ms) in rows {
            println!("  {ms:>7} ms  {what}");
        }
    }
}

/// Builds `benches/polars` (release, its own target directory) and returns its binary, or why not.
fn polars_binary() -> Result<PathBuf, String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/polars/Cargo.toml");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("polars-baseline");
    eprintln!("building the polars baseline (first time: several minutes)...");
    let cargo = Path::new(env!("CARGO"));
    let mut command = Command::new(cargo);
    // The toolchain's own rustc, not rustup's proxy: a crate polars uses (argminmax) ships a
    // `rust-toolchain` file naming nightly, and when this bench's binary is run by hand rather
    // than by `cargo bench` (which sets RUSTUP_TOOLCHAIN), the proxy compiles that crate with
    // nightly against dependencies built by this toolchain, and the build fails.
    let rustc = cargo.with_file_name("rustc");
    if std::env::var_os("RUSTC").is_none() && rustc.exists() {
        command.env("RUSTC", rustc);
    }
    let built = command
        .args(["build", "--release", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target)
        .status()
        .map_err(|e| format!("cargo: {e}"))?;
    if !built.success() {
        return Err(format!("cargo build of {} failed", manifest.display()));
    }
    Ok(target.join("release/tally-polars-baseline"))
}

/// A measured part, run in this child process.
fn child(part: &str, snapshot: &Path, config: &Path) {
    match part {
        "order-checks" => {
            let cfg = tally::config::Config::load(config).expect("configuration");
            let found =
                tally::reconcile::run_only(snapshot, &cfg, |c| c.name.starts_with("order."))
                    .expect("the order checks run");
            println!("{found}");
        }
        "money-checks" => {
            // What the bare join compares, as tally checks it: the first live OrderWise copy of
            // each Centra order (matched_orders), the four money fields, an exception row each.
            let cfg = tally::config::Config::load(config).expect("configuration");
            let found = tally::reconcile::run_only(snapshot, &cfg, |c| {
                MONEY_CHECKS.contains(&c.name.as_str())
            })
            .expect("the money checks run");
            println!("{found}");
        }
        "duckdb" => {
            let conn = duckdb::Connection::open_in_memory().unwrap();
            let file = |name: &str| format!("read_parquet('{}')", snapshot.join(name).display());
            let sql = format!(
                "SELECT count(*)
                 FROM {} c
                 JOIN {} w ON w.external_ref_key = CAST(c.number AS VARCHAR)
                 WHERE c.gross <> w.total_gross
                    OR c.tax_included + c.tax_added <> w.total_vat
                    OR c.discounts + w.discount_gross <> 0
                    OR c.shipping <> w.delivery_gross",
                file("centra/orders.parquet"),
                file("orderwise/orders.parquet")
            );
            let n: i64 = conn.query_row(&sql, [], |r| r.get(0)).unwrap();
            println!("{n}");
        }
        "truth" => {
            let truth = std::env::var("TALLY_SCALE_TRUTH").expect("the truth's path");
            let (missed, extra, found) = count_against_truth(snapshot, Path::new(&truth));
            println!("{missed} {extra} {found}");
        }
        other => panic!("unknown part {other}"),
    }
}

/// (missed, extra, found): the exceptions of `snapshot` against the truth's lines, as multisets of
/// (check, key). (The bundled DuckDB has no JSON reader: the truth's lines are read here.)
fn count_against_truth(snapshot: &Path, truth: &Path) -> (i64, i64, i64) {
    let mut counts: std::collections::HashMap<(String, String), i64> = Default::default();
    let truth = std::fs::read_to_string(truth).expect("the truth");
    for line in truth.lines().filter(|l| !l.trim().is_empty()) {
        let e: serde_json::Value = serde_json::from_str(line).expect("a truth line");
        let at = |f: &str| e[f].as_str().expect("check and key").to_string();
        *counts.entry((at("check"), at("key"))).or_default() += 1;
    }
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let sql = format!(
        "SELECT \"check\", key FROM read_parquet('{}')",
        snapshot.join("exceptions.parquet").display()
    );
    let mut stmt = conn.prepare(&sql).unwrap();
    let mut found = 0;
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        *counts.entry(row.unwrap()).or_default() -= 1;
        found += 1;
    }
    let missed = counts.values().filter(|&&n| n > 0).sum();
    let extra = counts.values().filter(|&&n| n < 0).map(|n| -n).sum();
    (missed, extra, found)
}
