//! [`AnthropicProvider`]: Anthropic's Messages API, spoken directly with reqwest.
//!
//! `POST {base}/messages` with `x-api-key` and `anthropic-version: 2023-06-01`, body
//! `{model, max_tokens, system, messages, stream}`. Non-streaming replies are read from
//! `content[].text` and `usage.input_tokens` / `usage.output_tokens`. Streaming replies are
//! server-sent events: `message_start` (input tokens), `content_block_delta` (`delta.text`),
//! `message_delta` (output tokens), `message_stop` (the end), `ping` (ignored) and `error`
//! (a failure with its message). `GET {base}/models` lists the model ids.

use std::time::Duration;

use async_trait::async_trait;
use querent_domain::Secret;
use querent_domain::query::{
    GenerateRequest, Generated, ProviderError, SqlProvider, TextReply, TokenUsage,
};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::Completion;
use crate::http::{HttpCore, generate_with, head, usage_or_estimate};
use crate::openai::model_ids;
use crate::prompt::{ChatMessage, PromptBudget, Role};
use crate::retry::RetryPolicy;
use crate::sse::{SseEvent, SseParser};

/// The API version this adapter speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The public API root.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com/v1";

/// How to reach Anthropic's Messages API (or a compatible gateway).
#[derive(Clone, Debug)]
pub struct AnthropicConfig {
    /// The API root, e.g. `https://api.anthropic.com/v1`.
    pub base_url: String,
    /// The model id, e.g. `claude-sonnet-4-5`.
    pub model: String,
    /// The API key, sent as `x-api-key` when set.
    pub api_key: Option<Secret<String>>,
    /// Sampling temperature; `None` leaves the server's default. Default `Some(0.0)`.
    pub temperature: Option<f32>,
    /// Completion tokens at most (required by the API). Default 1024.
    pub max_tokens: u32,
    /// Whether to stream the reply (server-sent events).
    pub stream: bool,
    /// More headers for every request (e.g. `anthropic-beta`); treated as secrets.
    pub extra_headers: Vec<(String, String)>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one whole attempt, including reading the (streamed) reply.
    pub request_timeout: Duration,
    /// Retries on 429, 5xx (529 "overloaded" too), connection failures and timeouts.
    pub retry: RetryPolicy,
    /// The prompt's token budget.
    pub budget: PromptBudget,
}

impl AnthropicConfig {
    /// A configuration with defaults: no key, temperature 0, 1024 completion tokens, not
    /// streaming, no extra headers, 10 s to connect, 120 s per attempt, default retries
    /// and prompt budget.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            temperature: Some(0.0),
            max_tokens: 1024,
            stream: false,
            extra_headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            budget: PromptBudget::default(),
        }
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }
}

/// A [`SqlProvider`] over Anthropic's Messages API.
#[derive(Clone, Debug)]
pub struct AnthropicProvider {
    config: AnthropicConfig,
    core: HttpCore,
    key: Option<HeaderValue>,
}

