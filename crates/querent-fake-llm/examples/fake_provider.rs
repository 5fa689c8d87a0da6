//! A scripted OpenAI-compatible server on loopback, as tests use it.
//!
//! `cargo run -p querent-fake-llm --example fake_provider`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_fake_llm::{FakeLlm, Reply};

#[tokio::main]
async fn main() {
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql("SELECT count(*) FROM customers"));
    let body = serde_json::json!({
        "model": "any",
        "messages": [{"role": "user", "content": "how many customers are there?"}],
    });
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the fake answers")
        .json()
        .await
        .expect("JSON");
    println!("{}", reply["choices"][0]["message"]["content"]);
    println!("requests recorded: {}", fake.completion_requests().len());
}
