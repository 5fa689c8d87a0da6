//! # querent-fake-llm
//!
//! A fake model provider for tests: a small HTTP/1.1 server on `127.0.0.1:0` that speaks
//! the wire formats of both APIs Querent talks to — OpenAI-compatible chat completions
//! (`{base_url}/chat/completions`, `{base_url}/models`) and Anthropic's Messages API
//! (`{anthropic_base_url}/messages`, `{anthropic_base_url}/models`) — streaming (server-sent
//! events) or not, as each request's `stream` flag asks. It also answers OpenAI-style
//! embedding requests (`{base_url}/embeddings`) with deterministic vectors derived from each
//! input text ([`fake_embedding`]).
//!
//! Replies are scripted: [`FakeLlm::push_reply`] queues [`Reply`]s that completion
//! requests of either API consume in order; when the queue is empty the default reply
//! ([`FakeLlm::set_default_reply`]) answers. Embedding requests have a queue of their own
//! ([`FakeLlm::push_embedding_reply`]) taking the same faults; when it is empty they
//! succeed. Every request is recorded (method, path, headers, JSON body) so tests can assert
//! what was sent: [`FakeLlm::requests`], [`FakeLlm::embedding_requests`].
//!
//! Usage figures are deterministic: prompt tokens are the number of whitespace-separated
//! words in the request's messages (and Anthropic `system`), completion tokens the number
//! of words in the reply text (see [`word_count`] and [`prompt_words`]).
//!
//! Depends on: tokio and serde_json only (a hand-written server: no web framework to
//! build, and full control over broken replies). Must never: listen on anything but the
//! loopback interface, or be used outside tests.
//!
//! ## Example
//!
//! ```
//! use querent_fake_llm::{FakeLlm, Reply};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeLlm::start().await;
//! fake.set_default_reply(Reply::sql("SELECT 1"));
//! assert!(fake.base_url().starts_with("http://127.0.0.1:"));
//! assert!(fake.completion_requests().is_empty());
//! # });
//! ```
//!
//! A request and its reply in `examples/fake_provider.rs`.

#![allow(
    // Test tooling: a failure here is a failed test, and it may block (files, fixtures).
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One scripted answer to a completion request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// A successful completion whose text is this (streamed in small pieces when the
    /// request asks for a stream).
    Text(String),
    /// An HTTP error status.
    Status {
        /// The status code (e.g. 429, 500, 400).
        code: u16,
        /// A `Retry-After` header value to send (`"2"` or an HTTP date).
        retry_after: Option<String>,
        /// The raw body; `None` sends the API's own error JSON with the message
        /// `fake <code> error`.
        body: Option<String>,
    },
    /// Wait this long before answering with `then` (for timeouts).
    Slow {
        /// How long to wait before sending anything.
        delay: Duration,
        /// What to send after the wait.
        then: Box<Reply>,
    },
    /// A 200 whose body is not valid JSON (non-streaming), or a stream with an event whose
    /// data is not valid JSON.
    Malformed,
    /// A reply cut off in the middle: the connection closes before the body is complete
    /// (streaming: after the first events, without `[DONE]` / `message_stop`).
    TruncatedStream,
    /// A stream that reports an error in-band (OpenAI-style `data: {"error": …}`, Anthropic
    /// `event: error`) after one text delta; non-streaming requests get a 500 with the
    /// message.
    StreamError(String),
}

impl Reply {
    /// [`Reply::Text`].
    pub fn text(text: impl Into<String>) -> Self {
        Reply::Text(text.into())
    }

    /// A fenced SQL answer with one sentence of explanation.
    pub fn sql(sql: &str) -> Self {
        Reply::Text(format!("```sql\n{sql}\n```\nThis answers the question."))
    }

    /// [`Reply::Status`] with the API's default error body and no `Retry-After`.
    pub fn status(code: u16) -> Self {
        Reply::Status {
            code,
            retry_after: None,
            body: None,
        }
    }

    /// A 429 with this `Retry-After`.
    pub fn rate_limited(retry_after: impl Into<String>) -> Self {
        Reply::Status {
            code: 429,
            retry_after: Some(retry_after.into()),
            body: None,
        }
    }

