//! Both adapters against querent-fake-llm, streaming and not: the wire formats, usage,
//! retries, timeouts, broken replies and what is sent; the embeddings adapter in
//! `llm/embeddings.rs`.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use std::sync::Arc;
use std::time::Duration;

use querent_domain::query::{GenerateRequest, Generated, ProviderError, SqlProvider, Turn};
use querent_domain::schema::{ColumnInfo, SchemaSnapshot, TableInfo, TableKind};
use querent_domain::{Dialect, PrivacyPolicy};
use querent_fake_llm::{Api, FakeLlm, Reply, prompt_words, word_count};
use querent_llm::{
    AnthropicConfig, AnthropicProvider, OpenAiConfig, OpenAiProvider, RetryPolicy, UrlPolicy,
    check_base_url,
};

/// The embeddings adapter (kept in this one test binary).
#[path = "llm/embeddings.rs"]
mod embeddings;

const KEY: &str = "sk-test-0123456789";

/// Every adapter in every mode.
const CASES: [(Api, bool); 4] = [
    (Api::OpenAi, false),
    (Api::OpenAi, true),
    (Api::Anthropic, false),
    (Api::Anthropic, true),
];

/// Knobs the tests turn.
#[derive(Clone)]
struct Opts {
    key: Option<&'static str>,
    retry: RetryPolicy,
    request_timeout: Duration,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            key: Some(KEY),
            retry: RetryPolicy {
                max_retries: 3,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(20),
            },
            request_timeout: Duration::from_secs(10),
        }
    }
}

enum Provider {
    OpenAi(OpenAiProvider),
    Anthropic(AnthropicProvider),
}

impl Provider {
    fn new(fake: &FakeLlm, api: Api, stream: bool, opts: Opts) -> Self {
        match api {
            Api::OpenAi => {
                let mut c = OpenAiConfig::new(fake.base_url(), "gpt-test");
                if let Some(k) = opts.key {
                    c = c.with_api_key(k);
                }
                c.stream = stream;
                c.retry = opts.retry;
                c.request_timeout = opts.request_timeout;
                Provider::OpenAi(OpenAiProvider::new(c).unwrap())
            }
            Api::Anthropic => {
                let mut c = AnthropicConfig::new(fake.anthropic_base_url(), "claude-test");
                if let Some(k) = opts.key {
                    c = c.with_api_key(k);
                }
                c.stream = stream;
                c.retry = opts.retry;
                c.request_timeout = opts.request_timeout;
                Provider::Anthropic(AnthropicProvider::new(c).unwrap())
            }
        }
    }

    fn as_dyn(&self) -> &dyn SqlProvider {
        match self {
            Provider::OpenAi(p) => p,
            Provider::Anthropic(p) => p,
        }
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError> {
        self.as_dyn().generate(request).await
    }

    async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        match self {
            Provider::OpenAi(p) => p.list_models().await,
            Provider::Anthropic(p) => p.list_models().await,
        }
    }

    async fn test(&self) -> Result<String, ProviderError> {
        match self {
            Provider::OpenAi(p) => p.test().await,
            Provider::Anthropic(p) => p.test().await,
        }
    }
}

fn schema() -> SchemaSnapshot {
    let col = |name: &str, ty: &str| ColumnInfo {
        name: name.into(),
        data_type: ty.into(),
        nullable: false,
        default: None,
        comment: None,
        sample_values: Vec::new(),
    };
    let mut orders = TableInfo {
        schema: None,
        name: "orders".into(),
        kind: TableKind::Table,
        comment: Some("One row per order".into()),
        columns: vec![
            col("id", "INTEGER"),
            col("status", "TEXT"),
            col("total", "REAL"),
        ],
        primary_key: vec!["id".into()],
        unique_constraints: Vec::new(),
        foreign_keys: Vec::new(),
        row_estimate: None,
    };
    orders.columns[1].sample_values = vec!["paid".into(), "shipped".into()];
    let mut s = SchemaSnapshot {
        dialect: Dialect::Sqlite,
        database: None,
        fingerprint: String::new(),
        taken_at: 0,
        tables: vec![orders],
    };
    s.normalize();
    s
}

