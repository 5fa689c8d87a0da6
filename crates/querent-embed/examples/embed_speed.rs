//! How fast the local embedder is on this machine: load time, then sentences per second
//! one at a time and in batches. Build it optimised:
//!
//! ```text
//! QUERENT_EMBED_MODEL_DIR=$(scripts/fetch-embedding-model.sh) \
//!     cargo run --release -p querent-embed --features local --example embed_speed [N]
//! ```
//!
//! N (default 64) is the number of sentences per measurement.

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use querent_embed::{Embedder, LocalEmbedder, find_model_dir, local_available};

/// Questions of the length Querent embeds (5–20 words).
const QUESTIONS: [&str; 8] = [
    "How many singers do we have?",
    "What is the average age of singers from France?",
    "List the names of stadiums with a capacity above 10000, largest first",
    "Which customers placed more than five orders last month?",
    "Total revenue by region and product category for 2023",
    "Show the ten most recent orders that have not shipped yet",
    "Count employees hired after 2020 in each department",
    "What was the highest ticket price for any concert in 2014?",
];

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

fn main() -> ExitCode {
    let mut out = std::io::stdout().lock();
    if !local_available() {
        let _ = writeln!(
            out,
            "built without the `local` feature: add --features local"
        );
        return ExitCode::FAILURE;
    }
    let Some(dir) = find_model_dir(None) else {
        let _ = writeln!(
            out,
            "set QUERENT_EMBED_MODEL_DIR to a model directory (scripts/fetch-embedding-model.sh)"
        );
        return ExitCode::FAILURE;
    };
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64)
        .max(1);
    let sentences: Vec<String> = (0..n)
        .map(|i| format!("{} ({i})", QUESTIONS[i % QUESTIONS.len()]))
        .collect();

    let started = Instant::now();
    let embedder = match LocalEmbedder::load(&dir) {
        Ok(e) => e,
        Err(e) => {
            let _ = writeln!(out, "{e}");
            return ExitCode::FAILURE;
        }
    };
    let load = started.elapsed();
    let _ = writeln!(
        out,
        "{}: {} dimensions, at most {} word pieces; loaded in {} ms",
        embedder.id(),
        embedder.dims(),
        embedder.max_tokens(),
        load.as_millis()
    );

    // Warm up (first-call allocations, thread pools).
    if let Err(e) = embedder.embed_blocking(&sentences[..1]) {
        let _ = writeln!(out, "{e}");
        return ExitCode::FAILURE;
    }

    let started = Instant::now();
    for s in &sentences {
        if let Err(e) = embedder.embed_blocking(std::slice::from_ref(s)) {
            let _ = writeln!(out, "{e}");
            return ExitCode::FAILURE;
        }
    }
    let single = started.elapsed();
    let _ = writeln!(
        out,
        "single: {n} sentences in {} ms = {:.1} sentences/s ({:.1} ms each)",
        single.as_millis(),
        rate(n, single),
        single.as_secs_f64() * 1000.0 / n as f64
    );

    let started = Instant::now();
    if let Err(e) = embedder.embed_blocking(&sentences) {
        let _ = writeln!(out, "{e}");
        return ExitCode::FAILURE;
    }
    let batched = started.elapsed();
    let _ = writeln!(
        out,
        "batched: {n} sentences in one call in {} ms = {:.1} sentences/s",
        batched.as_millis(),
        rate(n, batched)
    );

    // Through the async port (tokio's blocking pool), as the server calls it.
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(out, "no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    if let Err(e) = runtime.block_on(embedder.embed(&sentences)) {
        let _ = writeln!(out, "{e}");
        return ExitCode::FAILURE;
    }
    let asynchronous = started.elapsed();
    let _ = writeln!(
        out,
        "async port: {n} sentences in {} ms = {:.1} sentences/s",
        asynchronous.as_millis(),
        rate(n, asynchronous)
    );
    ExitCode::SUCCESS
}