    /// [`Reply::Slow`].
    pub fn slow(delay: Duration, then: Reply) -> Self {
        Reply::Slow {
            delay,
            then: Box::new(then),
        }
    }
}

/// Which API a request spoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// OpenAI-compatible (`/v1/...`).
    OpenAi,
    /// Anthropic Messages (`/anthropic/v1/...`).
    Anthropic,
}

/// A request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path with its query string, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, when it was JSON.
    pub body: Option<Value>,
    /// The body as text.
    pub raw_body: String,
}

impl RecordedRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Which API the path belongs to.
    pub fn api(&self) -> Api {
        if self.path.starts_with("/anthropic/") {
            Api::Anthropic
        } else {
            Api::OpenAi
        }
    }

    /// Whether this was an OpenAI-style embeddings request.
    pub fn is_embedding(&self) -> bool {
        self.method == "POST" && self.api() == Api::OpenAi && self.path.ends_with("/embeddings")
    }

    /// The `input` texts of an embeddings request (a single string counts as one).
    pub fn embedding_inputs(&self) -> Vec<String> {
        match self.body.as_ref().and_then(|b| b.get("input")) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this was a completion (chat or messages) request.
    pub fn is_completion(&self) -> bool {
        self.method == "POST"
            && (self.path.ends_with("/chat/completions") || self.path.ends_with("/messages"))
    }

    /// All message text of a completion request (Anthropic `system` first), joined with
    /// newlines: handy for asserting what the prompt contained.
    pub fn prompt_text(&self) -> String {
        let Some(body) = &self.body else {
            return String::new();
        };
        let mut parts: Vec<String> = Vec::new();
        if let Some(system) = body.get("system").and_then(Value::as_str) {
            parts.push(system.to_owned());
        }
        if let Some(messages) = body.get("messages").and_then(Value::as_array) {
            for m in messages {
                if let Some(c) = m.get("content").and_then(Value::as_str) {
                    parts.push(c.to_owned());
                }
            }
        }
        parts.join("\n")
    }
}

/// Whitespace-separated words of a text: the fake's token count.
pub fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// The fake's prompt token count for a request body: words of every message content and
/// of Anthropic's `system`.
pub fn prompt_words(body: &Value) -> u64 {
    let mut n = body
        .get("system")
        .and_then(Value::as_str)
        .map_or(0, word_count);
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        n += messages
            .iter()
            .filter_map(|m| m.get("content").and_then(Value::as_str))
            .map(word_count)
            .sum::<u64>();
    }
    n
}

/// Vector length the fake's embeddings have unless [`FakeLlm::set_embedding_dims`] or the
/// request's `dimensions` says otherwise.
pub const FAKE_EMBEDDING_DIMS: usize = 8;

/// The fake's embedding of a text: `dims` values in `[-1, 1)` from an FNV-1a hash of the
/// text and the position, then scaled by the text's length in characters plus one so that
/// the vector is deliberately *not* unit length (clients must normalise). Equal texts get
/// equal vectors; different texts almost surely different directions.
pub fn fake_embedding(text: &str, dims: usize) -> Vec<f32> {
    let scale = text.chars().count() as f32 + 1.0;
    (0..dims)
        .map(|i| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for b in text.bytes().chain((i as u32).to_le_bytes()) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            // The top 24 bits as a fraction in [0, 1), then mapped to [-1, 1).
            let unit = (h >> 40) as f32 / (1u64 << 24) as f32;
            (unit * 2.0 - 1.0) * scale
        })
        .collect()
}

