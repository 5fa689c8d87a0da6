//! Configured SQL providers (LLM endpoints) of a team.

use serde::{Deserialize, Serialize};

use crate::{ProviderId, ProviderKind, TeamId, UnixMillis, UserId};

/// Tunables of a provider; every field optional on the wire.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProviderOptions {
    /// Sampling temperature (default 0: SQL wants determinism; `null` keeps the server's).
    pub temperature: Option<f32>,
    /// Completion tokens at most.
    pub max_tokens: Option<u32>,
    /// Stream the reply (server-sent events) instead of waiting for it whole.
    pub stream: bool,
    /// Time for one attempt, in milliseconds (default 120,000).
    pub request_timeout_ms: Option<u64>,
    /// Retries on 429/5xx/connection failures (default 3).
    pub max_retries: Option<u32>,
    /// The prompt's token budget (default 8,000).
    pub max_prompt_tokens: Option<u32>,
    /// When a query returns no rows, ask the provider once to reconsider (it may keep its
    /// SQL); off by default.
    pub reconsider_empty_results: bool,
    /// Price of one million prompt tokens, in US dollars, for cost estimates.
    pub price_prompt_per_mtok: Option<f64>,
    /// Price of one million completion tokens, in US dollars.
    pub price_completion_per_mtok: Option<f64>,
}

/// A provider configuration as stored (the API key stays encrypted here).
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderConfig {
    /// Id.
    pub id: ProviderId,
    /// Owning team.
    pub team_id: TeamId,
    /// Name, unique in the team; what a chat request's `provider` field names.
    pub name: String,
    /// API kind.
    pub kind: ProviderKind,
    /// The API root (`https://api.openai.com/v1`, `http://localhost:11434/v1`, …).
    pub base_url: Option<String>,
    /// Model id.
    pub model: Option<String>,
    /// The API key, encrypted by the vault.
    pub encrypted_api_key: Option<String>,
    /// Tunables.
    pub options: ProviderOptions,
    /// Whether chats of the team use it when they name no provider.
    pub is_default: bool,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

impl ProviderConfig {
    /// The estimated cost of a call, in US dollars, when prices are configured.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> Option<f64> {
        let p = self.options.price_prompt_per_mtok?;
        let c = self.options.price_completion_per_mtok.unwrap_or(p);
        Some((prompt_tokens as f64 * p + completion_tokens as f64 * c) / 1_000_000.0)
    }
}
