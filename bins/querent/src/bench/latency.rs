//! `latency`: `--requests` sequential chat requests per variant against a `querent serve`
//! child process, fake provider answering instantly: a cache hit and a miss (a new
//! question), each as JSON on a kept-alive connection, as SSE on a kept-alive connection
//! (how browsers and most clients talk) and as SSE on a new connection per request. Time
//! from sending to the end of the body (SSE: after `done`), and for SSE the time to the
//! first event. A stall that only reused connections suffer (Nagle's algorithm meeting
//! delayed ACKs) shows as SSE keep-alive far above JSON.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::throughput::{cached_body, check_answer, hit_question, new_question, sse_done};
use super::{BenchArgs, Outcome, Summary, fmt, ms, render_table, summarize};

/// Requests sent before measuring, per variant.
const WARMUP: usize = 5;

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    super::server::on_store(args, |store| measure(args, store)).await
}

/// One request: (time to the first body bytes, time to the end), or why it failed.
async fn once(
    client: &reqwest::Client,
    server: &BenchServer,
    body: &Value,
    sse: bool,
    hit: bool,
) -> Result<(f64, f64), String> {
    let t = Instant::now();
    let mut resp = client
        .post(format!("{}/api/v1/chat", server.base_url))
        .bearer_auth(&server.token)
        .header(
            "accept",
            if sse {
                "text/event-stream"
            } else {
                "application/json"
            },
        )
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let mut text = Vec::new();
    let mut first = None;
    while let Some(c) = resp.chunk().await.map_err(|e| e.to_string())? {
        first.get_or_insert_with(|| ms(t.elapsed()));
        text.extend_from_slice(&c);
    }
    let total = ms(t.elapsed());
    let text = String::from_utf8_lossy(&text);
    if !status.is_success() {
        return Err(format!(
            "{status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    let answer = if sse {
        sse_done(&text)?
    } else {
        serde_json::from_str(&text).map_err(|e| e.to_string())?
    };
    check_answer(&answer, Some(hit))?;
    Ok((first.unwrap_or(total), total))
}

async fn measure(args: &BenchArgs, store: Option<String>) -> Result<(String, Value), String> {
    let server = BenchServer::for_load(store.as_deref()).await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql(FAKE_SQL));
    server.add_provider("fake", &fake.base_url()).await?;
    server.wait_for_rate_limit().await;
    let n = args.requests.max(1);
    // A client that never reuses a connection.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| e.to_string())?;
    let counter = AtomicU64::new(10_000_000);
    for i in 0..10 {
        let v = server
            .call(
                "POST",
                "/api/v1/chat",
                Some(cached_body(&server, &hit_question(i), "fake")),
            )
            .await?;
        if v["status"] != "executed" {
            return Err(format!("warm-up answer: {v}"));
        }
    }

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut report = serde_json::Map::new();
    for hit in [true, false] {
        for (variant, sse, keep_alive) in [
            ("JSON, keep-alive", false, true),
            ("SSE, keep-alive", true, true),
            ("SSE, new connection", true, false),
        ] {
            let client = if keep_alive { &server.client } else { &fresh };
            let (mut firsts, mut totals) = (Vec::new(), Vec::new());
            let (mut errors, mut first_error) = (0usize, None);
            for i in 0..WARMUP + n {
                let question = if hit {
                    hit_question(i % 10)
                } else {
                    new_question(counter.fetch_add(1, Ordering::Relaxed))
                };
                let body = cached_body(&server, &question, "fake");
                match once(client, &server, &body, sse, hit).await {
                    Ok(_) if i < WARMUP => {}
                    Ok((first, total)) => {
                        firsts.push(first);
                        totals.push(total);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            let (f, t): (Summary, Summary) = (summarize(&firsts), summarize(&totals));
            let what = if hit { "hit" } else { "miss" };
            rows.push(vec![
                what.to_owned(),
                variant.to_owned(),
                t.n.to_string(),
                errors.to_string(),
                if sse { fmt(f.p50, 2) } else { String::new() },
                fmt(t.p50, 2),
                fmt(t.p95, 2),
                fmt(t.p99, 2),
                fmt(t.mean, 2),
            ]);
            if let Some(e) = &first_error {
                notes.push(format!("{what}, {variant}: first error: {e}"));
            }
            report.insert(
                format!("{what}, {variant}"),
                json!({
                    "first_bytes_ms": f,
                    "total_ms": t,
                    "errors": errors,
                    "first_error": first_error,
                }),
            );
        }
    }
    let is_child = server.is_child();
    server.stop().await;
    let table = render_table(
        &[
            "answer",
            "variant",
            "n",
            "errors",
            "first event p50",
            "done p50 ms",
            "p95",
            "p99",
            "mean",
        ],
        &rows,
    );
    report.insert("requests".into(), json!(n));
    let mut text = format!(
        "{n} sequential chat requests per row (after {WARMUP} warm-up), server: {}, {}, \
         fake provider answering `{FAKE_SQL}` instantly; miss = a new question each time (cache on)\n{table}\n",
        if is_child {
            "a `querent serve` child process"
        } else {
            "in this process"
        },
        super::server::store_label(store.as_deref())
    );
    for note in notes {
        text.push_str(&note);
        text.push('\n');
    }
    Ok((text, Value::Object(report)))
}
