//! `guard`: `querent_sql::validate` (parse + validate + LIMIT capping) per query, over the
//! gold SQL of the evaluation suites (`spider-dev`, `defog`), each query checked against a
//! `GuardSchema` introspected from its own SQLite database. The schemas are built once,
//! before timing; one untimed pass classifies the queries (accepted or refused, and why),
//! then timed passes repeat the corpus, without a policy and with every table governed
//! (every column masked, so every table reference is substituted in what runs).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use querent_domain::{ConnectionTarget, Dialect, SslMode};
use querent_introspect::{IntrospectOptions, introspect};
use querent_sql::{GuardPolicy, GuardSchema, validate};
use serde_json::{Value, json};

use super::{BenchArgs, Outcome, fmt, render_table, summarize};
use crate::eval::{GoldSql, load_suite};

/// The suites read from the evaluation directory.
const SUITES: [&str; 2] = ["spider-dev", "defog"];
/// Timed passes stop after this much time (at least one pass).
const MIN_TIME: Duration = Duration::from_secs(2);
/// At most this many timed passes.
const MAX_PASSES: usize = 20;

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    let present: Vec<&str> = SUITES
        .iter()
        .copied()
        .filter(|s| args.eval_dir.join(s).join("questions.jsonl").exists())
        .collect();
    if present.is_empty() {
        return Outcome::Skipped(format!(
            "no evaluation suites under {} (expected spider-dev/ and defog/; see --eval-dir)",
            args.eval_dir.display()
        ));
    }
    match measure(&args.eval_dir, &present).await {
        Ok((text, json)) => Outcome::Done { text, json },
        Err(e) => Outcome::Failed(e),
    }
}

/// One query of the corpus.
struct Item {
    suite: &'static str,
    sql: String,
    schema: usize,
}

/// Reads a SQLite file's schema into the guard's view.
async fn guard_schema(db: &Path) -> Result<GuardSchema, String> {
    let path = db
        .canonicalize()
        .map_err(|e| format!("{}: {e}", db.display()))?;
    let target = ConnectionTarget {
        dialect: Dialect::Sqlite,
        host: None,
        port: None,
        database: None,
        username: None,
        path: Some(path.display().to_string()),
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    };
    let options = IntrospectOptions {
        sample_values: false,
        ..IntrospectOptions::default()
    };
    let snapshot = introspect(&target, None, &options)
        .await
        .map_err(|e| format!("{}: {e}", db.display()))?;
    Ok(GuardSchema::from_snapshot(&snapshot))
}

