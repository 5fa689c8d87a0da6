//! [`OpenAiEmbedder`]: querent-domain's [`Embedder`] port over any OpenAI-compatible
//! `/embeddings` API (OpenAI, Ollama's `/v1`, vLLM, LM Studio, LiteLLM, …).
//!
//! `POST {base}/embeddings` with `{"model": …, "input": [texts]}` (and `"dimensions"` when
//! asked to shorten), at most [`OpenAiEmbedderConfig::batch_size`] texts per request, the
//! batches one after the other. The reply's `data[].embedding` arrays are put back in input
//! order by their `index` and scaled to unit length. Retries, timeouts, error messages and
//! the `Authorization: Bearer <key>` header work as for the chat adapter (the shared HTTP
//! core); failures become [`EmbedError::Unavailable`] when the provider could not be reached
//! or timed out, [`EmbedError::Provider`] otherwise.
//!
//! The vector length is either configured ([`OpenAiEmbedderConfig::dims`]) or learned from
//! the first reply; after that, a reply of another length is an error, so vectors of one
//! [`Embedder::id`] always compare.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use querent_domain::Secret;
use querent_domain::embed::{EmbedError, Embedder};
use querent_domain::query::ProviderError;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::http::{HttpCore, head};
use crate::retry::{Failure, RetryPolicy};
use crate::url_policy::{UrlPolicy, check_base_url};

/// Texts per request unless configured otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 64;