fn request() -> GenerateRequest {
    GenerateRequest {
        question: "How many orders were shipped?".into(),
        dialect: Dialect::Sqlite,
        schema: Arc::new(schema()),
        policy: PrivacyPolicy::default(),
        history: Vec::new(),
        previous_error: None,
        max_rows: 50,
        semantic: None,
        examples: Vec::new(),
        instructions: None,
    }
}

const SQL_REPLY: &str = "Here you go:\n```sql\nSELECT count(*) FROM orders WHERE status = 'shipped';\n```\nCounts shipped orders.";

/// Loads the tokenizer (synchronous, up to a second in debug builds) before a timed call.
fn warm_up() {
    querent_llm::prompt::count_tokens("warm up");
}

fn failed(result: Result<Generated, ProviderError>) -> String {
    match result {
        Err(ProviderError::Failed(message)) => message,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn generates_sql_and_counts_usage() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::text(SQL_REPLY));
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let generated = provider.generate(&request()).await.unwrap();
        assert_eq!(
            generated.sql, "SELECT count(*) FROM orders WHERE status = 'shipped'",
            "{api:?} stream={stream}"
        );
        assert_eq!(
            generated.explanation.as_deref(),
            Some("Here you go: Counts shipped orders.")
        );
        let sent = fake.completion_requests();
        assert_eq!(sent.len(), 1);
        let body = sent[0].body.clone().unwrap();
        assert_eq!(generated.usage.prompt_tokens, prompt_words(&body));
        assert_eq!(generated.usage.completion_tokens, word_count(SQL_REPLY));
        assert!(generated.usage.prompt_tokens > 50);
    }
}

#[tokio::test]
async fn streaming_hands_out_deltas() {
    let fake = FakeLlm::start().await;
    let mut deltas = Vec::new();
    fake.push_reply(Reply::text(SQL_REPLY));
    let mut c = OpenAiConfig::new(fake.base_url(), "gpt-test");
    c.stream = false; // generate_streaming streams whatever the configuration says
    let openai = OpenAiProvider::new(c).unwrap();
    let g = openai
        .generate_streaming(&request(), &mut |d| deltas.push(d.to_owned()))
        .await
        .unwrap();
    assert!(deltas.len() > 5);
    assert_eq!(deltas.concat(), SQL_REPLY);
    assert!(g.sql.starts_with("SELECT count(*)"));
    assert_eq!(
        fake.last_request().unwrap().body.unwrap()["stream"],
        serde_json::json!(true)
    );

    let mut deltas = Vec::new();
    fake.push_reply(Reply::text(SQL_REPLY));
    let anthropic = AnthropicProvider::new(AnthropicConfig::new(
        fake.anthropic_base_url(),
        "claude-test",
    ))
    .unwrap();
    anthropic
        .generate_streaming(&request(), &mut |d| deltas.push(d.to_owned()))
        .await
        .unwrap();
    assert_eq!(deltas.concat(), SQL_REPLY);
}

#[tokio::test]
async fn rate_limit_is_retried_after_retry_after() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        // Retry-After asks for 10 s; the policy caps every delay at 60 ms, and its backoff
        // alone would wait at most 1 ms.
        fake.push_replies([Reply::rate_limited("10"), Reply::text(SQL_REPLY)]);
        warm_up();
        let mut opts = Opts::default();
        opts.retry.max_delay = Duration::from_millis(60);
        // The wait before the retry honours Retry-After up to the cap: what the policy
        // computes is asserted, not how long the call took (STYLE.md).
        for random in [0, u64::MAX] {
            assert_eq!(
                opts.retry.delay(0, Some(Duration::from_secs(10)), random),
                Duration::from_millis(60)
            );
        }
        let provider = Provider::new(&fake, api, stream, opts);
        let generated = provider.generate(&request()).await.unwrap();
        assert!(generated.sql.starts_with("SELECT count(*)"));
        assert_eq!(
            fake.completion_requests().len(),
            2,
            "{api:?} stream={stream}"
        );
    }
}

