//! `cargo bench -p querent-sql --bench guard_corpus`: the guard over the gold SQL of the
//! evaluation suites (`spider-dev`, `defog` under `../shared/eval`, or `QUERENT_EVAL_DIR`),
//! each query against the schema of its own SQLite database (read once, untimed).
//!
//! Rows: sqlparser's parse alone of the gold SQL and of the text that runs (every validation
//! parses both: the second parse proves that the text that runs is the same statement), so
//! their sum is the floor of a validation; then `validate` without a
//! policy, and `validate` with every table governed (every column masked, so every table
//! reference is substituted). Per query, one thread, in µs: the mean of this thread's CPU
//! time (which other processes on a shared machine do not inflate) and the mean, p50, p95
//! and p99 of the wall time.
//!
//! `QUERENT_BENCH_MODE=parse|plain|governed` runs only that row, for longer
//! (`QUERENT_BENCH_SECS`, default 2), e.g. under `perf record`.

#![allow(missing_docs)]
#![allow(clippy::disallowed_methods)] // a benchmark program: blocking file reads are the point

use std::collections::HashMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use querent_sql::{Dialect, GuardPolicy, GuardSchema, GuardTable, validate};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

struct Item {
    sql: String,
    schema: usize,
}

/// Tables and views of the `main` schema with their columns, as the introspector reads them.
fn read_schema(db: &Path) -> Result<GuardSchema, Box<dyn Error>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(
        r"SELECT m.name, p.name FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
          WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
          ORDER BY m.rowid, p.cid",
    )?;
    let mut tables: Vec<GuardTable> = Vec::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (table, column) = row?;
        match tables.last_mut() {
            Some(t) if t.name == table => t.columns.push(column),
            _ => tables.push(GuardTable {
                schema: None,
                name: table,
                columns: vec![column],
            }),
        }
    }
    Ok(GuardSchema::new(tables))
}

fn load(eval: &Path) -> Result<(Vec<GuardSchema>, Vec<Item>), Box<dyn Error>> {
    let mut schemas = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut items = Vec::new();
    for suite in ["spider-dev", "defog"] {
        let dir = eval.join(suite);
        let text = std::fs::read_to_string(dir.join("questions.jsonl"))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let q: serde_json::Value = serde_json::from_str(line)?;
            let db = q["db"].as_str().ok_or("question without db")?.to_owned();
            let key = (suite.to_owned(), db.clone());
            let schema = match index.get(&key) {
                Some(i) => *i,
                None => {
                    let path = dir.join("db").join(format!("{db}.sqlite"));
                    if !path.exists() {
                        continue;
                    }
                    schemas.push(read_schema(&path)?);
                    index.insert(key, schemas.len() - 1);
                    schemas.len() - 1
                }
            };
            let gold: Vec<String> = match &q["gold_sql"] {
                serde_json::Value::String(s) => vec![s.clone()],
                serde_json::Value::Array(v) => v
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            };
            items.extend(gold.into_iter().map(|sql| Item { sql, schema }));
        }
    }
    Ok((schemas, items))
}

/// This thread's CPU time so far (`/proc/thread-self/schedstat`), so that the mean does not
/// count the time other processes had the core; `None` where there is no such file.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Repeats the corpus for at least `min` (at least one pass); prints mean and percentiles.
fn run(label: &str, items: &[Item], min: Duration, mut one: impl FnMut(&Item) -> bool) {
    let mut samples = Vec::with_capacity(items.len() * 4);
    let mut total = Duration::ZERO;
    let mut ok = 0usize;
    let mut passes = 0;
    let cpu_start = thread_cpu();
    while passes == 0 || total < min {
        for it in items {
            let t = Instant::now();
            let r = one(it);
            let d = t.elapsed();
            ok += usize::from(std::hint::black_box(r));
            total += d;
            samples.push(d.as_secs_f64() * 1e6);
        }
        passes += 1;
    }
    let calls = samples.len() as f64;
    let mean = total.as_secs_f64() * 1e6 / calls;
    let cpu = match (cpu_start, thread_cpu()) {
        (Some(a), Some(b)) => format!("{:>7.1}", (b - a).as_secs_f64() * 1e6 / calls),
        _ => "      -".to_owned(),
    };
    samples.sort_by(f64::total_cmp);
    println!(
        "{label:<31} passes {passes:>3}  ok {:>5}/{:<5} cpu mean {cpu}  wall mean {mean:>7.1}  p50 {:>7.1}  p95 {:>7.1}  p99 {:>7.1} µs",
        ok / passes,
        items.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.95),
        percentile(&samples, 0.99),
    );
}

fn main() -> Result<(), Box<dyn Error>> {
    let eval = std::env::var_os("QUERENT_EVAL_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval"),
        PathBuf::from,
    );
    if !eval.join("spider-dev").exists() {
        println!("skipped: no evaluation suites under {}", eval.display());
        return Ok(());
    }
    let (schemas, items) = load(&eval)?;
    let mode = std::env::var("QUERENT_BENCH_MODE").unwrap_or_default();
    let secs: u64 = std::env::var("QUERENT_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let min = Duration::from_secs(secs);
    println!(
        "{} gold queries, {} databases, one thread",
        items.len(),
        schemas.len()
    );
    let plain = GuardPolicy {
        max_rows: Some(1000),
        ..GuardPolicy::default()
    };
    let governed = GuardPolicy {
        masked_column_patterns: vec!["*".into()],
        ..plain.clone()
    };
    let want = |m: &str| mode.is_empty() || mode == m;
    if want("parse") {
        run("parse (sqlparser) alone", &items, min, |it| {
            Parser::parse_sql(&SQLiteDialect {}, &it.sql).is_ok()
        });
    }
    if want("parse") {
        // The text that runs, parsed again to prove it is the same statement: the second
        // parse every validation pays, larger when tables are substituted.
        for (label, policy) in [
            ("parse executable, no policy", &plain),
            ("parse executable, governed", &governed),
        ] {
            let texts: Vec<Item> = items
                .iter()
                .filter_map(|it| {
                    validate(Dialect::Sqlite, &it.sql, &schemas[it.schema], policy)
                        .ok()
                        .map(|v| Item {
                            sql: v.executable().to_owned(),
                            schema: it.schema,
                        })
                })
                .collect();
            let bytes: usize = texts.iter().map(|t| t.sql.len()).sum();
            println!(
                "  (executable texts: {} bytes on average; the gold SQL {})",
                bytes / texts.len().max(1),
                items.iter().map(|t| t.sql.len()).sum::<usize>() / items.len().max(1)
            );
            run(label, &texts, min, |it| {
                Parser::parse_sql(&SQLiteDialect {}, &it.sql).is_ok()
            });
        }
    }
    if want("plain") {
        run("validate, no policy", &items, min, |it| {
            validate(Dialect::Sqlite, &it.sql, &schemas[it.schema], &plain).is_ok()
        });
    }
    if want("governed") {
        run("validate, every table governed", &items, min, |it| {
            validate(Dialect::Sqlite, &it.sql, &schemas[it.schema], &governed).is_ok()
        });
    }
    Ok(())
}
