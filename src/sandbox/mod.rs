//! The sandbox: simulated Centra and OrderWise APIs over one generated business with known drift.
//!
//! [`generate`] builds the business and the exceptions it should produce ([`World::truth`]);
//! [`serve`] puts both APIs on one loopback address. `tally demo`, the tests and the benches run
//! everything against it, so every run has ground truth. The contracts in `../shared/contracts` are
//! the rules: the sandbox is never more forgiving than the real systems.

pub mod centra;
pub mod drift;
pub mod generate;
pub mod live;
pub mod malformed;
pub mod oracle;
pub mod orderwise;
pub mod server;
pub mod snapshot;
pub mod world;

use std::net::SocketAddr;
use std::sync::Arc;

pub use generate::Params;
pub use malformed::Malformed;
pub use server::{
    Behaviour, CENTRA_TOKEN, ORDERWISE_PASSWORD, ORDERWISE_USER, RatePlan, Shared, ThrottleGap,
};
pub use world::{Expected, World};

use crate::config::RawConfig;

/// Errors starting the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}; choose another address with --listen")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Sandbox {
    /// The configuration mapping the served business, pointed at this server.
    pub fn config(&self) -> RawConfig {
        let mut cfg = self.shared.world.read().expect("world lock").config.clone();
        cfg.centra.base_url = format!("http://{}", self.addr);
        cfg.orderwise.base_url = format!("http://{}/owapi", self.addr);
        cfg
    }

    /// The sandbox's credentials, keyed by the environment variable names its configuration uses.
    pub fn env(&self) -> impl Fn(&str) -> Option<String> + use<> {
        let cfg = self.config();
        move |var: &str| {
            if var == cfg.centra.token_env {
                Some(server::CENTRA_TOKEN.into())
            } else if var == cfg.orderwise.user_env {
                Some(server::ORDERWISE_USER.into())
            } else if var == cfg.orderwise.password_env {
                Some(server::ORDERWISE_PASSWORD.into())
            } else {
                None
            }
        }
    }

    /// [`Self::env`] with one more variable: the URL of a webhook receiver the demo, a test or a
    /// bench serves beside the sandbox.
    pub fn env_with(&self, var: &str, value: &str) -> impl Fn(&str) -> Option<String> + use<> {
        let base = self.env();
        let (var, value) = (var.to_string(), value.to_string());
        move |v: &str| {
            if v == var {
                Some(value.clone())
            } else {
                base(v)
            }
        }
    }

    /// The expected exceptions of the served business.
    pub fn truth(&self) -> Vec<Expected> {
        self.shared.world.read().expect("world lock").truth.clone()
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Serves `world` on `listen` (`127.0.0.1:0` picks a free port).
pub async fn serve(world: World, behaviour: Behaviour, listen: &str) -> Result<Sandbox, Error> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| Error::Bind {
            addr: listen.into(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| Error::Bind {
        addr: listen.into(),
        source,
    })?;
    let shared = Shared::new(world, behaviour);
    let app = server::router(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(Sandbox {
        addr,
        shared,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Writes expected exceptions as JSON lines of `check` and `key`.
pub fn write_truth(truth: &[Expected], path: &std::path::Path) -> std::io::Result<()> {
    let mut out = String::new();
    for e in truth {
        out.push_str(&serde_json::to_string(e).expect("serialises"));
        out.push('\n');
    }
    std::fs::write(path, out)
}