#[derive(Debug)]
struct Inner {
    script: Mutex<VecDeque<Reply>>,
    embedding_script: Mutex<VecDeque<Reply>>,
    embedding_dims: Mutex<usize>,
    embeddings_reversed: Mutex<bool>,
    default_reply: Mutex<Reply>,
    requests: Mutex<Vec<RecordedRequest>>,
    models: Mutex<Vec<String>>,
    required_key: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running fake provider. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct FakeLlm {
    inner: Arc<Inner>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// Starts a fake on a free port of 127.0.0.1. The default reply is
    /// `Reply::sql("SELECT 1")` and the model list is `["fake-model"]`.
    pub async fn start() -> FakeLlm {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the fake provider on 127.0.0.1");
        let addr = listener.local_addr().expect("the fake's address");
        let inner = Arc::new(Inner {
            script: Mutex::new(VecDeque::new()),
            embedding_script: Mutex::new(VecDeque::new()),
            embedding_dims: Mutex::new(FAKE_EMBEDDING_DIMS),
            embeddings_reversed: Mutex::new(false),
            default_reply: Mutex::new(Reply::sql("SELECT 1")),
            requests: Mutex::new(Vec::new()),
            models: Mutex::new(vec!["fake-model".to_owned()]),
            required_key: Mutex::new(None),
        });
        let task = tokio::spawn(serve(listener, inner.clone()));
        FakeLlm { inner, addr, task }
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI-style API root, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The Anthropic-style API root, `http://127.0.0.1:PORT/anthropic/v1`.
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}/anthropic/v1", self.addr)
    }

    /// Queues a reply for the next completion request that finds the queue non-empty.
    pub fn push_reply(&self, reply: Reply) {
        lock(&self.inner.script).push_back(reply);
    }

    /// Queues several replies.
    pub fn push_replies(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.inner.script).extend(replies);
    }

    /// Replies still queued.
    pub fn remaining_replies(&self) -> usize {
        lock(&self.inner.script).len()
    }

    /// The reply used when the queue is empty.
    pub fn set_default_reply(&self, reply: Reply) {
        *lock(&self.inner.default_reply) = reply;
    }

    /// The model ids `/models` lists.
    pub fn set_models(&self, ids: impl IntoIterator<Item = impl Into<String>>) {
        *lock(&self.inner.models) = ids.into_iter().map(Into::into).collect();
    }

    /// Requires this API key (`Authorization: Bearer` for OpenAI, `x-api-key` for
    /// Anthropic) on every request; others get a 401 in the API's error format.
    pub fn require_api_key(&self, key: impl Into<String>) {
        *lock(&self.inner.required_key) = Some(key.into());
    }

    /// Queues a reply for the next embeddings request: the faults of [`Reply`]
    /// ([`Reply::Status`], [`Reply::Slow`], [`Reply::Malformed`], a cut-off body for
    /// [`Reply::TruncatedStream`], a 500 with the message for [`Reply::StreamError`]);
    /// [`Reply::Text`] (any text) answers normally. With the queue empty, requests succeed.
    pub fn push_embedding_reply(&self, reply: Reply) {
        lock(&self.inner.embedding_script).push_back(reply);
    }

    /// Queues several embedding replies.
    pub fn push_embedding_replies(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.inner.embedding_script).extend(replies);
    }

    /// The length of the vectors `/embeddings` returns when the request names no
    /// `dimensions` (default [`FAKE_EMBEDDING_DIMS`]).
    pub fn set_embedding_dims(&self, dims: usize) {
        *lock(&self.inner.embedding_dims) = dims;
    }

    /// Lists `data[]` of embedding replies in reverse order (each item keeps its true
    /// `index`), as a server is allowed to: clients must order by `index`.
    pub fn set_embeddings_reversed(&self, reversed: bool) {
        *lock(&self.inner.embeddings_reversed) = reversed;
    }

    /// The embeddings requests received so far, in order.
    pub fn embedding_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_embedding)
            .collect()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).clone()
    }

    /// The completion requests received so far, in order.
    pub fn completion_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_completion)
            .collect()
    }

    /// The last request received, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        lock(&self.inner.requests).last().cloned()
    }
}

async fn serve(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let Ok((socket, _)) = listener.accept().await else {
            continue;
        };
        let inner = inner.clone();
        tokio::spawn(async move {
            // A client that goes away mid-reply is part of what is being tested.
            let _ = handle(socket, inner).await;
        });
    }
}

