//! What a drafted semantic model does to the offline translator's answers on Spider dev.
//!
//! `cargo run --release -p querent-offline --example drafted_model_effect [questions.jsonl] [db dir]`
//!
//! For each question: builds a `SchemaSnapshot` of the question's SQLite database (tables,
//! columns, keys, up to 20 values of low-cardinality text columns), drafts a semantic model
//! from it with `querent_semantic::draft` (display names, synonyms, inferred joins, value
//! lists), translates the question over the whole schema without and with that model, runs
//! both answers and the gold SQL, and compares the rows (as multisets, ignoring order).
//! Prints how many answers the model changed and how many of those got better or worse.
//! This runs the translator alone (no linking, no guard), so its accuracy is not the
//! pipeline's; the difference between the two runs is what it measures.

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::collections::HashMap;

use querent_domain::schema::SchemaSnapshot;
use querent_domain::semantic::SemanticModel;
use querent_domain::{Dialect, PrivacyPolicy};
use querent_offline::{TranslatorOptions, translate_with_model};
use rusqlite::Connection;

#[path = "../../querent-semantic/examples/support/spider.rs"]
mod spider;
use spider::snapshot;

#[path = "support/rows.rs"]
mod support;
use support::rows;

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
    // `VERBOSE=1` prints every question whose answer the model changed.
    let verbose = std::env::var_os("VERBOSE").is_some();
    let text = std::fs::read_to_string(&questions).expect("read questions");
    let policy = PrivacyPolicy::default();
    let options = TranslatorOptions::default();
    let mut dbs: HashMap<String, (SchemaSnapshot, SemanticModel, Connection)> = HashMap::new();
    let (mut n, mut changed, mut better, mut worse) = (0usize, 0usize, 0usize, 0usize);
    let (mut plain_ok, mut model_ok) = (0usize, 0usize);
    let (mut plain_translated, mut model_translated) = (0usize, 0usize);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).expect("json line");
        let db = q["db"].as_str().expect("db").to_owned();
        let question = q["question"].as_str().expect("question");
        let gold = match &q["gold_sql"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(a) => a[0].as_str().unwrap_or_default().to_owned(),
            _ => continue,
        };
        let (snap, model, conn) = dbs.entry(db.clone()).or_insert_with(|| {
            let path = format!("{db_dir}/{db}.sqlite");
            let snap = snapshot(&path).expect("snapshot");
            let model = querent_semantic::draft(&snap, &policy);

            let conn =
                Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .expect("open");
            (snap, model, conn)
        });
        n += 1;
        let translate = |m: Option<&SemanticModel>| {
            translate_with_model(question, snap, Dialect::Sqlite, &policy, &options, m, &[])
                .ok()
                .map(|t| t.sql)
        };
        let plain = translate(None);
        let with_model = translate(Some(model));
        plain_translated += usize::from(plain.is_some());
        model_translated += usize::from(with_model.is_some());
        let expected = rows(conn, &gold);
        let correct = |sql: &Option<String>| {
            sql.as_deref()
                .and_then(|s| rows(conn, s))
                .is_some_and(|r| Some(&r) == expected.as_ref())
        };
        let (a, b) = (correct(&plain), correct(&with_model));
        plain_ok += usize::from(a);
        model_ok += usize::from(b);
        if plain != with_model {
            changed += 1;
            better += usize::from(b && !a);
            worse += usize::from(a && !b);
            if verbose {
                println!(
                    "{question}\n  without: {plain:?}\n  with:    {with_model:?} ({a} -> {b})"
                );
            }
        }
    }
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    println!("questions: {n}");
    println!(
        "without a model: {plain_translated} translated, {plain_ok} correct ({:.1}%)",
        pct(plain_ok)
    );
    println!(
        "with a drafted model: {model_translated} translated, {model_ok} correct ({:.1}%)",
        pct(model_ok)
    );
    println!("answers changed by the model: {changed} ({better} better, {worse} worse)");
}
