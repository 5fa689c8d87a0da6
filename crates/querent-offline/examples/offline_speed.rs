//! Per-question time of the offline translator on a big synthetic schema, rebuilding the
//! schema index for every question (`translate_with_model`), with the provider's index
//! cache (`OfflineProvider::translate`), and as the server runs it on a schema above
//! `link_above_tables`: the question linked first (querent-semantic's `LinkIndex`, built
//! once as the server keeps it), the provider then given only the linked tables.
//!
//! `cargo run --release -p querent-offline --example offline_speed [tables] [questions]`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use querent_domain::query::GenerateRequest;
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{Dialect, PrivacyPolicy};
use querent_offline::{OfflineProvider, TranslatorOptions, translate_with_model};
use querent_semantic::{LinkIndex, LinkOptions, subset_with_policy, synthetic_schema};

fn main() {
    let mut args = std::env::args().skip(1);
    let tables: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let snap = Arc::new(synthetic_schema(tables, 1));
    let questions: Vec<String> = (0..count)
        .map(|k| {
            let t = &snap.tables[(k * 7919 + 13) % snap.tables.len()];
            // The table's words without its number (`sales_order_line_2731`).
            let words = t
                .name
                .split('_')
                .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(" ");
            match k % 3 {
                0 => format!("how many {words} are there"),
                1 => format!(
                    "list the {} of {words}",
                    t.columns[1].name.replace('_', " ")
                ),
                _ => format!("{words} with status active"),
            }
        })
        .collect();
    let policy = PrivacyPolicy::default();
    let options = TranslatorOptions::default();

    let mut uncached = Vec::new();
    let mut answers = Vec::new();
    for q in &questions {
        let started = Instant::now();
        let t = translate_with_model(q, &snap, Dialect::Postgres, &policy, &options, None, &[]);
        uncached.push(started.elapsed());
        answers.push(t.map(|t| t.sql).ok());
    }

    let request = |question: &str, schema: Arc<SchemaSnapshot>| GenerateRequest {
        question: question.to_owned(),
        dialect: Dialect::Postgres,
        schema,
        policy: policy.clone(),
        history: Vec::new(),
        previous_error: None,
        max_rows: 100,
        semantic: None,
        examples: Vec::new(),
        instructions: None,
    };
    let provider = OfflineProvider::new(options.clone());
    let mut cached = Vec::new();
    for (q, expected) in questions.iter().zip(&answers) {
        let request = request(q, Arc::clone(&snap));
        let started = Instant::now();
        let t = provider.translate(&request);
        cached.push(started.elapsed());
        assert_eq!(
            &t.map(|t| t.sql).ok(),
            expected,
            "the cache changed an answer"
        );
    }

    // Through linking, as `App::link_schema` does: the whole schema when nothing links.
    let links = LinkIndex::new(&snap);
    let provider = OfflineProvider::new(options.clone());
    let (mut linked_times, mut linked_answers, mut linked_tables) = (Vec::new(), 0, 0);
    for q in &questions {
        let started = Instant::now();
        let linked = links.link(q, &LinkOptions::default());
        let schema = if linked.tables.is_empty() {
            Arc::clone(&snap)
        } else {
            Arc::new(subset_with_policy(&snap, &linked, &policy))
        };
        linked_tables += schema.tables.len();
        let t = provider.translate(&request(q, schema));
        linked_times.push(started.elapsed());
        linked_answers += usize::from(t.is_ok());
    }

    let translated = answers.iter().filter(|a| a.is_some()).count();
    println!(
        "{tables} tables, {count} questions ({translated} translated, same answers both ways)"
    );
    report("rebuilding the index per question", &mut uncached);
    println!("with the index cache: first question {:?}", cached[0]);
    report(
        "with the index cache, later questions",
        &mut cached[1..].to_vec(),
    );
    println!(
        "through linking: {linked_answers} translated, {:.1} tables seen per question",
        linked_tables as f64 / questions.len().max(1) as f64
    );
    report(
        "linking, then the translator on the linked tables",
        &mut linked_times,
    );
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let total: Duration = times.iter().sum();
    println!(
        "{what}: mean {:?}, p50 {:?}, max {:?}",
        total / times.len().max(1) as u32,
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