/// Largest request accepted (headers plus body).
const MAX_REQUEST: usize = 32 * 1024 * 1024;

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Option<RecordedRequest>> {
    let mut buf = Vec::with_capacity(8192);
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        let n = socket.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
        if buf.len() > MAX_REQUEST {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&tmp[..n]);
        if body.len() > MAX_REQUEST {
            return Ok(None);
        }
    }
    body.truncate(length);
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).ok(),
        raw_body,
    }))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn handle(mut socket: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut socket).await? else {
        return Ok(());
    };
    lock(&inner.requests).push(request.clone());
    let api = request.api();
    let route = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let root = match api {
        Api::OpenAi => "/v1",
        Api::Anthropic => "/anthropic/v1",
    };
    let Some(endpoint) = route.strip_prefix(root) else {
        return send_error(&mut socket, api, 404, None, None).await;
    };

    let required = lock(&inner.required_key).clone();
    if let Some(key) = required {
        let presented = match api {
            Api::OpenAi => request
                .header("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned),
            Api::Anthropic => request.header("x-api-key").map(str::to_owned),
        };
        if presented.as_deref() != Some(key.as_str()) {
            return send_error(
                &mut socket,
                api,
                401,
                None,
                Some("invalid x-api-key or bearer token (fake)"),
            )
            .await;
        }
    }

    match (request.method.as_str(), endpoint, api) {
        ("GET", "/models", _) => {
            let models = lock(&inner.models).clone();
            let body = match api {
                Api::OpenAi => json!({
                    "object": "list",
                    "data": models.iter().map(|id| json!({
                        "id": id, "object": "model", "created": 0, "owned_by": "fake"
                    })).collect::<Vec<_>>(),
                }),
                Api::Anthropic => json!({
                    "data": models.iter().map(|id| json!({
                        "type": "model", "id": id, "display_name": id,
                        "created_at": "2025-01-01T00:00:00Z"
                    })).collect::<Vec<_>>(),
                    "has_more": false,
                    "first_id": models.first(),
                    "last_id": models.last(),
                }),
            };
            send_json(&mut socket, 200, &body).await
        }
        ("POST", "/chat/completions", Api::OpenAi) | ("POST", "/messages", Api::Anthropic) => {
            let reply = {
                let next = lock(&inner.script).pop_front();
                next.unwrap_or_else(|| lock(&inner.default_reply).clone())
            };
            let body = request.body.clone().unwrap_or(Value::Null);
            answer(&mut socket, api, &body, reply).await
        }
        ("POST", "/embeddings", Api::OpenAi) => {
            let reply = lock(&inner.embedding_script).pop_front();
            let dims = *lock(&inner.embedding_dims);
            let reversed = *lock(&inner.embeddings_reversed);
            answer_embeddings(&mut socket, &request, reply, dims, reversed).await
        }
        _ => send_error(&mut socket, api, 404, None, None).await,
    }
}

/// Answers `POST /embeddings`: a scripted fault, or `data[]` with one [`fake_embedding`]
/// per input (`index` = its position in `input`), OpenAI's reply shape.
async fn answer_embeddings(
    socket: &mut TcpStream,
    request: &RecordedRequest,
    mut reply: Option<Reply>,
    dims: usize,
    reversed: bool,
) -> std::io::Result<()> {
    let api = Api::OpenAi;
    while let Some(Reply::Slow { delay, then }) = reply {
        tokio::time::sleep(delay).await;
        reply = Some(*then);
    }
    match reply {
        None | Some(Reply::Text(_)) => {}
        Some(Reply::Slow { .. }) => unreachable!("unwrapped above"),
        Some(Reply::Status {
            code,
            retry_after,
            body,
        }) => return send_error(socket, api, code, retry_after.as_deref(), body.as_deref()).await,
        Some(Reply::Malformed) => {
            return send_raw(
                socket,
                200,
                "application/json",
                &[],
                br#"{"data": [{"embedding": "#,
            )
            .await;
        }
        Some(Reply::StreamError(message)) => {
            return send_error(socket, api, 500, None, Some(&message)).await;
        }
        Some(Reply::TruncatedStream) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 4096\r\nconnection: close\r\n\r\n";
            socket.write_all(head.as_bytes()).await?;
            socket
                .write_all(br#"{"object": "list", "data": [{"object": "embe"#)
                .await?;
            socket.flush().await?;
            return socket.shutdown().await;
        }
    }
    let body = request.body.clone().unwrap_or(Value::Null);
    let valid_input = match body.get("input") {
        Some(Value::String(_)) => true,
        Some(Value::Array(items)) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    };
    if !valid_input {
        return send_error(
            socket,
            api,
            400,
            None,
            Some("'input' must be a string or a non-empty array of strings (fake)"),
        )
        .await;
    }
    let dims = body
        .get("dimensions")
        .and_then(Value::as_u64)
        .map_or(dims, |d| d as usize);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-embedding-model");
    let inputs = request.embedding_inputs();
    let mut data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            json!({"object": "embedding", "index": i, "embedding": fake_embedding(text, dims)})
        })
        .collect();
    if reversed {
        data.reverse();
    }
    let tokens: u64 = inputs.iter().map(|t| word_count(t)).sum();
    let reply = json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    });
    send_json(socket, 200, &reply).await
}

