//! Table recall and precision of the schema linker on Spider dev.
//!
//! `cargo run --release -p querent-semantic --example linking_recall [questions.jsonl] [db dir]`
//!
//! For each question: builds a `SchemaSnapshot` of the question's SQLite database (tables,
//! columns, primary and foreign keys, up to 20 distinct values of low-cardinality text
//! columns), gets the gold tables by running the gold SQL through the guard, links the
//! question with default options and compares. With `DRAFT_MODEL=1` the index also holds
//! a semantic model drafted from the schema (`LinkIndex::new_with_model`).

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use querent_domain::Dialect;
use querent_domain::schema::SchemaSnapshot;
use querent_semantic::{LinkIndex, LinkOptions};
use querent_sql::{GuardPolicy, GuardSchema, validate};

#[path = "support/spider.rs"]
mod spider;
use spider::snapshot;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let questions = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/work/shared/eval/spider-dev/questions.jsonl".into());
    let db_dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "/work/shared/eval/spider-dev/db".into());
    let verbose = std::env::var_os("VERBOSE").is_some();
    // `DRAFT_MODEL=1` links with a semantic model drafted from each database's schema.
    let draft_model = std::env::var_os("DRAFT_MODEL").is_some();
    let text = std::fs::read_to_string(&questions).expect("read questions");
    // `LINK_REL=0.3` overrides `min_relative_score`, for tuning.
    let mut options = LinkOptions::default();
    if let Some(rel) = std::env::var("LINK_REL").ok().and_then(|v| v.parse().ok()) {
        options.min_relative_score = rel;
    }

    let mut cache: HashMap<String, (SchemaSnapshot, LinkIndex, GuardSchema)> = HashMap::new();
    let (mut n, mut skipped) = (0usize, 0usize);
    let (mut recall_sum, mut precision_sum, mut full) = (0f64, 0f64, 0usize);
    let (mut linked_sum, mut schema_sum, mut gold_sum) = (0usize, 0usize, 0usize);
    let mut empty = 0usize;
    let mut link_time = std::time::Duration::ZERO;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).expect("json line");
        let db = q["db"].as_str().expect("db");
        let question = q["question"].as_str().expect("question");
        let gold_sql = q["gold_sql"].as_str().expect("gold_sql");
        if !cache.contains_key(db) {
            let snap = snapshot(&format!("{db_dir}/{db}.sqlite")).expect("read database");
            let index = if draft_model {
                let policy = querent_domain::PrivacyPolicy::default();
                let model = querent_semantic::draft(&snap, &policy);
                LinkIndex::new_with_model(&snap, &policy, Some(&model))
            } else {
                LinkIndex::new(&snap)
            };
            let guard = GuardSchema::from_snapshot(&snap);
            cache.insert(db.to_string(), (snap, index, guard));
        }
        let (snap, index, guard) = &cache[db];
        let policy = GuardPolicy {
            max_rows: Some(100_000),
            ..Default::default()
        };
        let gold: BTreeSet<String> = match validate(Dialect::Sqlite, gold_sql, guard, &policy) {
            Ok(v) => v.tables().iter().map(|t| t.to_lowercase()).collect(),
            Err(e) => {
                skipped += 1;
                if verbose {
                    eprintln!("skip {}: {e}", q["id"]);
                }
                continue;
            }
        };
        if gold.is_empty() {
            skipped += 1;
            continue;
        }
        let started = Instant::now();
        let linked = index.link(question, &options);
        link_time += started.elapsed();
        let got: BTreeSet<String> = linked
            .table_indexes()
            .into_iter()
            .map(|i| snap.tables[i].name.to_lowercase())
            .collect();
        let hit = gold.intersection(&got).count();
        let recall = hit as f64 / gold.len() as f64;
        let precision = if got.is_empty() {
            0.0
        } else {
            hit as f64 / got.len() as f64
        };
        if got.is_empty() {
            empty += 1;
        }
        n += 1;
        recall_sum += recall;
        precision_sum += precision;
        if hit == gold.len() {
            full += 1;
        } else if verbose {
            eprintln!(
                "MISS {} [{db}] {question}\n  gold {gold:?}\n  got  {got:?}",
                q["id"]
            );
        }
        linked_sum += got.len();
        schema_sum += snap.tables.len();
        gold_sum += gold.len();
    }
    let nf = n as f64;
    println!("questions evaluated: {n} (skipped: {skipped} whose gold SQL the guard refused)");
    println!("table recall (mean):     {:.4}", recall_sum / nf);
    println!("table precision (mean):  {:.4}", precision_sum / nf);
    println!("full recall questions:   {:.4}", full as f64 / nf);
    println!(
        "tables linked (mean):    {:.2}  gold: {:.2}  in schema: {:.2}",
        linked_sum as f64 / nf,
        gold_sum as f64 / nf,
        schema_sum as f64 / nf
    );
    println!("questions linked to nothing: {empty}");
    println!(
        "link time per question (mean): {:.1} µs",
        link_time.as_secs_f64() * 1e6 / nf
    );
}