#[tokio::test]
async fn server_error_is_retried() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_replies([
            Reply::status(500),
            Reply::status(503),
            Reply::text(SQL_REPLY),
        ]);
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let generated = provider.generate(&request()).await.unwrap();
        assert!(generated.sql.starts_with("SELECT count(*)"));
        assert_eq!(
            fake.completion_requests().len(),
            3,
            "{api:?} stream={stream}"
        );
    }
}

#[tokio::test]
async fn retry_budget_exhausted_fails_clearly() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.set_default_reply(Reply::status(503));
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let message = failed(provider.generate(&request()).await);
        assert_eq!(
            fake.completion_requests().len(),
            4,
            "{api:?} stream={stream}"
        );
        assert!(message.contains("gave up after 4 attempts"), "{message}");
        assert!(message.contains("503"), "{message}");
        assert!(message.contains("fake 503 error"), "{message}");
        assert!(
            message.starts_with("openai:gpt-test: ")
                || message.starts_with("anthropic:claude-test: "),
            "{message}"
        );
    }
}

#[tokio::test]
async fn timeout_fails_mentioning_the_timeout() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::slow(Duration::from_secs(3), Reply::text(SQL_REPLY)));
        warm_up();
        let opts = Opts {
            retry: RetryPolicy::none(),
            request_timeout: Duration::from_millis(100),
            ..Opts::default()
        };
        let provider = Provider::new(&fake, api, stream, opts);
        let message = failed(provider.generate(&request()).await);
        assert!(message.contains("timed out after 100 ms"), "{message}");
    }
}

#[tokio::test]
async fn timeouts_are_retried() {
    let fake = FakeLlm::start().await;
    fake.push_replies([Reply::slow(Duration::from_millis(400), Reply::text("late"))]);
    fake.set_default_reply(Reply::text(SQL_REPLY));
    let opts = Opts {
        request_timeout: Duration::from_millis(100),
        ..Opts::default()
    };
    let provider = Provider::new(&fake, Api::OpenAi, false, opts);
    let generated = provider.generate(&request()).await.unwrap();
    assert!(generated.sql.starts_with("SELECT count(*)"));
    assert_eq!(fake.completion_requests().len(), 2);
}

#[tokio::test]
async fn malformed_replies_fail_without_retry() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::Malformed);
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let message = failed(provider.generate(&request()).await);
        if stream {
            assert!(message.contains("malformed stream event"), "{message}");
        } else {
            assert!(message.contains("not valid JSON"), "{message}");
        }
        assert_eq!(fake.completion_requests().len(), 1);
    }
}

#[tokio::test]
async fn truncated_replies_fail() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::TruncatedStream);
        let provider = Provider::new(
            &fake,
            api,
            stream,
            Opts {
                retry: RetryPolicy::none(),
                ..Opts::default()
            },
        );
        let message = failed(provider.generate(&request()).await);
        assert!(
            message.contains("stream broke off")
                || message.contains("ended before")
                || message.contains("connection to the provider broke"),
            "{api:?} stream={stream}: {message}"
        );
    }
}

#[tokio::test]
async fn in_band_stream_errors_fail_with_their_message() {
    for api in [Api::OpenAi, Api::Anthropic] {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::StreamError("Overloaded right now".into()));
        let provider = Provider::new(&fake, api, true, Opts::default());
        let message = failed(provider.generate(&request()).await);
        assert!(
            message.contains("the provider reported an error: Overloaded right now"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::Status {
            code: 400,
            retry_after: None,
            body: Some("model `gpt-test` does not exist".into()),
        });
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let message = failed(provider.generate(&request()).await);
        assert_eq!(fake.completion_requests().len(), 1);
        assert!(message.contains("HTTP 400 Bad Request"), "{message}");
        assert!(
            message.contains("model `gpt-test` does not exist"),
            "{message}"
        );
        assert!(!message.contains("gave up"), "{message}");
    }
}

