//! Where tally's "now" comes from.
//!
//! Extraction stamps a snapshot with the time it started, and every time-dependent check (settle
//! window, shipment SLA, age in the queue) measures from that stamp. The sandbox stamps what it
//! writes (a posted order, a completed shipment) with its own time. Both read one [`Clock`], so a
//! test can pin the calendar (a world generated on a given date, served and extracted on that
//! same date) and mean the same thing on every day of the year.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

/// A source of the current time: the system's, or one that starts at a pinned moment and runs at
/// the speed of the real clock from there.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pinned: Option<(DateTime<Utc>, Instant)>,
}

impl Clock {
    /// The system clock: what a real run uses.
    pub fn system() -> Clock {
        Clock { pinned: None }
    }

    /// A clock that reads `at` now and advances with real time from here on.
    pub fn starting_at(at: DateTime<Utc>) -> Clock {
        Clock {
            pinned: Some((at, Instant::now())),
        }
    }

    /// The current time by this clock.
    pub fn now(&self) -> DateTime<Utc> {
        match self.pinned {
            None => Utc::now(),
            Some((at, since)) => {
                at + Duration::from_std(since.elapsed()).unwrap_or(Duration::zero())
            }
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_clock_starts_at_its_moment_and_moves_forward() {
        let at = DateTime::parse_from_rfc3339("2026-03-29T00:30:00Z")
            .unwrap()
            .to_utc();
        let clock = Clock::starting_at(at);
        let first = clock.now();
        assert!(first >= at && first - at < Duration::seconds(5), "{first}");
        assert!(clock.now() >= first);
    }

    #[test]
    fn system_clock_is_the_system_time() {
        let before = Utc::now();
        let read = Clock::system().now();
        assert!(read >= before && read <= Utc::now());
    }
}
