//! Extraction: both systems, read concurrently, streamed into one snapshot.
//!
//! Centra and OrderWise are read at the same time (each at its own pace); every page goes straight
//! to Parquet, so memory does not grow with the number of orders. The snapshot is committed only
//! when both finished: any error removes the temporary directory, so no partial snapshot remains.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::clock::Clock;
use crate::config::{Config, Secrets};
use crate::connectors::centra::OrderSinks;
use crate::connectors::http::RetryPolicy;
use crate::connectors::orderwise::OrderWiseSinks;
use crate::connectors::{Error, Warnings};
use crate::snapshot::{FileEntry, Manifest, SnapshotWriter, Sources, Window};

/// What to extract and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// Directory snapshots are written under.
    pub out: PathBuf,
    pub window: Window,
    /// Draw progress bars (only on a terminal).
    pub progress: bool,
    pub retry: RetryPolicy,
    /// What "now" is: the snapshot's extraction time, from which settle windows and SLAs count.
    pub clock: Clock,
}

/// What an extraction produced.
#[derive(Debug, Clone)]
pub struct Extracted {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// How much of Centra's request budget the extraction used.
    pub centra_rate: RequestRate,
}

/// Centra requests over the time Centra was read, against what its rate limits allow: how close to
/// the bound an extraction ran (on the default plan, reading is rate-bound, not CPU-bound).
#[derive(Debug, Clone, Copy)]
pub struct RequestRate {
    /// Requests sent, retries and the `rateLimits` read included.
    pub requests: u64,
    /// From the first Centra request to the last answer.
    pub seconds: f64,
    /// The pace `rateLimits` and `[centra] budget_percent` gave.
    pub pace: crate::connectors::centra::Pace,
}

impl RequestRate {
    /// Requests per second achieved.
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::EPSILON)
    }
    /// Requests per second the tenant's request quota allows.
    pub fn allowed_per_second(&self) -> f64 {
        f64::from(self.pace.allowed_per_10s) / 10.0
    }
    /// The share of the allowed rate used, in per cent.
    pub fn percent_of_allowed(&self) -> f64 {
        100.0 * self.per_second() / self.allowed_per_second()
    }
}

impl std::fmt::Display for RequestRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests in {:.1} s: {:.2}/s of the {:.2}/s its rate limits allow ({:.0}%, paced to {}%)",
            self.requests,
            self.seconds,
            self.per_second(),
            self.allowed_per_second(),
            self.percent_of_allowed(),
            100 * self.pace.paced_per_10s / self.pace.allowed_per_10s.max(1),
        )
    }
}

fn host(url: &str) -> String {
    url.split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(url)
        .to_string()
}

fn bar(multi: &MultiProgress, label: &str) -> ProgressBar {
    let bar = multi.add(ProgressBar::no_length());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>22} {bar:30} {pos:>9}/{len:9} {per_sec:>12} {elapsed}",
        )
        .expect("a valid template"),
    );
    bar.set_prefix(label.to_string());
    bar
}

