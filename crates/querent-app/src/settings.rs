//! Server-wide settings: stored in the store (so every instance sees the same values),
//! readable by any signed-in caller, changed by server administrators. Unknown keys and
//! out-of-range values are refused with a message naming the key.

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
        }
    }
}

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

impl App {
    /// The effective settings.
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
        s.apply(patch)?;
        self.store().put_settings(&s.to_pairs()).await?;
        if s.log_level != old_level {
            self.apply_log_level(&s.log_level);
        }
        self.audit_by(actor, "settings.update", "settings".into(), None)
            .await;
        Ok(s)
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
}