/// The variant name of an error's `Debug` form (`UnknownTable { .. }` → `UnknownTable`).
fn kind(debug: &str) -> String {
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[allow(clippy::too_many_lines)] // load, classify, time and report, in order
async fn measure(eval_dir: &Path, suites: &[&'static str]) -> Result<(String, Value), String> {
    let build_started = Instant::now();
    let mut schemas: Vec<GuardSchema> = Vec::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut items = Vec::new();
    let mut missing_db = 0usize;
    for &suite in suites {
        let (questions, db_dir) = load_suite(&eval_dir.join(suite))?;
        for q in questions {
            let key = (suite.to_owned(), q.db.clone());
            let schema = match index.get(&key) {
                Some(i) => *i,
                None => {
                    let db = db_dir.join(format!("{}.sqlite", q.db));
                    if !db.exists() {
                        missing_db += 1;
                        continue;
                    }
                    schemas.push(guard_schema(&db).await?);
                    index.insert(key, schemas.len() - 1);
                    schemas.len() - 1
                }
            };
            let sqls = match q.gold_sql {
                GoldSql::One(s) => vec![s],
                GoldSql::Many(v) => v,
            };
            items.extend(sqls.into_iter().map(|sql| Item { suite, sql, schema }));
        }
    }
    let build_time = build_started.elapsed();
    if items.is_empty() {
        return Err("the suites hold no gold SQL".into());
    }
    let policy = GuardPolicy {
        max_rows: Some(1000),
        ..GuardPolicy::default()
    };

    // Classify (untimed; also warms caches).
    let mut accepted: BTreeMap<&str, usize> = BTreeMap::new();
    let mut refused: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut examples: Vec<Value> = Vec::new();
    for it in &items {
        match validate(Dialect::Sqlite, &it.sql, &schemas[it.schema], &policy) {
            Ok(_) => *accepted.entry(it.suite).or_default() += 1,
            Err(e) => {
                *refused.entry(it.suite).or_default() += 1;
                *reasons.entry(kind(&format!("{e:?}"))).or_default() += 1;
                if examples.len() < 10 {
                    examples
                        .push(json!({"suite": it.suite, "sql": it.sql, "error": e.to_string()}));
                }
            }
        }
    }

    // Timed passes: without a policy, then with every table governed (every column
    // masked), so every table reference is replaced by a derived table in what runs.
    let (per_suite, validate_time, calls, passes) = timed(&items, &schemas, &policy);
    let governed_policy = GuardPolicy {
        masked_column_patterns: vec!["*".into()],
        ..policy.clone()
    };
    let (governed, _, _, _) = timed(&items, &schemas, &governed_policy);
    let governed: Vec<f64> = governed.into_values().flatten().collect();

    let mut rows = Vec::new();
    let mut suites_json = serde_json::Map::new();
    let all: Vec<f64> = per_suite.values().flatten().copied().collect();
    let mut groups: Vec<(&str, &[f64])> =
        per_suite.iter().map(|(k, v)| (*k, v.as_slice())).collect();
    groups.push(("all", &all));
    for (name, samples) in groups {
        let s = summarize(samples);
        let (acc, rej) = if name == "all" {
            (accepted.values().sum(), refused.values().sum())
        } else {
            (
                accepted.get(name).copied().unwrap_or(0),
                refused.get(name).copied().unwrap_or(0),
            )
        };
        let qps = if s.mean > 0.0 { 1e6 / s.mean } else { 0.0 };
        rows.push(vec![
            name.to_owned(),
            (acc + rej).to_string(),
            acc.to_string(),
            rej.to_string(),
            fmt(qps, 0),
            fmt(s.p50, 1),
            fmt(s.p95, 1),
            fmt(s.p99, 1),
            fmt(s.max, 1),
        ]);
        suites_json.insert(
            name.to_owned(),
            json!({
                "queries": acc + rej,
                "accepted": acc,
                "refused": rej,
                "queries_per_sec": qps,
                "latency_us": s,
            }),
        );
    }
    let g = summarize(&governed);
    let g_qps = if g.mean > 0.0 { 1e6 / g.mean } else { 0.0 };
    rows.push(vec![
        "all, every table governed".to_owned(),
        items.len().to_string(),
        String::new(),
        String::new(),
        fmt(g_qps, 0),
        fmt(g.p50, 1),
        fmt(g.p95, 1),
        fmt(g.p99, 1),
        fmt(g.max, 1),
    ]);
    suites_json.insert(
        "all_governed".to_owned(),
        json!({"queries_per_sec": g_qps, "latency_us": g}),
    );
    let table = render_table(
        &[
            "suite",
            "queries",
            "accepted",
            "refused",
            "queries/s",
            "p50 µs",
            "p95 µs",
            "p99 µs",
            "max µs",
        ],
        &rows,
    );
    let reasons_text = reasons
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut text = format!(
        "{} gold queries ({} databases, guard schemas built in {:.2} s, untimed) × {passes} timed passes, one thread\n{table}\n",
        items.len(),
        schemas.len(),
        build_time.as_secs_f64()
    );
    text.push_str(&format!(
        "queries/s = 1 / mean time of one validate call; refusals by kind: {}\n",
        if reasons_text.is_empty() {
            "none".into()
        } else {
            reasons_text
        }
    ));
    if missing_db > 0 {
        text.push_str(&format!(
            "{missing_db} questions skipped: database file missing\n"
        ));
    }
    Ok((
        text,
        json!({
            "suites": suites_json,
            "databases": schemas.len(),
            "schema_build_secs": build_time.as_secs_f64(),
            "passes": passes,
            "calls": calls,
            "validate_secs": validate_time.as_secs_f64(),
            "refusals_by_kind": reasons,
            "refusal_examples": examples,
            "missing_db": missing_db,
        }),
    ))
}

type Timed<'a> = (BTreeMap<&'a str, Vec<f64>>, Duration, usize, usize);

/// Repeats the corpus under `policy` for at least [`MIN_TIME`] (at most [`MAX_PASSES`]);
/// returns the per-suite latencies (µs), the time spent in `validate`, calls and passes.
fn timed<'a>(items: &'a [Item], schemas: &[GuardSchema], policy: &GuardPolicy) -> Timed<'a> {
    let mut per_suite: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut validate_time = Duration::ZERO;
    let mut calls = 0usize;
    let mut passes = 0usize;
    while passes < MAX_PASSES && (passes == 0 || validate_time < MIN_TIME) {
        for it in items {
            let t = Instant::now();
            let r = validate(Dialect::Sqlite, &it.sql, &schemas[it.schema], policy);
            let d = t.elapsed();
            std::hint::black_box(r.is_ok());
            drop(r);
            validate_time += d;
            calls += 1;
            per_suite
                .entry(it.suite)
                .or_default()
                .push(d.as_secs_f64() * 1e6);
        }
        passes += 1;
    }
    (per_suite, validate_time, calls, passes)
}
