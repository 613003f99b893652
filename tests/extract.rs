//! Extraction: exact money, atomic snapshots, and clear errors for the failures a real tenant has.

mod common;

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rust_decimal::Decimal;
use tally::connectors::Error;
use tally::connectors::http::RetryPolicy;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// Reads one column of a snapshot file as text, via DuckDB.
fn column(file: &std::path::Path, sql: &str) -> Vec<String> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let sql = sql.replace("FILE", &format!("read_parquet('{}')", file.display()));
    let mut stmt = conn.prepare(&sql).unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_survives_exactly_from_both_apis_into_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let mut world = common::world(5, 300);
    let amounts = ["0.1", "19.99", "33.3167", "1234567.8901"];
    // OrderWise header totals and a line's net.
    let ow = &mut world.orderwise.orders[0];
    ow.total_net = d(amounts[0]);
    ow.total_vat = d(amounts[1]);
    ow.total_gross = d(amounts[3]);
    ow.delivery_net = d(amounts[2]);
    let first_ow = ow.order_number();
    world.orderwise.lines[0].line_net = d("33.3167");
    // Centra totals (Float on the wire, as in Centra).
    let c = &mut world.orders[0];
    c.totals.gross = d(amounts[3]);
    c.totals.net = d(amounts[2]);
    c.totals.shipping = d(amounts[0]);
    c.totals.tax_included = d(amounts[1]);
    let first_number = c.number;
    let sb = common::serve(world, 0.0, 5).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let snap = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let ow_file = snap.dir.join("orderwise/orders.parquet");
    let got = column(
        &ow_file,
        &format!(
            "SELECT CAST(total_net AS VARCHAR) || '|' || CAST(total_vat AS VARCHAR) || '|' || CAST(total_gross AS VARCHAR) || '|' || CAST(delivery_net AS VARCHAR) FROM FILE WHERE order_number = '{first_ow}'"
        ),
    );
    assert_eq!(got, ["0.1000|19.9900|1234567.8901|33.3167"]);
    let line = column(
        &snap.dir.join("orderwise/order_lines.parquet"),
        "SELECT CAST(line_net AS VARCHAR) FROM FILE ORDER BY line_id LIMIT 1",
    );
    assert_eq!(line, ["33.3167"]);
    let centra = column(
        &snap.dir.join("centra/orders.parquet"),
        &format!(
            "SELECT CAST(gross AS VARCHAR) || '|' || CAST(net AS VARCHAR) || '|' || CAST(shipping AS VARCHAR) || '|' || CAST(tax_included AS VARCHAR) FROM FILE WHERE number = {first_number}"
        ),
    );
    assert_eq!(centra, ["1234567.8901|33.3167|0.1000|19.9900"]);
    // The column type is DECIMAL(18,4), not a float.
    let ty = column(&ow_file, "SELECT typeof(total_gross) FROM FILE LIMIT 1");
    assert_eq!(ty, ["DECIMAL(18,4)"]);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_has_manifest_with_counts_and_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(6, 500), 0.0, 6).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let snap = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let m = &snap.manifest;
    assert_eq!(m.files.len(), tally::model::DATASETS.len());
    assert_eq!(m.rows("centra/orders"), 500);
    assert_eq!(
        m.rows("orderwise/orders") as usize,
        sb.shared.world.read().unwrap().orderwise.orders.len()
    );
    for f in &m.files {
        let bytes = std::fs::read(snap.dir.join(&f.file)).unwrap();
        use sha2::Digest;
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            f.sha256,
            "{}",
            f.file
        );
    }
    let text = std::fs::read_to_string(snap.dir.join("manifest.json")).unwrap();
    assert!(
        !text.contains(tally::sandbox::server::CENTRA_TOKEN),
        "a secret reached the manifest"
    );
    assert!(
        !text.contains(tally::sandbox::server::ORDERWISE_PASSWORD),
        "a secret reached the manifest"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_server_leaves_no_partial_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    // A good snapshot first: it must survive the failed run untouched.
    let sb = common::serve(common::world(7, 300), 0.0, 7).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let good = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    sb.stop().await;

    let sb = common::serve(common::world(7, 40_000), 0.0, 7).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    let shared = sb.shared.clone();
    let retry = RetryPolicy {
        attempts: 3,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    let dir = tmp.path().to_path_buf();
    let clock = sb.shared.clock;
    let run =
        tokio::spawn(async move { common::extract(clock, &cfg, &secrets, &dir, retry).await });
    // Let it get going, then pull the plug mid-extraction.
    while shared.stats.centra_requests.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let partial_seen = std::fs::read_dir(tmp.path().join("snapshots"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| e.file_name().to_string_lossy().starts_with(".partial-"));
    assert!(partial_seen, "the run should have been writing");
    sb.stop().await;
    let err = run
        .await
        .unwrap()
        .expect_err("extraction must fail when the server goes away");
    assert!(
        matches!(err, Error::Unreachable { .. } | Error::GaveUp { .. }),
        "{err}"
    );
    let entries: Vec<_> = std::fs::read_dir(tmp.path().join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        entries,
        vec![good.dir.clone()],
        "only the complete snapshot may remain"
    );
    assert!(good.dir.join("manifest.json").is_file());
    assert!(tally::snapshot::Snapshot::open(&good.dir).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_centra_token_names_the_variable_and_stops() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(8, 100), 0.0, 8).await;
    let (cfg, mut secrets) = common::config(&sb, tmp.path());
    secrets.centra_token = "not-the-token".into();
    let err = common::extract(
        sb.shared.clock,
        &cfg,
        &secrets,
        tmp.path(),
        common::quick_retry(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Auth { .. }), "{msg}");
    assert!(
        msg.contains("TALLY_SANDBOX_CENTRA_TOKEN") && msg.contains("403"),
        "{msg}"
    );
    assert!(
        !msg.contains("not-the-token"),
        "the secret leaked into the message: {msg}"
    );
    assert!(tally::extract::latest(&tmp.path().join("snapshots")).is_none());
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_orderwise_password_names_the_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(8, 100), 0.0, 8).await;
    let (cfg, mut secrets) = common::config(&sb, tmp.path());
    secrets.orderwise_password = "wrong".into();
    let msg = common::extract(
        sb.shared.clock,
        &cfg,
        &secrets,
        tmp.path(),
        common::quick_retry(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        msg.contains("TALLY_SANDBOX_ORDERWISE_USER")
            && msg.contains("TALLY_SANDBOX_ORDERWISE_PASSWORD"),
        "{msg}"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_host_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(8, 100), 0.0, 8).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    // Nothing listens on the sandbox's port any more.
    let clock = sb.shared.clock;
    sb.stop().await;
    let retry = RetryPolicy {
        attempts: 2,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(2),
    };
    let err = common::extract(clock, &cfg, &secrets, tmp.path(), retry)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Unreachable { .. }), "{msg}");
    assert!(
        msg.contains("unreachable") && msg.contains("base_url"),
        "{msg}"
    );
}

