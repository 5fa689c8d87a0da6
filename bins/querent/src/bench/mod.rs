//! `querent bench`: the performance instrument (issue 6). Performance goals live here, as
//! benchmarks that print numbers; tests never assert on timings.
//!
//! Each benchmark prints a table and adds one entry to the report that `--json` writes:
//!
//! | name | measures |
//! |---|---|
//! | `guard` | `querent_sql::validate` (parse + validate) over the gold SQL of `../shared/eval` |
//! | `chat` | sequential `POST /api/v1/chat` round trips (fake and offline provider), and the stage split from `App::run_chat_timed` |
//! | `latency` | sequential chat hits and misses as JSON and SSE on kept-alive connections and SSE on new ones (a `querent serve` child) |
//! | `throughput` | requests/s and latency of `GET /health`, chat misses, chat without the cache, chat hits (JSON and SSE) at each of `--clients` (a `querent serve` child) |
//! | `sse` | `--streams` chat event streams held open at once: completion, stream time, the server's memory before, at peak and 30 s after (a `querent serve` child) |
//! | `introspect` | `querent_introspect::introspect` on PostgreSQL schemas of 1,000 and 10,000 tables |
//! | `cache` | the semantic cache's index with 1,000,000 entries (exact, similar, miss lookups) and a question's first answer against its cached repeat over HTTP |
//! | `linking` | the schema linker on synthetic schemas of `--tables` tables: index build, per-question link latency |
//! | `cold_start` | from spawning `querent serve` on a fresh data directory to the first 200 of `/ready` |
//! | `stats` | querent-results' one-pass column statistics over 1,000,000 synthetic rows of 5 columns (rows/s, distinct-count error) and the CSV export of the same rows |
//! | `dashboard` | a 12-widget dashboard on the demo read over HTTP: cold (every query runs), cached, and ten viewers at once on an emptied cache (query runs counted) |
//! | `questions` | 100 asynchronous questions posted at once and collected: `POST` latency, time to `COMPLETED`, drain time of the worker pool (offline and a 200 ms fake provider) |
//!
//! The server benchmarks run the real server in-process ([`server::BenchServer`], composed
//! like `querent serve`), against an embedded store in a temporary data directory; the load
//! benchmarks run it as a `querent serve` child, on the embedded store or (`--store
//! postgres`) on a fresh PostgreSQL database.

#![allow(clippy::disallowed_methods)] // a CLI command: reads its inputs while nothing else runs on the runtime

mod cache;
mod chat;
mod cold_start;
mod dashboard;
mod guard;
mod introspect;
mod latency;
mod linking;
mod questions;
pub mod server;
mod sse;
mod stats;
mod throughput;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

/// Every benchmark, in the order they run.
pub const ALL: [&str; 12] = [
    "guard",
    "chat",
    "latency",
    "cache",
    "linking",
    "throughput",
    "sse",
    "introspect",
    "cold_start",
    "questions",
    "stats",
    "dashboard",
];

/// What to run and how hard.
#[derive(Clone, Debug)]
pub struct BenchArgs {
    /// Benchmarks to run (empty: all of [`ALL`]).
    pub only: Vec<String>,
    /// How long each throughput phase lasts.
    pub duration: Duration,
    /// Concurrent clients of the throughput benchmark, one run per count.
    pub clients: Vec<usize>,
    /// Sequential chat requests per provider in the `chat` benchmark.
    pub requests: usize,
    /// Event streams held open at once in the `sse` benchmark, one run per count.
    pub streams: Vec<usize>,
    /// Schema sizes (tables) of the `introspect` and `linking` benchmarks.
    pub tables: Vec<usize>,
    /// The evaluation suites (`spider-dev/`, `defog/`); default `../shared/eval`.
    pub eval_dir: PathBuf,
    /// PostgreSQL server for `introspect` (a libpq-style connection string without `dbname`).
    pub pg: String,
    /// `introspect`: a database to use and keep (tables of an earlier run reused) instead
    /// of a fresh one dropped at the end.
    pub pg_database: Option<String>,
    /// Entries in the `cache` benchmark's index.
    pub cache_entries: usize,
    /// The metadata store of the load benchmarks' server (`latency`, `throughput`, `sse`):
    /// `None` the embedded SQLite store; a `postgres://` server URL, on which each of them
    /// creates a database of its own and drops it afterwards (`--store`).
    pub store: Option<String>,
}

