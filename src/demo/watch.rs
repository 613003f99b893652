//! `tally demo --watch`: the scheduled cycle on a live sandbox, printed for a new user.
//!
//! The sandbox keeps changing its world (new orders, despatches, cancellations, stock moves,
//! fresh drift and fixes); `tally run` cycles refresh incrementally, update the history and post
//! digests to a webhook receiver on loopback, which prints each message as it arrives. Each piece
//! of drift the sandbox injected is matched to the alert that reported it, with the delay.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Error, Options, io};
use crate::alerts::Digest;
use crate::config::Config;
use crate::config::operations::{RawAlerts, RawStore};
use crate::connectors::http::RetryPolicy;
use crate::run::{Cycle, cycle};
use crate::sandbox;

/// The variable the demo's configuration names for its webhook.
pub const WEBHOOK_ENV: &str = "TALLY_DEMO_WEBHOOK_URL";

/// How the watching demo runs.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Time between cycle starts.
    pub every: Duration,
    /// Stop after this many cycles (`None`: until the future is dropped, e.g. on Ctrl-C).
    pub cycles: Option<u64>,
    /// Live changes a minute.
    pub rate: f64,
}

/// What a receiver got: each digest and when it arrived.
pub type Inbox = Arc<Mutex<Vec<(DateTime<Utc>, Digest)>>>;

/// A webhook receiver on loopback taking `format = "json"` digests, stamping each with `clock`'s
/// time on arrival: the demo's stand-in for Slack or Teams, and the latency bench's stopwatch.
/// Returns its URL and what it has received.
pub async fn receiver(clock: crate::clock::Clock) -> std::io::Result<(String, Inbox)> {
    use axum::routing::post;
    let inbox: Inbox = Arc::default();
    let got = inbox.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: String| {
            let got = got.clone();
            async move {
                match serde_json::from_str::<Digest>(&body) {
                    Ok(d) => {
                        got.lock().expect("inbox").push((clock.now(), d));
                        axum::http::StatusCode::OK
                    }
                    Err(_) => axum::http::StatusCode::BAD_REQUEST,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{addr}/hook"), inbox))
}

/// Runs the watching demo into `opts.dir`, printing through `say`.
pub async fn run(
    opts: &Options,
    w: &WatchOptions,
    mut say: impl FnMut(String),
) -> Result<(), Error> {
    let sb = super::start(opts).await?;
    let clock = sb.shared.clock;
    let (url, inbox) = receiver(clock).await.map_err(|source| Error::Io {
        path: "127.0.0.1:0".into(),
        source,
    })?;
    let mut raw = sb.config();
    raw.store = Some(RawStore {
        dir: "store".into(),
        ..RawStore::default()
    });
    raw.alerts = Some(RawAlerts {
        webhook_env: WEBHOOK_ENV.into(),
        format: "json".into(),
        min_severity: "low".into(),
        failed_runs: 2,
    });
    raw.escalation = BTreeMap::from([("operations".into(), 24), ("finance".into(), 72)]);
    let config_path = opts.dir.join("tally.toml");
    let text = format!(
        "# The configuration tally demo --watch used: a worked example of [store], [alerts] and [escalation].\n\n{}",
        raw.to_toml()
    );
    std::fs::write(&config_path, text).map_err(io(&config_path))?;
    let cfg = Config::check(raw, &config_path)?;
    let env = sb.env_with(WEBHOOK_ENV, &url);
    let c = Cycle {
        cfg: &cfg,
        env: &env,
        clock,
        retry: RetryPolicy {
            min_delay: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
        progress: false,
        full: false,
    };
    let live = tokio::spawn(sandbox::live::run(sb.shared.clone(), w.rate, opts.seed));
    say(format!(
        "the shop changes {} times a minute; a cycle runs every {} s; store: {}",
        w.rate,
        w.every.as_secs(),
        cfg.operations.store.dir.display()
    ));
    let mut shown = 0;
    let mut n = 0;
    let mut reported: BTreeMap<(String, String), DateTime<Utc>> = BTreeMap::new();
    loop {
        let started = tokio::time::Instant::now();
        let report = cycle(&c, None).await;
        n += 1;
        match report {
            Ok(r) => {
                say(format!("run {}: {}", r.run_id, r.outcome));
                for l in &r.lines {
                    say(format!("  {l}"));
                }
            }
            Err(e) => say(format!("cycle skipped: {e}")),
        }
        let arrived: Vec<(DateTime<Utc>, Digest)> = inbox.lock().expect("inbox")[shown..].to_vec();
        shown += arrived.len();
        let changes = sb.shared.live.lock().expect("live").log.clone();
        for (at, d) in arrived {
            say(format!("  alert posted: {}", d.headline()));
            for a in d.new.iter().take(3) {
                say(format!(
                    "    {} {} {}: {}",
                    a.status, a.check, a.key, a.detail
                ));
            }
            for a in d.new.iter().chain(&d.escalated) {
                reported
                    .entry((a.check.clone(), a.key.clone()))
                    .or_insert(at);
            }
        }
        for ch in changes.iter().filter(|c| c.kind == "drift") {
            let Some(x) = &ch.exception else { continue };
            if let Some(at) = reported.remove(&(x.check.clone(), x.key.clone())) {
                say(format!(
                    "  detected: {} {} injected at {}, alerted {} s later",
                    x.check,
                    x.key,
                    ch.at.format("%H:%M:%S"),
                    (at - ch.at).num_seconds()
                ));
            }
        }
        if w.cycles.is_some_and(|max| n >= max) {
            break;
        }
        tokio::time::sleep_until(started + w.every).await;
    }
    live.abort();
    sb.stop().await;
    Ok(())
}
