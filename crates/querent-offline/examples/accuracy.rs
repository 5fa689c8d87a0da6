//! The offline translator alone on a question suite: accuracy, precision and how many
//! questions were answered wrongly versus refused, on two fixed halves of the suite.
//!
//! `cargo run --release -p querent-offline --example accuracy [questions.jsonl] [db dir] [out.jsonl]`
//!
//! Each question goes to the translator over its SQLite database's whole schema (tables,
//! columns, keys, sampled values of low-cardinality text columns; a semantic model from
//! `<suite>/models/<db>.json` when there is one); its SQL and the gold SQL run on the file
//! and their rows are compared as multisets. The suite is split by a hash of each question's
//! id into half `a` and half `b`: work on the failures of one half, check on the other, so a
//! change that only fits the questions looked at shows up as a gap between the halves. This
//! runs the translator alone (no linking, no guard); `querent eval` measures the pipeline.
//! `out.jsonl` (optional) receives one line per question of half `a` with the outcome, the
//! SQL and the refusal text, for reading failures; half `b` is never written out (unless
//! `PROBE=1`, for a file of one's own probe questions rather than a suite). Answered
//! questions are also counted by their confidence; `MIN_CONFIDENCE=<x>` sets the threshold
//! below which translations are refused (`0` answers all).

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;

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

#[derive(Default)]
struct Tally {
    n: usize,
    correct: usize,
    refused: usize,
    wrong: usize,
    /// Answered questions by confidence bucket ([`BUCKETS`]): (correct, wrong).
    by_confidence: [(usize, usize); BUCKETS.len()],
}

/// Lower bounds of the confidence buckets the calibration table shows.
const BUCKETS: [f32; 6] = [0.0, 0.5, 0.6, 0.7, 0.8, 0.9];

fn bucket(confidence: f32) -> usize {
    BUCKETS.iter().rposition(|b| confidence >= *b).unwrap_or(0)
}

impl Tally {
    fn line(&self, name: &str) -> String {
        let answered = self.n - self.refused;
        format!(
            "{name}: n={} correct={} accuracy={:.1}% precision={:.1}% wrong={} refused={}\n  correct/wrong by confidence: {}",
            self.n,
            self.correct,
            100.0 * self.correct as f64 / self.n.max(1) as f64,
            100.0 * self.correct as f64 / answered.max(1) as f64,
            self.wrong,
            self.refused,
            BUCKETS
                .iter()
                .zip(&self.by_confidence)
                .map(|(b, (c, w))| format!("≥{b:.1}: {c}/{w}"))
                .collect::<Vec<_>>()
                .join("  ")
        )
    }
}

fn half(id: &str) -> usize {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    (h.finish() % 2) as usize
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let probe = std::env::var("PROBE").is_ok_and(|v| v == "1");
    let questions = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "/work/shared/eval/spider-dev/questions.jsonl".into());
    let suite_dir = std::path::Path::new(&questions)
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default();
    let db_dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| suite_dir.join("db").to_string_lossy().into_owned());
    let mut out = args
        .get(3)
        .map(|p| std::fs::File::create(p).expect("out file"));
    let text = std::fs::read_to_string(&questions).expect("read questions");
    let policy = PrivacyPolicy::default();
    // `MIN_CONFIDENCE=0` answers every translation, whatever its confidence: the table of
    // correct/wrong by confidence then shows what a threshold would keep.
    let mut options = TranslatorOptions::default();
    if let Some(min) = std::env::var("MIN_CONFIDENCE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.min_confidence = min;
    }
    type Db = (SchemaSnapshot, Option<SemanticModel>, Connection);
    let mut dbs: HashMap<String, Db> = HashMap::new();
    let mut halves = [Tally::default(), Tally::default()];
    let started = std::time::Instant::now();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let q: serde_json::Value = serde_json::from_str(line).expect("json line");
        let id = q["id"].as_str().unwrap_or_default().to_owned();
        let db = q["db"].as_str().expect("db").to_owned();
        let question = q["question"].as_str().expect("question");
        let golds: Vec<String> = match &q["gold_sql"] {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            _ => continue,
        };
        let (snap, model, conn) = dbs.entry(db.clone()).or_insert_with(|| {
            let path = format!("{db_dir}/{db}.sqlite");
            let snap = snapshot(&path).expect("snapshot");
            let model =
                std::fs::read_to_string(suite_dir.join("models").join(format!("{db}.json")))
                    .ok()
                    .map(|m| {
                        // The body of `PUT …/semantic-model`: the stored fields are filled in.
                        let mut v: serde_json::Value =
                            serde_json::from_str(&m).expect("model json");
                        for (k, d) in [
                            (
                                "connection_id",
                                serde_json::json!("00000000-0000-0000-0000-000000000000"),
                            ),
                            ("version", serde_json::json!(1)),
                            ("schema_fingerprint", serde_json::json!("")),
                            ("updated_at", serde_json::json!(0)),
                        ] {
                            if v.get(k).is_none() {
                                v[k] = d;
                            }
                        }
                        serde_json::from_value(v).expect("semantic model")
                    });
            let conn =
                Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .expect("open");
            (snap, model, conn)
        });
        let t = translate_with_model(
            question,
            snap,
            Dialect::Sqlite,
            &policy,
            &options,
            model.as_ref(),
            &[],
        );
        let h = half(&id);
        let tally = &mut halves[h];
        tally.n += 1;
        let outcome = match &t {
            Err(_) => {
                tally.refused += 1;
                "refused"
            }
            Ok(t) => {
                let got = rows(conn, &t.sql);
                let ok = got.is_some()
                    && golds
                        .iter()
                        .any(|g| rows(conn, g).is_some_and(|r| Some(&r) == got.as_ref()));
                let b = &mut tally.by_confidence[bucket(t.confidence)];
                if ok {
                    tally.correct += 1;
                    b.0 += 1;
                    "correct"
                } else {
                    tally.wrong += 1;
                    b.1 += 1;
                    "wrong"
                }
            }
        };
        // `PROBE=1`: every question is written out (for a file of one's own probes, never
        // for a suite's half b).
        if (h == 0 || probe)
            && let Some(f) = out.as_mut()
        {
            let (sql, why, unknown, confidence, doubts) = match &t {
                Ok(t) => (
                    t.sql.clone(),
                    t.explanation.clone(),
                    t.unknown_words.clone(),
                    t.confidence,
                    t.doubts.clone(),
                ),
                Err(e) => (
                    String::new(),
                    e.understood.clone(),
                    Vec::new(),
                    0.0,
                    Vec::new(),
                ),
            };
            let rec = serde_json::json!({"id": id, "db": db, "question": question,
                "outcome": outcome, "sql": sql, "refusal": why, "gold": golds[0],
                "unknown": unknown, "confidence": confidence, "doubts": doubts});
            writeln!(f, "{rec}").unwrap();
        }
    }
    let mut all = Tally::default();
    for t in &halves {
        all.n += t.n;
        all.correct += t.correct;
        all.refused += t.refused;
        all.wrong += t.wrong;
        for (a, b) in all.by_confidence.iter_mut().zip(&t.by_confidence) {
            a.0 += b.0;
            a.1 += b.1;
        }
    }
    println!("{}", halves[0].line("half a"));
    println!("{}", halves[1].line("half b"));
    println!("{}", all.line("all   "));
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}
