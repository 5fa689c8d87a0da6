//! Request rate limit per caller (user or API client): a fixed one-minute window with the
//! limit from the `rate_limit_per_minute` setting (re-read from the store at most every
//! few seconds). Where the counters live follows the store:
//!
//! - **PostgreSQL** (the store several instances share): in the store, one row per caller
//!   and minute of the store's clock, counted by one atomic upsert per request
//!   (`MetadataStore::count_request`), so the limit holds for the caller's traffic across
//!   every instance, whatever the balancer does. Windows that ended are deleted every
//!   minute ([`App::spawn_rate_window_pruning`]). Should the store not answer, the request
//!   is counted in this process instead (the limit then holds per instance until it is
//!   back) rather than refused: the request itself will find out whether the store works.
//! - **SQLite** (one server owns the file): in this process's memory, with no store write
//!   on the request path.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use querent_domain::{ErrorCode, now_millis};

use crate::{Actor, App, ServiceError, ServiceResult};

const MAX_TRACKED: usize = 100_000;
/// How often a server deletes ended windows from a shared store.
pub const PRUNE_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(crate) struct RateLimiter {
    /// Count in the store (it is shared by several instances) rather than in memory;
    /// decided on first use from the store's backend.
    shared: OnceLock<bool>,
    windows: Mutex<HashMap<String, (i64, u32)>>,
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
    /// Whether the store is PostgreSQL, which several instances may share.
    fn shared_store(&self) -> bool {
        *self
            .inner
            .limiter
            .shared
            .get_or_init(|| self.store().health().backend == "postgres")
    }

    async fn current_rate_limit(&self) -> u32 {
        match self.current_settings().await {
            Ok(s) => s.rate_limit_per_minute,
            Err(_) => crate::settings::Settings::default().rate_limit_per_minute,
        }
    }

    /// Counts a request of the caller (in the store when it is shared, see the module
    /// doc); `rate_limited` (with the seconds to wait) past the per-minute limit.
    pub async fn check_rate_limit(&self, actor: &Actor) -> ServiceResult<()> {
        let limit = self.current_rate_limit().await;
        let key = actor.audit_name();
        let counted = if self.shared_store() {
            match self.store().count_request(&key).await {
                Ok(w) if w.hits > i64::from(limit) => {
                    Err(u64::try_from((w.remaining_ms + 999) / 1000)
                        .unwrap_or(1)
                        .max(1))
                }
                Ok(_) => Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, "could not count a request in the store; counting it in this process");
                    self.inner.limiter.hit(key, limit, now_millis())
                }
            }
        } else {
            self.inner.limiter.hit(key, limit, now_millis())
        };
        counted.map_err(|wait| {
            let mut e = ServiceError::new(
                ErrorCode::RateLimited,
                format!("more than {limit} requests per minute; slow down"),
            );
            e.retry_after = Some(wait);
            e
        })
    }
}

impl App {
    /// On a shared store, deletes the rate limit's ended windows every minute
    /// until the task is aborted (the server keeps the handle); on SQLite there are none.
    pub fn spawn_rate_window_pruning(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            if !app.shared_store() {
                return;
            }
            loop {
                tokio::time::sleep(PRUNE_EVERY).await;
                if let Err(e) = app.store().prune_request_windows().await {
                    tracing::warn!(error = %e, "could not prune the rate limit's windows");
                }
            }
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
