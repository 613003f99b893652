//! The `tally` binary as a user meets it: exit codes and messages for good and bad input.

use std::path::Path;
use std::process::{Command, Output};

fn tally(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .current_dir(dir)
        .env_remove("CENTRA_TOKEN")
        .output()
        .expect("the binary runs")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const CONFIG: &str = r#"
timezone = "Europe/London"
[centra]
base_url = "http://127.0.0.1:9"
token_env = "CENTRA_TOKEN"
[orderwise]
base_url = "http://127.0.0.1:9/owapi"
user_env = "ORDERWISE_USER"
password_env = "ORDERWISE_PASSWORD"
[orderwise.exports]
orders = 101
order_lines = 102
stock = 103
despatches = 104
despatch_lines = 105
variants = 106
order_lookup = 107
[[markets]]
centra_market = "United Kingdom"
orderwise_session = 1
orderwise_customer = "WEB-UK"
centra_warehouse = "Main"
[[warehouses]]
centra_warehouse = "Main"
orderwise_locations = ["MAIN"]
"#;

#[test]
fn checks_lists_the_catalogue() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tally(&["checks"], tmp.path());
    assert!(out.status.success());
    let (stdout, _) = text(&out);
    for name in tally::reconcile::checks()
        .unwrap()
        .iter()
        .map(|c| c.name.clone())
    {
        assert!(stdout.contains(&name), "{name} missing from:\n{stdout}");
    }
    assert!(stdout.contains("remedy:") && stdout.contains("owner:"));
}

#[test]
fn missing_config_key_is_named_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("tally.toml"),
        CONFIG.replace("token_env = \"CENTRA_TOKEN\"\n", ""),
    )
    .unwrap();
    let out = tally(&["extract"], tmp.path());
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("tally.toml") && stderr.contains("token_env"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn missing_config_file_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tally(&["extract", "--config", "nowhere.toml"], tmp.path());
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("nowhere.toml") && stderr.contains("--config"),
        "{stderr}"
    );
}

#[test]
fn unset_secret_names_its_variable() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tally.toml"), CONFIG).unwrap();
    let out = tally(&["extract"], tmp.path());
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("CENTRA_TOKEN") && stderr.contains("not set"),
        "{stderr}"
    );
}

#[test]
fn reconcile_refuses_an_unfinished_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tally.toml"), CONFIG).unwrap();
    std::fs::create_dir_all(tmp.path().join("snap/centra")).unwrap();
    let out = tally(&["reconcile", "snap"], tmp.path());
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("no manifest.json") && stderr.contains("tally extract"),
        "{stderr}"
    );
}

#[test]
fn report_needs_a_reconciled_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("snap")).unwrap();
    let out = tally(&["report", "snap", "--kind", "audit"], tmp.path());
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("summary.json") && stderr.contains("tally reconcile"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tally(&["reconcile"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_writes_its_files_and_matches_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    // At a pinned time (in autumn: the clocks went back inside the history), so the demo means
    // the same on every day of the year.
    let out = tally(
        &[
            "demo",
            "--dir",
            "d",
            "--orders",
            "900",
            "--seed",
            "4",
            "--at",
            "2026-11-08T10:00:00Z",
        ],
        tmp.path(),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("every injected drift found"), "{stdout}");
    let d = tmp.path().join("d");
    for f in [
        "tally.toml",
        "truth.jsonl",
        "audit.html",
        "audit.pdf",
        "month-end.html",
        "month-end.pdf",
        "exceptions.html",
        "exceptions.pdf",
    ] {
        assert!(d.join(f).is_file(), "{f}");
        assert!(stdout.contains(f), "the demo names {f}: {stdout}");
    }
    let snap = tally::extract::latest(&d.join("snapshots")).expect("a snapshot");
    for f in [
        "manifest.json",
        "exceptions.parquet",
        "exceptions.csv",
        "summary.json",
        "period_orders.parquet",
        "centra/orders.parquet",
        "orderwise/orders.parquet",
    ] {
        assert!(snap.join(f).is_file(), "{f}");
    }
    // The written configuration is a working example: it parses and checks.
    let cfg = tally::config::Config::load(&d.join("tally.toml")).unwrap();
    assert_eq!(cfg.raw.markets.len(), 3);
    // `tally report` renders from the snapshot alone, where --out says.
    let snap = snap.to_string_lossy().into_owned();
    let out = tally(
        &[
            "report",
            &snap,
            "--kind",
            "month-end",
            "--format",
            "pdf",
            "--out",
            "me.pdf",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "{:?}", text(&out));
    let pdf = std::fs::read(tmp.path().join("me.pdf")).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn demo_watch_runs_the_cycle_on_a_live_shop_and_prints_each_alert() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tally(
        &[
            "demo",
            "--watch",
            "--dir",
            "w",
            "--orders",
            "400",
            "--faults",
            "0",
            "--cycles",
            "3",
            "--every",
            "3s",
            "--rate",
            "600",
            "--at",
            "2026-11-08T10:00:00Z",
        ],
        tmp.path(),
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for line in [
        "run 1: ok",
        "run 2: ok",
        "run 3: ok",
        "refresh: incremental",
        "alert posted: tally for",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.trim_start().starts_with("detected: order.total_mismatch")),
        "injected drift is matched to its alert:\n{stdout}"
    );
    let config = std::fs::read_to_string(tmp.path().join("w/tally.toml")).unwrap();
    assert!(
        config.contains("[store]") && config.contains("[alerts]"),
        "{config}"
    );
    assert!(tmp.path().join("w/store/history.duckdb").is_file());
}

#[test]
fn doctor_json_names_each_failed_line_and_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("tally.toml"), CONFIG).unwrap();
    let out = tally(&["doctor", "--json"], tmp.path());
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let config = lines
        .iter()
        .find(|l| l["check"] == "configuration")
        .unwrap();
    assert_eq!(config["ok"], true);
    let secret = lines
        .iter()
        .find(|l| l["check"] == "secret CENTRA_TOKEN")
        .unwrap();
    assert_eq!(secret["ok"], false);
    assert!(
        secret["fix"]
            .as_str()
            .unwrap()
            .contains("export CENTRA_TOKEN")
    );
}
