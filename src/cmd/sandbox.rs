//! `tally sandbox`: serve simulated Centra and OrderWise APIs until interrupted, or write the
//! generated business straight to a snapshot.

use std::path::PathBuf;

use chrono::Utc;
use tally::sandbox::{self, Behaviour, Params, RatePlan};

/// The scenario to generate.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Scenario {
    /// A fashion retailer: four markets (one unmapped), two warehouses over three locations.
    Retail,
}

/// Centra rate-limit plan the sandbox enforces.
#[derive(Clone, Copy, clap::ValueEnum)]
enum Plan {
    /// Centra's published default: 60 requests and 20 mutations per 10 s.
    Default,
    /// The largest published plan: 1,500 requests per 10 s.
    Large,
}

/// Serve simulated Centra (/graphql) and OrderWise (/owapi) APIs with injected drift.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value = "retail")]
    scenario: Scenario,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Number of Centra orders.
    #[arg(long, default_value_t = 5000)]
    orders: usize,
    #[arg(long, default_value = "127.0.0.1:8780")]
    listen: String,
    /// Write the expected exceptions here (JSON lines of check and key).
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Write a tally.toml pointing at this sandbox here.
    #[arg(long)]
    write_config: Option<PathBuf>,
    /// Do not serve: write the generated business straight to a snapshot under DIR (as
    /// `tally extract --out DIR` would read it) and exit. With --truth and --write-config, what
    /// `tally reconcile` needs to be checked against the truth at any size.
    #[arg(long, value_name = "DIR")]
    write_snapshot: Option<PathBuf>,
    /// Fraction of requests answered with an injected fault (seeded by --seed).
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    #[arg(long, value_enum, default_value = "large")]
    plan: Plan,
    /// Generate the business as of this time (RFC 3339) instead of now; the sandbox's clock
    /// starts there.
    #[arg(long)]
    at: Option<String>,
    /// Keep the business moving: RATE changes a minute (new orders, despatches, cancellations,
    /// stock moves, fresh drift and fixes), each logged to --live-log with its time.
    #[arg(long, value_name = "RATE")]
    live: Option<f64>,
    /// Where a live sandbox appends its changes (JSON lines); default: beside --truth, or
    /// ./sandbox-live.jsonl.
    #[arg(long)]
    live_log: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let Scenario::Retail = args.scenario;
    let now = match &args.at {
        Some(t) => super::parse_time("--at", t)?,
        None => Utc::now(),
    };
    let rt = super::runtime()?;
    rt.block_on(async {
        let params = Params {
            seed: args.seed,
            orders: args.orders,
            now,
            tile: 0,
        };
        if let Some(root) = &args.write_snapshot {
            eprintln!(
                "writing {} orders (seed {}) to a snapshot...",
                args.orders, args.seed
            );
            let written = sandbox::snapshot::write(&params, root)?;
            if let Some(path) = &args.truth {
                write_truth(&written.truth, path)?;
            }
            if let Some(path) = &args.write_config {
                std::fs::write(path, written.config.to_toml())?;
                eprintln!("configuration: {}", path.display());
            }
            println!("{}", written.dir.display());
            return Ok(0);
        }
        eprintln!("generating {} orders (seed {})...", args.orders, args.seed);
        let world = sandbox::generate::generate(&params);
        if let Some(path) = &args.truth {
            write_truth(&world.truth, path)?;
        }
        let plan = match args.plan {
            Plan::Default => RatePlan::DEFAULT,
            Plan::Large => RatePlan::LARGE,
        };
        let behaviour = Behaviour {
            fault_rate: args.faults,
            fault_seed: args.seed,
            plan,
            ..Behaviour::default()
        };
        let sb = sandbox::serve(world, behaviour, &args.listen).await?;
        let cfg = sb.config();
        if let Some(path) = &args.write_config {
            std::fs::write(path, cfg.to_toml())?;
            eprintln!("configuration: {}", path.display());
        }
        println!("Centra GraphQL:  {}/graphql", cfg.centra.base_url);
        println!("OrderWise OWAPI: {}", cfg.orderwise.base_url);
        println!(
            "export {}={}",
            cfg.centra.token_env,
            sandbox::server::CENTRA_TOKEN
        );
        println!(
            "export {}={}",
            cfg.orderwise.user_env,
            sandbox::server::ORDERWISE_USER
        );
        println!(
            "export {}={}",
            cfg.orderwise.password_env,
            sandbox::server::ORDERWISE_PASSWORD
        );
        let live = args.live.map(|rate| {
            let log = args.live_log.clone().unwrap_or_else(|| match &args.truth {
                Some(t) => t.with_extension("live.jsonl"),
                None => PathBuf::from("sandbox-live.jsonl"),
            });
            println!("live: {rate} changes a minute, logged to {}", log.display());
            let shared = sb.shared.clone();
            let changes = tokio::spawn(sandbox::live::run(sb.shared.clone(), rate, args.seed));
            let writer = tokio::spawn(async move {
                let mut written = 0;
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
                loop {
                    tick.tick().await;
                    let new: Vec<String> = {
                        let live = shared.live.lock().expect("live lock");
                        live.log[written..]
                            .iter()
                            .map(|c| serde_json::to_string(c).expect("serialises"))
                            .collect()
                    };
                    if new.is_empty() {
                        continue;
                    }
                    written += new.len();
                    use std::io::Write;
                    if let Ok(mut f) = std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&log)
                    {
                        for line in new {
                            let _ = writeln!(f, "{line}");
                        }
                    }
                }
            });
            (changes, writer)
        });
        println!("serving until Ctrl-C");
        tokio::signal::ctrl_c().await?;
        if let Some((a, b)) = live {
            a.abort();
            b.abort();
        }
        sb.stop().await;
        Ok(0)
    })
}

/// Writes the expected exceptions to `path` and says how many.
fn write_truth(truth: &[sandbox::Expected], path: &std::path::Path) -> std::io::Result<()> {
    sandbox::write_truth(truth, path)?;
    eprintln!("expected exceptions: {} ({})", truth.len(), path.display());
    Ok(())
}