#[tokio::test]
async fn sends_the_key_the_prompt_and_the_wire_fields() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.require_api_key(KEY);
        let provider = Provider::new(&fake, api, stream, Opts::default());
        provider.generate(&request()).await.unwrap();
        let sent = fake.last_request().unwrap();
        let body = sent.body.clone().unwrap();
        assert_eq!(body["stream"], serde_json::json!(stream));
        assert!(!sent.raw_body.contains(KEY));
        let prompt = sent.prompt_text();
        assert!(prompt.contains("CREATE TABLE orders ("), "{prompt}");
        assert!(prompt.contains("status TEXT NOT NULL, -- values: 'paid', 'shipped'"));
        assert!(prompt.contains("SQLite"));
        assert!(prompt.contains("How many orders were shipped?"));
        match api {
            Api::OpenAi => {
                assert_eq!(sent.path, "/v1/chat/completions");
                assert_eq!(
                    sent.header("authorization"),
                    Some(format!("Bearer {KEY}").as_str())
                );
                assert_eq!(body["model"], "gpt-test");
                assert_eq!(body["messages"][0]["role"], "system");
                assert_eq!(
                    body.pointer("/stream_options/include_usage"),
                    stream.then_some(&serde_json::Value::Bool(true))
                );
            }
            Api::Anthropic => {
                assert_eq!(sent.path, "/anthropic/v1/messages");
                assert_eq!(sent.header("x-api-key"), Some(KEY));
                assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(sent.header("authorization"), None);
                assert_eq!(body["model"], "claude-test");
                assert!(
                    body["system"]
                        .as_str()
                        .unwrap()
                        .contains("CREATE TABLE orders")
                );
                assert_eq!(body["messages"][0]["role"], "user");
                assert_eq!(body["max_tokens"], 1024);
            }
        }
    }
}

#[tokio::test]
async fn no_key_means_no_auth_header_and_a_401_is_final() {
    for api in [Api::OpenAi, Api::Anthropic] {
        let fake = FakeLlm::start().await;
        let opts = Opts {
            key: None,
            ..Opts::default()
        };
        let provider = Provider::new(&fake, api, false, opts.clone());
        provider.generate(&request()).await.unwrap();
        let sent = fake.last_request().unwrap();
        assert_eq!(sent.header("authorization"), None);
        assert_eq!(sent.header("x-api-key"), None);

        fake.require_api_key(KEY);
        let message = failed(provider.generate(&request()).await);
        assert!(message.contains("401"), "{message}");
        assert!(
            message.contains("invalid x-api-key or bearer token"),
            "{message}"
        );
        assert_eq!(fake.completion_requests().len(), 2);
    }
}

#[tokio::test]
async fn history_and_previous_error_reach_the_model() {
    let fake = FakeLlm::start().await;
    let provider = Provider::new(&fake, Api::Anthropic, false, Opts::default());
    let mut r = request();
    r.history = vec![Turn {
        question: "How many orders are there?".into(),
        sql: Some("SELECT count(*) FROM orders".into()),
    }];
    r.previous_error = Some((
        "SELECT count(*) FROM order".into(),
        "unknown table order; did you mean: orders?".into(),
    ));
    provider.generate(&r).await.unwrap();
    let body = fake.last_request().unwrap().body.unwrap();
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[1]["role"], "assistant");
    let last = messages[2]["content"].as_str().unwrap();
    assert!(last.contains("did you mean: orders?"));
    assert!(last.contains("SELECT count(*) FROM order\n"));
}

#[tokio::test]
async fn replies_without_sql() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.push_reply(Reply::text("I would rather talk about the weather."));
        fake.push_reply(Reply::text("CANNOT_TRANSLATE: nothing about weather here"));
        let provider = Provider::new(&fake, api, stream, Opts::default());
        let message = failed(provider.generate(&request()).await);
        assert!(
            message.starts_with("the provider's reply contained no SQL: I would rather"),
            "{message}"
        );
        assert_eq!(
            provider.generate(&request()).await.unwrap_err(),
            ProviderError::CannotTranslate("nothing about weather here".into())
        );
    }
}

