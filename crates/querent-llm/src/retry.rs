//! When to try a provider call again, and how long to wait first.
//!
//! Retried: HTTP 429 and every 5xx, refused or reset connections, and timeouts. Never
//! retried: any other 4xx (a bad request, a wrong key or an unknown model will not get
//! better by asking again) and replies that arrived but could not be understood.
//!
//! The delay before retry `n` (0-based) is exponential, `base_delay · 2ⁿ`, capped at
//! `max_delay`, with "equal jitter" (half fixed, half random) so that many clients that
//! failed together do not come back together. A `Retry-After` header (seconds or an HTTP
//! date) raises the delay to at least what the server asked for, still capped at
//! `max_delay` so one header cannot park a request for an hour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often and how patiently to retry a failed provider call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so at most `max_retries + 1` attempts).
    pub max_retries: u32,
    /// The delay before the first retry; it doubles with each further retry.
    pub base_delay: Duration,
    /// No delay is ever longer than this, whatever the backoff or `Retry-After` say.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The delay before retry number `retry` (0 for the first retry), given the server's
    /// `Retry-After` (already parsed) and a random number for the jitter.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>, random: u64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(31)))
            .min(self.max_delay);
        // Equal jitter: half of the delay is fixed, the other half random.
        let half = exp / 2;
        let span = (exp - half).as_nanos() as u64;
        let jitter = if span == 0 {
            Duration::ZERO
        } else {
            Duration::from_nanos(random % (span + 1))
        };
        let backoff = half + jitter;
        match retry_after {
            Some(at_least) => backoff.max(at_least).min(self.max_delay),
            None => backoff,
        }
    }

    /// The delay before retry number `retry`, with jitter from a process-wide xorshift.
    pub fn next_delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        self.delay(retry, retry_after, next_random())
    }
}

/// How one attempt failed, as far as the retry decision cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with a non-success status.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The parsed `Retry-After` header, if there was one.
        retry_after: Option<Duration>,
    },
    /// The attempt ran out of time.
    Timeout,
    /// No connection could be made (refused, unreachable, DNS failure).
    Connect,
    /// The connection broke (reset, closed before a reply).
    Reset,
    /// Anything else (an unreadable reply, a client-side error).
    Other,
}

impl Failure {
    /// Whether trying again might help: 429, 5xx, refused or reset connections and
    /// timeouts; never other 4xx statuses or unreadable replies.
    pub fn is_retryable(&self) -> bool {
        match self {
            Failure::Status { code, .. } => *code == 429 || (500..600).contains(code),
            Failure::Timeout | Failure::Connect | Failure::Reset => true,
            Failure::Other => false,
        }
    }

    /// The `Retry-After` the server sent, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Parses a `Retry-After` value: whole (or fractional) seconds, or an HTTP date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), measured from `now`. A date in the past means "no
/// wait"; anything unparseable is ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = parse_http_date(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only HTTP date form
/// servers are allowed to send.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_weekday, day, month, year, hms, zone] = parts.as_slice() else {
        return None;
    };
    if !zone.eq_ignore_ascii_case("GMT") && !zone.eq_ignore_ascii_case("UTC") {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let month_index = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))?;
    let month = time::Month::try_from(month_index as u8 + 1).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let mut hms = hms.split(':').map(|p| p.parse::<u8>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    let t = time::Time::from_hms(h, m, s).ok()?;
    let unix = date.with_time(t).assume_utc().unix_timestamp();
    let unix = u64::try_from(unix).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(unix))
}

static RNG_STATE: AtomicU64 = AtomicU64::new(0);

/// A xorshift64* step over a process-wide state seeded from the clock: plenty for jitter,
/// not for anything secret.
fn next_random() -> u64 {
    let mut x = RNG_STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9_7F4A_7C15);
        x = nanos | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    RNG_STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        }
    }

    #[test]
    fn defaults() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_retries, 3);
        assert_eq!(p.base_delay, Duration::from_millis(250));
        assert_eq!(p.max_delay, Duration::from_secs(8));
        assert_eq!(RetryPolicy::none().max_retries, 0);
    }

    #[test]
    fn retry_decision() {
        let status = |code| Failure::Status {
            code,
            retry_after: None,
        };
        for code in [429, 500, 502, 503, 504, 529] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 409, 413, 422] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(Failure::Timeout.is_retryable());
        assert!(Failure::Connect.is_retryable());
        assert!(Failure::Reset.is_retryable());
        assert!(!Failure::Other.is_retryable());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = policy();
        // Without randomness the delay is exactly half the exponential value…
        assert_eq!(p.delay(0, None, 0), Duration::from_millis(50));
        assert_eq!(p.delay(1, None, 0), Duration::from_millis(100));
        assert_eq!(p.delay(2, None, 0), Duration::from_millis(200));
        // …and at most the full value.
        assert_eq!(
            p.delay(0, None, u64::MAX),
            Duration::from_nanos(50_000_000 + (u64::MAX % 50_000_001))
        );
        for retry in 0..40 {
            for r in [0, 1, 12345, u64::MAX / 3, u64::MAX] {
                let d = p.delay(retry, None, r);
                let exp = Duration::from_millis(100)
                    .saturating_mul(2u32.saturating_pow(retry.min(31)))
                    .min(p.max_delay);
                assert!(d >= exp / 2 && d <= exp, "retry {retry}: {d:?}");
                assert!(d <= p.max_delay);
            }
        }
    }

    #[test]
    fn retry_after_is_a_floor_capped_by_max_delay() {
        let p = policy();
        assert_eq!(
            p.delay(0, Some(Duration::from_millis(700)), 0),
            Duration::from_millis(700)
        );
        assert_eq!(p.delay(0, Some(Duration::from_secs(30)), 0), p.max_delay);
        // A short Retry-After does not shorten the backoff.
        assert_eq!(
            p.delay(2, Some(Duration::from_millis(1)), 0),
            Duration::from_millis(200)
        );
    }

    #[test]
    fn jitter_varies() {
        let p = policy();
        let delays: std::collections::HashSet<Duration> =
            (0..20).map(|_| p.next_delay(3, None)).collect();
        assert!(delays.len() > 1);
    }

    #[test]
    fn parses_retry_after() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 PST", now),
            None
        );
    }
}
