//! `questions`: 100 asynchronous questions posted at once (`POST /api/v1/questions` from
//! 100 concurrent clients), then collected (`GET /api/v1/questions/{id}` until each is
//! `COMPLETED`): how long a `POST` takes to answer `202`, how long each question waits and
//! is worked on until completed, and how long the worker pool takes to drain them all.
//!
//! Two phases on the demo database, each with [`QUESTIONS`] distinct questions: the offline
//! translator (no provider latency: the pipeline and the store), and a fake LLM server that
//! answers after [`SLOW_REPLY`] (latency-bound: the pool's size decides, `n × latency /
//! workers`). The server runs in this process with the workers `querent serve` starts.

use std::time::{Duration, Instant};

use querent_app::questions::DEFAULT_WORKERS;
use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::{BenchArgs, Outcome, Summary, fmt, ms, render_table, summarize};

/// Questions per phase, posted at once.
const QUESTIONS: usize = 100;
/// The slow provider's answer delay.
const SLOW_REPLY: Duration = Duration::from_millis(200);
/// How often a client looks at its question.
const POLL: Duration = Duration::from_millis(25);
/// A phase that takes longer has failed.
const DEADLINE: Duration = Duration::from_secs(300);

pub(super) async fn run(_args: &BenchArgs) -> Outcome {
    match measure().await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

/// What one phase measured.
struct Phase {
    name: &'static str,
    accept: Summary,
    complete: Summary,
    wall: Duration,
}

/// Posts one question and waits until it is completed: (POST latency, POST to COMPLETED).
async fn one(server: &BenchServer, body: Value) -> Result<(Duration, Duration), String> {
    let t = Instant::now();
    let accepted = server.call("POST", "/api/v1/questions", Some(body)).await?;
    let accept = t.elapsed();
    let id = accepted["question_id"]
        .as_str()
        .ok_or_else(|| format!("no question_id in {accepted}"))?
        .to_owned();
    loop {
        let q = server
            .call("GET", &format!("/api/v1/questions/{id}"), None)
            .await?;
        match q["state"].as_str() {
            Some("COMPLETED") => return Ok((accept, t.elapsed())),
            Some("FAILED") => return Err(format!("question failed: {q}")),
            _ if t.elapsed() > DEADLINE => return Err(format!("question {id} never completed")),
            _ => tokio::time::sleep(POLL).await,
        }
    }
}

async fn phase(
    server: &std::sync::Arc<BenchServer>,
    name: &'static str,
    provider: Option<&str>,
) -> Result<Phase, String> {
    // Distinct questions (the demo has 600 customers; each asks about another id), so the
    // semantic cache does not answer them.
    let bodies: Vec<Value> = (0..QUESTIONS)
        .map(|i| {
            json!({
                "connection_id": server.demo,
                "question": format!("show the customer with id {}", i + 1),
                "provider": provider,
            })
        })
        .collect();
    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let server = server.clone();
            tokio::spawn(async move { one(&server, body).await })
        })
        .collect();
    let (mut accept, mut complete) = (Vec::new(), Vec::new());
    for t in tasks {
        let (a, c) = t.await.map_err(|e| e.to_string())??;
        accept.push(ms(a));
        complete.push(ms(c));
    }
    Ok(Phase {
        name,
        accept: summarize(&accept),
        complete: summarize(&complete),
        wall: started.elapsed(),
    })
}

async fn measure() -> Result<(String, Value), String> {
    let server = BenchServer::start().await?;
    let workers = server
        .app()?
        .spawn_question_workers("querent-bench".into(), DEFAULT_WORKERS);
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::slow(SLOW_REPLY, Reply::sql(FAKE_SQL)));
    server.add_provider("slow", &fake.base_url()).await?;
    let server = std::sync::Arc::new(server);
    // The raised rate limit (BenchServer's setup) reaches the limiter when it re-reads the
    // settings (every 5 s): the polling below would be refused before that.
    tokio::time::sleep(Duration::from_millis(5_500)).await;
    // One question first, so lazily built state (pools, the schema snapshot) is not timed.
    one(
        &server,
        json!({"connection_id": server.demo, "question": "how many customers are there?"}),
    )
    .await?;
    let phases = [
        phase(&server, "offline", None).await?,
        phase(&server, "fake LLM (200 ms)", Some("slow")).await?,
    ];
    workers.abort();
    if let Ok(server) = std::sync::Arc::try_unwrap(server) {
        server.stop().await;
    }

    let rows: Vec<Vec<String>> = phases
        .iter()
        .map(|p| {
            vec![
                p.name.to_owned(),
                fmt(p.accept.p50, 1),
                fmt(p.accept.p99, 1),
                fmt(p.complete.p50, 0),
                fmt(p.complete.p99, 0),
                fmt(ms(p.wall), 0),
                fmt(QUESTIONS as f64 / p.wall.as_secs_f64(), 1),
            ]
        })
        .collect();
    let table = render_table(
        &[
            "provider",
            "POST p50 ms",
            "POST p99 ms",
            "done p50 ms",
            "done p99 ms",
            "all done ms",
            "questions/s",
        ],
        &rows,
    );
    let text = format!(
        "{QUESTIONS} questions posted at once per provider, {DEFAULT_WORKERS} workers, embedded \
         store; `done` = from POST to COMPLETED (polled every {} ms)\n{table}\n",
        POLL.as_millis()
    );
    let json = json!({
        "questions": QUESTIONS,
        "workers": DEFAULT_WORKERS,
        "phases": phases.iter().map(|p| json!({
            "provider": p.name,
            "post_ms": p.accept,
            "completed_ms": p.complete,
            "wall_ms": ms(p.wall),
            "questions_per_s": QUESTIONS as f64 / p.wall.as_secs_f64(),
        })).collect::<Vec<_>>(),
    });
    Ok((text, json))
}
