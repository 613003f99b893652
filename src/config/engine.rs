//! `[engine]`: how DuckDB may use this machine (DESIGN.md "Scale"). A reconciliation larger than
//! memory spills to `temp_directory` instead of failing; the default limit keeps the whole process
//! under the 4 GB design point.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Error;

/// `[engine]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    /// DuckDB's `memory_limit` (`3GB`, `1500MB`).
    pub memory_limit: Option<String>,
    /// Where DuckDB spills; relative to the configuration file's directory.
    pub temp_directory: Option<String>,
    /// Worker threads (default: [`default_threads`], one more than the machine's cores).
    pub threads: Option<u32>,
}

/// `[engine]`, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub memory_limit: String,
    pub temp_directory: PathBuf,
    pub threads: u32,
}

/// The default memory limit: DuckDB's share of the 4 GB design point.
pub const DEFAULT_MEMORY_LIMIT: &str = "3GB";

impl Default for Engine {
    fn default() -> Self {
        Engine {
            memory_limit: DEFAULT_MEMORY_LIMIT.into(),
            temp_directory: std::env::temp_dir().join("tally-duckdb"),
            threads: default_threads(),
        }
    }
}

/// DuckDB's worker threads unless `[engine] threads` says: one more than the cores this process
/// may use (cgroup quotas and CPU affinity counted). A reconciliation larger than memory waits on
/// spilled blocks and fresh pages (10 to 13 s of system time in a 10M run); a spare thread keeps
/// both cores busy meanwhile. Measured at 10M orders on 2 cores, whole `tally reconcile` processes: 3
/// threads 50.3 to 53.7 s (seven runs; 52.0, 52.7 and 53.3 s alternating with 2 threads), 2
/// threads 54.0 to 55.3 s (five runs; 54.6, 55.3 and 54.9 s alternating), 4 threads 52.3 s; at
/// 100k the difference is within the spread (1.03 to 1.07 s against 1.00 to 1.01 s).
pub fn default_threads() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores).unwrap_or(u32::MAX - 1) + 1
}

/// Checks `[engine]` of the file at `path`.
pub fn check(raw: Option<&RawEngine>, path: &Path) -> Result<Engine, Error> {
    let mut engine = Engine::default();
    let Some(raw) = raw else {
        return Ok(engine);
    };
    if let Some(limit) = &raw.memory_limit {
        let digits = limit.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let unit = &limit[digits.len()..];
        let units = ["KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"];
        if digits.parse::<f64>().is_err() || !units.contains(&unit) {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                key: "engine.memory_limit".into(),
                message: format!("is {limit:?}; expected an amount such as \"3GB\" or \"1500MB\""),
            });
        }
        engine.memory_limit = limit.clone();
    }
    if let Some(dir) = &raw.temp_directory {
        engine.temp_directory = path.parent().unwrap_or(Path::new(".")).join(dir);
    }
    if let Some(threads) = raw.threads {
        if threads == 0 {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                key: "engine.threads".into(),
                message: "is 0; expected 1 or more".into(),
            });
        }
        engine.threads = threads;
    }
    Ok(engine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_or_are_named() {
        let raw = RawEngine {
            memory_limit: Some("1500MB".into()),
            temp_directory: Some("spill".into()),
            threads: None,
        };
        let e = check(Some(&raw), Path::new("/srv/tally/tally.toml")).unwrap();
        assert_eq!(e.memory_limit, "1500MB");
        assert_eq!(e.temp_directory, PathBuf::from("/srv/tally/spill"));
        let bad = RawEngine {
            memory_limit: Some("lots".into()),
            ..RawEngine::default()
        };
        let err = check(Some(&bad), Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("engine.memory_limit"), "{err}");
        assert_eq!(
            check(None, Path::new("t.toml")).unwrap().memory_limit,
            "3GB"
        );
    }

    #[test]
    fn threads_default_to_one_more_than_the_cores_and_are_never_zero() {
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(check(None, Path::new("t.toml")).unwrap().threads, cores + 1);
        let set = RawEngine {
            threads: Some(2),
            ..RawEngine::default()
        };
        assert_eq!(check(Some(&set), Path::new("t.toml")).unwrap().threads, 2);
        let zero = RawEngine {
            threads: Some(0),
            ..RawEngine::default()
        };
        let err = check(Some(&zero), Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("engine.threads"), "{err}");
    }
}
