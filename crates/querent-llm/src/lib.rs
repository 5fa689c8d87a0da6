//! # querent-llm
//!
//! Language-model providers behind querent-domain's [`SqlProvider`] port (design §6): the
//! adapters that turn a [`GenerateRequest`] into a chat prompt, send it to a model over
//! HTTP and bring back one SQL statement.
//!
//! - [`prompt`]: renders the request (dialect, the schema the privacy policy allows, rules,
//!   session history, the previous error on self-correction) into chat messages and trims
//!   it to a token budget (tiktoken `cl100k_base` estimates).
//! - [`extract`]: finds the SQL in a reply that may wrap it in fences, prose or JSON.
//! - [`retry`]: exponential backoff with jitter on 429, 5xx, refused or reset connections
//!   and timeouts, honouring `Retry-After`; never on other 4xx.
//! - [`openai`]: [`OpenAiProvider`] for any OpenAI-compatible chat-completions API (OpenAI,
//!   Groq, Ollama, vLLM, LM Studio), streaming (SSE) or not.
//! - [`anthropic`]: [`AnthropicProvider`] for Anthropic's Messages API, streaming or not.
//! - [`embeddings`]: [`OpenAiEmbedder`], querent-domain's `Embedder` port over any
//!   OpenAI-compatible `/embeddings` API (batched, retried like chat, unit-length vectors).
//! - [`url_policy`]: which provider base URLs may be configured (no link-local or metadata
//!   addresses; private ranges only when allowed).
//! - [`webhook`]: [`HttpWebhooks`], querent-domain's `WebhookSender` port (workflow webhook
//!   steps) under the same URL policy, pinned to the addresses it checked.
//!
//! The offline translator is the third kind of provider; it lives in querent-offline.
//!
//! Depends on: querent-domain, reqwest (rustls with the ring provider, no native TLS),
//! tokio, tiktoken-rs, serde_json, time. Tests use querent-fake-llm, a local fake server
//! speaking both wire formats.
//!
//! Must never: log or print API keys (they live in [`querent_domain::Secret`] and only ever
//! leave it into the request header, marked sensitive), log prompts (they contain schema
//! details and sample values), follow redirects (a redirect could lead past the URL
//! policy), spawn tasks that outlive a call (dropping a `generate` future stops the
//! request and its stream), hold a store connection or a target transaction while waiting
//! for a model, or reach the network in tests.
//!
//! [`SqlProvider`]: querent_domain::query::SqlProvider
//! [`GenerateRequest`]: querent_domain::query::GenerateRequest
//!
//! ## Example
//!
//! ```
//! let reply = "Sure:\n```sql\nSELECT count(*) FROM customers;\n```";
//! let found = querent_llm::extract_sql(reply).unwrap();
//! assert_eq!(found.sql, "SELECT count(*) FROM customers");
//! ```
//!
//! The base-URL policy too in `examples/read_a_reply.rs`.

use querent_domain::query::TokenUsage;

pub mod anthropic;
pub mod embeddings;
pub mod extract;
mod http;
pub mod openai;
pub mod prompt;
pub mod retry;
mod sse;
pub mod url_policy;
pub mod webhook;

pub use anthropic::{AnthropicConfig, AnthropicProvider};
pub use embeddings::{OpenAiEmbedder, OpenAiEmbedderConfig};
pub use extract::{Extracted, extract_sql};
pub use openai::{OpenAiConfig, OpenAiProvider};
pub use prompt::{ChatMessage, Prompt, PromptBudget, Role, render};
pub use retry::RetryPolicy;
pub use url_policy::{UrlPolicy, check_base_url};
pub use webhook::HttpWebhooks;

pub use querent_domain::ProviderKind;

/// What one chat call returned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The model's text (streamed deltas concatenated).
    pub text: String,
    /// Tokens used: as the provider reported them, or estimated with `cl100k_base` when it
    /// reported none.
    pub usage: TokenUsage,
}

/// Output tokens allowed for [`querent_domain::query::SqlProvider::complete_text`] (at
/// least; a larger configured `max_tokens` wins).
pub const TEXT_MAX_TOKENS: u32 = 4096;

/// [`querent_domain::query::SqlProvider::complete_text`] for the chat adapters: a system and
/// a user message through `chat`, the reply's text and tokens back.
pub(crate) async fn complete_text_with<F, Fut>(
    system: &str,
    user: &str,
    chat: F,
) -> Result<Option<querent_domain::query::TextReply>, querent_domain::query::ProviderError>
where
    F: FnOnce(Vec<ChatMessage>) -> Fut,
    Fut: std::future::Future<Output = Result<Completion, querent_domain::query::ProviderError>>,
{
    let messages = vec![
        ChatMessage::new(Role::System, system),
        ChatMessage::new(Role::User, user),
    ];
    let c = chat(messages).await?;
    Ok(Some(querent_domain::query::TextReply {
        text: c.text,
        usage: c.usage,
    }))
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
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{wire}\""));
        }
    }
}
