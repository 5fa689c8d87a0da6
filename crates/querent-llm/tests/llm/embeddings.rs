//! [`OpenAiEmbedder`] against querent-fake-llm's `/embeddings`: ordering by `index`,
//! normalisation, batching, retries, the key header and how failures are reported.

use std::time::Duration;

use querent_domain::embed::{EmbedError, Embedder};
use querent_fake_llm::{FAKE_EMBEDDING_DIMS, FakeLlm, Reply, fake_embedding};
use querent_llm::{OpenAiEmbedder, OpenAiEmbedderConfig, RetryPolicy, UrlPolicy};

const KEY: &str = "sk-embed-0123456789";

fn config(fake: &FakeLlm) -> OpenAiEmbedderConfig {
    let mut c = OpenAiEmbedderConfig::new(fake.base_url(), "embed-test").with_api_key(KEY);
    c.retry = RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    };
    c.request_timeout = Duration::from_secs(10);
    c
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The fake's vector for a text, scaled to unit length as the embedder must return it.
fn expected(text: &str, dims: usize) -> Vec<f32> {
    let v = fake_embedding(text, dims);
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.into_iter().map(|x| x / norm).collect()
}

fn assert_close(got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} != {want:?}");
    }
}

#[tokio::test]
async fn embeds_in_input_order_whatever_the_listing_order() {
    let fake = FakeLlm::start().await;
    fake.set_embeddings_reversed(true);
    let embedder = OpenAiEmbedder::new(config(&fake)).unwrap();
    assert_eq!(embedder.id(), "openai:embed-test");
    assert_eq!(embedder.dims(), 0, "not known before the first reply");

    let input = texts(&["How many singers?", "total revenue", "a third text"]);
    let vectors = embedder.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 3);
    for (text, v) in input.iter().zip(&vectors) {
        assert_close(v, &expected(text, FAKE_EMBEDDING_DIMS));
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "unit length, got {norm}");
    }
    assert_eq!(
        embedder.dims(),
        FAKE_EMBEDDING_DIMS,
        "learned from the reply"
    );

    let sent = fake.embedding_requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/embeddings");
    let body = sent[0].body.clone().unwrap();
    assert_eq!(body["model"], "embed-test");
    assert_eq!(sent[0].embedding_inputs(), input);
    assert!(body.get("dimensions").is_none());

    assert!(embedder.embed(&[]).await.unwrap().is_empty());
    assert_eq!(
        fake.embedding_requests().len(),
        1,
        "nothing to send, nothing sent"
    );
}

#[tokio::test]
async fn sends_the_key_in_the_authorization_header() {
    let fake = FakeLlm::start().await;
    fake.require_api_key(KEY);
    let embedder = OpenAiEmbedder::new(config(&fake)).unwrap();
    embedder.embed(&texts(&["hello"])).await.unwrap();
    let sent = fake.last_request().unwrap();
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert!(
        !sent.raw_body.contains(KEY),
        "the key travels only in the header"
    );
    assert!(!format!("{embedder:?}").contains(KEY));

    // No key configured: no header at all.
    let fake = FakeLlm::start().await;
    let mut c = config(&fake);
    c.api_key = None;
    OpenAiEmbedder::new(c)
        .unwrap()
        .embed(&texts(&["hello"]))
        .await
        .unwrap();
    assert_eq!(fake.last_request().unwrap().header("authorization"), None);
}

#[tokio::test]
async fn batches_large_inputs() {
    let fake = FakeLlm::start().await;
    let mut c = config(&fake);
    c.batch_size = 4;
    let embedder = OpenAiEmbedder::new(c).unwrap();
    let input: Vec<String> = (0..10).map(|i| format!("question number {i}")).collect();
    let vectors = embedder.embed(&input).await.unwrap();
    assert_eq!(vectors.len(), 10);
    for (text, v) in input.iter().zip(&vectors) {
        assert_close(v, &expected(text, FAKE_EMBEDDING_DIMS));
    }
    let sizes: Vec<usize> = fake
        .embedding_requests()
        .iter()
        .map(|r| r.embedding_inputs().len())
        .collect();
    assert_eq!(sizes, [4, 4, 2]);
}

#[tokio::test]
async fn rate_limit_is_retried_then_succeeds() {
    let fake = FakeLlm::start().await;
    fake.push_embedding_reply(Reply::rate_limited("0"));
    let embedder = OpenAiEmbedder::new(config(&fake)).unwrap();
    let vectors = embedder.embed(&texts(&["retry me"])).await.unwrap();
    assert_close(&vectors[0], &expected("retry me", FAKE_EMBEDDING_DIMS));
    assert_eq!(fake.embedding_requests().len(), 2, "one 429, one success");
}