impl Default for BenchArgs {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            duration: Duration::from_secs(10),
            clients: vec![1, 8, 32, 256, 1_000],
            requests: 200,
            streams: vec![500, 5_000],
            tables: vec![1_000, 10_000],
            eval_dir: PathBuf::from("../shared/eval"),
            pg: "host=127.0.0.1 port=5432 user=postgres".into(),
            pg_database: None,
            cache_entries: 1_000_000,
            store: None,
        }
    }
}

impl BenchArgs {
    /// The benchmarks to run, checked against [`ALL`].
    pub fn selected(&self) -> Result<Vec<&'static str>, String> {
        if self.only.is_empty() {
            return Ok(ALL.to_vec());
        }
        let mut out = Vec::new();
        for name in &self.only {
            match ALL.iter().find(|n| **n == name.trim()) {
                Some(n) if !out.contains(n) => out.push(*n),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "unknown benchmark `{name}` (known: {})",
                        ALL.join(", ")
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// What one benchmark produced.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// It ran: the text to print and the JSON to report.
    Done {
        /// Tables and notes for the terminal.
        text: String,
        /// The numbers.
        json: Value,
    },
    /// It could not run here (missing suite, unreachable server); why.
    Skipped(String),
    /// It failed; why.
    Failed(String),
}

/// Latency figures of a set of samples, in the samples' unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Samples.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
}

/// The nearest-rank percentile `p` (0–100) of sorted samples; 0 when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarises samples (any order).
pub fn summarize(samples: &[f64]) -> Summary {
    if samples.is_empty() {
        return Summary::default();
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    Summary {
        n: v.len(),
        mean: v.iter().sum::<f64>() / v.len() as f64,
        p50: percentile(&v, 50.0),
        p95: percentile(&v, 95.0),
        p99: percentile(&v, 99.0),
        min: v[0],
        max: v[v.len() - 1],
    }
}

/// Milliseconds of a duration, as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Renders a terminal table.
pub fn render_table<S: ToString>(header: &[&str], rows: &[Vec<S>]) -> String {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::ASCII_MARKDOWN);
    t.set_header(header.iter().map(|h| h.to_string()));
    for r in rows {
        t.add_row(r.iter().map(ToString::to_string));
    }
    t.to_string()
}

/// A number with `decimals` digits after the point.
pub fn fmt(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

/// The resident memory of this process (`VmRSS`), in KiB, when /proc tells.
pub fn rss_kib() -> Option<u64> {
    proc_status_kib("VmRSS:")
}

/// The peak resident memory of this process (`VmHWM`), in KiB, when /proc tells.
pub fn peak_rss_kib() -> Option<u64> {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_status_kib(&status, key)
}

pub(crate) fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// The machine and build, for the report.
pub fn machine() -> Value {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|r| r.trim_start_matches([' ', '\t', ':']).to_owned());
    json!({
        "cores": cores,
        "cpu": cpu,
        "mem_total_kib": parse_status_kib(&meminfo, "MemTotal:"),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "querent_version": env!("CARGO_PKG_VERSION"),
    })
}

/// Runs the selected benchmarks, printing each one's table as it finishes, and returns the
/// report (`{machine, started_at, args, benchmarks: {name: numbers | {skipped} | {failed}}}`).
pub async fn run(args: &BenchArgs) -> Result<Value, String> {
    let selected = args.selected()?;
    let machine = machine();
    println!(
        "querent bench · {} build · {} cores · {}",
        machine["profile"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["cpu"].as_str().unwrap_or("unknown CPU")
    );
    if cfg!(debug_assertions) {
        println!(
            "note: debug build; use `cargo run --release -- bench` for representative numbers"
        );
    }
    let mut results = serde_json::Map::new();
    for name in selected {
        println!("\n== {name} ==");
        let started = std::time::Instant::now();
        let outcome = match name {
            "guard" => guard::run(args).await,
            "chat" => chat::run(args).await,
            "latency" => latency::run(args).await,
            "cache" => cache::run(args).await,
            "linking" => linking::run(args).await,
            "throughput" => throughput::run(args).await,
            "sse" => sse::run(args).await,
            "introspect" => introspect::run(args).await,
            "cold_start" => cold_start::run(args).await,
            "stats" => stats::run(args).await,
            "dashboard" => dashboard::run(args).await,
            "questions" => questions::run(args).await,
            _ => Outcome::Failed("unknown benchmark".into()),
        };
        let value = match outcome {
            Outcome::Done { text, json } => {
                println!("{}", text.trim_end());
                json
            }
            Outcome::Skipped(why) => {
                println!("skipped: {why}");
                json!({"skipped": why})
            }
            Outcome::Failed(why) => {
                println!("FAILED: {why}");
                json!({"failed": why})
            }
        };
        println!("({name}: {:.1} s)", started.elapsed().as_secs_f64());
        results.insert(name.to_owned(), value);
    }
    Ok(json!({
        "machine": machine,
        "started_at": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        "args": {
            "duration_secs": args.duration.as_secs_f64(),
            "clients": args.clients,
            "requests": args.requests,
            "streams": args.streams,
            "tables": args.tables,
            "cache_entries": args.cache_entries,
            "store": if args.store.is_some() { "postgres" } else { "sqlite" },
        },
        "benchmarks": Value::Object(results),
    }))
}

/// How a run ended: the closing line `querent bench` prints and its exit code — 0 when
/// every selected benchmark ran, 1 when one failed, 2 when none failed but one was skipped
/// (a missing suite or server: the numbers asked for were not measured).
pub fn verdict(report: &Value) -> (String, i32) {
    let (mut ran, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(benchmarks) = report["benchmarks"].as_object() {
        for (name, value) in benchmarks {
            if value.get("failed").is_some() {
                failed.push(name.as_str());
            } else if value.get("skipped").is_some() {
                skipped.push(name.as_str());
            } else {
                ran.push(name.as_str());
            }
        }
    }
    let list = |names: &[&str]| {
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    };
    let line = format!(
        "bench: {} ran, {} skipped{}, {} failed{}",
        ran.len(),
        skipped.len(),
        list(&skipped),
        failed.len(),
        list(&failed)
    );
    let code = if !failed.is_empty() {
        1
    } else if !skipped.is_empty() {
        2
    } else {
        0
    };
    (line, code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_benchmark_is_named_and_not_a_success() {
        let report = |b: Value| json!({ "benchmarks": b });
        assert_eq!(
            verdict(&report(json!({"guard": {"p50": 1.0}, "chat": {"n": 3}}))),
            ("bench: 2 ran, 0 skipped, 0 failed".to_owned(), 0)
        );
        assert_eq!(
            verdict(&report(
                json!({"guard": {"skipped": "no suites"}, "chat": {"n": 3}})
            )),
            ("bench: 1 ran, 1 skipped (guard), 0 failed".to_owned(), 2)
        );
        assert_eq!(
            verdict(&report(
                json!({"guard": {"skipped": "no suites"}, "sse": {"failed": "no /proc"}})
            )),
            (
                "bench: 0 ran, 1 skipped (guard), 1 failed (sse)".to_owned(),
                1
            )
        );
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
        let s = summarize(&[3.0, 1.0, 2.0, 4.0]);
        assert_eq!((s.n, s.min, s.max, s.p50, s.mean), (4, 1.0, 4.0, 2.0, 2.5));
        assert_eq!(summarize(&[]), Summary::default());
    }

    #[test]
    fn tables_render_headers_and_rows() {
        let t = render_table(
            &["name", "p50"],
            &[vec!["health", "0.12"], vec!["chat", "3.40"]],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[0].contains("name") && lines[0].contains("p50"), "{t}");
        assert!(
            lines[3].contains("chat") && lines[3].contains("3.40"),
            "{t}"
        );
    }

    #[test]
    fn selection_and_status_parsing() {
        let mut a = BenchArgs::default();
        assert_eq!(a.selected().unwrap().len(), ALL.len());
        a.only = vec!["sse".into(), "guard".into(), "sse".into()];
        assert_eq!(a.selected().unwrap(), vec!["sse", "guard"]);
        a.only = vec!["nope".into()];
        assert!(a.selected().is_err());
        let status = "Name:\tquerent\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(10240));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(20480));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
    }
}
