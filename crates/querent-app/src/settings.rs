//! Server-wide settings: stored in the store (so every instance sees the same values),
//! readable by any signed-in caller, changed by server administrators. Unknown keys and
//! out-of-range values are refused with a message naming the key.
//!
//! The request path (byte caps of every query, the cache's TTL, the rate limit) reads them
//! through [`App::current_settings`]: this process's copy, read from the store again once
//! it is [`SETTINGS_REFRESH`] old, so a chat costs no settings read. A change made here
//! applies at once; one made through another instance sharing the store, within
//! [`SETTINGS_REFRESH`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use querent_domain::query::{DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_VALUE_BYTES};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, ServiceError, ServiceResult};

/// The effective settings (stored values over defaults).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// How long cached answers live, in seconds.
    pub cache_ttl_seconds: u64,
    /// Rows returned when a request does not say.
    pub default_max_rows: u32,
    /// The most rows any request may ask for.
    pub max_rows_limit: u32,
    /// Statement timeout applied when a connection does not set a lower one, in ms.
    pub statement_timeout_ms: u32,
    /// Log level: trace, debug, info, warn or error.
    pub log_level: String,
    /// Requests per minute per user or API client.
    pub rate_limit_per_minute: u32,
    /// Longest value a result delivers, in bytes (text as UTF-8, bytes as their base64
    /// text): longer values are cut (text at a character boundary) and the result says
    /// `truncated_reason: value_bytes`.
    pub max_value_bytes: u64,
    /// Row data a result delivers at most, in bytes (about the rows' JSON size): rows stop
    /// before the one that would pass it and the result says
    /// `truncated_reason: result_bytes`.
    pub max_result_bytes: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            cache_ttl_seconds: 86_400,
            default_max_rows: 100,
            max_rows_limit: 10_000,
            statement_timeout_ms: 30_000,
            log_level: "info".into(),
            rate_limit_per_minute: 600,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
        }
    }
}

/// Bounds of [`Settings::max_value_bytes`]: 1 KiB to 64 MiB.
const VALUE_BYTES_RANGE: (u64, u64) = (1024, 64 * 1024 * 1024);
/// Bounds of [`Settings::max_result_bytes`]: 64 KiB to 256 MiB.
const RESULT_BYTES_RANGE: (u64, u64) = (64 * 1024, 256 * 1024 * 1024);

/// A change to some settings; absent keys stay as they are.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// See [`Settings::cache_ttl_seconds`] (0–31 536 000).
    pub cache_ttl_seconds: Option<u64>,
    /// See [`Settings::default_max_rows`] (1–`max_rows_limit`).
    pub default_max_rows: Option<u32>,
    /// See [`Settings::max_rows_limit`] (1–1 000 000).
    pub max_rows_limit: Option<u32>,
    /// See [`Settings::statement_timeout_ms`] (100–600 000).
    pub statement_timeout_ms: Option<u32>,
    /// See [`Settings::log_level`].
    pub log_level: Option<String>,
    /// See [`Settings::rate_limit_per_minute`] (1–1 000 000).
    pub rate_limit_per_minute: Option<u32>,
    /// See [`Settings::max_value_bytes`] (1 024–67 108 864, at most `max_result_bytes`).
    pub max_value_bytes: Option<u64>,
    /// See [`Settings::max_result_bytes`] (65 536–268 435 456).
    pub max_result_bytes: Option<u64>,
}

impl SettingsPatch {
    /// The keys this patch sets.
    fn keys(&self) -> Vec<&'static str> {
        let Self {
            cache_ttl_seconds,
            default_max_rows,
            max_rows_limit,
            statement_timeout_ms,
            log_level,
            rate_limit_per_minute,
            max_value_bytes,
            max_result_bytes,
        } = self;
        [
            ("cache_ttl_seconds", cache_ttl_seconds.is_some()),
            ("default_max_rows", default_max_rows.is_some()),
            ("max_rows_limit", max_rows_limit.is_some()),
            ("statement_timeout_ms", statement_timeout_ms.is_some()),
            ("log_level", log_level.is_some()),
            ("rate_limit_per_minute", rate_limit_per_minute.is_some()),
            ("max_value_bytes", max_value_bytes.is_some()),
            ("max_result_bytes", max_result_bytes.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect()
    }
}

const LOG_LEVELS: &[&str] = &["trace", "debug", "info", "warn", "error"];

fn range<T: PartialOrd + std::fmt::Display>(key: &str, v: T, lo: T, hi: T) -> ServiceResult<()> {
    if v < lo || v > hi {
        return Err(ServiceError::validation(format!(
            "{key}: must be between {lo} and {hi}"
        )));
    }
    Ok(())
}

impl Settings {
    /// Applies a patch to a copy; on any invalid value nothing changes.
    fn apply(&mut self, p: SettingsPatch) -> ServiceResult<()> {
        let mut next = self.clone();
        next.apply_unchecked(p)?;
        *self = next;
        Ok(())
    }

