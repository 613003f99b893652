//! Helpers shared by the integration tests: a sandbox on loopback with its configuration.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use tally::config::{Config, Secrets};
use tally::connectors::http::RetryPolicy;
use tally::extract::{self, Extracted};
use tally::sandbox::{self, Behaviour, Params, RatePlan, Sandbox, World};
use tally::snapshot::Window;

/// A generated world.
pub fn world(seed: u64, orders: usize) -> World {
    sandbox::generate::generate(&Params {
        seed,
        orders,
        now: Utc::now(),
    })
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

/// Extracts everything into `dir/snapshots`.
pub async fn extract(
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
    };
    extract::run(cfg, secrets, &opts).await
}
