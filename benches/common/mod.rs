//! Shared bench setup: a sandbox on loopback with its configuration and extraction options.

#![allow(dead_code)]

pub mod process;

use chrono::Utc;
use tally::config::{Config, Secrets};
use tally::sandbox::{self, Behaviour, Params, Sandbox};
use tally::snapshot::Window;

/// A running sandbox of `orders` orders, and what extracting from it needs.
pub struct Bench {
    pub rt: tokio::runtime::Runtime,
    pub sandbox: Option<Sandbox>,
    pub cfg: Config,
    pub secrets: Secrets,
    pub opts: tally::extract::Options,
    _tmp: tempfile::TempDir,
}

pub fn setup(orders: usize) -> Bench {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = sandbox::generate::generate(&Params {
        seed: 1,
        orders,
        now: Utc::now(),
        tile: 0,
    });
    let sb = rt
        .block_on(sandbox::serve(world, Behaviour::default(), "127.0.0.1:0"))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = Config::check(sb.config(), &tmp.path().join("tally.toml")).unwrap();
    let secrets = cfg.secrets(&sb.env()).unwrap();
    let opts = tally::extract::Options {
        out: tmp.path().join("snapshots"),
        window: Window::Full,
        progress: false,
        retry: Default::default(),
        clock: sb.shared.clock,
    };
    Bench {
        rt,
        sandbox: Some(sb),
        cfg,
        secrets,
        opts,
        _tmp: tmp,
    }
}
