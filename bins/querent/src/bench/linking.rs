//! `linking`: the schema linker (querent-semantic's `LinkIndex`) on synthetic schemas of
//! `--tables` tables (default 1,000 and 10,000): index build time, then per-question link
//! latency over 50 questions (15 business questions and 35 naming or describing a table of
//! the schema), three rounds, without and with the linked tables' count.

use std::time::Instant;

use querent_semantic::{LinkIndex, LinkOptions, synthetic_schema};
use serde_json::{Value, json};

use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

const QUESTIONS: [&str; 15] = [
    "top 5 products by quantity sold",
    "customers from Germany",
    "average salary per department",
    "which customers bought laptops",
    "total invoice amount by currency for pending invoices",
    "how many open support tickets have urgent priority",
    "list warehouses in France with their shipments",
    "employees hired after 2020 in the payroll system",
    "monthly revenue by sales region",
    "which vendors have expired contracts",
    "number of visits per web page last week",
    "refunds issued in USD by billing account",
    "average rating of product reviews by category",
    "marketing campaigns with the most leads",
    "procurement supplier invoices above 10000 EUR",
];

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    let mut rows = Vec::new();
    let mut report = serde_json::Map::new();
    for &n in &args.tables {
        let snap = synthetic_schema(n.max(10), 1);
        let mut builds = Vec::new();
        let mut index = None;
        for _ in 0..3 {
            let t = Instant::now();
            index = Some(LinkIndex::new(&snap));
            builds.push(ms(t.elapsed()));
        }
        let Some(index) = index else {
            return Outcome::Failed("no index built".into());
        };
        let mut questions: Vec<String> = QUESTIONS.iter().map(|q| (*q).to_owned()).collect();
        for k in 0..35 {
            let t = &snap.tables[(k * 7_919 + 13) % snap.tables.len()];
            let words = t.name.replace('_', " ");
            questions.push(match k % 3 {
                0 => format!("show all rows of {}", t.name),
                1 => format!("how many {words} records have status active"),
                _ => format!(
                    "total {} in {words} by {}",
                    t.columns.last().map_or("id", |c| c.name.as_str()),
                    t.columns.get(1).map_or("id", |c| c.name.as_str())
                ),
            });
        }
        let options = LinkOptions::default();
        let mut samples = Vec::new();
        let mut linked = 0usize;
        for _ in 0..3 {
            for q in &questions {
                let t = Instant::now();
                let l = index.link(q, &options);
                samples.push(ms(t.elapsed()));
                linked += l.tables.len();
            }
        }
        let s = summarize(&samples);
        let b = summarize(&builds);
        let avg_linked = linked as f64 / samples.len() as f64;
        rows.push(vec![
            n.to_string(),
            fmt(b.p50, 0),
            s.n.to_string(),
            fmt(s.p50, 3),
            fmt(s.p95, 3),
            fmt(s.p99, 3),
            fmt(s.max, 3),
            fmt(avg_linked, 1),
        ]);
        report.insert(
            n.to_string(),
            json!({"build_ms": b, "link_ms": s, "avg_tables_linked": avg_linked}),
        );
    }
    Outcome::Done {
        text: render_table(
            &[
                "tables",
                "index build ms (median of 3)",
                "links",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "tables linked",
            ],
            &rows,
        ),
        json: Value::Object(report),
    }
}
