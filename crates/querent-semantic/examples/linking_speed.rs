//! Build time, size and per-question link latency of the schema linker on a synthetic
//! 10,000-table schema, without and with a semantic model (a synonym, a described column
//! and a value mapping on every tenth table, a metric on every fiftieth).
//!
//! `cargo run --release -p querent-semantic --example linking_speed [tables]`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::time::{Duration, Instant};

use querent_domain::PrivacyPolicy;
use querent_domain::schema::SchemaSnapshot;
use querent_semantic::{
    LinkIndex, LinkOptions, Metric, SemanticColumn, SemanticModel, SemanticTable, ValueMapping,
    synthetic_schema,
};

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

    // The same with a semantic model.
    let model = synthetic_model(&snap);
    let policy = PrivacyPolicy::default();
    let mut model_builds = Vec::new();
    let mut with_model = LinkIndex::new_with_model(&snap, &policy, Some(&model));
    for _ in 0..3 {
        let started = Instant::now();
        with_model = LinkIndex::new_with_model(&snap, &policy, Some(&model));
        model_builds.push(started.elapsed());
    }
    model_builds.sort();
    let mut model_times: Vec<Duration> = Vec::new();
    for _round in 0..3 {
        for q in questions.iter().chain(&model_questions(&model)) {
            let started = Instant::now();
            let _ = with_model.link(q, &options);
            model_times.push(started.elapsed());
        }
    }
    model_times.sort();
    let mpct = |p: f64| model_times[((model_times.len() - 1) as f64 * p).round() as usize];
    println!(
        "with a model ({} described tables, {} metrics): build median {:.0} ms; link p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        model.tables.len(),
        model.metrics.len(),
        model_builds[model_builds.len() / 2].as_secs_f64() * 1e3,
        mpct(0.5).as_secs_f64() * 1e3,
        mpct(0.95).as_secs_f64() * 1e3,
        model_times[model_times.len() - 1].as_secs_f64() * 1e3,
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

/// A model describing every tenth table (a synonym, its second column with a synonym and a
/// value mapping) and with a metric on every fiftieth.
fn synthetic_model(snap: &SchemaSnapshot) -> SemanticModel {
    let mut tables = Vec::new();
    let mut metrics = Vec::new();
    for (i, t) in snap.tables.iter().enumerate() {
        if i % 10 == 0 {
            let column = &t.columns[1];
            tables.push(SemanticTable {
                table: t.name.clone(),
                display_name: None,
                description: Some(format!("Records of kind {i}")),
                synonyms: vec![format!("ledger{i}")],
                columns: vec![SemanticColumn {
                    column: column.name.clone(),
                    data_type: None,
                    display_name: None,
                    description: None,
                    synonyms: vec![format!("figure{i}")],
                    values: Vec::new(),
                    value_mappings: vec![ValueMapping {
                        phrase: format!("Region{i}"),
                        value: format!("R{i}"),
                    }],
                }],
            });
        }
        if i % 50 == 0 {
            metrics.push(Metric {
                name: format!("measure{i}"),
                description: None,
                expression: format!("COUNT({})", t.columns[0].name),
                table: t.name.clone(),
                synonyms: Vec::new(),
            });
        }
    }
    SemanticModel {
        connection_id: querent_domain::ConnectionId::new(),
        version: 1,
        schema_fingerprint: snap.fingerprint.clone(),
        description: None,
        tables,
        joins: Vec::new(),
        metrics,
        updated_at: 0,
    }
}

/// Questions that name the model's synonyms, mapped values and metrics.
fn model_questions(model: &SemanticModel) -> Vec<String> {
    let mut out = Vec::new();
    for (k, t) in model.tables.iter().step_by(97).take(10).enumerate() {
        let column = &t.columns[0];
        out.push(match k % 3 {
            0 => format!("how many {} are there", t.synonyms[0]),
            1 => format!("rows in {}", column.value_mappings[0].phrase),
            _ => format!("total {} per {}", column.synonyms[0], t.synonyms[0]),
        });
    }
    for m in model.metrics.iter().step_by(31).take(5) {
        out.push(format!("{} by status", m.name));
    }
    out
}
