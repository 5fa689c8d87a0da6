//! `sse`: hold `--streams` chat event streams (`POST /api/v1/chat`, `Accept:
//! text/event-stream`) open at once and report the process's resident memory (VmRSS; the
//! server runs in this process) before and while they are open. Each stream stays open
//! because its provider — a fake server — waits [`HOLD`] before answering; each must then
//! end with a `done` event.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::{BenchArgs, Outcome, fmt, ms, peak_rss_kib, render_table, rss_kib, summarize};

/// How long the provider keeps each stream waiting.
const HOLD: Duration = Duration::from_secs(5);

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    if rss_kib().is_none() {
        return Outcome::Skipped("/proc/self/status is not readable (not Linux?)".into());
    }
    match measure(args).await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

/// How one stream went.
struct StreamResult {
    /// It ended with a `done` event and no `error` event.
    completed: bool,
    /// From sending the request to the end of the body.
    total: Duration,
    /// Why it did not complete.
    error: Option<String>,
}

async fn stream(
    client: reqwest::Client,
    url: String,
    token: String,
    body: Value,
    open: Arc<AtomicUsize>,
    max_open: Arc<AtomicUsize>,
) -> StreamResult {
    let t = Instant::now();
    let fail = |e: String| StreamResult {
        completed: false,
        total: t.elapsed(),
        error: Some(e),
    };
    let mut resp = match client
        .post(&url)
        .bearer_auth(&token)
        .header("accept", "text/event-stream")
        .json(&body)
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return fail(e.to_string()),
    };
    if !resp.status().is_success() {
        let status = resp.status();
        return fail(format!(
            "{status}: {}",
            resp.text().await.unwrap_or_default()
        ));
    }
    let now = open.fetch_add(1, Ordering::SeqCst) + 1;
    max_open.fetch_max(now, Ordering::SeqCst);
    let mut text = Vec::new();
    let result = loop {
        match resp.chunk().await {
            Ok(Some(c)) => text.extend_from_slice(&c),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        }
    };
    open.fetch_sub(1, Ordering::SeqCst);
    let text = String::from_utf8_lossy(&text);
    let done = text.contains("event: done") || text.contains("event:done");
    let error = text.contains("event: error") || text.contains("event:error");
    match result {
        Ok(()) if done && !error => StreamResult {
            completed: true,
            total: t.elapsed(),
            error: None,
        },
        Ok(()) => fail(format!(
            "stream ended without `done` (or with `error`): {}",
            text.chars().take(300).collect::<String>()
        )),
        Err(e) => fail(e),
    }
}

async fn measure(args: &BenchArgs) -> Result<(String, Value), String> {
    let n = args.streams.max(1);
    let server = BenchServer::start().await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::slow(HOLD, Reply::sql(FAKE_SQL)));
    server.add_provider("slow", &fake.base_url()).await?;
    let url = format!("{}/api/v1/chat", server.base_url);
    let body = server.chat_body("how many customers are there?", Some("slow"));
    let open = Arc::new(AtomicUsize::new(0));
    let max_open = Arc::new(AtomicUsize::new(0));

    // One stream first, so that what is measured is the cost of more streams, not of the
    // first one (pools, lazily built state).
    let warm = stream(
        server.client.clone(),
        url.clone(),
        server.token.clone(),
        body.clone(),
        open.clone(),
        Arc::new(AtomicUsize::new(0)),
    )
    .await;
    if let Some(e) = warm.error {
        return Err(format!("the warm-up stream failed: {e}"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib().unwrap_or(0);

    let started = Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            tokio::spawn(stream(
                server.client.clone(),
                url.clone(),
                server.token.clone(),
                body.clone(),
                open.clone(),
                max_open.clone(),
            ))
        })
        .collect();
    // Wait until every stream is open (or the first ones may already be finishing).
    let open_deadline = started + HOLD;
    while open.load(Ordering::SeqCst) < n && Instant::now() < open_deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_open_after = started.elapsed();
    let open_now = open.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(250)).await;
    let during = rss_kib().unwrap_or(0);
    let open_at_sample = open.load(Ordering::SeqCst);

    let mut totals = Vec::with_capacity(n);
    let (mut completed, mut first_error) = (0usize, None);
    for t in tasks {
        match t.await {
            Ok(r) => {
                if r.completed {
                    completed += 1;
                    totals.push(ms(r.total));
                } else if first_error.is_none() {
                    first_error = r.error;
                }
            }
            Err(e) => {
                first_error.get_or_insert(e.to_string());
            }
        }
    }
    let wall = started.elapsed();
    let after = rss_kib().unwrap_or(0);
    let peak = peak_rss_kib().unwrap_or(0);
    server.stop().await;

    let s = summarize(&totals);
    let delta = during.saturating_sub(before);
    let per_stream = delta as f64 / open_at_sample.max(1) as f64;
    let mib = |k: u64| fmt(k as f64 / 1024.0, 1);
    let rows = vec![
        vec!["streams requested".to_owned(), n.to_string()],
        vec![
            "open at once (max seen)".to_owned(),
            max_open.load(Ordering::SeqCst).to_string(),
        ],
        vec![
            "time until all open".to_owned(),
            if open_now >= n {
                format!("{:.0} ms", ms(all_open_after))
            } else {
                format!("not all ({open_now}) within {} s", HOLD.as_secs())
            },
        ],
        vec!["VmRSS before (MiB)".to_owned(), mib(before)],
        vec![
            format!("VmRSS with {open_at_sample} open (MiB)"),
            mib(during),
        ],
        vec!["VmRSS delta (MiB)".to_owned(), mib(delta)],
        vec!["per open stream (KiB)".to_owned(), fmt(per_stream, 1)],
        vec!["VmRSS after all ended (MiB)".to_owned(), mib(after)],
        vec!["VmHWM, process peak (MiB)".to_owned(), mib(peak)],
        vec![
            "completed with `done`".to_owned(),
            format!("{completed}/{n}"),
        ],
        vec![
            "stream duration p50/p99 (ms)".to_owned(),
            format!("{} / {}", fmt(s.p50, 0), fmt(s.p99, 0)),
        ],
        vec!["wall time (s)".to_owned(), fmt(wall.as_secs_f64(), 2)],
    ];
    let mut text = format!(
        "{n} concurrent SSE chat streams, provider delays {} s before answering; RSS of the whole process (server + load generator + fake provider)\n{}\n",
        HOLD.as_secs(),
        render_table(&["measure", "value"], &rows)
    );
    if let Some(e) = &first_error {
        text.push_str(&format!("first error: {e}\n"));
    }
    Ok((
        text,
        json!({
            "streams": n,
            "hold_secs": HOLD.as_secs(),
            "max_open": max_open.load(Ordering::SeqCst),
            "open_at_sample": open_at_sample,
            "all_open_ms": if open_now >= n { Some(ms(all_open_after)) } else { None },
            "rss_before_kib": before,
            "rss_during_kib": during,
            "rss_delta_kib": delta,
            "rss_per_stream_kib": per_stream,
            "rss_after_kib": after,
            "peak_rss_kib": peak,
            "completed": completed,
            "first_error": first_error,
            "stream_ms": s,
            "wall_secs": wall.as_secs_f64(),
        }),
    ))
}