/// A server that answers every GraphQL request with a broken page.
async fn broken_centra() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::routing::post;
    common::serve_router(axum::Router::new().route(
        "/graphql",
        post(|| async { ([("content-type", "application/json")], r#"{"data": {"rateLimits": [{"type": "REQUEST_COUNT", "intervalSeconds": "TEN_SECONDS", "quota": 60,"#) }),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_page_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(8, 100), 0.0, 8).await;
    let (mut cfg, secrets) = common::config(&sb, tmp.path());
    let (addr, server) = broken_centra().await;
    cfg.raw.centra.base_url = format!("http://{addr}");
    let err = common::extract(
        sb.shared.clock,
        &cfg,
        &secrets,
        tmp.path(),
        common::quick_retry(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Json { .. }), "{msg}");
    assert!(
        msg.contains("Centra") && msg.contains("rateLimits") && msg.contains("EOF"),
        "{msg}"
    );
    assert!(tally::extract::latest(&tmp.path().join("snapshots")).is_none());
    server.abort();
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_orderwise_tokens_are_reminted() {
    let tmp = tempfile::tempdir().unwrap();
    let world = common::world(10, 3000);
    let behaviour = tally::sandbox::Behaviour {
        token_max_uses: Some(2),
        ..Default::default()
    };
    let sb = tally::sandbox::serve(world, behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    // 3,000 orders make a dozen or more export pages; each token serves two.
    assert!(sb.shared.stats.tokens_minted.load(Ordering::Relaxed) >= 6);
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_paces_itself_to_the_rate_limit_and_is_never_throttled() {
    let tmp = tempfile::tempdir().unwrap();
    // A tiny plan, 5 requests per 10 s; the extraction needs 6, which unpaced would all land in the
    // first window and be throttled.
    let behaviour = tally::sandbox::Behaviour {
        plan: tally::sandbox::RatePlan {
            requests: 5,
            mutations: 5,
        },
        ..Default::default()
    };
    let sb = tally::sandbox::serve(common::world(11, 300), behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let requests = sb.shared.stats.centra_requests.load(Ordering::Relaxed);
    assert!(requests > 5, "{requests}");
    assert_eq!(
        sb.shared.stats.throttled.load(Ordering::Relaxed),
        0,
        "paced requests were throttled"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extraction_reads_at_its_share_of_the_budget_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    // Centra's default plan, 60 requests per 10 s; 6,000 orders take some 35 Centra requests, so
    // the run is rate-bound for about six seconds: paced to 95% it reads at over 90% of what the
    // plan allows (the old pace, 80%, reads at about 85%), and is never throttled. Each request
    // takes a fraction of its 175 ms slot, so a busy machine does not slow it below the pace.
    let behaviour = tally::sandbox::Behaviour {
        plan: tally::sandbox::RatePlan::DEFAULT,
        ..Default::default()
    };
    let sb = tally::sandbox::serve(common::world(13, 6000), behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, secrets) = common::config(&sb, tmp.path());
    assert_eq!(cfg.raw.centra.budget_percent, 95);
    let extracted = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let rate = extracted.centra_rate;
    assert_eq!(
        rate.requests,
        sb.shared.stats.centra_requests.load(Ordering::Relaxed),
        "the client's count of its requests is the server's"
    );
    assert!(rate.requests >= 30, "{rate}");
    assert_eq!(rate.pace.allowed_per_10s, 60);
    assert_eq!(rate.pace.paced_per_10s, 57);
    // (Over a short run the rate can read a little above the pace: the rateLimits read and the
    // first page go out at once, before the even spacing starts.)
    assert!(rate.percent_of_allowed() >= 90.0, "{rate}");
    assert_eq!(sb.shared.stats.throttled.load(Ordering::Relaxed), 0);
    assert!(
        rate.to_string()
            .contains("of the 6.00/s its rate limits allow"),
        "{rate}"
    );
    sb.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_requests_wait_as_retry_after_says() {
    let tmp = tempfile::tempdir().unwrap();
    // Every other request is a fault; half of Centra's faults are 429s with Retry-After (1 s) in
    // one of three formats, in turn.
    let sb = common::serve(common::world(12, 300), 0.5, 12).await;
    let (cfg, secrets) = common::config(&sb, tmp.path());
    common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
    let throttled = sb.shared.stats.throttled.load(Ordering::Relaxed);
    assert!(throttled >= 3, "too few 429s to try each Retry-After form");
    // After each 429, the sandbox saw nothing from the client until the wait it asked for passed.
    let gaps = sb.shared.throttle_gaps();
    assert_eq!(gaps.len() as u64, throttled, "a 429 was never followed up");
    let early: Vec<_> = gaps.iter().filter(|g| g.waited < g.asked).collect();
    assert!(early.is_empty(), "came back early: {early:?}");
    sb.stop().await;
}

/// What each malformed orders page must be reported as (besides the endpoint).
fn says(mode: tally::sandbox::Malformed) -> &'static str {
    use tally::sandbox::Malformed::*;
    match mode {
        TruncatedJson => "EOF",
        WrongType => "invalid type: boolean",
        NullField => "invalid type: null",
        HtmlPage => "<html>",
        InvalidUtf8 => "unicode",
        RepeatingCursor => "points back to a page already read",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_replies_end_in_a_clear_error_and_no_snapshot() {
    for mode in tally::sandbox::Malformed::ALL {
        let tmp = tempfile::tempdir().unwrap();
        let behaviour = tally::sandbox::Behaviour {
            malformed: Some(mode),
            ..Default::default()
        };
        // Four orders pages of 200: the third exists for the repeating cursor.
        let sb = tally::sandbox::serve(common::world(14, 700), behaviour, "127.0.0.1:0")
            .await
            .unwrap();
        let (cfg, secrets) = common::config(&sb, tmp.path());
        let err = common::extract(
            sb.shared.clock,
            &cfg,
            &secrets,
            tmp.path(),
            common::quick_retry(),
        )
        .await
        .expect_err(&format!("{mode} must fail the extraction"));
        let msg = err.to_string();
        assert!(
            msg.contains("Centra") && msg.contains("orderConnection page after cursor"),
            "{mode}: the endpoint is not named: {msg}"
        );
        assert!(msg.contains(says(mode)), "{mode}: {msg}");
        let left: Vec<_> = std::fs::read_dir(tmp.path().join("snapshots"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{mode}: left behind {left:?}");
        sb.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_reply_exits_1_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let behaviour = tally::sandbox::Behaviour {
        malformed: Some(tally::sandbox::Malformed::HtmlPage),
        ..Default::default()
    };
    let sb = tally::sandbox::serve(common::world(15, 500), behaviour, "127.0.0.1:0")
        .await
        .unwrap();
    let (cfg, _) = common::config(&sb, tmp.path());
    let config = tmp.path().join("tally.toml");
    std::fs::write(&config, cfg.raw.to_toml()).unwrap();
    let out_dir = tmp.path().join("snapshots");
    let out = tokio::task::spawn_blocking(move || {
        common::tally_for_sandbox()
            .args(["extract", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("orderConnection") && stderr.contains("<html>"),
        "{stderr}"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("snapshots"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind {left:?}");
    sb.stop().await;
}

/// An OrderWise that accepts every order but answers without its id.
async fn orderwise_without_ids() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use axum::routing::{get, post};
    let app = axum::Router::new()
        .route(
            "/owapi/token/gettoken",
            get(|| async { ([("content-type", "application/json")], r#""owtok-1""#) }),
        )
        .route(
            "/owapi/sales/order",
            post(|| async {
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"message":"Order created."}"#,
                )
            }),
        );
    common::serve_router(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_post_answered_without_an_id_fails_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let sb = common::serve(common::world(8, 100), 0.0, 8).await;
    let (mut cfg, secrets) = common::config(&sb, tmp.path());
    let (addr, server) = orderwise_without_ids().await;
    cfg.raw.orderwise.base_url = format!("http://{addr}/owapi");
    let (_, orderwise) = tally::connectors::clients(&cfg, &secrets, common::quick_retry()).unwrap();
    let err = orderwise
        .post_order(1, "1001", br#"{"orderNumber":"1001"}"#)
        .await
        .expect_err("a created order without an id is not a success");
    let msg = err.to_string();
    assert!(matches!(err, Error::Data { .. }), "{msg}");
    assert!(
        msg.contains("OrderWise")
            && msg.contains("sales/order for 1001")
            && msg.contains("orderId"),
        "{msg}"
    );
    server.abort();
    sb.stop().await;
}

/// `tally sandbox --write-snapshot` writes what an extraction of the same world reads: every
/// dataset equal row for row (as a multiset) with the same column names and types, the same row
/// counts and the same warnings, in both seasons (autumn's world reads local times in the hour the
/// clocks repeat, and warns of them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_snapshot_equals_an_extracted_one() {
    for seed in [3, 8] {
        let tmp = tempfile::tempdir().unwrap();
        let params = common::params(seed, 700);
        let world = tally::sandbox::generate::generate(&params);
        let now = world.now;
        let written =
            tally::sandbox::snapshot::write(&params, &tmp.path().join("written")).unwrap();
        assert_eq!(written.truth, world.truth, "seed {seed}: the same business");
        let written = tally::snapshot::Snapshot::open(&written.dir).unwrap();
        let sb = common::serve(world, 0.0, seed).await;
        let (cfg, secrets) = common::config(&sb, tmp.path());
        let extracted = common::snapshot(&sb, &cfg, &secrets, tmp.path()).await;
        for dataset in tally::model::DATASETS {
            let (only_written, only_extracted, same_types) =
                common::differences(&written.dir, &extracted.dir, dataset);
            assert_eq!(
                (only_written, only_extracted),
                (0, 0),
                "seed {seed} {dataset}: rows differ"
            );
            assert!(same_types, "seed {seed} {dataset}: column names or types");
            assert_eq!(
                written.manifest.rows(dataset),
                extracted.manifest.rows(dataset),
                "seed {seed} {dataset}: manifest row counts"
            );
            assert!(written.manifest.rows(dataset) > 0, "{dataset} is empty");
        }
        let sorted = |mut w: Vec<String>| {
            w.sort();
            w
        };
        assert_eq!(
            sorted(written.manifest.warnings.clone()),
            sorted(extracted.manifest.warnings.clone()),
            "seed {seed}: warnings"
        );
        if seed % 2 == 1 {
            assert!(
                written
                    .manifest
                    .warnings
                    .iter()
                    .any(|w| w.contains("repeated hour")),
                "{:?}",
                written.manifest.warnings
            );
        }
        assert_eq!(written.manifest.timezone, extracted.manifest.timezone);
        assert_eq!(written.manifest.window, extracted.manifest.window);
        assert_eq!(written.manifest.started_at, now);
        sb.stop().await;
    }
}