async fn answer(
    socket: &mut TcpStream,
    api: Api,
    request: &Value,
    mut reply: Reply,
) -> std::io::Result<()> {
    while let Reply::Slow { delay, then } = reply {
        tokio::time::sleep(delay).await;
        reply = *then;
    }
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_owned();
    match reply {
        Reply::Slow { .. } => unreachable!("unwrapped above"),
        Reply::Status {
            code,
            retry_after,
            body,
        } => send_error(socket, api, code, retry_after.as_deref(), body.as_deref()).await,
        Reply::Malformed if !stream => {
            send_raw(
                socket,
                200,
                "application/json",
                &[],
                br#"{"choices": [{"message": "#,
            )
            .await
        }
        Reply::Malformed => {
            let events = match api {
                Api::OpenAi => vec![
                    "data: {\"choices\": [{\"delta\": \n\n".to_owned(),
                    "data: [DONE]\n\n".to_owned(),
                ],
                Api::Anthropic => vec![
                    "event: content_block_delta\ndata: {not json\n\n".to_owned(),
                    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned(),
                ],
            };
            send_stream(socket, &events, true).await
        }
        Reply::StreamError(message) if !stream => {
            send_error(socket, api, 500, None, Some(&message)).await
        }
        Reply::StreamError(message) => {
            let mut events = stream_events(api, &model, request, "partial", false);
            // Keep the opening events and the first delta, then the error.
            events.truncate(match api {
                Api::OpenAi => 2,
                Api::Anthropic => 4,
            });
            events.push(match api {
                Api::OpenAi => sse_data(&json!({
                    "error": {"message": message, "type": "server_error"}
                })),
                Api::Anthropic => sse_event(
                    "error",
                    &json!({"type": "error", "error": {"type": "overloaded_error", "message": message}}),
                ),
            });
            send_stream(socket, &events, true).await
        }
        Reply::TruncatedStream if !stream => {
            let full = completion_body(api, &model, request, "SELECT 1 -- never complete");
            let bytes = serde_json::to_vec(&full).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                bytes.len()
            );
            socket.write_all(head.as_bytes()).await?;
            socket.write_all(&bytes[..bytes.len() / 2]).await?;
            socket.flush().await?;
            socket.shutdown().await
        }
        Reply::TruncatedStream => {
            let mut events =
                stream_events(api, &model, request, "```sql\nSELECT partial FROM", false);
            events.truncate(events.len() / 2);
            send_stream(socket, &events, false).await
        }
        Reply::Text(text) if !stream => {
            send_json(socket, 200, &completion_body(api, &model, request, &text)).await
        }
        Reply::Text(text) => {
            let include_usage =
                request.pointer("/stream_options/include_usage") == Some(&Value::Bool(true));
            let events = stream_events(api, &model, request, &text, include_usage);
            send_stream(socket, &events, true).await
        }
    }
}

