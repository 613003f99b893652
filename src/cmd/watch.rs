//! `tally watch --every DURATION`: `tally run` in a loop until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::time::Duration;

use tally::config::{Config, process_env};

/// Run cycles every DURATION until interrupted; never two at once.
#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "tally.toml")]
    config: PathBuf,
    /// Time from one cycle's start to the next: `90s`, `2m`, `1h`.
    #[arg(long, value_parser = parse_duration)]
    every: Duration,
}

/// Parses `90s`, `2m`, `1h` (or plain seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 90s, 2m or 1h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{text:?}: the unit must be s, m or h")),
    };
    if secs == 0 {
        return Err("the interval must be longer than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    let cfg = Config::load(&args.config)?;
    let rt = super::runtime()?;
    rt.block_on(async {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("a SIGTERM handler installs");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("tally watch: stopping after the current cycle's last step");
            let _ = tx.send(true);
        });
        let cycle = tally::run::Cycle {
            cfg: &cfg,
            env: &process_env,
            clock: tally::clock::Clock::system(),
            retry: Default::default(),
            progress: false,
            full: false,
        };
        let cycles = tally::run::watch::watch(&cycle, args.every, rx, |r| match r {
            Ok(report) => super::run::print_report(report),
            Err(e) => eprintln!("tally watch: cycle skipped: {e}"),
        })
        .await;
        println!("tally watch: stopped after {cycles} cycles");
    });
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_minutes_and_hours() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert!(parse_duration("2d").is_err());
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
