//! [`OpenAiProvider`]: any OpenAI-compatible chat-completions API — OpenAI, Groq, Ollama
//! (`http://localhost:11434/v1`), vLLM, LM Studio — spoken directly with reqwest.
//!
//! Non-streaming: `POST {base}/chat/completions` and read `choices[0].message.content` and
//! `usage.prompt_tokens` / `usage.completion_tokens`. Streaming: the same with
//! `"stream": true, "stream_options": {"include_usage": true}`, reading server-sent events
//! (`data: {...}` lines) until `data: [DONE]`, concatenating `choices[0].delta.content` and
//! taking the usage from the chunk that carries it. `Authorization: Bearer <key>` is sent
//! only when a key is configured. `GET {base}/models` lists the model ids.

use std::time::Duration;

use async_trait::async_trait;
use querent_domain::Secret;
use querent_domain::query::{
    GenerateRequest, Generated, ProviderError, SqlProvider, TextReply, TokenUsage,
};
use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::Completion;
use crate::http::{HttpCore, generate_with, head, usage_or_estimate};
use crate::prompt::{ChatMessage, PromptBudget, Role};
use crate::retry::RetryPolicy;
use crate::sse::{SseEvent, SseParser};

/// How to reach an OpenAI-compatible API.
#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    pub base_url: String,
    /// The model id, e.g. `gpt-4o-mini`, `llama3.1:8b`.
    pub model: String,
    /// The API key, sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<Secret<String>>,
    /// Sampling temperature; `None` leaves the server's default (some reasoning models
    /// accept no other). Default `Some(0.0)`: SQL wants determinism.
    pub temperature: Option<f32>,
    /// Completion tokens at most (`max_tokens`); `None` leaves the server's default.
    pub max_tokens: Option<u32>,
    /// Whether to stream the reply (server-sent events).
    pub stream: bool,
    /// More headers for every request (e.g. `OpenAI-Organization`, a gateway's key);
    /// treated as secrets.
    pub extra_headers: Vec<(String, String)>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one whole attempt, including reading the (streamed) reply.
    pub request_timeout: Duration,
    /// Retries on 429, 5xx, connection failures and timeouts.
    pub retry: RetryPolicy,
    /// The prompt's token budget.
    pub budget: PromptBudget,
}

impl OpenAiConfig {
    /// A configuration with defaults: no key, temperature 0, 1024 completion tokens, not
    /// streaming, no extra headers, 10 s to connect, 120 s per attempt, default retries
    /// and prompt budget.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            temperature: Some(0.0),
            max_tokens: Some(1024),
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

/// A [`SqlProvider`] over an OpenAI-compatible chat-completions API.
#[derive(Clone, Debug)]
pub struct OpenAiProvider {
    config: OpenAiConfig,
    core: HttpCore,
    /// `Bearer <key>`, marked sensitive.
    authorization: Option<HeaderValue>,
}

impl OpenAiProvider {
    /// A provider for this configuration. Fails only on an unparseable base URL, a key
    /// that cannot be a header value, or invalid extra headers; nothing is sent yet. (Check the URL against the
    /// deployment's policy with [`crate::check_base_url`] first.)
    pub fn new(config: OpenAiConfig) -> Result<Self, ProviderError> {
        let core = HttpCore::new(
            format!("openai:{}", config.model),
            &config.base_url,
            config.connect_timeout,
            config.request_timeout,
            config.retry,
            &config.extra_headers,
        )?;
        let authorization = match &config.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                    .map_err(|_| {
                    core.failed("the API key contains characters a header cannot carry")
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            config,
            core,
            authorization,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiConfig {
        &self.config
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(value) => request.header(reqwest::header::AUTHORIZATION, value.clone()),
            None => request,
        }
    }

    /// The request body, serialised once: every attempt sends these bytes (the prompt is
    /// not copied into a JSON value nor serialised again per retry). Keys in the order a
    /// `serde_json` map writes them, so the bytes are those of the `json!` body this
    /// replaced.
    fn body(&self, messages: &[ChatMessage], max_tokens: Option<u32>, stream: bool) -> Vec<u8> {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            content: &'a str,
            role: &'static str,
        }
        #[derive(serde::Serialize)]
        struct StreamOptions {
            include_usage: bool,
        }
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            max_tokens: Option<u32>,
            messages: Vec<Message<'a>>,
            model: &'a str,
            stream: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            stream_options: Option<StreamOptions>,
            /// As `f64`: a JSON value holds an `f32` so, and writes it so.
            #[serde(skip_serializing_if = "Option::is_none")]
            temperature: Option<f64>,
        }
        let body = Body {
            max_tokens,
            messages: messages
                .iter()
                .map(|m| Message {
                    content: &m.content,
                    role: m.role.as_str(),
                })
                .collect(),
            model: &self.config.model,
            stream,
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
            temperature: self.config.temperature.map(f64::from),
        };
        serde_json::to_vec(&body).expect("a request body serialises")
    }

