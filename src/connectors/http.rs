//! The one HTTP client both connectors go through. It owns what every call needs and no endpoint
//! should repeat: a timeout per request, pacing (a `governor` limiter set from the source's limits),
//! and retries with exponential backoff and jitter (`backon`) for transient failures: connection
//! errors, timeouts, 429 (waiting as `Retry-After` says, in any of its three forms) and 5xx.
//!
//! Reads may be replayed; writes ([`Replay::Never`]) are sent once and any doubt about their
//! outcome is returned to the caller, whose journal decides. Status codes that are not transient
//! (400, 401, 403, 404...) come back as a [`Reply`] for the connector to interpret.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use super::Error;

/// Whether a request may be sent again after a failure whose outcome is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Queries and GETs: retry freely.
    Safe,
    /// Mutations and posts: never resend blindly.
    Never,
}

/// How hard to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            timeout: Duration::from_secs(60),
        }
    }
}

/// A response whose status was not transient.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One failed attempt, before the retry policy decides.
#[derive(Debug)]
enum Attempt {
    /// Worth trying again (after `retry_after` if the server said).
    Transient {
        detail: String,
        retry_after: Option<Duration>,
        connect: bool,
        /// Refused before it ran (429): safe to send again even for a write.
        rejected: bool,
    },
}

/// The shared client of one source system.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    system: &'static str,
    policy: RetryPolicy,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    /// Requests sent so far, retries included: what the source's rate limits count.
    sent: Arc<AtomicU64>,
}

impl Http {
    /// A client for `system` (named in errors) with `policy`.
    pub fn new(system: &'static str, policy: RetryPolicy) -> Result<Http, Error> {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("tally/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Setup {
                system,
                detail: e.to_string(),
            })?;
        Ok(Http {
            client,
            system,
            policy,
            limiter: None,
            sent: Arc::default(),
        })
    }

    /// Paces requests to at most `requests` per `period`, spread evenly with no burst, so no window
    /// of `period` ever sees more than `requests + 1`.
    pub fn pace(&mut self, requests: u32, period: Duration) {
        let Some(n) = NonZeroU32::new(requests) else {
            return;
        };
        let quota = Quota::with_period(period / n.get()).expect("a positive period");
        self.limiter = Some(Arc::new(RateLimiter::direct(quota)));
    }

    /// How many requests this client (and its clones) has sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The underlying client, for building requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes, retrying transient failures when `replay` allows.
    /// `what` names the call in errors ("orders page after cursor X").
    pub async fn send(
        &self,
        what: &str,
        replay: Replay,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, Error> {
        let attempt = || {
            let request = build();
            async move {
                if let Some(l) = &self.limiter {
                    l.until_ready().await;
                }
                self.once(request).await
            }
        };
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.attempts.saturating_sub(1))
            .with_jitter();
        let result = attempt
            .retry(backoff)
            .when(|e: &Attempt| {
                let Attempt::Transient {
                    rejected, connect, ..
                } = e;
                replay == Replay::Safe || *rejected || *connect
            })
            .adjust(|e: &Attempt, dur| {
                let Attempt::Transient { retry_after, .. } = e;
                dur.map(|d| retry_after.map_or(d, |r| r + Duration::from_millis(50)))
            })
            .notify(|e: &Attempt, d| {
                let Attempt::Transient { detail, .. } = e;
                tracing::debug!(system = self.system, what, "retrying in {d:?}: {detail}");
            })
            .await;
        result.map_err(|e| {
            let Attempt::Transient {
                detail,
                connect,
                rejected,
                ..
            } = e;
            if connect {
                Error::Unreachable {
                    system: self.system,
                    what: what.into(),
                    detail,
                }
            } else if replay == Replay::Never && !rejected {
                Error::OutcomeUnknown {
                    system: self.system,
                    what: what.into(),
                    detail,
                }
            } else {
                Error::GaveUp {
                    system: self.system,
                    what: what.into(),
                    attempts: self.policy.attempts,
                    detail,
                }
            }
        })
    }

    async fn once(&self, request: reqwest::RequestBuilder) -> Result<Reply, Attempt> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|e| Attempt::Transient {
            detail: describe(&e),
            retry_after: None,
            connect: e.is_connect(),
            rejected: false,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let transient = status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
            || status.as_u16() == 499;
        let body = response.bytes().await.map_err(|e| Attempt::Transient {
            detail: format!("reading the body: {}", describe(&e)),
            retry_after: None,
            connect: false,
            rejected: false,
        })?;
        if transient {
            let retry_after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| retry_after(v, SystemTime::now()));
            let excerpt = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            return Err(Attempt::Transient {
                detail: format!("HTTP {status}: {excerpt}"),
                retry_after,
                connect: false,
                rejected: status == StatusCode::TOO_MANY_REQUESTS,
            });
        }
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    if e.is_timeout() {
        s.push_str(" (timed out)");
    }
    s
}

/// Reads a `Retry-After` value in any of the three forms Centra may use: delta-seconds, an
/// HTTP-date, or a Unix timestamp in seconds. Returns how long to wait from `now`.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(n) = v.parse::<u64>() {
        // Anything this large is a point in time, not a number of seconds to wait.
        if n >= 1_000_000_000 {
            let at = UNIX_EPOCH + Duration::from_secs(n);
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
        return Some(Duration::from_secs(n));
    }
    if let Ok(f) = v.parse::<f64>()
        && f.is_finite()
        && f >= 0.0
    {
        return Some(Duration::from_secs_f64(f.min(3600.0)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_all_three_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("1790000012", now),
            Some(Duration::from_secs(12))
        );
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(30)));
        assert_eq!(retry_after("1789999990", now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    proptest::proptest! {
        #[test]
        fn retry_after_seconds_wait_that_long(n in 0u64..1_000_000_000) {
            let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
            proptest::prop_assert_eq!(retry_after(&n.to_string(), now), Some(Duration::from_secs(n)));
        }

        #[test]
        fn retry_after_times_wait_until_then(d in 0u64..1_000_000) {
            let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
            let unix = (1_790_000_000 + d).to_string();
            proptest::prop_assert_eq!(retry_after(&unix, now), Some(Duration::from_secs(d)));
            let date = httpdate::fmt_http_date(now + Duration::from_secs(d));
            proptest::prop_assert_eq!(retry_after(&date, now), Some(Duration::from_secs(d)));
        }

        #[test]
        fn retry_after_in_the_past_waits_nothing(d in 1u64..1_000_000) {
            let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
            let date = httpdate::fmt_http_date(now - Duration::from_secs(d));
            proptest::prop_assert_eq!(retry_after(&date, now), Some(Duration::ZERO));
        }

        #[test]
        fn retry_after_any_header_text_is_read_without_panicking(text in "\\PC{0,30}") {
            let now = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
            let _ = retry_after(&text, now);
        }
    }
}