fn completion_body(api: Api, model: &str, request: &Value, text: &str) -> Value {
    let prompt = prompt_words(request);
    let completion = word_count(text);
    match api {
        Api::OpenAi => json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop"
            }],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion
            }
        }),
        Api::Anthropic => json!({
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {"input_tokens": prompt, "output_tokens": completion}
        }),
    }
}

/// The text in pieces of at most 8 characters.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}

fn sse_data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn sse_event(name: &str, value: &Value) -> String {
    format!("event: {name}\ndata: {value}\n\n")
}

/// The complete event sequence of a successful streamed reply.
fn stream_events(
    api: Api,
    model: &str,
    request: &Value,
    text: &str,
    include_usage: bool,
) -> Vec<String> {
    let prompt = prompt_words(request);
    let completion = word_count(text);
    let mut events = Vec::new();
    match api {
        Api::OpenAi => {
            let chunk = |delta: Value, finish: Value| {
                sse_data(&json!({
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                }))
            };
            events.push(chunk(
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            ));
            for p in pieces(text) {
                events.push(chunk(json!({"content": p}), Value::Null));
            }
            events.push(chunk(json!({}), json!("stop")));
            if include_usage {
                events.push(sse_data(&json!({
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion
                    }
                })));
            }
            events.push("data: [DONE]\n\n".to_owned());
        }
        Api::Anthropic => {
            events.push(sse_event(
                "message_start",
                &json!({"type": "message_start", "message": {
                    "id": "msg_fake", "type": "message", "role": "assistant", "content": [],
                    "model": model, "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": prompt, "output_tokens": 1}
                }}),
            ));
            events.push(sse_event(
                "content_block_start",
                &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}),
            ));
            events.push(sse_event("ping", &json!({"type": "ping"})));
            for p in pieces(text) {
                events.push(sse_event(
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": p}}),
                ));
            }
            events.push(sse_event(
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": 0}),
            ));
            events.push(sse_event(
                "message_delta",
                &json!({"type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                        "usage": {"output_tokens": completion}}),
            ));
            events.push(sse_event("message_stop", &json!({"type": "message_stop"})));
        }
    }
    events
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Status",
    }
}

async fn send_raw(
    socket: &mut TcpStream,
    code: u16,
    content_type: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        reason(code),
        body.len()
    );
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body).await?;
    socket.flush().await?;
    socket.shutdown().await
}

async fn send_json(socket: &mut TcpStream, code: u16, body: &Value) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    send_raw(socket, code, "application/json", &[], &bytes).await
}