/// Snapshots both systems into `opts.out`; returns the committed snapshot.
pub async fn run(cfg: &Config, secrets: &Secrets, opts: &Options) -> Result<Extracted, Error> {
    let started: DateTime<Utc> = opts.clock.now();
    let writer = SnapshotWriter::create(&opts.out, started)?;
    let warnings = Warnings::default();
    let multi = MultiProgress::with_draw_target(if opts.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let since = match &opts.window {
        Window::Full => None,
        Window::Since { since } => Some(*since),
    };

    let (mut centra, orderwise) = crate::connectors::clients(cfg, secrets, opts.retry)?;

    let mut order_sinks = OrderSinks {
        orders: writer.sink()?,
        lines: writer.sink()?,
        shipments: writer.sink()?,
        shipment_lines: writer.sink()?,
    };
    let mut products = writer.sink()?;
    let mut stock = writer.sink()?;
    let mut markets = writer.sink()?;
    let mut warehouses = writer.sink()?;
    let mut ow_sinks = OrderWiseSinks {
        orders: writer.sink()?,
        lines: writer.sink()?,
        stock: writer.sink()?,
        despatches: writer.sink()?,
        despatch_lines: writer.sink()?,
        variants: writer.sink()?,
    };

    let centra_orders_bar = bar(&multi, "Centra orders");
    let centra_products_bar = bar(&multi, "Centra products");
    let ow_bar = bar(&multi, "OrderWise rows");
    let centra_work = async {
        let began = std::time::Instant::now();
        let pace = centra.pace_from_rate_limits().await?;
        centra.markets(&mut markets).await?;
        centra.warehouses(&mut warehouses).await?;
        centra
            .products(&mut products, &mut stock, &centra_products_bar)
            .await?;
        centra_products_bar.finish();
        centra
            .orders(
                since,
                cfg.timezone,
                &mut order_sinks,
                &warnings,
                &centra_orders_bar,
            )
            .await?;
        centra_orders_bar.finish();
        Ok::<RequestRate, Error>(RequestRate {
            requests: centra.requests_sent(),
            seconds: began.elapsed().as_secs_f64(),
            pace,
        })
    };
    let ow_work = async {
        orderwise
            .extract(
                &cfg.raw.orderwise.exports,
                since,
                &mut ow_sinks,
                &warnings,
                &ow_bar,
            )
            .await?;
        ow_bar.finish();
        Ok::<(), Error>(())
    };
    let (centra_rate, ()) = tokio::try_join!(centra_work, ow_work)?;

    let files: Vec<FileEntry> = vec![
        order_sinks.orders.finish()?,
        order_sinks.lines.finish()?,
        order_sinks.shipments.finish()?,
        order_sinks.shipment_lines.finish()?,
        stock.finish()?,
        products.finish()?,
        markets.finish()?,
        warehouses.finish()?,
        ow_sinks.orders.finish()?,
        ow_sinks.lines.finish()?,
        ow_sinks.stock.finish()?,
        ow_sinks.despatches.finish()?,
        ow_sinks.despatch_lines.finish()?,
        ow_sinks.variants.finish()?,
    ];
    let manifest = Manifest {
        tool: "tally".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        snapshot_id: String::new(),
        started_at: started,
        finished_at: opts.clock.now(),
        window: opts.window.clone(),
        timezone: cfg.raw.timezone.clone(),
        sources: Sources {
            centra: host(&cfg.raw.centra.base_url),
            orderwise: host(&cfg.raw.orderwise.base_url),
        },
        files,
        warnings: warnings.take(),
        refresh: None,
    };
    let dir = writer.commit(manifest.clone())?;
    let manifest = crate::snapshot::Snapshot::open(&dir)?.manifest;
    Ok(Extracted {
        dir,
        manifest,
        centra_rate,
    })
}

/// The newest complete snapshot under `root`, if any.
pub fn latest(root: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join(crate::snapshot::MANIFEST).is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// A snapshot of the recent past in a temporary directory, removed when dropped: what
/// `tally init` infers mappings from and `tally doctor` checks them against.
pub struct Scratch {
    _root: RemoveOnDrop,
    pub snapshot: crate::snapshot::Snapshot,
}

/// Removes a directory when dropped (on success and on every error path alike).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Scratch {
    /// Extracts orders and despatches changed in the last `days` days (stock, products and
    /// markets whole) into a fresh temporary directory named after `purpose`.
    pub async fn recent(
        cfg: &Config,
        secrets: &Secrets,
        clock: Clock,
        days: i64,
        purpose: &str,
    ) -> Result<Scratch, Error> {
        let root = RemoveOnDrop(std::env::temp_dir().join(format!(
            "tally-{purpose}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        )));
        let opts = Options {
            out: root.0.join("snapshots"),
            window: Window::Since {
                since: clock.now() - chrono::Duration::days(days),
            },
            progress: false,
            retry: Default::default(),
            clock,
        };
        let extracted = run(cfg, secrets, &opts).await?;
        Ok(Scratch {
            snapshot: crate::snapshot::Snapshot::open(&extracted.dir)?,
            _root: root,
        })
    }
}
