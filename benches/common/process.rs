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
    pub fn measure(label: &str, command: &mut Command) -> Run {
        Started::spawn(label, command).finish()
    }
}

/// A measured process that has been started: [`Started::finish`] waits for it.
///
/// Linux counts into a child's peak RSS the memory of the process it was forked from, up to its
/// `exec` (the kernel carries the old address space's high-water mark over). A bench whose own
/// process holds a large world must therefore start its children before it builds the world, and
/// hand them their work later (through stdin): see `extract_rate`.
pub struct Started {
    label: String,
    child: std::process::Child,
    started: Instant,
}

impl Started {
    /// Starts `command` with its stdout and stderr captured (and its stdin piped).
    pub fn spawn(label: &str, command: &mut Command) -> Started {
        let child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        Started {
            label: label.into(),
            child,
            started: Instant::now(),
        }
    }

    /// Writes `line` to the process's stdin and closes it; its wall time counts from here.
    pub fn go(&mut self, line: &str) {
        use std::io::Write;
        let mut stdin = self.child.stdin.take().expect("piped");
        writeln!(stdin, "{line}").expect("the waiting child reads its stdin");
        self.started = Instant::now();
    }

    /// Waits for the process to end (reaping it with `wait4`, which also returns its peak RSS);
    /// panics (with its output) when it failed.
    pub fn finish(mut self) -> Run {
        let label = self.label;
        drop(self.child.stdin.take());
        let (mut out, mut err) = (String::new(), String::new());
        use std::io::Read;
        let stderr = self.child.stderr.take().expect("piped");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = std::io::BufReader::new(stderr).read_to_string(&mut s);
            s
        });
        let _ = self
            .child
            .stdout
            .take()
            .expect("piped")
            .read_to_string(&mut out);
        err.push_str(&reader.join().unwrap_or_default());
        // wait4, not Child::wait: it also returns the child's resource usage (peak RSS).
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: waits for our own child; status and usage are valid out-pointers.
        let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        let wall = self.started.elapsed();
        assert_eq!(waited, pid, "{label}: wait4 failed");
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{label} failed (status {status}):\n{out}\n{err}"
        );
        let run = Run {
            label,
            wall,
            peak_rss_kb: usage.ru_maxrss,
            stdout: out,
        };
        println!(
            "{}: {:.2} s, peak RSS {} MB",
            run.label,
            run.wall.as_secs_f64(),
            run.peak_rss_kb / 1024
        );
        run
    }
}
