//! `cache`: the semantic cache.
//!
//! 1. The lookup index ([`querent_cache::CacheIndex`]) with `--cache-entries` entries
//!    (default 1,000,000) of generated analytic questions, in two layouts: spread over 100
//!    connections (10,000 each, the default per-connection bound), and all in one scope
//!    and guard bucket (the worst case for similarity search, whose scan is capped at
//!    `max_scan` = 2,048 entries). Lookup latency for exact hits, similar hits (a
//!    rephrasing of a recent entry) and misses; insertion rate; memory.
//! 2. End to end over HTTP: a question's first answer (miss: provider, guard, execution,
//!    store) against its repeat (hit: lookup, guard, execution), with the offline provider
//!    and with a fake LLM that takes 300 ms to answer, as remote models do.

use std::time::{Duration, Instant};

use querent_cache::{CacheConfig, CacheIndex, Entry, Scope};
use querent_domain::ConnectionId;
use querent_fake_llm::{FakeLlm, Reply};
use serde_json::{Value, json};

use super::chat::FAKE_SQL;
use super::server::BenchServer;
use super::{BenchArgs, Outcome, Summary, fmt, ms, render_table, rss_kib, summarize};

const MEASURES: [&str; 12] = [
    "total revenue",
    "number",
    "average price",
    "count",
    "sum of sales",
    "median age",
    "total cost",
    "average rating",
    "number of returns",
    "share",
    "maximum discount",
    "minimum stock",
];
const NOUNS: [&str; 24] = [
    "orders",
    "customers",
    "products",
    "invoices",
    "employees",
    "suppliers",
    "shipments",
    "payments",
    "refunds",
    "tickets",
    "accounts",
    "subscriptions",
    "visits",
    "sessions",
    "campaigns",
    "leads",
    "contracts",
    "claims",
    "loans",
    "stores",
    "warehouses",
    "vendors",
    "patients",
    "students",
];
const DIMS: [&str; 16] = [
    "region",
    "country",
    "city",
    "category",
    "segment",
    "channel",
    "brand",
    "team",
    "department",
    "status",
    "plan",
    "tier",
    "manager",
    "carrier",
    "source",
    "device",
];
const QUALIFIERS: [&str; 20] = [
    "active",
    "new",
    "returning",
    "premium",
    "online",
    "retail",
    "wholesale",
    "domestic",
    "international",
    "enterprise",
    "small",
    "priority",
    "trial",
    "loyal",
    "late",
    "cancelled",
    "pending",
    "approved",
    "open",
    "closed",
];

/// The `i`-th generated question; unique for `i` < 12·24·16·20·24 (2.2 million).
fn question(i: usize) -> String {
    let m = MEASURES[i % 12];
    let a = NOUNS[(i / 12) % 24];
    let d = DIMS[(i / 288) % 16];
    let q = QUALIFIERS[(i / 4608) % 20];
    let b = NOUNS[(i / 92_160) % 24];
    format!("{m} of {a} by {d} for {q} {b}")
}

/// A rephrasing of [`question`] `i` that normalises differently but means the same.
fn rephrase(i: usize) -> String {
    let m = MEASURES[i % 12];
    let a = NOUNS[(i / 12) % 24];
    let d = DIMS[(i / 288) % 16];
    let q = QUALIFIERS[(i / 4608) % 20];
    let b = NOUNS[(i / 92_160) % 24];
    format!("show the {m} of {a} broken down by {d} for {q} {b}")
}

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    let n = args.cache_entries.max(1000);
    let mut text = String::new();
    let mut report = serde_json::Map::new();
    let mut rows = Vec::new();
    for (layout, connections) in [("spread over 100 connections", 100usize), ("one scope", 1)] {
        let (r, j) = index_layout(n, connections);
        for mut row in r {
            row.insert(0, layout.to_owned());
            rows.push(row);
        }
        report.insert(
            if connections == 1 {
                "index_one_scope"
            } else {
                "index_spread"
            }
            .into(),
            j,
        );
    }
    text.push_str(&format!("index of {n} entries (ms per lookup)\n"));
    text.push_str(&render_table(
        &["layout", "lookup", "n", "found", "p50", "p95", "p99", "max"],
        &rows,
    ));
    match end_to_end(args).await {
        Ok((t, j)) => {
            text.push_str("\n\nend to end over HTTP (ms per chat, JSON variant)\n");
            text.push_str(&t);
            report.insert("http".into(), j);
        }
        Err(e) => {
            text.push_str(&format!("\n\nend to end: FAILED: {e}"));
            report.insert("http".into(), json!({"failed": e}));
        }
    }
    Outcome::Done {
        text,
        json: Value::Object(report),
    }
}

fn scope(conns: &[ConnectionId], i: usize) -> Scope {
    Scope {
        connection_id: conns[i % conns.len()],
        schema_fingerprint: "bench".into(),
        semantic_version: None,
    }
}

fn lookups(
    index: &mut CacheIndex,
    conns: &[ConnectionId],
    picks: impl Iterator<Item = (usize, String)>,
) -> (Summary, usize) {
    let mut samples = Vec::new();
    let mut found = 0;
    for (i, q) in picks {
        let s = scope(conns, i);
        let t = Instant::now();
        let hit = index.lookup(&s, &q, 1);
        samples.push(ms(t.elapsed()));
        found += usize::from(hit.is_some());
    }
    (summarize(&samples), found)
}