    fn apply_unchecked(&mut self, p: SettingsPatch) -> ServiceResult<()> {
        if let Some(v) = p.cache_ttl_seconds {
            range("cache_ttl_seconds", v, 0, 31_536_000)?;
            self.cache_ttl_seconds = v;
        }
        if let Some(v) = p.max_rows_limit {
            range("max_rows_limit", v, 1, 1_000_000)?;
            self.max_rows_limit = v;
        }
        if let Some(v) = p.default_max_rows {
            self.default_max_rows = v;
        }
        range(
            "default_max_rows",
            self.default_max_rows,
            1,
            self.max_rows_limit,
        )?;
        if let Some(v) = p.statement_timeout_ms {
            range("statement_timeout_ms", v, 100, 600_000)?;
            self.statement_timeout_ms = v;
        }
        if let Some(v) = p.log_level {
            let v = v.to_lowercase();
            if !LOG_LEVELS.contains(&v.as_str()) {
                return Err(ServiceError::validation(format!(
                    "log_level: must be one of {}",
                    LOG_LEVELS.join(", ")
                )));
            }
            self.log_level = v;
        }
        if let Some(v) = p.rate_limit_per_minute {
            range("rate_limit_per_minute", v, 1, 1_000_000)?;
            self.rate_limit_per_minute = v;
        }
        if let Some(v) = p.max_result_bytes {
            range(
                "max_result_bytes",
                v,
                RESULT_BYTES_RANGE.0,
                RESULT_BYTES_RANGE.1,
            )?;
            self.max_result_bytes = v;
        }
        if let Some(v) = p.max_value_bytes {
            range(
                "max_value_bytes",
                v,
                VALUE_BYTES_RANGE.0,
                VALUE_BYTES_RANGE.1,
            )?;
            self.max_value_bytes = v;
        }
        if self.max_value_bytes > self.max_result_bytes {
            return Err(ServiceError::validation(format!(
                "max_value_bytes: must be at most max_result_bytes ({})",
                self.max_result_bytes
            )));
        }
        Ok(())
    }

    fn to_pairs(&self) -> Vec<(String, String)> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => {
                map.into_iter().map(|(k, v)| (k, v.to_string())).collect()
            }
            _ => Vec::new(),
        }
    }
}

/// How old this process's copy of the settings may be before the request path reads them
/// again (a change through another instance applies here within this time).
pub const SETTINGS_REFRESH: Duration = Duration::from_secs(5);

/// This process's copy of the effective settings (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct SettingsCache(Mutex<SettingsCopy>);

#[derive(Debug, Default)]
struct SettingsCopy {
    /// The settings and when they were read.
    read: Option<(Instant, Settings)>,
    /// Bumped by every change made here: a read that began before one does not replace it.
    generation: u64,
}

impl SettingsCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, SettingsCopy> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl App {
    /// The effective settings for the request path: this process's copy while it is younger
    /// than [`SETTINGS_REFRESH`], else read from the store (see the module doc); the last
    /// copy when the store does not answer.
    pub(crate) async fn current_settings(&self) -> ServiceResult<Settings> {
        let generation = {
            let copy = self.inner.settings.lock();
            if let Some((at, s)) = &copy.read
                && at.elapsed() < SETTINGS_REFRESH
            {
                return Ok(s.clone());
            }
            copy.generation
        };
        let s = match self.effective_settings().await {
            Ok(s) => s,
            // The store did not answer: the last settings read stand meanwhile.
            Err(e) => match &self.inner.settings.lock().read {
                Some((_, s)) => return Ok(s.clone()),
                None => return Err(e),
            },
        };
        let mut copy = self.inner.settings.lock();
        if copy.generation == generation {
            copy.read = Some((Instant::now(), s.clone()));
        }
        Ok(s)
    }

