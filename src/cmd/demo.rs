//! `tally demo`: the whole pipeline against the sandbox, in one process.

use std::path::PathBuf;
use std::time::Instant;

/// Start the sandbox, extract, reconcile and report into DIR; print what was found.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the configuration, snapshot and reports.
    #[arg(long, default_value = "tally-demo")]
    dir: PathBuf,
    /// Scenario seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of Centra orders in the scenario.
    #[arg(long, default_value_t = 5000)]
    orders: usize,
    /// Fraction of API requests answered with an injected fault (429, 5xx, expired token).
    #[arg(long, default_value_t = 0.08)]
    faults: f64,
    /// Run the business as of this time (RFC 3339) instead of now: the same seed and time give the
    /// same shop, so a training session or a bug report can be replayed exactly.
    #[arg(long)]
    at: Option<String>,
    /// Instead of one pass: keep the shop changing and run the scheduled cycle (incremental
    /// refresh, history, alerts) every --every, printing each alert as it would be posted.
    #[arg(long)]
    watch: bool,
    /// With --watch: time between cycles.
    #[arg(long, default_value = "30s", value_parser = super::watch::parse_duration)]
    every: std::time::Duration,
    /// With --watch: stop after this many cycles (default: until Ctrl-C).
    #[arg(long)]
    cycles: Option<u64>,
    /// With --watch: changes to the shop a minute.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let started = Instant::now();
    let opts = tally::demo::Options {
        dir: args.dir,
        seed: args.seed,
        orders: args.orders,
        fault_rate: args.faults,
        progress: super::interactive(),
        at: args
            .at
            .as_deref()
            .map(|t| super::parse_time("--at", t))
            .transpose()?,
    };
    println!(
        "tally demo: simulating a shop with {} orders (seed {}) and its ERP on loopback...",
        opts.orders, opts.seed
    );
    if args.watch {
        let w = tally::demo::watch::WatchOptions {
            every: args.every,
            cycles: args.cycles,
            rate: args.rate,
        };
        super::runtime()?.block_on(async {
            tokio::select! {
                r = tally::demo::watch::run(&opts, &w, |line| println!("{line}")) => r,
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        })?;
        println!("done in {:.1}s", started.elapsed().as_secs_f64());
        return Ok(0);
    }
    let o = super::runtime()?.block_on(tally::demo::run(&opts))?;
    println!(
        "snapshot: {} ({} files, {} faults injected and retried, {} throttled)",
        o.snapshot.dir.display(),
        o.snapshot.manifest.files.len(),
        o.faults_injected,
        o.throttled
    );
    super::reconcile::print_summary(&o.summary);
    if o.missed.is_empty() && o.extra.is_empty() {
        println!(
            "ground truth: every injected drift found, nothing else flagged ({})",
            o.truth.display()
        );
    } else {
        println!(
            "ground truth: {} missed, {} unexpected (see {})",
            o.missed.len(),
            o.extra.len(),
            o.truth.display()
        );
        for e in o.missed.iter().take(5) {
            println!("  missed {} {}", e.check, e.key);
        }
        for e in o.extra.iter().take(5) {
            println!("  extra  {} {}", e.check, e.key);
        }
    }
    let planned: Vec<String> = o
        .plan_summary
        .iter()
        .map(|(k, s)| format!("{} {k}", s.actions))
        .collect();
    println!(
        "plan: {} ({}; review {}.review.csv)",
        o.plan.display(),
        planned.join(", "),
        o.plan.display()
    );
    println!("configuration: {}", o.config.display());
    println!("reports:");
    for r in &o.reports {
        println!("  {}", r.display());
    }
    println!("done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(if o.missed.is_empty() && o.extra.is_empty() {
        0
    } else {
        1
    })
}