impl AnthropicProvider {
    /// A provider for this configuration. Fails only on an unparseable base URL, a key
    /// that cannot be a header value, or invalid extra headers; nothing is sent yet.
    /// (Check the URL against the deployment's policy with [`crate::check_base_url`]
    /// first.)
    pub fn new(config: AnthropicConfig) -> Result<Self, ProviderError> {
        let core = HttpCore::new(
            format!("anthropic:{}", config.model),
            &config.base_url,
            config.connect_timeout,
            config.request_timeout,
            config.retry,
            &config.extra_headers,
        )?;
        let key = match &config.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(key.expose().trim()).map_err(|_| {
                    core.failed("the API key contains characters a header cannot carry")
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self { config, core, key })
    }

    /// The configuration.
    pub fn config(&self) -> &AnthropicConfig {
        &self.config
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header("anthropic-version", ANTHROPIC_VERSION);
        match &self.key {
            Some(key) => request.header("x-api-key", key.clone()),
            None => request,
        }
    }

    fn body(&self, messages: &[ChatMessage], max_tokens: u32, stream: bool) -> Value {
        let system: Vec<&str> = messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let turns: Vec<Value> = messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": self.config.model,
            "max_tokens": max_tokens,
            "messages": turns,
            "stream": stream,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        body
    }

    /// One chat call, streaming when the configuration says so. System messages become
    /// the `system` field.
    pub async fn chat(&self, messages: &[ChatMessage]) -> Result<Completion, ProviderError> {
        self.complete(
            messages,
            self.config.max_tokens,
            self.config.stream,
            &mut |_| {},
        )
        .await
    }

    /// One streaming chat call, handing each text delta to `on_delta` as it arrives.
    pub async fn chat_streaming(
        &self,
        messages: &[ChatMessage],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, ProviderError> {
        self.complete(messages, self.config.max_tokens, true, on_delta)
            .await
    }

    /// Like [`SqlProvider::generate`], streaming the reply's text deltas to `on_delta`.
    pub async fn generate_streaming(
        &self,
        request: &GenerateRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Generated, ProviderError> {
        generate_with(request, &self.config.budget, |messages| async move {
            self.complete(&messages, self.config.max_tokens, true, on_delta)
                .await
        })
        .await
    }

    async fn complete(
        &self,
        messages: &[ChatMessage],
        max_tokens: u32,
        stream: bool,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, ProviderError> {
        // Serialised once: every attempt sends these bytes.
        let body = serde_json::to_vec(&self.body(messages, max_tokens, stream))
            .expect("a request body serialises");
        let url = self.core.url("messages");
        let build = &|| self.authorized(self.core.post_json(&url, &body));
        if !stream {
            let reply = self
                .core
                .with_retry(move || async move { self.core.send_json(build()).await })
                .await?;
            let blocks = reply
                .get("content")
                .and_then(Value::as_array)
                .ok_or_else(|| {
                    self.core.failed(format!(
                        "the provider's reply had no content: {}",
                        head(&reply.to_string(), 200)
                    ))
                })?;
            let text: String = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str).unwrap_or("text") == "text")
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            let usage = reply.get("usage").map(|u| TokenUsage {
                prompt_tokens: input_tokens(u),
                completion_tokens: u.get("output_tokens").and_then(Value::as_u64).unwrap_or(0),
            });
            let usage = usage_or_estimate(usage, messages, &text);
            return Ok(Completion { text, usage });
        }
        let mut response = self
            .core
            .with_retry(move || async move { self.core.send(build()).await })
            .await?;
        let mut parser = SseParser::default();
        let mut state = StreamState::default();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.core.stream_error(e))?
        {
            let events = parser.push(&chunk).map_err(|e| self.core.failed(e))?;
            for event in events {
                if self.on_event(&event, &mut state, on_delta)? {
                    return Ok(state.finish(messages));
                }
            }
        }
        if let Some(event) = parser.finish()
            && self.on_event(&event, &mut state, on_delta)?
        {
            return Ok(state.finish(messages));
        }
        Err(self
            .core
            .failed("the provider's stream ended before message_stop"))
    }

    /// Handles one event; `Ok(true)` at `message_stop`.
    fn on_event(
        &self,
        event: &SseEvent,
        state: &mut StreamState,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<bool, ProviderError> {
        let data = event.data.trim();
        let parsed: Value = if data.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(data).map_err(|e| {
                self.core.failed(format!(
                    "the provider sent a malformed stream event ({e}): {}",
                    head(data, 200)
                ))
            })?
        };
        // The event name is in the `event:` field and repeated as the data's `type`.
        let kind = match event.event.as_str() {
            "message" => parsed.get("type").and_then(Value::as_str).unwrap_or(""),
            other => other,
        };
        match kind {
            "message_start" => {
                if let Some(usage) = parsed.pointer("/message/usage") {
                    state.input_tokens = input_tokens(usage);
                    if let Some(out) = usage.get("output_tokens").and_then(Value::as_u64) {
                        state.output_tokens = out;
                    }
                }
            }
            "content_block_delta" => {
                if let Some(text) = parsed.pointer("/delta/text").and_then(Value::as_str)
                    && !text.is_empty()
                {
                    state.text.push_str(text);
                    on_delta(text);
                }
            }
            "message_delta" => {
                if let Some(usage) = parsed.get("usage") {
                    if let Some(out) = usage.get("output_tokens").and_then(Value::as_u64) {
                        state.output_tokens = out;
                    }
                    let input = input_tokens(usage);
                    if input > 0 {
                        state.input_tokens = input;
                    }
                }
            }
            "message_stop" => return Ok(true),
            "error" => {
                let message = parsed
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| head(data, 200));
                return Err(self
                    .core
                    .failed(format!("the provider reported an error: {message}")));
            }
            // ping, content_block_start, content_block_stop and future event types.
            _ => {}
        }
        Ok(false)
    }

    /// Model ids the API offers (`GET {base}/models`).
    pub async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        let url = &self.core.url("models?limit=1000");
        let reply = self
            .core
            .with_retry(move || async move {
                self.core
                    .send_json(self.authorized(self.core.client.get(url)))
                    .await
            })
            .await?;
        model_ids(&reply).ok_or_else(|| {
            self.core.failed(format!(
                "the provider's model list had no data[].id: {}",
                head(&reply.to_string(), 200)
            ))
        })
    }

    /// A tiny real call (a few tokens) to check the URL, key and model; returns the
    /// model's reply.
    pub async fn test(&self) -> Result<String, ProviderError> {
        let messages = [
            ChatMessage::new(Role::System, "You are a connectivity check."),
            ChatMessage::new(Role::User, "Reply with the single word OK."),
        ];
        let completion = self
            .complete(&messages, 16, self.config.stream, &mut |_| {})
            .await?;
        Ok(completion.text.trim().to_owned())
    }
}

#[async_trait]
impl SqlProvider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.core.name
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError> {
        generate_with(request, &self.config.budget, |messages| async move {
            self.chat(&messages).await
        })
        .await
    }

    async fn complete_text(
        &self,
        system: &str,
        user: &str,
    ) -> Result<Option<TextReply>, ProviderError> {
        // Free-form answers (a schema's descriptions) are longer than one SQL statement.
        let max_tokens = self.config.max_tokens.max(crate::TEXT_MAX_TOKENS);
        crate::complete_text_with(system, user, |messages| async move {
            self.complete(&messages, max_tokens, self.config.stream, &mut |_| {})
                .await
        })
        .await
    }
}

/// Input tokens including prompt-cache reads and writes.
fn input_tokens(usage: &Value) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|k| usage.get(*k).and_then(Value::as_u64))
    .sum()
}

#[derive(Default)]
struct StreamState {
    text: String,
    input_tokens: u64,
    output_tokens: u64,
}

impl StreamState {
    fn finish(self, messages: &[ChatMessage]) -> Completion {
        let usage = usage_or_estimate(
            Some(TokenUsage {
                prompt_tokens: self.input_tokens,
                completion_tokens: self.output_tokens,
            }),
            messages,
            &self.text,
        );
        Completion {
            text: self.text,
            usage,
        }
    }
}
