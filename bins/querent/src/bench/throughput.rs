//! `throughput`: for each client count of `--clients` (default 1, 8, 32, 256, 1,000), that many
//! concurrent clients each send one request after another for `--duration` seconds, against
//! a `querent serve` child process (its own runtime; the load generator shares the cores):
//!
//! - `GET /health`;
//! - chat misses, JSON: every question is new (a number no earlier question had), the cache
//!   on, the fake provider answering instantly — each answer must say `cache_hit: false`, and
//!   the fake must have received one completion request per miss;
//! - the same with `use_cache: false` (the pipeline without the cache's lookups and writes);
//! - chat hits, JSON and SSE: questions answered once before the phase, each answer must
//!   say `cache_hit: true` (SSE: a `done` event, no `error`, `cache_hit: true` in it).
//!
//! Requests/s count successful requests only; errors (transport failures, non-2xx, chats not
//! ending `executed`, a hit that was a miss or the reverse) are counted apart.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

/// Questions answered once before the hit phases (then asked again and again).
const HIT_QUESTIONS: usize = 50;

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    super::server::on_store(args, |store| measure(args, store)).await
}

/// Builds a client's next request (`i`: a number unique to the request within the phase).
pub(super) type MakeRequest = Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;
/// Decides whether a response (status, body) is a success; why not otherwise.
pub(super) type Check = fn(u16, &str) -> Result<(), String>;

/// What a load phase measured.
pub(super) struct Load {
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub latencies_ms: Vec<f64>,
    pub elapsed: Duration,
}

/// Runs `clients` loops of `make` for `duration`.
pub(super) async fn load(
    clients: usize,
    duration: Duration,
    make: MakeRequest,
    check: Check,
) -> Load {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for c in 0..clients {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let (mut errors, mut first_error) = (0usize, None::<String>);
            let mut i = c;
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = match make(i).send().await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        match resp.text().await {
                            Ok(body) => check(status, &body),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                    Err(e) => Err(e.to_string()),
                };
                match result {
                    Ok(()) => lat.push(ms(t.elapsed())),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                i += clients;
            }
            (lat, errors, first_error)
        }));
    }
    let mut out = Load {
        ok: 0,
        errors: 0,
        first_error: None,
        latencies_ms: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        match t.await {
            Ok((lat, errors, first)) => {
                out.ok += lat.len();
                out.latencies_ms.extend(lat);
                out.errors += errors;
                if out.first_error.is_none() {
                    out.first_error = first;
                }
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert(e.to_string());
            }
        }
    }
    out.elapsed = started.elapsed();
    out
}

pub(super) fn check_status(status: u16, body: &str) -> Result<(), String> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!(
            "{status}: {}",
            body.chars().take(200).collect::<String>()
        ))
    }
}

/// A chat answer (the JSON body, or the data of the `done` event) that ended `executed`
/// with `cache_hit` as expected.
pub(super) fn check_answer(answer: &Value, hit: Option<bool>) -> Result<(), String> {
    // A hit ends `cached` (its SQL ran again), a miss `executed`.
    let ok = match hit {
        Some(true) => answer["status"] == "cached",
        Some(false) => answer["status"] == "executed",
        None => answer["status"] == "executed" || answer["status"] == "cached",
    };
    if !ok {
        return Err(format!(
            "chat status {} {}",
            answer["status"], answer["error"]
        ));
    }
    match hit {
        Some(expected) if answer["cache_hit"] != expected => Err(format!(
            "expected cache_hit {expected}, got {}",
            answer["cache_hit"]
        )),
        _ => Ok(()),
    }
}

fn check_json(status: u16, body: &str, hit: Option<bool>) -> Result<(), String> {
    check_status(status, body)?;
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    check_answer(&v, hit)
}

/// The data of an SSE body's `done` event, when it has one and no `error` event.
pub(super) fn sse_done(body: &str) -> Result<Value, String> {
    if body.contains("event: error") {
        return Err(format!(
            "an `error` event: {}",
            body.chars().take(300).collect::<String>()
        ));
    }
    let data = body
        .split("event: done\ndata: ")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .ok_or_else(|| {
            format!(
                "no `done` event: {}",
                body.chars().take(300).collect::<String>()
            )
        })?;
    serde_json::from_str(data).map_err(|e| format!("`done` is not JSON: {e}"))
}

