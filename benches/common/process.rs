//! One measured child process: wall time and peak resident memory (from `wait4`), for the benches
//! whose figure is a whole process (a command's memory cannot be read from inside it).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One measured process: wall time, peak resident memory and what it printed.
pub struct Run {
    pub label: String,
    pub wall: Duration,
    pub peak_rss_kb: i64,
    pub stdout: String,
}

impl Run {
    /// Runs `command` to its end, measuring it; panics (with its output) when it fails.
    #[expect(
        clippy::zombie_processes,
        reason = "the child is reaped by wait4, which also returns its peak RSS"
    )]
    pub fn measure(label: &str, command: &mut Command) -> Run {
        let started = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let (mut out, mut err) = (String::new(), String::new());
        use std::io::Read;
        let stderr = child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::BufReader::new(stderr).read_to_string(&mut s);
            s
        });
        let _ = child.stdout.take().expect("piped").read_to_string(&mut out);
        err.push_str(&reader.join().unwrap_or_default());
        // wait4, not Child::wait: it also returns the child's resource usage (peak RSS).
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = child.id() as libc::pid_t;
        // SAFETY: waits for our own child; status and usage are valid out-pointers.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = started.elapsed();
        assert_eq!(waited, pid, "{label}: wait4 failed");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{label} failed (status {status}):\n{out}\n{err}"
        );
        let run = Run {
            label: label.into(),
            wall,
            peak_rss_kb: usage.ru_maxrss,
            stdout: out,
        };
        println!(
            "{label}: {:.2} s, peak RSS {} MB",
            run.wall.as_secs_f64(),
            run.peak_rss_kb / 1024
        );
        run
    }
}
