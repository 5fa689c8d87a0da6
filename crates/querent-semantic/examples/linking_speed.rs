//! Build time, size and per-question link latency of the schema linker on a synthetic
//! 10,000-table schema.
//!
//! `cargo run --release -p querent-semantic --example linking_speed [tables]`

use std::time::{Duration, Instant};

use querent_semantic::{LinkIndex, LinkOptions, synthetic_schema};

fn main() {
    let tables: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    let started = Instant::now();
    let snap = synthetic_schema(tables, 1);
    let generated = started.elapsed();
    let columns: usize = snap.tables.iter().map(|t| t.columns.len()).sum();

    let mut builds = Vec::new();
    let mut index = LinkIndex::new(&snap);
    for _ in 0..5 {
        let started = Instant::now();
        index = LinkIndex::new(&snap);
        builds.push(started.elapsed());
    }
    builds.sort();

    // Questions: some naming a table outright, some by its words only, some generic.
    let mut questions: Vec<String> = vec![
        "top 5 products by quantity sold".into(),
        "customers from Germany".into(),
        "average salary per department".into(),
        "which customers bought laptops".into(),
        "total invoice amount by currency for pending invoices".into(),
        "how many open support tickets have urgent priority".into(),
        "list warehouses in France with their shipments".into(),
        "employees hired after 2020 in the payroll system".into(),
        "monthly revenue by sales region".into(),
        "which vendors have expired contracts".into(),
        "number of visits per web page last week".into(),
        "refunds issued in USD by billing account".into(),
        "average rating of product reviews by category".into(),
        "marketing campaigns with the most leads".into(),
        "procurement supplier invoices above 10000 EUR".into(),
    ];
    for k in 0..35 {
        let t = &snap.tables[(k * 7919 + 13) % snap.tables.len()];
        let words = t.name.replace('_', " ");
        questions.push(match k % 3 {
            0 => format!("show all rows of {}", t.name),
            1 => format!("how many {words} records have status active"),
            _ => format!(
                "total {} in {words} by {}",
                t.columns.last().map_or("id", |c| c.name.as_str()),
                t.columns[1].name
            ),
        });
    }

    let options = LinkOptions::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut linked_tables = 0usize;
    for _round in 0..3 {
        for q in &questions {
            let started = Instant::now();
            let linked = index.link(q, &options);
            times.push(started.elapsed());
            linked_tables += linked.table_indexes().len();
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "schema: {tables} tables, {columns} columns (generated in {:.0} ms)",
        generated.as_secs_f64() * 1e3
    );
    println!(
        "index build: min {:.0} ms, median {:.0} ms, max {:.0} ms; {} terms, ~{:.1} MB heap",
        builds[0].as_secs_f64() * 1e3,
        builds[builds.len() / 2].as_secs_f64() * 1e3,
        builds[builds.len() - 1].as_secs_f64() * 1e3,
        index.term_count(),
        index.approx_heap_bytes() as f64 / 1e6
    );
    println!(
        "link: {} questions x 3 rounds: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; {:.1} tables linked on average",
        questions.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        linked_tables as f64 / times.len() as f64
    );
    for q in questions
        .iter()
        .take(4)
        .chain(questions.iter().skip(15).take(3))
    {
        let linked = index.link(q, &options);
        let names: Vec<&str> = linked
            .tables
            .iter()
            .map(|t| snap.tables[t.index].name.as_str())
            .collect();
        let joins: Vec<&str> = linked
            .join_tables_added
            .iter()
            .map(|&i| snap.tables[i].name.as_str())
            .collect();
        println!("  {q:?}\n    -> {names:?} + joins {joins:?}");
    }
}
