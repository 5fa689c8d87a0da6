//! Request rate limit per caller (user or API client): a fixed one-minute window with the
//! limit from the `rate_limit_per_minute` setting (re-read from the store at most every
//! few seconds). Counters live in this process: with several instances behind a balancer
//! each enforces the limit on its own share of the traffic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use querent_domain::{ErrorCode, now_millis};

use crate::{Actor, App, ServiceError, ServiceResult};

const SETTINGS_REFRESH: Duration = Duration::from_secs(5);
const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub(crate) struct RateLimiter {
    windows: Mutex<HashMap<String, (i64, u32)>>,
    limit: Mutex<Option<(Instant, u32)>>,
}

impl RateLimiter {
    /// Counts one request of `key` in the current minute; `Err(seconds to wait)` past `limit`.
    fn hit(&self, key: String, limit: u32, now_ms: i64) -> Result<(), u64> {
        let minute = now_ms / 60_000;
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > MAX_TRACKED {
            w.retain(|_, (m, _)| *m == minute);
        }
        let entry = w.entry(key).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 > limit {
            return Err((60 - (now_ms % 60_000) / 1000).max(1) as u64);
        }
        Ok(())
    }
}

impl App {
    async fn current_rate_limit(&self) -> u32 {
        let cached = *self
            .inner
            .limiter
            .limit
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((at, limit)) = cached
            && at.elapsed() < SETTINGS_REFRESH
        {
            return limit;
        }
        let limit = match self.effective_settings().await {
            Ok(s) => s.rate_limit_per_minute,
            Err(_) => {
                return cached
                    .map(|(_, l)| l)
                    .unwrap_or(crate::settings::Settings::default().rate_limit_per_minute);
            }
        };
        *self
            .inner
            .limiter
            .limit
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), limit));
        limit
    }

    /// Counts a request of the caller; `rate_limited` (with the seconds to wait) past the
    /// per-minute limit.
    pub async fn check_rate_limit(&self, actor: &Actor) -> ServiceResult<()> {
        let limit = self.current_rate_limit().await;
        self.inner
            .limiter
            .hit(actor.audit_name(), limit, now_millis())
            .map_err(|wait| {
                let mut e = ServiceError::new(
                    ErrorCode::RateLimited,
                    format!("more than {limit} requests per minute; slow down"),
                );
                e.retry_after = Some(wait);
                e
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_counts_and_resets() {
        let r = RateLimiter::default();
        let t0 = 1_000 * 60_000;
        assert!(r.hit("a".into(), 2, t0).is_ok());
        assert!(r.hit("a".into(), 2, t0 + 1).is_ok());
        assert_eq!(r.hit("a".into(), 2, t0 + 30_000), Err(30));
        assert!(
            r.hit("b".into(), 2, t0 + 30_000).is_ok(),
            "callers are counted apart"
        );
        assert!(
            r.hit("a".into(), 2, t0 + 60_000).is_ok(),
            "a new minute starts over"
        );
    }
}
