//! `tally watch --every DURATION`: cycles until a signal, never two at once.
//!
//! A cycle starts every `every` (measured start to start; a cycle longer than `every` is followed
//! at once by the next). A failed cycle (a source down) is recorded by the cycle itself and the
//! loop goes on. On a stop request the current cycle abandons its refresh or finishes its short
//! last steps (see [`super`]), and the loop ends.

use std::time::Duration;

use super::{Cycle, Error, Report, Stop, cycle, stopped};

/// Runs cycles every `every` until `stop` flips; `each` sees every cycle's report or error.
/// Returns how many cycles ran.
pub async fn watch(
    c: &Cycle<'_>,
    every: Duration,
    mut stop: Stop,
    mut each: impl FnMut(Result<&Report, &Error>),
) -> u64 {
    let mut cycles = 0;
    loop {
        if *stop.borrow() {
            return cycles;
        }
        let started = tokio::time::Instant::now();
        match cycle(c, Some(stop.clone())).await {
            Ok(report) => each(Ok(&report)),
            Err(e) => each(Err(&e)),
        }
        cycles += 1;
        tokio::select! {
            _ = tokio::time::sleep_until(started + every) => {}
            _ = stopped(&mut stop) => return cycles,
        }
    }
}