#[tokio::test]
async fn list_models_and_test_work() {
    for (api, stream) in CASES {
        let fake = FakeLlm::start().await;
        fake.require_api_key(KEY);
        fake.set_models(["model-a", "model-b"]);
        fake.push_reply(Reply::text("OK"));
        let provider = Provider::new(&fake, api, stream, Opts::default());
        assert_eq!(
            provider.list_models().await.unwrap(),
            ["model-a", "model-b"]
        );
        assert_eq!(provider.test().await.unwrap(), "OK");
        let sent = fake.last_request().unwrap();
        let body = sent.body.unwrap();
        let max = match api {
            Api::OpenAi => &body["max_tokens"],
            Api::Anthropic => &body["max_tokens"],
        };
        assert_eq!(max, 16);
        let models = &fake.requests()[0];
        assert_eq!(models.method, "GET");
        assert!(models.path.contains("/models"), "{}", models.path);
    }
}

#[tokio::test]
async fn names() {
    let fake = FakeLlm::start().await;
    assert_eq!(
        Provider::new(&fake, Api::OpenAi, false, Opts::default())
            .as_dyn()
            .name(),
        "openai:gpt-test"
    );
    assert_eq!(
        Provider::new(&fake, Api::Anthropic, true, Opts::default())
            .as_dyn()
            .name(),
        "anthropic:claude-test"
    );
}

#[tokio::test]
async fn keys_never_show_in_debug_output() {
    let fake = FakeLlm::start().await;
    for api in [Api::OpenAi, Api::Anthropic] {
        let text = match Provider::new(&fake, api, false, Opts::default()) {
            Provider::OpenAi(p) => format!("{p:?}"),
            Provider::Anthropic(p) => format!("{p:?}"),
        };
        assert!(!text.contains(KEY), "{text}");
    }
}

#[tokio::test]
async fn refused_connections_are_retried_then_fail() {
    // A port nothing listens on: bind, note the port, close.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = OpenAiConfig::new(format!("http://127.0.0.1:{port}/v1"), "gpt-test");
    c.retry = Opts::default().retry;
    let p = OpenAiProvider::new(c).unwrap();
    let message = match p.generate(&request()).await {
        Err(ProviderError::Failed(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(message.contains("gave up after 4 attempts"), "{message}");
    assert!(message.contains("could not connect"), "{message}");
}

#[tokio::test]
async fn metadata_base_url_is_refused() {
    let err = check_base_url(
        "http://169.254.169.254/latest/meta-data",
        &UrlPolicy {
            allow_private: true,
            allow_loopback: true,
        },
    )
    .await
    .unwrap_err();
    assert!(err.contains("metadata"), "{err}");
    let fake = FakeLlm::start().await;
    assert_eq!(
        check_base_url(&fake.base_url(), &UrlPolicy::default()).await,
        Ok(())
    );
}

#[tokio::test]
async fn keys_that_cannot_be_headers_are_refused_without_echoing_them() {
    let mut c = OpenAiConfig::new("http://127.0.0.1:9/v1", "m").with_api_key("sk-a\nb");
    c.retry = RetryPolicy::none();
    let err = OpenAiProvider::new(c).unwrap_err().to_string();
    assert!(err.contains("API key contains characters"), "{err}");
    assert!(!err.contains("sk-a"), "{err}");
    let c = AnthropicConfig::new("http://127.0.0.1:9/v1", "m").with_api_key("sk-a\nb");
    let err = AnthropicProvider::new(c).unwrap_err().to_string();
    assert!(!err.contains("sk-a"), "{err}");
}

#[tokio::test]
async fn dropping_a_call_abandons_it() {
    let fake = FakeLlm::start().await;
    let provider = Provider::new(&fake, Api::OpenAi, true, Opts::default());
    // Warm up (the tokenizer loads on first use, synchronously).
    provider.generate(&request()).await.unwrap();
    fake.push_reply(Reply::slow(Duration::from_secs(5), Reply::text(SQL_REPLY)));
    let result =
        tokio::time::timeout(Duration::from_millis(300), provider.generate(&request())).await;
    assert!(result.is_err(), "the call should still have been waiting");
    assert_eq!(
        fake.remaining_replies(),
        0,
        "the slow request reached the fake"
    );
    // The next call is not held up by the abandoned one.
    let generated = provider.generate(&request()).await.unwrap();
    assert_eq!(generated.sql, "SELECT 1");
}
