//! `sse`: for each count of `--streams` (default 500, then 5,000), hold that many chat event
//! streams (`POST /api/v1/chat`, `Accept: text/event-stream`) open at once against a
//! `querent serve` child process, and report the server's resident memory (VmRSS of the
//! child alone) when idle, before, at its peak while they are open (sampled every 100 ms),
//! right after they ended and [`SETTLE`] later. Each stream stays open because its
//! provider — a fake server — waits [`HOLD`] before answering; every question is new, so
//! each must reach the provider (counted) and end with a `done` event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::throughput::{cached_body, new_question, sse_done};
use super::{BenchArgs, Outcome, fmt, ms, render_table, rss_kib, summarize};

/// How long the provider keeps each stream waiting.
const HOLD: Duration = Duration::from_secs(5);
/// How long after the last stream ended the memory is read again.
const SETTLE: Duration = Duration::from_secs(30);

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    if rss_kib().is_none() {
        return Outcome::Skipped("/proc/self/status is not readable (not Linux?)".into());
    }
    super::server::on_store(args, |store| measure(args, store)).await
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
    match result.and_then(|()| sse_done(&text)) {
        Ok(done) if done["status"] == "executed" => StreamResult {
            completed: true,
            total: t.elapsed(),
            error: None,
        },
        Ok(done) => fail(format!("`done` with status {}", done["status"])),
        Err(e) => fail(e),
    }
}

/// Samples the server's VmRSS every 100 ms until stopped; the largest value seen.
fn sample_peak(server: &BenchServer, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    let path = server.status_path();
    tokio::spawn(async move {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Some(k) = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| super::parse_status_kib(&s, "VmRSS:"))
            {
                peak = peak.max(k);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    })
}

#[allow(clippy::too_many_lines)] // one run per stream count, then its table
async fn measure(args: &BenchArgs, store: Option<String>) -> Result<(String, Value), String> {
    let server = BenchServer::for_load(store.as_deref()).await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::slow(HOLD, Reply::sql(FAKE_SQL)));
    server.add_provider("slow", &fake.base_url()).await?;
    server.wait_for_rate_limit().await;
    let url = format!("{}/api/v1/chat", server.base_url);
    let counter = AtomicU64::new(1);
    let next_body = || {
        cached_body(
            &server,
            &new_question(counter.fetch_add(1, Ordering::Relaxed)),
            "slow",
        )
    };

    // One stream first, so that what is measured is the cost of more streams, not of the
    // first one (pools, lazily built state).
    let warm = stream(
        server.client.clone(),
        url.clone(),
        server.token.clone(),
        next_body(),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    )
    .await;
    if let Some(e) = warm.error {
        return Err(format!("the warm-up stream failed: {e}"));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle = server.rss_kib().unwrap_or(0);
    let mib = |k: u64| fmt(k as f64 / 1024.0, 1);

    let mut rows = Vec::new();
    let mut runs = serde_json::Map::new();
    let mut errors = Vec::new();
    for &n in &args.streams {
        let n = n.max(1);
        let open = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let before = server.rss_kib().unwrap_or(0);
        let completions_before = fake.completion_requests().len();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = sample_peak(&server, stop.clone());
        let started = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                tokio::spawn(stream(
                    server.client.clone(),
                    url.clone(),
                    server.token.clone(),
                    next_body(),
                    open.clone(),
                    max_open.clone(),
                ))
            })
            .collect();
        let mut totals = Vec::with_capacity(n);
        let (mut completed, mut first_error) = (0usize, None);
        for t in tasks {
            match t.await {
                Ok(r) if r.completed => {
                    completed += 1;
                    totals.push(ms(r.total));
                }
                Ok(r) => {
                    first_error = first_error.or(r.error);
                }
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                }
            }
        }
        let wall = started.elapsed();
        let ended = server.rss_kib().unwrap_or(0);
        stop.store(true, Ordering::Relaxed);
        let peak = sampler.await.unwrap_or(0).max(ended);
        let completions = fake.completion_requests().len() - completions_before;
        tokio::time::sleep(SETTLE).await;
        let settled = server.rss_kib().unwrap_or(0);

        let s = summarize(&totals);
        rows.push(vec![
            n.to_string(),
            max_open.load(Ordering::SeqCst).to_string(),
            format!("{completed}/{n}"),
            completions.to_string(),
            fmt(s.p50, 0),
            fmt(s.p99, 0),
            fmt(s.max, 0),
            mib(before),
            mib(peak),
            mib(ended),
            mib(settled),
        ]);
        if let Some(e) = &first_error {
            errors.push(format!("{n} streams, first error: {e}"));
        }
        runs.insert(
            n.to_string(),
            json!({
                "streams": n,
                "max_open": max_open.load(Ordering::SeqCst),
                "completed": completed,
                "provider_completions": completions,
                "first_error": first_error,
                "stream_ms": s,
                "wall_secs": wall.as_secs_f64(),
                "rss_before_kib": before,
                "rss_peak_kib": peak,
                "rss_ended_kib": ended,
                "rss_settled_kib": settled,
                "settle_secs": SETTLE.as_secs(),
            }),
        );
    }
    let is_child = server.is_child();
    server.stop().await;

    let table = render_table(
        &[
            "streams",
            "open at once",
            "completed (`done`)",
            "provider calls",
            "p50 ms",
            "p99 ms",
            "max ms",
            "RSS before MiB",
            "RSS peak MiB",
            "RSS at end MiB",
            &format!("RSS +{} s MiB", SETTLE.as_secs()),
        ],
        &rows,
    );
    let whose = if is_child {
        "the server's (a `querent serve` child process)"
    } else {
        "this whole process (server in-process)"
    };
    let mut text = format!(
        "SSE chat streams held open at once, each a new question (cache on, so each reaches the provider), \
         provider delays {} s before answering, {}; RSS is {whose}, idle {} MiB after setup\n{table}\n",
        HOLD.as_secs(),
        super::server::store_label(store.as_deref()),
        mib(idle)
    );
    for e in &errors {
        text.push_str(&format!("{e}\n"));
    }
    Ok((
        text,
        json!({
            "hold_secs": HOLD.as_secs(),
            "server_process": is_child,
            "rss_idle_kib": idle,
            "runs": runs,
        }),
    ))
}
