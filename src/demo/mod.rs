//! `tally demo`: the whole pipeline on one machine. Starts the sandbox on loopback (with faults
//! injected, so the retry path runs), extracts a snapshot, reconciles it, renders the report, and
//! compares what was found with the sandbox's ground truth.
//! The reports (audit, month-end, exception queue; HTML and PDF) go into the demo directory.
//! [`watch`] runs the scheduled cycle on a live sandbox instead (`tally demo --watch`).

pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::connectors::http::RetryPolicy;
use crate::extract::{self, Extracted};
use crate::reconcile::{self, Summary};
use crate::report;
use crate::sandbox::{self, Behaviour, Expected, Params, RatePlan};
use crate::snapshot::Window;

/// What the demo runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub seed: u64,
    pub orders: usize,
    pub fault_rate: f64,
    pub progress: bool,
    /// The moment the business is generated at and the run happens at; the system time if none.
    pub at: Option<DateTime<Utc>>,
}

/// What the demo found and where it put it.
#[derive(Debug)]
pub struct Outcome {
    pub config: PathBuf,
    pub snapshot: Extracted,
    pub summary: Summary,
    /// The reports: audit, month-end and exception queue, each in HTML and PDF, and the
    /// month-end workbook.
    pub reports: Vec<PathBuf>,
    /// The corrections tally would make (`tally apply` runs them).
    pub plan: PathBuf,
    pub plan_summary: std::collections::BTreeMap<&'static str, crate::plan::KindSummary>,
    pub truth: PathBuf,
    /// Expected exceptions reconcile did not report.
    pub missed: Vec<Expected>,
    /// Reported exceptions the scenario did not expect.
    pub extra: Vec<Expected>,
    pub faults_injected: u64,
    pub throttled: u64,
}

/// Errors of the demo, each from the stage that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sandbox(#[from] sandbox::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Extract(#[from] crate::connectors::Error),
    #[error(transparent)]
    Reconcile(#[from] reconcile::Error),
    #[error(transparent)]
    Report(#[from] report::Error),
    #[error(transparent)]
    Plan(#[from] crate::plan::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Compares reported exceptions with the expected ones as multisets: (missed, extra). An exception
/// reported twice where the truth has it once is one extra, so a duplicated row never passes.
pub fn compare(
    truth: &[Expected],
    found: &[reconcile::Exception],
) -> (Vec<Expected>, Vec<Expected>) {
    use std::collections::BTreeMap;
    let mut counts: BTreeMap<Expected, i64> = BTreeMap::new();
    for e in truth {
        *counts.entry(e.clone()).or_default() += 1;
    }
    for e in found {
        let key = Expected {
            check: e.check.clone(),
            key: e.key.clone(),
        };
        *counts.entry(key).or_default() -= 1;
    }
    let (mut missed, mut extra) = (Vec::new(), Vec::new());
    for (e, n) in counts {
        let side = if n > 0 { &mut missed } else { &mut extra };
        side.extend(std::iter::repeat_n(e, n.unsigned_abs() as usize));
    }
    (missed, extra)
}

/// Creates the demo directory and serves the demo's business on loopback (large plan, the
/// requested faults).
async fn start(opts: &Options) -> Result<sandbox::Sandbox, Error> {
    std::fs::create_dir_all(&opts.dir).map_err(io(&opts.dir))?;
    let world = sandbox::generate::generate(&Params {
        seed: opts.seed,
        orders: opts.orders,
        now: opts.at.unwrap_or_else(Utc::now),
        tile: 0,
    });
    let behaviour = Behaviour {
        fault_rate: opts.fault_rate,
        fault_seed: opts.seed,
        plan: RatePlan::LARGE,
        ..Behaviour::default()
    };
    Ok(sandbox::serve(world, behaviour, "127.0.0.1:0").await?)
}

/// Runs the demo into `opts.dir`.
pub async fn run(opts: &Options) -> Result<Outcome, Error> {
    let sb = start(opts).await?;
    let clock = sb.shared.clock;
    let raw = sb.config();
    let config_path = opts.dir.join("tally.toml");
    let text = format!(
        "# The configuration tally demo used, a worked example for a real tenant.\n\
         # The sandbox it pointed at has stopped; its credentials were read from the variables named here.\n\n{}",
        raw.to_toml()
    );
    std::fs::write(&config_path, text).map_err(io(&config_path))?;
    let cfg = Config::check(raw, &config_path)?;
    let secrets = cfg.secrets(&sb.env())?;
    let retry = RetryPolicy {
        min_delay: std::time::Duration::from_millis(50),
        ..RetryPolicy::default()
    };
    let snapshot = extract::run(
        &cfg,
        &secrets,
        &extract::Options {
            out: opts.dir.join("snapshots"),
            window: Window::Full,
            progress: opts.progress,
            retry,
            clock,
        },
    )
    .await?;
    let outcome = reconcile::run(&snapshot.dir, &cfg)?;
    let plan = crate::plan::build(&snapshot.dir, &cfg, &Default::default())?;
    let plan_path = opts.dir.join("plan.jsonl");
    crate::plan::write(&plan, &plan_path)?;
    let mut input = report::Input::read(&snapshot.dir)?;
    input.set_plan(&plan.actions)?;
    let mut reports = Vec::new();
    for kind in report::Kind::ALL {
        for format in [report::Format::Html, report::Format::Pdf] {
            let path = opts.dir.join(kind.file_name(format));
            report::write_to(&input, kind, format, &Default::default(), &path)?;
            reports.push(path);
        }
    }
    let workbook = opts
        .dir
        .join(report::Kind::MonthEnd.file_name(report::Format::Xlsx));
    report::write_to(
        &input,
        report::Kind::MonthEnd,
        report::Format::Xlsx,
        &Default::default(),
        &workbook,
    )?;
    reports.push(workbook);
    let truth = sb.truth();
    let truth_path = opts.dir.join("truth.jsonl");
    sandbox::write_truth(&truth, &truth_path).map_err(io(&truth_path))?;
    let found = reconcile::read_exceptions(&snapshot.dir)?;
    let (missed, extra) = compare(&truth, &found);
    let faults_injected = sb.shared.stats.faults.load(Ordering::Relaxed);
    let throttled = sb.shared.stats.throttled.load(Ordering::Relaxed);
    sb.stop().await;
    Ok(Outcome {
        config: config_path,
        snapshot,
        summary: outcome.summary,
        reports,
        plan: plan_path,
        plan_summary: plan.summary(),
        truth: truth_path,
        missed,
        extra,
        faults_injected,
        throttled,
    })
}