    /// One chat call, streaming when the configuration says so.
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
        max_tokens: Option<u32>,
        stream: bool,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, ProviderError> {
        let body = self.body(messages, max_tokens, stream);
        let url = self.core.url("chat/completions");
        let build = &|| self.authorized(self.core.post_json(&url, &body));
        if !stream {
            let reply = self
                .core
                .with_retry(move || async move { self.core.send_json(build()).await })
                .await?;
            let text = reply
                .pointer("/choices/0/message/content")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    self.core.failed(format!(
                        "the provider's reply had no choices[0].message.content: {}",
                        head(&reply.to_string(), 200)
                    ))
                })?
                .to_owned();
            let usage = reply.get("usage").map(openai_usage);
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
        if state.finished {
            // Some servers end the stream without `[DONE]` after the final chunk.
            return Ok(state.finish(messages));
        }
        Err(self
            .core
            .failed("the provider's stream ended before the reply was complete"))
    }

    /// Handles one event; `Ok(true)` at `[DONE]`.
    fn on_event(
        &self,
        event: &SseEvent,
        state: &mut StreamState,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<bool, ProviderError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|e| {
            self.core.failed(format!(
                "the provider sent a malformed stream event ({e}): {}",
                head(data, 200)
            ))
        })?;
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string());
            return Err(self
                .core
                .failed(format!("the provider reported an error: {message}")));
        }
        if let Some(delta) = chunk
            .pointer("/choices/0/delta/content")
            .and_then(Value::as_str)
            && !delta.is_empty()
        {
            state.text.push_str(delta);
            on_delta(delta);
        }
        if chunk
            .pointer("/choices/0/finish_reason")
            .is_some_and(|r| !r.is_null())
        {
            state.finished = true;
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            state.usage = Some(openai_usage(usage));
        }
        Ok(false)
    }

    /// Model ids the API offers (`GET {base}/models`).
    pub async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        let url = &self.core.url("models");
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
            .complete(&messages, Some(16), self.config.stream, &mut |_| {})
            .await?;
        Ok(completion.text.trim().to_owned())
    }
}

#[async_trait]
impl SqlProvider for OpenAiProvider {
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
        let max_tokens = self
            .config
            .max_tokens
            .map_or(crate::TEXT_MAX_TOKENS, |m| m.max(crate::TEXT_MAX_TOKENS));
        crate::complete_text_with(system, user, |messages| async move {
            self.complete(&messages, Some(max_tokens), self.config.stream, &mut |_| {})
                .await
        })
        .await
    }
}

#[derive(Default)]
struct StreamState {
    text: String,
    usage: Option<TokenUsage>,
    finished: bool,
}

impl StreamState {
    fn finish(self, messages: &[ChatMessage]) -> Completion {
        let usage = usage_or_estimate(self.usage, messages, &self.text);
        Completion {
            text: self.text,
            usage,
        }
    }
}

fn openai_usage(usage: &Value) -> TokenUsage {
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage {
        prompt_tokens: n("prompt_tokens"),
        completion_tokens: n("completion_tokens"),
    }
}

/// `data[].id` of a model list (OpenAI's and Anthropic's shape).
pub(crate) fn model_ids(reply: &Value) -> Option<Vec<String>> {
    let data = reply.get("data")?.as_array()?;
    Some(
        data.iter()
            .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The body as it was built before it was serialised once: a `json!` value.
    fn as_value(
        config: &OpenAiConfig,
        messages: &[ChatMessage],
        max_tokens: Option<u32>,
        stream: bool,
    ) -> Vec<u8> {
        let mut body = json!({
            "model": config.model,
            "messages": messages
                .iter()
                .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
                .collect::<Vec<_>>(),
            "stream": stream,
        });
        if let Some(t) = config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = max_tokens {
            body["max_tokens"] = json!(n);
        }
        if stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        serde_json::to_vec(&body).unwrap()
    }

    #[test]
    fn body_bytes_are_those_of_the_json_value() {
        let messages = [
            ChatMessage::new(Role::System, "Schema:\n\"quoted\" \\ back\tslash ünïcode"),
            ChatMessage::new(Role::User, "How many?"),
            ChatMessage::new(Role::Assistant, "```sql\nSELECT 1\n```"),
            ChatMessage::new(Role::User, "And now?"),
        ];
        for temperature in [None, Some(0.0), Some(0.7), Some(1.0)] {
            let mut config = OpenAiConfig::new("http://127.0.0.1:1/v1", "gpt-x");
            config.temperature = temperature;
            let provider = OpenAiProvider::new(config.clone()).unwrap();
            for max_tokens in [None, Some(16), Some(1024)] {
                for stream in [false, true] {
                    assert_eq!(
                        String::from_utf8(provider.body(&messages, max_tokens, stream)).unwrap(),
                        String::from_utf8(as_value(&config, &messages, max_tokens, stream))
                            .unwrap(),
                        "{temperature:?} {max_tokens:?} {stream}"
                    );
                }
            }
        }
    }
}