/// How to reach an OpenAI-compatible embeddings API.
#[derive(Clone, Debug)]
pub struct OpenAiEmbedderConfig {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`.
    pub base_url: String,
    /// The model id, e.g. `text-embedding-3-small`, `nomic-embed-text`.
    pub model: String,
    /// The API key, sent as `Authorization: Bearer <key>` when set.
    pub api_key: Option<Secret<String>>,
    /// The vector length the model returns; `None` learns it from the first reply.
    pub dims: Option<usize>,
    /// Send [`Self::dims`] as the request's `dimensions` so the model shortens its
    /// vectors (OpenAI `text-embedding-3-*`); many other servers reject the field.
    pub request_dimensions: bool,
    /// Texts per request (at least 1).
    pub batch_size: usize,
    /// More headers for every request (e.g. a gateway's key); treated as secrets.
    pub extra_headers: Vec<(String, String)>,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for one whole attempt (one batch), including reading the reply.
    pub request_timeout: Duration,
    /// Retries on 429, 5xx, connection failures and timeouts.
    pub retry: RetryPolicy,
}

impl OpenAiEmbedderConfig {
    /// A configuration with defaults: no key, vector length learned from the first reply,
    /// batches of [`DEFAULT_BATCH_SIZE`], no extra headers, 10 s to connect, 60 s per
    /// attempt, default retries.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            dims: None,
            request_dimensions: false,
            batch_size: DEFAULT_BATCH_SIZE,
            extra_headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }

    /// Sets the API key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key.into()));
        self
    }

    /// Sets the expected vector length.
    pub fn with_dims(mut self, dims: usize) -> Self {
        self.dims = Some(dims);
        self
    }
}

/// An [`Embedder`] over an OpenAI-compatible `/embeddings` API. Its [`Embedder::id`] is
/// `openai:<model>` (`openai:<model>:<dims>` when it asks the model for shortened
/// vectors).
#[derive(Debug)]
pub struct OpenAiEmbedder {
    config: OpenAiEmbedderConfig,
    core: HttpCore,
    id: String,
    /// `Bearer <key>`, marked sensitive.
    authorization: Option<HeaderValue>,
    /// The vector length: configured, or learned from the first reply (0 until then).
    dims: AtomicUsize,
}

impl OpenAiEmbedder {
    /// An embedder for this configuration. Fails only on an unparseable base URL, a key or
    /// extra header that cannot be a header value, a zero batch size or `dimensions`
    /// requested without [`OpenAiEmbedderConfig::dims`]; nothing is sent yet. Check the URL
    /// against the deployment's policy first ([`crate::check_base_url`]), or use
    /// [`OpenAiEmbedder::connect`], which does both.
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self, EmbedError> {
        let id = match (config.request_dimensions, config.dims) {
            (true, Some(d)) => format!("openai:{}:{d}", config.model),
            (true, None) => {
                return Err(EmbedError::Provider(format!(
                    "openai:{}: `dimensions` can only be requested with a configured vector \
                     length",
                    config.model
                )));
            }
            (false, _) => format!("openai:{}", config.model),
        };
        if config.batch_size == 0 {
            return Err(EmbedError::Provider(format!(
                "{id}: the batch size must be at least 1"
            )));
        }
        let core = HttpCore::new(
            id.clone(),
            &config.base_url,
            config.connect_timeout,
            config.request_timeout,
            config.retry,
            &config.extra_headers,
        )
        .map_err(provider_error)?;
        let authorization = match &config.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose().trim()))
                    .map_err(|_| {
                    provider_error(
                        core.failed("the API key contains characters a header cannot carry"),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(Self {
            dims: AtomicUsize::new(config.dims.unwrap_or(0)),
            config,
            core,
            id,
            authorization,
        })
    }

    /// Checks the base URL against the deployment's URL policy (resolving its host), then
    /// builds the embedder as [`OpenAiEmbedder::new`] does.
    pub async fn connect(
        config: OpenAiEmbedderConfig,
        policy: &UrlPolicy,
    ) -> Result<Self, EmbedError> {
        check_base_url(&config.base_url, policy)
            .await
            .map_err(|e| EmbedError::Provider(format!("openai:{}: {e}", config.model)))?;
        Self::new(config)
    }

    /// The configuration.
    pub fn config(&self) -> &OpenAiEmbedderConfig {
        &self.config
    }

    /// Embeds one short text to check the URL, key and model, and returns the vector
    /// length (learning it when it was not configured).
    pub async fn probe(&self) -> Result<usize, EmbedError> {
        let vectors = self.embed_batch(&["dimension probe".to_owned()]).await?;
        Ok(vectors.first().map_or(0, Vec::len))
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.authorization {
            Some(value) => request.header(reqwest::header::AUTHORIZATION, value.clone()),
            None => request,
        }
    }

    /// One request (with retries) for one batch.
    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut body = json!({"model": self.config.model, "input": batch});
        if self.config.request_dimensions
            && let Some(d) = self.config.dims
        {
            body["dimensions"] = json!(d);
        }
        let url = self.core.url("embeddings");
        let build = &|| self.authorized(self.core.client.post(&url).json(&body));
        // The shared retry loop reports a final failure as text only; remember how the last
        // attempt failed to tell "unreachable" from "answered with an error".
        let last_failure = &Mutex::new(None::<Failure>);
        let reply = self
            .core
            .with_retry(move || async move {
                let result = self.core.send_json(build()).await;
                if let Err((failure, _)) = &result {
                    *last_failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(failure.clone());
                }
                result
            })
            .await;
        let reply = reply.map_err(|e| {
            let failure = last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            classify(e, failure)
        })?;
        let vectors = parse_reply(&reply, batch.len())
            .map_err(|e| EmbedError::Provider(format!("{}: {e}", self.id)))?;
        self.check_dims(&vectors)?;
        Ok(vectors)
    }

    /// Learns the vector length from the first reply, then holds every reply to it.
    fn check_dims(&self, vectors: &[Vec<f32>]) -> Result<(), EmbedError> {
        let Some(first) = vectors.first() else {
            return Ok(());
        };
        let len = first.len();
        if let Some(other) = vectors.iter().find(|v| v.len() != len) {
            return Err(EmbedError::Provider(format!(
                "{}: the provider returned vectors of different lengths ({len} and {})",
                self.id,
                other.len()
            )));
        }
        let expected = match self
            .dims
            .compare_exchange(0, len, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => len,
            Err(known) => known,
        };
        if len != expected {
            return Err(EmbedError::Provider(format!(
                "{}: the provider returned vectors of {len} dimensions, expected {expected}",
                self.id
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    /// The configured vector length, or the one learned from the first reply; 0 before
    /// that (see [`OpenAiEmbedder::probe`]).
    fn dims(&self) -> usize {
        self.dims.load(Ordering::SeqCst)
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size) {
            out.extend(self.embed_batch(batch).await?);
        }
        Ok(out)
    }
}

fn provider_error(e: ProviderError) -> EmbedError {
    EmbedError::Provider(e.to_string())
}

/// The final error of a call, by how its last attempt failed.
fn classify(e: ProviderError, last: Option<Failure>) -> EmbedError {
    let message = e.to_string();
    match last {
        Some(Failure::Timeout | Failure::Connect | Failure::Reset) => {
            EmbedError::Unavailable(message)
        }
        Some(Failure::Status {
            code: 401 | 403, ..
        }) => EmbedError::Provider(format!(
            "{message} (the embedding provider refused the API key: check it)"
        )),
        _ => EmbedError::Provider(message),
    }
}

/// `data[].embedding` of a reply, in input order (by `index`), each scaled to unit length.
fn parse_reply(reply: &Value, expected: usize) -> Result<Vec<Vec<f32>>, String> {
    let data = reply.get("data").and_then(Value::as_array).ok_or_else(|| {
        format!(
            "the provider's reply had no data[]: {}",
            head(&reply.to_string(), 200)
        )
    })?;
    if data.len() != expected {
        return Err(format!(
            "the provider returned {} embeddings for {expected} inputs",
            data.len()
        ));
    }
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (position, item) in data.iter().enumerate() {
        let index = match item.get("index") {
            None => position,
            Some(i) => i
                .as_u64()
                .map(|i| i as usize)
                .filter(|i| *i < expected)
                .ok_or_else(|| format!("data[{position}].index is not an input position: {i}"))?,
        };
        let values = match item.get("embedding") {
            Some(Value::Array(values)) => values,
            Some(Value::String(_)) => {
                return Err(format!(
                    "data[{position}].embedding is base64; only float arrays are supported"
                ));
            }
            _ => return Err(format!("data[{position}] has no embedding array")),
        };
        let mut vector = values
            .iter()
            .map(|v| v.as_f64().filter(|f| f.is_finite()).map(|f| f as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| format!("data[{position}].embedding holds a non-number"))?;
        if vector.is_empty() {
            return Err(format!("data[{position}].embedding is empty"));
        }
        normalize(&mut vector);
        if slots[index].replace(vector).is_some() {
            return Err(format!("index {index} appears twice in data[]"));
        }
    }
    // Counts match and no index repeats, so every slot is filled.
    Ok(slots.into_iter().flatten().collect())
}

/// Scales a vector to unit length (a zero vector stays zero).
fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in v {
            *x = (f64::from(*x) / norm) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_ordered_and_normalised() {
        let reply = json!({"data": [
            {"index": 1, "embedding": [0.0, 2.0]},
            {"index": 0, "embedding": [3.0, 4.0]},
        ]});
        let v = parse_reply(&reply, 2).unwrap();
        assert_eq!(v, vec![vec![0.6, 0.8], vec![0.0, 1.0]]);
        // Without indices the listing order is the input order.
        let reply = json!({"data": [{"embedding": [1.0]}, {"embedding": [-2.0]}]});
        assert_eq!(parse_reply(&reply, 2).unwrap(), vec![vec![1.0], vec![-1.0]]);
    }

    #[test]
    fn broken_replies_are_errors() {
        let cases = [
            (json!({"object": "list"}), "no data[]"),
            (
                json!({"data": [{"index": 0, "embedding": [1.0]}]}),
                "1 embeddings for 2",
            ),
            (
                json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}),
                "appears twice",
            ),
            (
                json!({"data": [{"index": 0, "embedding": [1.0]}, {"index": 7, "embedding": [1.0]}]}),
                "not an input position",
            ),
            (
                json!({"data": [{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": [1.0]}]}),
                "base64",
            ),
            (
                json!({"data": [{"index": 0, "embedding": [1.0, "x"]}, {"index": 1, "embedding": [1.0]}]}),
                "non-number",
            ),
            (
                json!({"data": [{"index": 0, "embedding": []}, {"index": 1, "embedding": [1.0]}]}),
                "empty",
            ),
        ];
        for (reply, needle) in cases {
            let err = parse_reply(&reply, 2).unwrap_err();
            assert!(err.contains(needle), "{err} should mention {needle:?}");
        }
    }

    #[test]
    fn ids_and_config_checks() {
        let c = OpenAiEmbedderConfig::new("http://127.0.0.1:1/v1", "text-embedding-3-small");
        assert_eq!(
            OpenAiEmbedder::new(c.clone()).unwrap().id(),
            "openai:text-embedding-3-small"
        );
        let mut short = c.clone().with_dims(256);
        short.request_dimensions = true;
        let e = OpenAiEmbedder::new(short).unwrap();
        assert_eq!(e.id(), "openai:text-embedding-3-small:256");
        assert_eq!(e.dims(), 256);
        let mut no_dims = c.clone();
        no_dims.request_dimensions = true;
        assert!(matches!(
            OpenAiEmbedder::new(no_dims),
            Err(EmbedError::Provider(_))
        ));
        let mut zero = c.clone();
        zero.batch_size = 0;
        assert!(OpenAiEmbedder::new(zero).is_err());
        assert!(OpenAiEmbedder::new(c.clone().with_api_key("bad\nkey")).is_err());
        assert!(OpenAiEmbedder::new(OpenAiEmbedderConfig::new("not a url", "m")).is_err());
        // The key never shows in debug output.
        let keyed = OpenAiEmbedder::new(c.with_api_key("sk-secret-1")).unwrap();
        assert!(!format!("{keyed:?}").contains("sk-secret-1"));
    }

    #[test]
    fn failures_are_classified() {
        let e = || ProviderError::Failed("openai:m: boom".into());
        assert!(matches!(
            classify(e(), Some(Failure::Timeout)),
            EmbedError::Unavailable(_)
        ));
        assert!(matches!(
            classify(e(), Some(Failure::Connect)),
            EmbedError::Unavailable(_)
        ));
        let status = |code| Failure::Status {
            code,
            retry_after: None,
        };
        assert!(matches!(
            classify(e(), Some(status(503))),
            EmbedError::Provider(_)
        ));
        let EmbedError::Provider(m) = classify(e(), Some(status(401))) else {
            panic!("401 is a provider error");
        };
        assert!(m.contains("API key"), "{m}");
        assert!(matches!(classify(e(), None), EmbedError::Provider(_)));
    }
}