fn check_sse(status: u16, body: &str, hit: Option<bool>) -> Result<(), String> {
    check_status(status, body)?;
    check_answer(&sse_done(body)?, hit)
}

fn json_any(status: u16, body: &str) -> Result<(), String> {
    check_json(status, body, None)
}
fn json_miss(status: u16, body: &str) -> Result<(), String> {
    check_json(status, body, Some(false))
}
fn json_hit(status: u16, body: &str) -> Result<(), String> {
    check_json(status, body, Some(true))
}
fn sse_hit(status: u16, body: &str) -> Result<(), String> {
    check_sse(status, body, Some(true))
}

/// A question no earlier one of this process asked (its number is part of the cache's
/// guards, so it is never a similar hit of another).
pub(super) fn new_question(n: u64) -> String {
    format!("how many customers placed more than {n} orders?")
}

/// The question answered from the cache in the hit phases (`i` modulo [`HIT_QUESTIONS`]).
pub(super) fn hit_question(i: usize) -> String {
    format!(
        "how many orders were shipped to customer {}?",
        1_000_000 + i % HIT_QUESTIONS
    )
}

/// A chat request body with the cache on.
pub(super) fn cached_body(server: &BenchServer, question: &str, provider: &str) -> Value {
    json!({
        "connection_id": server.demo,
        "message": question,
        "provider": provider,
    })
}

/// Chat requests: `body(i)` posted with `accept`.
fn chat_requests(
    server: &BenchServer,
    accept: &'static str,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> MakeRequest {
    let client = server.client.clone();
    let url = format!("{}/api/v1/chat", server.base_url);
    let token = server.token.clone();
    Arc::new(move |i| {
        client
            .post(&url)
            .bearer_auth(&token)
            .header("accept", accept)
            .json(&body(i))
    })
}

