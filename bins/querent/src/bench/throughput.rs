//! `throughput`: `--clients` concurrent clients, each sending one request after another for
//! `--duration` seconds, against `GET /health` and against the JSON chat variant (fake
//! provider answering instantly). Requests/s count successful requests only; errors
//! (transport failures, non-2xx, chats not ending `executed`) are counted apart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::{FAKE_SQL, QUESTIONS};
use super::server::BenchServer;
use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    match measure(args).await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

/// Builds request `i` of a client.
type MakeRequest = Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;
/// Decides whether a response (status, body) is a success; why not otherwise.
type Check = fn(u16, &str) -> Result<(), String>;

/// What a load phase measured.
struct Load {
    ok: usize,
    errors: usize,
    first_error: Option<String>,
    latencies_ms: Vec<f64>,
    elapsed: Duration,
}

/// Runs `clients` loops of `make` for `duration`.
async fn load(clients: usize, duration: Duration, make: MakeRequest, check: Check) -> Load {
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

fn check_status(status: u16, body: &str) -> Result<(), String> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!(
            "{status}: {}",
            body.chars().take(200).collect::<String>()
        ))
    }
}

fn check_chat(status: u16, body: &str) -> Result<(), String> {
    check_status(status, body)?;
    let v: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if v["status"] == "executed" {
        Ok(())
    } else {
        Err(format!("chat status {} {}", v["status"], v["error"]))
    }
}

async fn measure(args: &BenchArgs) -> Result<(String, Value), String> {
    let server = BenchServer::start().await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql(FAKE_SQL));
    server.add_provider("fake", &fake.base_url()).await?;
    let clients = args.clients.max(1);
    let duration = args.duration;

    let health: MakeRequest = {
        let client = server.client.clone();
        let url = format!("{}/health", server.base_url);
        Arc::new(move |_| client.get(&url))
    };
    let chat: MakeRequest = {
        let client = server.client.clone();
        let url = format!("{}/api/v1/chat", server.base_url);
        let token = server.token.clone();
        let bodies: Vec<Value> = QUESTIONS
            .iter()
            .map(|q| server.chat_body(q, Some("fake")))
            .collect();
        Arc::new(move |i| {
            client
                .post(&url)
                .bearer_auth(&token)
                .header("accept", "application/json")
                .json(&bodies[i % bodies.len()])
        })
    };

    // Warm the connection pool and the server.
    let _ = load(
        clients,
        Duration::from_millis(500),
        health.clone(),
        check_status,
    )
    .await;

    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    for (name, make, check) in [
        ("GET /health", health, check_status as Check),
        (
            "POST /api/v1/chat (JSON, fake provider)",
            chat,
            check_chat as Check,
        ),
    ] {
        let l = load(clients, duration, make, check).await;
        let s = summarize(&l.latencies_ms);
        let rps = l.ok as f64 / l.elapsed.as_secs_f64();
        rows.push(vec![
            name.to_owned(),
            l.ok.to_string(),
            l.errors.to_string(),
            fmt(rps, 1),
            fmt(s.p50, 2),
            fmt(s.p95, 2),
            fmt(s.p99, 2),
            fmt(s.max, 2),
        ]);
        report.insert(
            name.to_owned(),
            json!({
                "ok": l.ok,
                "errors": l.errors,
                "first_error": l.first_error,
                "requests_per_sec": rps,
                "elapsed_secs": l.elapsed.as_secs_f64(),
                "latency_ms": s,
            }),
        );
        if let Some(e) = &l.first_error {
            rows.push(vec![format!("  first error: {e}")]);
        }
    }
    server.stop().await;
    let table = render_table(
        &[
            "endpoint", "ok", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
        ],
        &rows,
    );
    report.insert("clients".into(), json!(clients));
    report.insert("duration_secs".into(), json!(duration.as_secs_f64()));
    Ok((
        format!(
            "{clients} concurrent clients for {:.0} s each (load generator in the same process, sharing the cores)\n{table}\n",
            duration.as_secs_f64()
        ),
        Value::Object(report),
    ))
}