fn index_layout(n: usize, connections: usize) -> (Vec<Vec<String>>, Value) {
    let conns: Vec<ConnectionId> = (0..connections).map(|_| ConnectionId::new()).collect();
    let mut index = CacheIndex::new(CacheConfig {
        max_per_connection: n,
        ..CacheConfig::default()
    });
    let rss0 = rss_kib();
    let t = Instant::now();
    for i in 0..n {
        index.insert(Entry::new(
            i.to_string(),
            scope(&conns, i),
            &question(i),
            format!("SELECT {i}"),
            0,
            1 << 40,
        ));
    }
    let build = t.elapsed();
    let rss1 = rss_kib();
    let samples = 10_000.min(n);
    // Deterministic spread of picks over the whole index.
    let pick = |k: usize| (k * 7_919 + 13) % n;
    let (exact, exact_found) = lookups(
        &mut index,
        &conns,
        (0..samples).map(|k| {
            let i = pick(k);
            (i, question(i))
        }),
    );
    // Rephrasings of the most recent entries of each scope (within the scan window).
    let (similar_recent, similar_recent_found) = lookups(
        &mut index,
        &conns,
        (0..samples).map(|k| {
            let i = n - 1 - (k % (2_000 * connections).min(n));
            (i, rephrase(i))
        }),
    );
    let (similar_any, similar_any_found) = lookups(
        &mut index,
        &conns,
        (0..samples).map(|k| {
            let i = pick(k);
            (i, rephrase(i))
        }),
    );
    let (miss, miss_found) = lookups(
        &mut index,
        &conns,
        (0..samples).map(|k| (k, format!("weekly churn of widgets by planet {k}"))),
    );
    let row = |name: &str, s: &Summary, found: usize| {
        vec![
            name.to_owned(),
            s.n.to_string(),
            found.to_string(),
            fmt(s.p50, 4),
            fmt(s.p95, 4),
            fmt(s.p99, 4),
            fmt(s.max, 3),
        ]
    };
    let rows = vec![
        row("exact hit", &exact, exact_found),
        row(
            "similar, recent entry",
            &similar_recent,
            similar_recent_found,
        ),
        row("similar, any entry", &similar_any, similar_any_found),
        row("miss", &miss, miss_found),
    ];
    let mem = match (rss0, rss1) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let json = json!({
        "entries": n,
        "connections": connections,
        "build_s": build.as_secs_f64(),
        "inserts_per_s": n as f64 / build.as_secs_f64(),
        "rss_growth_kib": mem,
        "exact_hit": exact, "exact_found": exact_found,
        "similar_recent": similar_recent, "similar_recent_found": similar_recent_found,
        "similar_any": similar_any, "similar_any_found": similar_any_found,
        "miss": miss, "miss_found": miss_found,
    });
    let mut rows = rows;
    rows.push(vec![
        format!(
            "build: {:.1} s, {:.0} inserts/s, +{} MiB",
            build.as_secs_f64(),
            n as f64 / build.as_secs_f64(),
            mem.map_or("?".into(), |k| (k / 1024).to_string())
        ),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ]);
    (rows, json)
}

async fn end_to_end(args: &BenchArgs) -> Result<(String, Value), String> {
    let server = BenchServer::start().await?;
    let fake = FakeLlm::start().await;
    fake.set_default_reply(Reply::slow(
        Duration::from_millis(300),
        Reply::sql(FAKE_SQL),
    ));
    server.add_provider("slow-llm", &fake.base_url()).await?;
    let n = (args.requests / 4).clamp(10, 50);
    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    for (p, provider) in ["offline", "slow-llm"].into_iter().enumerate() {
        let mut miss = Vec::new();
        let mut hit = Vec::new();
        for i in 0..n {
            // Distinct numbers make distinct questions (the guards never share them).
            // (the cache is shared by every provider, so each provider gets its own).
            let q = format!(
                "how many customers are there with an id above {}?",
                i + 1000 * p
            );
            for (phase, into) in [("miss", &mut miss), ("hit", &mut hit)] {
                let body =
                    json!({"connection_id": server.demo, "message": q, "provider": provider});
                let t = Instant::now();
                let v = server.call("POST", "/api/v1/chat", Some(body)).await?;
                let took = ms(t.elapsed());
                let expected = if phase == "miss" {
                    "executed"
                } else {
                    "cached"
                };
                if v["status"] != expected {
                    return Err(format!(
                        "{provider} {phase}: status {} (wanted {expected}) {}",
                        v["status"], v["error"]
                    ));
                }
                into.push(took);
            }
        }
        let (m, h) = (summarize(&miss), summarize(&hit));
        for (name, s) in [("miss (first answer)", &m), ("hit (repeat)", &h)] {
            rows.push(vec![
                provider.to_owned(),
                name.to_owned(),
                s.n.to_string(),
                fmt(s.p50, 2),
                fmt(s.p95, 2),
                fmt(s.p99, 2),
            ]);
        }
        report.insert(provider.into(), json!({"miss": m, "hit": h}));
    }
    server.stop().await;
    Ok((
        render_table(&["provider", "answer", "n", "p50", "p95", "p99"], &rows),
        Value::Object(report),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_questions_are_distinct_and_rephrasings_hit() {
        let qs: std::collections::HashSet<String> = (0..50_000).map(question).collect();
        assert_eq!(qs.len(), 50_000);
        let conns = vec![ConnectionId::new()];
        let mut index = CacheIndex::new(CacheConfig::default());
        for i in 0..100 {
            index.insert(Entry::new(
                i.to_string(),
                scope(&conns, i),
                &question(i),
                format!("SELECT {i}"),
                0,
                1 << 40,
            ));
        }
        let hit = index.lookup(&scope(&conns, 7), &rephrase(7), 1).unwrap();
        assert_eq!(hit.sql, "SELECT 7");
    }
}