    /// The effective settings, read from the store.
    pub async fn effective_settings(&self) -> ServiceResult<Settings> {
        let mut map = match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Ok(Settings::default()),
        };
        for (k, v) in self.store().all_settings().await? {
            if map.contains_key(&k)
                && let Ok(parsed) = serde_json::from_str::<serde_json::Value>(&v)
            {
                map.insert(k, parsed);
            }
        }
        serde_json::from_value(serde_json::Value::Object(map.clone())).or_else(|e| {
            tracing::warn!(error = %e, "stored settings unreadable; using defaults");
            Ok(Settings::default())
        })
    }

    /// The settings, for any signed-in caller.
    pub async fn get_settings(&self, _actor: &Actor) -> ServiceResult<Settings> {
        self.effective_settings().await
    }

    /// Changes settings (server admin); returns the new effective settings.
    pub async fn patch_settings(
        &self,
        actor: &Actor,
        patch: SettingsPatch,
    ) -> ServiceResult<Settings> {
        self.require_admin(actor)?;
        let mut s = self.effective_settings().await?;
        let old_level = s.log_level.clone();
        let keys = patch.keys();
        s.apply(patch)?;
        // Only the keys the administrator set are stored: the others keep following their
        // defaults (and, for log_level, the server's configuration).
        let pairs: Vec<(String, String)> = s
            .to_pairs()
            .into_iter()
            .filter(|(k, _)| keys.contains(&k.as_str()))
            .collect();
        self.store().put_settings(&pairs).await?;
        {
            // The request path sees the change at once.
            let mut copy = self.inner.settings.lock();
            copy.generation += 1;
            copy.read = Some((Instant::now(), s.clone()));
        }
        // A level the administrator sets applies at once, also when it equals the stored
        // one: the process may run at the level its configuration gave it.
        if keys.contains(&"log_level") || s.log_level != old_level {
            self.apply_log_level(&s.log_level);
        }
        self.audit_by(actor, "settings.update", "settings".into(), None)
            .await;
        Ok(s)
    }

    /// The `log_level` an administrator stored with `PATCH /settings`, if one ever did.
    pub async fn stored_log_level(&self) -> ServiceResult<Option<String>> {
        Ok(self
            .store()
            .all_settings()
            .await?
            .into_iter()
            .find(|(k, _)| k == "log_level")
            .and_then(|(_, v)| serde_json::from_str::<String>(&v).ok()))
    }

    /// Hands a log level to the binary's log filter, if it gave a hook.
    pub fn apply_log_level(&self, level: &str) {
        if let Some(hook) = &self.inner.ports.log_level_hook
            && let Err(e) = hook(level)
        {
            tracing::warn!(error = %e, level, "could not change the log level");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_names_only_the_keys_it_sets() {
        let p = SettingsPatch {
            rate_limit_per_minute: Some(10),
            log_level: Some("warn".into()),
            ..Default::default()
        };
        assert_eq!(p.keys(), vec!["log_level", "rate_limit_per_minute"]);
        assert!(SettingsPatch::default().keys().is_empty());
    }

    #[test]
    fn patches_are_validated() {
        let mut s = Settings::default();
        s.apply(SettingsPatch {
            max_rows_limit: Some(50),
            default_max_rows: Some(20),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((s.max_rows_limit, s.default_max_rows), (50, 20));
        let e = s
            .apply(SettingsPatch {
                default_max_rows: Some(51),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.detail.starts_with("default_max_rows"));
        let e = s
            .apply(SettingsPatch {
                log_level: Some("loud".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.detail.starts_with("log_level"));
        let e: Result<SettingsPatch, _> = serde_json::from_str(r#"{"nope": 1}"#);
        assert!(e.unwrap_err().to_string().contains("nope"));
    }

    #[test]
    fn byte_caps_are_validated() {
        let mut s = Settings::default();
        assert_eq!(
            (s.max_value_bytes, s.max_result_bytes),
            (65_536, 16_777_216)
        );
        s.apply(SettingsPatch {
            max_value_bytes: Some(4096),
            max_result_bytes: Some(1 << 20),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((s.max_value_bytes, s.max_result_bytes), (4096, 1 << 20));
        let e = s
            .apply(SettingsPatch {
                max_value_bytes: Some(10),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.detail.starts_with("max_value_bytes"), "{}", e.detail);
        let e = s
            .apply(SettingsPatch {
                max_result_bytes: Some(1 << 30),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.detail.starts_with("max_result_bytes"), "{}", e.detail);
        let e = s
            .apply(SettingsPatch {
                max_value_bytes: Some(2 << 20),
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            e.detail.contains("at most max_result_bytes"),
            "{}",
            e.detail
        );
        assert_eq!((s.max_value_bytes, s.max_result_bytes), (4096, 1 << 20));
    }
}