async fn send_error(
    socket: &mut TcpStream,
    api: Api,
    code: u16,
    retry_after: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<()> {
    let mut extra = Vec::new();
    if let Some(r) = retry_after {
        extra.push(("retry-after", r));
    }
    let bytes = match body {
        Some(raw) if raw.trim_start().starts_with('{') || code < 400 => raw.as_bytes().to_vec(),
        other => {
            let message = other.map_or_else(|| format!("fake {code} error"), str::to_owned);
            let kind = match code {
                400 | 422 => "invalid_request_error",
                401 => "authentication_error",
                404 => "not_found_error",
                429 => "rate_limit_error",
                529 => "overloaded_error",
                _ => "api_error",
            };
            let value = match api {
                Api::OpenAi => json!({"error": {
                    "message": message, "type": kind, "param": null, "code": null
                }}),
                Api::Anthropic => json!({"type": "error", "error": {
                    "type": kind, "message": message
                }}),
            };
            serde_json::to_vec(&value).unwrap_or_default()
        }
    };
    send_raw(socket, code, "application/json", &extra, &bytes).await
}

/// Sends events as a chunked `text/event-stream`; without `complete`, the connection is
/// closed without the terminating chunk.
async fn send_stream(
    socket: &mut TcpStream,
    events: &[String],
    complete: bool,
) -> std::io::Result<()> {
    socket
        .write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
        )
        .await?;
    for event in events {
        socket
            .write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes())
            .await?;
        socket.flush().await?;
    }
    if complete {
        socket.write_all(b"0\r\n\r\n").await?;
    }
    socket.flush().await?;
    socket.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_both_apis_and_records_requests() {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::text("hello there"));
        let client = reqwest::Client::new();
        let reply: Value = client
            .post(format!("{}/chat/completions", fake.base_url()))
            .bearer_auth("sk-test")
            .json(&json!({"model": "m", "messages": [{"role": "user", "content": "one two"}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["choices"][0]["message"]["content"], "hello there");
        assert_eq!(reply["usage"]["prompt_tokens"], 2);
        assert_eq!(reply["usage"]["completion_tokens"], 2);

        // The queue is empty: the default reply answers.
        let reply: Value = client
            .post(format!("{}/messages", fake.anthropic_base_url()))
            .json(&json!({"model": "c", "max_tokens": 5, "system": "a b c",
                          "messages": [{"role": "user", "content": "q"}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            reply["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("SELECT 1")
        );
        assert_eq!(reply["usage"]["input_tokens"], 4);

        let requests = fake.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].header("Authorization"), Some("Bearer sk-test"));
        assert_eq!(requests[0].path, "/v1/chat/completions");
        assert_eq!(requests[1].api(), Api::Anthropic);
        assert_eq!(requests[1].prompt_text(), "a b c\nq");
    }

    #[tokio::test]
    async fn streams_and_lists_models() {
        let fake = FakeLlm::start().await;
        fake.set_models(["a", "b"]);
        let client = reqwest::Client::new();
        let list: Value = client
            .get(format!("{}/models", fake.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["data"][1]["id"], "b");

        fake.push_reply(Reply::text("a fairly long reply text"));
        let text = client
            .post(format!("{}/chat/completions", fake.base_url()))
            .json(&json!({"model": "m", "stream": true, "messages": []}))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.contains("\"content\":\"a fairly\""));
        assert!(text.trim_end().ends_with("data: [DONE]"));
    }

    #[tokio::test]
    async fn answers_embeddings_deterministically() {
        let fake = FakeLlm::start().await;
        fake.set_embeddings_reversed(true);
        fake.push_embedding_reply(Reply::status(503));
        let client = reqwest::Client::new();
        let url = format!("{}/embeddings", fake.base_url());
        let body = json!({"model": "e", "input": ["alpha", "beta gamma"]});
        let response = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 503);

        let reply: Value = client
            .post(&url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // Reversed listing, true indices, vectors of the input text.
        assert_eq!(reply["data"][0]["index"], 1);
        assert_eq!(reply["data"][1]["index"], 0);
        let vector = |v: &Value| -> Vec<f32> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        };
        assert_eq!(
            vector(&reply["data"][0]["embedding"]),
            fake_embedding("beta gamma", 8)
        );
        assert_eq!(
            vector(&reply["data"][1]["embedding"]),
            fake_embedding("alpha", 8)
        );
        assert_eq!(reply["usage"]["prompt_tokens"], 3);
        assert_ne!(fake_embedding("alpha", 8), fake_embedding("beta", 8));
        assert_eq!(fake_embedding("alpha", 8), fake_embedding("alpha", 8));

        let reply: Value = client
            .post(&url)
            .json(&json!({"model": "e", "input": "one", "dimensions": 3}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["data"][0]["embedding"].as_array().unwrap().len(), 3);

        let response = client
            .post(&url)
            .json(&json!({"model": "e", "input": []}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 400);

        let sent = fake.embedding_requests();
        assert_eq!(sent.len(), 4);
        assert_eq!(sent[1].embedding_inputs(), ["alpha", "beta gamma"]);
        assert_eq!(sent[2].embedding_inputs(), ["one"]);
        assert!(fake.completion_requests().is_empty());
    }

    #[tokio::test]
    async fn status_and_key_checks() {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::rate_limited("1"));
        let client = reqwest::Client::new();
        let response = client
            .post(format!("{}/messages", fake.anthropic_base_url()))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 429);
        assert_eq!(response.headers()["retry-after"], "1");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["type"], "rate_limit_error");

        fake.require_api_key("k");
        let response = client
            .get(format!("{}/models", fake.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401);
    }
}