#[allow(clippy::too_many_lines)] // the phases of every client count, then their table
async fn measure(args: &BenchArgs, store: Option<String>) -> Result<(String, Value), String> {
    let server = BenchServer::for_load(store.as_deref()).await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql(FAKE_SQL));
    server.add_provider("fake", &fake.base_url()).await?;
    let duration = args.duration;
    let counter = Arc::new(AtomicU64::new(1));
    // On a PostgreSQL store, the CPU of the machine's `postgres` processes is read too.
    let pg_store = store.is_some();

    let health: MakeRequest = {
        let client = server.client.clone();
        let url = format!("{}/health", server.base_url);
        Arc::new(move |_| client.get(&url))
    };
    let (demo, misses) = (server.demo.clone(), counter.clone());
    let miss_json = chat_requests(&server, "application/json", move |_| {
        let n = misses.fetch_add(1, Ordering::Relaxed);
        json!({"connection_id": demo, "message": new_question(n), "provider": "fake"})
    });
    let (demo, misses) = (server.demo.clone(), counter.clone());
    let nocache_json = chat_requests(&server, "application/json", move |_| {
        let n = misses.fetch_add(1, Ordering::Relaxed);
        json!({"connection_id": demo, "message": new_question(n), "provider": "fake",
               "options": {"use_cache": false}})
    });
    let demo = server.demo.clone();
    let hit_body = move |i: usize| json!({"connection_id": demo, "message": hit_question(i), "provider": "fake"});
    let hit_json = chat_requests(&server, "application/json", hit_body.clone());
    let hit_sse = chat_requests(&server, "text/event-stream", hit_body);

    server.wait_for_rate_limit().await;
    // Warm the connection pool and the server; answer the hit questions once.
    let _ = load(8, Duration::from_millis(500), health.clone(), check_status).await;
    for i in 0..HIT_QUESTIONS {
        let v = server
            .call(
                "POST",
                "/api/v1/chat",
                Some(cached_body(&server, &hit_question(i), "fake")),
            )
            .await?;
        check_answer(&v, None)?;
    }
    let idle_rss = server.rss_kib();

    let phases: [(&str, &MakeRequest, Check); 5] = [
        ("GET /health", &health, check_status),
        ("chat miss, JSON", &miss_json, json_miss),
        ("chat, use_cache false, JSON", &nocache_json, json_any),
        ("chat hit, JSON", &hit_json, json_hit),
        ("chat hit, SSE", &hit_sse, sse_hit),
    ];
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut report = serde_json::Map::new();
    let mut miss_count = 0usize;
    let completions_before = fake.completion_requests().len();
    for &clients in &args.clients {
        let clients = clients.max(1);
        let mut by_phase = serde_json::Map::new();
        for (name, make, check) in &phases {
            let cpu_before = server.cpu_secs();
            let pg_before = pg_store.then(super::server::postgres_cpu_secs).flatten();
            let l = load(clients, duration, (*make).clone(), *check).await;
            let per_request = |before: Option<f64>, after: Option<f64>| match (before, after) {
                (Some(a), Some(b)) if l.ok > 0 => Some((b - a) * 1000.0 / l.ok as f64),
                _ => None,
            };
            // Server CPU per successful request: what the server spends, whatever else
            // runs on the machine.
            let cpu_ms = per_request(cpu_before, server.cpu_secs());
            // On a PostgreSQL store, what the (local) server's processes spent besides.
            let pg_cpu_ms = per_request(
                pg_before,
                pg_store.then(super::server::postgres_cpu_secs).flatten(),
            );
            if *name != "GET /health" && !name.starts_with("chat hit") {
                miss_count += l.ok + l.errors;
            }
            let s = summarize(&l.latencies_ms);
            let rps = l.ok as f64 / l.elapsed.as_secs_f64();
            rows.push(vec![
                clients.to_string(),
                (*name).to_owned(),
                l.ok.to_string(),
                l.errors.to_string(),
                fmt(rps, 1),
                fmt(s.p50, 2),
                fmt(s.p95, 2),
                fmt(s.p99, 2),
                fmt(s.max, 2),
                cpu_ms.map_or(String::new(), |c| fmt(c, 2)),
            ]);
            if pg_store && let Some(row) = rows.last_mut() {
                row.push(pg_cpu_ms.map_or(String::new(), |c| fmt(c, 2)));
            }
            by_phase.insert(
                (*name).to_owned(),
                json!({
                    "ok": l.ok,
                    "errors": l.errors,
                    "first_error": l.first_error,
                    "requests_per_sec": rps,
                    "elapsed_secs": l.elapsed.as_secs_f64(),
                    "latency_ms": s,
                    "server_cpu_ms_per_request": cpu_ms,
                    "postgres_cpu_ms_per_request": pg_cpu_ms,
                }),
            );
            if let Some(e) = &l.first_error {
                notes.push(format!(
                    "{clients} clients, {name}: first error: {}",
                    e.chars().take(300).collect::<String>()
                ));
            }
        }
        report.insert(clients.to_string(), Value::Object(by_phase));
    }
    let completions = fake.completion_requests().len() - completions_before;
    let rss_after = server.rss_kib();
    let peak = server.peak_rss_kib();
    let is_child = server.is_child();
    server.stop().await;
    let mut header = vec![
        "clients",
        "endpoint",
        "ok",
        "errors",
        "req/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "server CPU ms/req",
    ];
    if pg_store {
        header.push("PostgreSQL CPU ms/req");
    }
    let table = render_table(&header, &rows);
    let mib = |k: Option<u64>| k.map_or("?".to_owned(), |k| fmt(k as f64 / 1024.0, 1));
    report.insert("clients".into(), json!(args.clients));
    report.insert("duration_secs".into(), json!(duration.as_secs_f64()));
    report.insert("miss_requests".into(), json!(miss_count));
    report.insert("provider_completions".into(), json!(completions));
    report.insert("server_rss_idle_kib".into(), json!(idle_rss));
    report.insert("server_rss_after_kib".into(), json!(rss_after));
    report.insert("server_peak_rss_kib".into(), json!(peak));
    let mut notes_text = String::new();
    if pg_store {
        notes_text.push_str(
            "PostgreSQL CPU: every process of this machine named `postgres` (empty when the server is not local; other users of it count too)\n",
        );
    }
    for n in &notes {
        notes_text.push_str(n);
        notes_text.push('\n');
    }
    Ok((
        format!(
            "clients {:?}, {:.0} s per phase; server: {}, {}; \
             fake provider answering instantly (load generator and fake in this process, sharing the cores)\n{table}\n\
             provider completions {completions} for {miss_count} miss requests (ok + failed); \
             server RSS idle {} MiB, after {} MiB, peak {} MiB\n{notes_text}",
            args.clients,
            duration.as_secs_f64(),
            if is_child {
                "`querent serve` child process"
            } else {
                "in this process"
            },
            super::server::store_label(store.as_deref()),
            mib(idle_rss),
            mib(rss_after),
            mib(peak),
        ),
        Value::Object(report),
    ))
}
