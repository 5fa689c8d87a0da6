//! What both adapters share: the HTTP client, the retry loop, error messages, body limits
//! and the generate flow (render → call → extract).

use std::future::Future;
use std::time::{Duration, SystemTime};

use querent_domain::query::{GenerateRequest, Generated, ProviderError, TokenUsage};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::Completion;
use crate::extract::extract_sql;
use crate::prompt::{ChatMessage, PromptBudget, count_tokens, estimate_tokens, render};
use crate::retry::{Failure, RetryPolicy, parse_retry_after};

/// Largest successful reply body read, in bytes.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// Largest error body read, in bytes.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Idle connections kept per provider host at most: a provider is kept between chats (the
/// binary keeps what it builds), and without a bound every connection of a burst (5,000
/// streams at once) would stay open for the pool's 90 s.
const MAX_IDLE_CONNECTIONS: usize = 32;

/// One failed attempt: how (for the retry decision) and a message for people.
pub(crate) type AttemptError = (Failure, String);

/// The client and policies of one provider.
#[derive(Clone, Debug)]
pub(crate) struct HttpCore {
    pub client: reqwest::Client,
    /// `openai:gpt-4o-mini`, for messages.
    pub name: String,
    /// The API root without a trailing slash.
    pub base_url: String,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Headers sent with every request (extra headers; never logged).
    pub headers: HeaderMap,
}

impl HttpCore {
    pub fn new(
        name: String,
        base_url: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
        retry: RetryPolicy,
        extra_headers: &[(String, String)],
    ) -> Result<Self, ProviderError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        reqwest::Url::parse(&base).map_err(|e| {
            ProviderError::Failed(format!("{name}: the base URL {base:?} is not valid: {e}"))
        })?;
        let mut headers = HeaderMap::new();
        for (k, v) in extra_headers {
            let key = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                ProviderError::Failed(format!("{name}: {k:?} is not a valid header name"))
            })?;
            let mut value = HeaderValue::from_str(v).map_err(|_| {
                ProviderError::Failed(format!("{name}: the value of header {k:?} is not valid"))
            })?;
            // Extra headers often carry credentials (gateways, proxies).
            value.set_sensitive(true);
            headers.insert(key, value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .pool_max_idle_per_host(MAX_IDLE_CONNECTIONS)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("querent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                ProviderError::Failed(format!("{name}: the HTTP client could not start: {e}"))
            })?;
        Ok(Self {
            client,
            name,
            base_url: base,
            request_timeout,
            retry,
            headers,
        })
    }

    /// `{base}/{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// A `POST` of JSON bytes already serialised (what `RequestBuilder::json` sends, without
    /// serialising the value again for every attempt).
    pub fn post_json(&self, url: &str, body: &[u8]) -> reqwest::RequestBuilder {
        self.client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                reqwest::header::HeaderValue::from_static("application/json"),
            )
            .body(body.to_vec())
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retry budget is spent.
    pub async fn with_retry<T, F, Fut>(&self, mut attempt: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let mut retries = 0;
        loop {
            let (failure, message) = match attempt().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if failure.is_retryable() && retries < self.retry.max_retries {
                let delay = self.retry.next_delay(retries, failure.retry_after());
                tracing::warn!(
                    provider = %self.name,
                    retry = retries + 1,
                    delay_ms = delay.as_millis() as u64,
                    error = %message,
                    "provider call failed; retrying"
                );
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            let message = if retries > 0 {
                format!(
                    "{}: gave up after {} attempts: {message}",
                    self.name,
                    retries + 1
                )
            } else {
                format!("{}: {message}", self.name)
            };
            return Err(ProviderError::Failed(message));
        }
    }

    /// Sends a request and returns the response when its status is a success; anything
    /// else becomes an [`AttemptError`] carrying the provider's own error message.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, AttemptError> {
        let response = request
            .headers(self.headers.clone())
            .timeout(self.request_timeout)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let body = read_limited(response, MAX_ERROR_BODY)
            .await
            .unwrap_or_default();
        let detail = provider_message(&body);
        let message = match detail {
            Some(detail) => format!("the provider answered HTTP {status}: {detail}"),
            None => format!("the provider answered HTTP {status}"),
        };
        Err((
            Failure::Status {
                code: status.as_u16(),
                retry_after,
            },
            message,
        ))
    }

    /// Sends a request and parses the successful reply as JSON, all within one attempt.
    pub async fn send_json(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<serde_json::Value, AttemptError> {
        let response = self.send(request).await?;
        let body = read_limited(response, MAX_BODY)
            .await
            .map_err(|e| self.transport_error(e))?;
        serde_json::from_slice(&body).map_err(|e| {
            (
                Failure::Other,
                format!(
                    "the provider's reply was not valid JSON ({e}): {}",
                    head(&String::from_utf8_lossy(&body), 200)
                ),
            )
        })
    }

    /// Classifies a transport failure (no status) and describes it: the error and its
    /// sources, without the URL.
    fn classify(e: reqwest::Error) -> (Failure, String) {
        let timed_out = e.is_timeout();
        let connect = e.is_connect();
        let chain = error_chain(&e.without_url());
        let lower = chain.to_ascii_lowercase();
        let failure = if timed_out || lower.contains("timed out") {
            Failure::Timeout
        } else if connect {
            Failure::Connect
        } else if [
            "reset",
            "connection closed",
            "broken pipe",
            "incomplete",
            "aborted",
            "end of file",
            "unexpected eof",
        ]
        .iter()
        .any(|n| lower.contains(n))
        {
            Failure::Reset
        } else {
            Failure::Other
        };
        (failure, chain)
    }

    /// Describes a transport failure (no status) and classifies it for the retry decision.
    pub fn transport_error(&self, e: reqwest::Error) -> AttemptError {
        let (failure, chain) = Self::classify(e);
        let message = match failure {
            Failure::Timeout => format!(
                "the request timed out after {} ms",
                self.request_timeout.as_millis()
            ),
            Failure::Connect => format!("could not connect to {}: {chain}", self.base_url),
            Failure::Reset => format!("the connection to the provider broke: {chain}"),
            _ => format!("the request to the provider failed: {chain}"),
        };
        (failure, message)
    }

    /// A failure while reading a streamed reply (never retried: part of it may have been
    /// delivered already).
    pub fn stream_error(&self, e: reqwest::Error) -> ProviderError {
        let (failure, chain) = Self::classify(e);
        let message = match failure {
            Failure::Timeout => format!(
                "the request timed out after {} ms",
                self.request_timeout.as_millis()
            ),
            _ => format!("the provider's stream broke off: {chain}"),
        };
        ProviderError::Failed(format!("{}: {message}", self.name))
    }

    /// `name: message` as a failure.
    pub fn failed(&self, message: impl std::fmt::Display) -> ProviderError {
        ProviderError::Failed(format!("{}: {message}", self.name))
    }
}

