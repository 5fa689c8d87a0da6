//! # querent-llm
//!
//! Language-model providers behind one small interface (design §6): the `SqlProvider` trait
//! (generate SQL from a rendered prompt, optionally streaming tokens; explain results) and
//! `Embedder`, with adapters for OpenAI-compatible APIs (OpenAI, Groq, Ollama, vLLM,
//! LM Studio; async-openai with a configurable base URL) and Anthropic's Messages API
//! (reqwest with SSE parsing). It owns timeouts, retries with backoff on 429/5xx honouring
//! `Retry-After`, token and cost accounting, structured-output extraction that tolerates
//! code fences and prose, and the allow/deny policy on provider base URLs (no link-local or
//! metadata addresses unless allowed). The offline translator is the third kind of
//! provider; it lives in querent-offline.
//!
//! Depends on: querent-domain (and, once implemented, async-openai and reqwest).
//!
//! Must never: log API keys or prompts containing masked values, hold a store connection
//! or a target transaction while waiting for a model, or reach the network in tests (tests
//! use querent-test-support's fake server).
//!
//! Status: public types only; behaviour arrives with issue 5.

use serde::{Deserialize, Serialize};

/// The kind of a configured provider, as written in `POST /api/v1/providers` `{kind}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Any OpenAI-compatible chat-completions API.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// The built-in deterministic translator (querent-offline): no network, no model.
    Offline,
}

impl ProviderKind {
    /// The stable wire spelling (`openai`, `anthropic`, `offline`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Offline => "offline",
        }
    }
}

/// Tokens spent on one provider call, for per-message accounting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens in the completion.
    pub completion_tokens: u32,
}

impl TokenUsage {
    /// Prompt plus completion tokens.
    pub fn total(&self) -> u32 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }
}

/// What a provider returned for a question: the SQL (not yet validated) and how it got there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratedSql {
    /// The SQL as extracted from the reply; it still has to pass querent-sql's guard.
    pub sql: String,
    /// The provider's explanation of its reasoning, when it gave one.
    #[serde(default)]
    pub reasoning: Option<String>,
    /// Tokens spent producing it.
    #[serde(default)]
    pub usage: TokenUsage,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spellings() {
        for (kind, wire) in [
            (ProviderKind::Openai, "openai"),
            (ProviderKind::Anthropic, "anthropic"),
            (ProviderKind::Offline, "offline"),
        ] {
            assert_eq!(kind.as_str(), wire);
        }
        let usage = TokenUsage {
            prompt_tokens: 10,
            completion_tokens: 5,
        };
        assert_eq!(usage.total(), 15);
    }
}
