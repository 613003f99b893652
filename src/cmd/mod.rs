//! One file per subcommand: each turns its flags into typed input, calls the library and prints.

pub mod accept;
pub mod apply;
pub mod checks;
pub mod demo;
pub mod doctor;
pub mod extract;
pub mod history;
pub mod init;
pub mod plan;
pub mod reconcile;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod watch;

use std::io::IsTerminal;
use std::process::ExitCode;

/// Logs go to stderr; `TALLY_LOG` (or `RUST_LOG`) sets the level, warnings by default.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Parses a time flag (`--since`, `--at`) as RFC 3339, naming the flag when it is not one.
pub fn parse_time(flag: &str, text: &str) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    use anyhow::Context;
    Ok(chrono::DateTime::parse_from_rfc3339(text)
        .with_context(|| {
            format!("{flag} {text:?} is not an RFC 3339 time such as 2026-11-01T00:00:00Z")
        })?
        .to_utc())
}

/// Whether progress bars make sense.
pub fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// A multi-threaded runtime for the commands that talk to the network.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Prints an error chain on one line each and picks the exit code.
pub fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("tally: error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}