#[tokio::test]
async fn a_wrong_key_is_not_retried_and_says_so() {
    let fake = FakeLlm::start().await;
    fake.require_api_key("sk-the-right-one");
    let embedder = OpenAiEmbedder::new(config(&fake)).unwrap();
    let err = embedder.embed(&texts(&["hello"])).await.unwrap_err();
    let EmbedError::Provider(message) = &err else {
        panic!("expected EmbedError::Provider, got {err:?}");
    };
    assert!(message.contains("openai:embed-test"), "{message}");
    assert!(message.contains("401"), "{message}");
    assert!(
        message.contains("invalid x-api-key or bearer token"),
        "{message}"
    );
    assert!(message.contains("API key"), "{message}");
    assert!(!message.contains(KEY), "never echo the key: {message}");
    assert_eq!(fake.embedding_requests().len(), 1, "a 401 is final");
}

#[tokio::test]
async fn exhausted_retries_and_broken_replies_are_provider_errors() {
    let fake = FakeLlm::start().await;
    fake.push_embedding_replies([Reply::status(503), Reply::status(503)]);
    let mut c = config(&fake);
    c.retry.max_retries = 1;
    let embedder = OpenAiEmbedder::new(c).unwrap();
    let err = embedder.embed(&texts(&["x"])).await.unwrap_err();
    assert!(
        matches!(&err, EmbedError::Provider(m) if m.contains("gave up after 2 attempts") && m.contains("503")),
        "{err:?}"
    );

    fake.push_embedding_reply(Reply::Malformed);
    let err = embedder.embed(&texts(&["x"])).await.unwrap_err();
    assert!(
        matches!(&err, EmbedError::Provider(m) if m.contains("not valid JSON")),
        "{err:?}"
    );
    assert_eq!(
        fake.embedding_requests().len(),
        3,
        "malformed replies are not retried"
    );
}

#[tokio::test]
async fn unreachable_and_slow_providers_are_unavailable() {
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = OpenAiEmbedderConfig::new(format!("http://127.0.0.1:{port}/v1"), "m");
    c.retry = RetryPolicy::none();
    let err = OpenAiEmbedder::new(c)
        .unwrap()
        .embed(&texts(&["x"]))
        .await
        .unwrap_err();
    assert!(matches!(err, EmbedError::Unavailable(_)), "{err:?}");

    let fake = FakeLlm::start().await;
    fake.push_embedding_reply(Reply::slow(Duration::from_secs(5), Reply::text("")));
    let mut c = config(&fake);
    c.retry = RetryPolicy::none();
    c.request_timeout = Duration::from_millis(200);
    let err = OpenAiEmbedder::new(c)
        .unwrap()
        .embed(&texts(&["x"]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EmbedError::Unavailable(m) if m.contains("timed out")),
        "{err:?}"
    );
}

#[tokio::test]
async fn dimensions_are_held_to_the_configuration() {
    let fake = FakeLlm::start().await;
    // Configured 8, the server sends 8: fine; then the server changes to 5: an error.
    let embedder = OpenAiEmbedder::new(config(&fake).with_dims(8)).unwrap();
    assert_eq!(embedder.dims(), 8);
    assert_eq!(embedder.probe().await.unwrap(), 8);
    fake.set_embedding_dims(5);
    let err = embedder.embed(&texts(&["x"])).await.unwrap_err();
    assert!(
        matches!(&err, EmbedError::Provider(m) if m.contains("5 dimensions, expected 8")),
        "{err:?}"
    );

    // Asking the model to shorten its vectors sends `dimensions`.
    let mut c = config(&fake).with_dims(3);
    c.request_dimensions = true;
    let embedder = OpenAiEmbedder::new(c).unwrap();
    assert_eq!(embedder.id(), "openai:embed-test:3");
    let v = embedder.embed(&texts(&["short"])).await.unwrap();
    assert_close(&v[0], &expected("short", 3));
    assert_eq!(fake.last_request().unwrap().body.unwrap()["dimensions"], 3);
}

#[tokio::test]
async fn connect_applies_the_url_policy() {
    let err = OpenAiEmbedder::connect(
        OpenAiEmbedderConfig::new("http://169.254.169.254/v1", "m"),
        &UrlPolicy::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, EmbedError::Provider(_)), "{err:?}");

    let fake = FakeLlm::start().await;
    let embedder = OpenAiEmbedder::connect(config(&fake), &UrlPolicy::default())
        .await
        .unwrap();
    assert_eq!(embedder.embed(&texts(&["ok"])).await.unwrap().len(), 1);
    assert!(
        fake.requests().iter().all(|r| r.is_embedding()),
        "the policy check sends nothing to the provider"
    );
}
