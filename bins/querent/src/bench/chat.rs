//! `chat`: end-to-end latency of sequential chat requests, over HTTP (`POST /api/v1/chat`,
//! `Accept: application/json`) and, for the stage split, through `App::prepare_chat` +
//! `App::run_chat_timed` on the same app instance with the same questions. Once with a fake
//! OpenAI-compatible provider that answers instantly with fixed SQL, once with the offline
//! provider.

use std::time::Instant;

use querent_app::chat::{ChatRequest, Events, StageTimings};
use querent_domain::MessageStatus;
use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::server::BenchServer;
use super::{BenchArgs, Outcome, Summary, fmt, ms, render_table, summarize};

/// Questions the offline provider translates on the demo database (the fake answers every
/// question with the same SQL).
pub(crate) const QUESTIONS: [&str; 5] = [
    "how many customers are there?",
    "how many orders are there?",
    "how many products are there?",
    "how many customers are there in each country?",
    "what is the total amount of orders?",
];

/// The SQL the fake provider answers with.
pub(crate) const FAKE_SQL: &str = "SELECT count(*) FROM customers";

/// Requests sent before measuring, per provider.
const WARMUP: usize = 5;

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    match measure(args).await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

/// One measured series.
struct Series {
    samples: Vec<f64>,
}

impl Series {
    fn row(&self, provider: &str, what: &str) -> Vec<String> {
        let s = summarize(&self.samples);
        vec![
            provider.to_owned(),
            what.to_owned(),
            s.n.to_string(),
            fmt(s.p50, 2),
            fmt(s.p95, 2),
            fmt(s.p99, 2),
            fmt(s.mean, 2),
        ]
    }

    fn summary(&self) -> Summary {
        summarize(&self.samples)
    }
}

async fn measure(args: &BenchArgs) -> Result<(String, Value), String> {
    let server = BenchServer::start().await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::sql(FAKE_SQL));
    server.add_provider("fake", &fake.base_url()).await?;
    let actor = server.actor().await?;
    let n = args.requests.max(1);

    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    let mut notes = Vec::new();
    for provider in ["fake", "offline"] {
        // HTTP round trips.
        let mut http = Series {
            samples: Vec::with_capacity(n),
        };
        let mut http_errors = 0usize;
        let mut first_error = None;
        for i in 0..WARMUP + n {
            let q = QUESTIONS[i % QUESTIONS.len()];
            let body = server.chat_body(q, Some(provider));
            let t = Instant::now();
            let result = server.call("POST", "/api/v1/chat", Some(body)).await;
            let elapsed = ms(t.elapsed());
            if i < WARMUP {
                continue;
            }
            match result {
                Ok(v) if v["status"] == "executed" => http.samples.push(elapsed),
                Ok(v) => {
                    http_errors += 1;
                    first_error.get_or_insert_with(|| {
                        format!("{q:?}: status {} {}", v["status"], v["error"])
                    });
                }
                Err(e) => {
                    http_errors += 1;
                    first_error.get_or_insert(e);
                }
            }
        }

        // The stage split, in-process.
        let mut prepare = Series {
            samples: Vec::new(),
        };
        let mut stages: [(&str, Series); 6] = [
            ("linking", Series { samples: vec![] }),
            ("generating", Series { samples: vec![] }),
            ("validating", Series { samples: vec![] }),
            ("executing", Series { samples: vec![] }),
            ("run total", Series { samples: vec![] }),
            ("prepare+run", Series { samples: vec![] }),
        ];
        let mut direct_errors = 0usize;
        for i in 0..n {
            let q = QUESTIONS[i % QUESTIONS.len()];
            let req: ChatRequest = serde_json::from_value(server.chat_body(q, Some(provider)))
                .map_err(|e| e.to_string())?;
            let t = Instant::now();
            let prepared = match server.app()?.prepare_chat(&actor, req).await {
                Ok(p) => p,
                Err(e) => {
                    direct_errors += 1;
                    first_error.get_or_insert(e.detail);
                    continue;
                }
            };
            let p = ms(t.elapsed());
            let (response, timings) = server.app()?.run_chat_timed(prepared, Events::none()).await;
            let whole = ms(t.elapsed());
            if response.status != MessageStatus::Executed {
                direct_errors += 1;
                continue;
            }
            prepare.samples.push(p);
            let us = |x: u64| x as f64 / 1000.0;
            let StageTimings {
                linking_us,
                cache_us: _,
                generating_us,
                validating_us,
                executing_us,
                total_us,
            } = timings;
            for (k, v) in [
                linking_us,
                generating_us,
                validating_us,
                executing_us,
                total_us,
            ]
            .into_iter()
            .enumerate()
            {
                stages[k].1.samples.push(us(v));
            }
            stages[5].1.samples.push(whole);
        }

        rows.push(http.row(provider, "HTTP round trip"));
        rows.push(prepare.row(provider, "  prepare_chat"));
        for (name, s) in &stages {
            rows.push(s.row(provider, &format!("  {name}")));
        }
        let mut stage_json = serde_json::Map::new();
        stage_json.insert("prepare_chat".into(), json!(prepare.summary()));
        for (name, s) in &stages {
            stage_json.insert(name.replace([' ', '+'], "_"), json!(s.summary()));
        }
        report.insert(
            provider.to_owned(),
            json!({
                "http_round_trip_ms": http.summary(),
                "http_errors": http_errors,
                "stages_ms": stage_json,
                "direct_errors": direct_errors,
                "first_error": first_error,
            }),
        );
        if http_errors + direct_errors > 0 {
            notes.push(format!(
                "{provider}: {http_errors} HTTP and {direct_errors} direct requests did not end `executed` (first: {})",
                first_error.unwrap_or_default()
            ));
        }
    }
    server.stop().await;

    let table = render_table(
        &["provider", "measure (ms)", "n", "p50", "p95", "p99", "mean"],
        &rows,
    );
    let mut text = format!(
        "{n} sequential requests per provider (after {WARMUP} warm-up), demo database, embedded store\n\
         fake = OpenAI-compatible fake server on loopback answering `{FAKE_SQL}` instantly\n{table}\n"
    );
    for n in &notes {
        text.push_str(&format!("note: {n}\n"));
    }
    text.push_str("cache: off here (`use_cache: false`); the `cache` benchmark measures it\n");
    report.insert("cache".into(), json!("off (use_cache = false)"));
    report.insert("requests".into(), json!(n));
    Ok((text, Value::Object(report)))
}