/// Reads a body up to `limit` bytes (the rest is dropped).
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// The error message a provider put in its error body: `error.message` (OpenAI,
/// Anthropic), `error` as a string (Ollama), `message` or `detail` (vLLM and other
/// servers); otherwise the start of a non-JSON body.
pub(crate) fn provider_message(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let found = v
            .pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .or_else(|| v.get("detail"))
            .and_then(|m| match m {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            });
        return found.map(|m| head(&m, 500));
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| head(text, 200))
}

/// The first `n` characters of a text, on one line.
pub(crate) fn head(text: &str, n: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > n {
        let cut: String = flat.chars().take(n).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// An error and its sources, joined with `: ` (duplicates removed).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Fills in usage the provider did not report, with `cl100k_base` estimates.
pub(crate) fn usage_or_estimate(
    reported: Option<TokenUsage>,
    messages: &[ChatMessage],
    text: &str,
) -> TokenUsage {
    match reported {
        Some(u) if u.prompt_tokens > 0 || u.completion_tokens > 0 => u,
        _ => TokenUsage {
            prompt_tokens: estimate_tokens(messages) as u64,
            completion_tokens: count_tokens(text) as u64,
        },
    }
}

/// The generate flow both adapters share: render, call, extract.
pub(crate) async fn generate_with<F, Fut>(
    request: &GenerateRequest,
    budget: &PromptBudget,
    chat: F,
) -> Result<Generated, ProviderError>
where
    F: FnOnce(Vec<ChatMessage>) -> Fut,
    Fut: Future<Output = Result<Completion, ProviderError>>,
{
    let prompt = render(request, budget);
    if prompt.trimmed.any() {
        tracing::debug!(
            estimated_tokens = prompt.estimated_tokens,
            dropped_tables = prompt.trimmed.tables.len(),
            dropped_turns = prompt.trimmed.history_turns,
            "prompt trimmed to the token budget"
        );
    }
    let completion = chat(prompt.messages).await?;
    let extracted = extract_sql(&completion.text)?;
    Ok(Generated {
        sql: extracted.sql,
        explanation: extracted.explanation,
        usage: completion.usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_messages() {
        assert_eq!(
            provider_message(br#"{"error":{"message":"Invalid API key","type":"auth"}}"#),
            Some("Invalid API key".into())
        );
        assert_eq!(
            provider_message(br#"{"error":"model 'x' not found"}"#),
            Some("model 'x' not found".into())
        );
        assert_eq!(provider_message(br#"{"detail":"bad"}"#), Some("bad".into()));
        assert_eq!(
            provider_message(b"<html>Bad Gateway</html>"),
            Some("<html>Bad Gateway</html>".into())
        );
        assert_eq!(provider_message(b"{}"), None);
        assert_eq!(provider_message(b""), None);
    }

    #[test]
    fn heads_are_cut() {
        assert_eq!(head("a\n b", 10), "a b");
        assert_eq!(head("abcdef", 3), "abc…");
    }
}
