//! Measures the offline translator on the Spider dev suite by execution accuracy.
//!
//! `cargo run -p querent-offline --example spider --release -- [--suite DIR] [--db NAME]
//! [--limit N] [--failures FILE]`
//!
//! For every question it reads the SQLite database into a [`SchemaSnapshot`] (tables,
//! columns, keys, foreign keys and up to 20 sampled values of low-cardinality text columns),
//! translates, passes the SQL through the guard exactly as the server would, runs the guard's
//! output and the gold SQL, and compares the results: rows as tuples in projection order, as a
//! multiset (in order only when the gold query has `ORDER BY`), numbers equal within 1e-6.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use querent_domain::Dialect;
use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};
use querent_offline::translate;
use querent_sql::{GuardPolicy, GuardSchema, validate};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

const MAX_SAMPLES: usize = 20;

struct Args {
    suite: PathBuf,
    db: Option<String>,
    limit: Option<usize>,
    failures: Option<PathBuf>,
    ask: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        suite: PathBuf::from("/work/shared/eval/spider-dev"),
        db: None,
        limit: None,
        failures: None,
        ask: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        match k.as_str() {
            "--suite" => a.suite = PathBuf::from(v),
            "--db" => a.db = Some(v),
            "--limit" => a.limit = v.parse().ok(),
            "--failures" => a.failures = Some(PathBuf::from(v)),
            "--ask" => a.ask = Some(v),
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    a
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the catalog of a SQLite database, with value samples.
fn snapshot(conn: &Connection) -> rusqlite::Result<SchemaSnapshot> {
    let mut names: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table','view') \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    names.dedup();
    let mut tables = Vec::new();
    for (name, kind) in &names {
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(name)))?;
        let rows: Vec<(String, String, bool, Option<String>, i64)> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, i64>(3)? != 0,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        for (cname, ctype, notnull, default, pkpos) in rows {
            if pkpos > 0 {
                pk.push((pkpos, cname.clone()));
            }
            let t = ctype.to_lowercase();
            let textual =
                t.is_empty() || t.contains("char") || t.contains("text") || t.contains("clob");
            let mut samples = Vec::new();
            if textual {
                let sql = format!(
                    "SELECT DISTINCT CAST({c} AS TEXT) FROM {t} WHERE {c} IS NOT NULL LIMIT {n}",
                    c = quote(&cname),
                    t = quote(name),
                    n = MAX_SAMPLES + 1
                );
                if let Ok(mut s) = conn.prepare(&sql) {
                    let vals: Vec<String> = s
                        .query_map([], |r| r.get::<_, Option<String>>(0))
                        .map(|it| it.filter_map(|v| v.ok().flatten()).collect())
                        .unwrap_or_default();
                    if vals.len() <= MAX_SAMPLES && vals.iter().all(|v| v.chars().count() <= 200) {
                        samples = vals;
                    }
                }
            }
            columns.push(ColumnInfo {
                name: cname,
                data_type: ctype,
                nullable: !notnull,
                default,
                comment: None,
                sample_values: samples,
            });
        }
        pk.sort();
        let primary_key: Vec<String> = pk.into_iter().map(|(_, c)| c).collect();
        // Foreign keys, grouped by constraint id.
        let mut fks: BTreeMap<i64, ForeignKey> = BTreeMap::new();
        let mut stmt = conn.prepare(&format!("PRAGMA foreign_key_list({})", quote(name)))?;
        let rows: Vec<(i64, String, String, Option<String>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        for (id, rt, from, to) in rows {
            let e = fks.entry(id).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                referenced_schema: None,
                referenced_table: rt.clone(),
                referenced_columns: Vec::new(),
            });
            e.columns.push(from);
            e.referenced_columns.push(to.unwrap_or_default());
        }
        tables.push(TableInfo {
            schema: None,
            name: name.clone(),
            kind: if kind == "view" {
                TableKind::View
            } else {
                TableKind::Table
            },
            comment: None,
            columns,
            primary_key,
            unique_constraints: Vec::new(),
            foreign_keys: fks.into_values().collect(),
            row_estimate: None,
        });
    }
    // Foreign keys that omit the referenced column point at the primary key; referenced
    // table names may differ in case from the catalog's.
    let pks: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for t in &mut tables {
        for f in &mut t.foreign_keys {
            if let Some((n, pk)) = pks
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&f.referenced_table))
            {
                f.referenced_table = n.clone();
                for (i, c) in f.referenced_columns.iter_mut().enumerate() {
                    if c.is_empty() {
                        *c = pk.get(i).cloned().unwrap_or_default();
                    }
                }
            }
        }
    }
    let mut snap = SchemaSnapshot {
        dialect: Dialect::Sqlite,
        database: None,
        fingerprint: String::new(),
        taken_at: 0,
        tables,
    };
    snap.normalize();
    Ok(snap)
}

#[derive(Clone, Debug, PartialEq)]
enum V {
    Null,
    Num(f64),
    Text(String),
}

fn key(v: &V) -> String {
    match v {
        V::Null => "N".into(),
        V::Num(x) => format!("F{:.6}", x),
        V::Text(s) => format!("T{s}"),
    }
}

fn run(conn: &Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let _ = conn.progress_handler(10_000, Some(move || Instant::now() > deadline));
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(match r.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => V::Null,
                ValueRef::Integer(x) => V::Num(x as f64),
                ValueRef::Real(x) => V::Num(x),
                ValueRef::Text(t) => V::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => V::Text(format!("{b:?}")),
            });
        }
        out.push(row);
    }
    Ok(out)
}

fn same(gold: &[Vec<V>], pred: &[Vec<V>], ordered: bool) -> bool {
    if gold.len() != pred.len() {
        return false;
    }
    let eq = |a: &Vec<V>, b: &Vec<V>| {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (V::Num(p), V::Num(q)) => (p - q).abs() <= 1e-6 * (1.0 + p.abs().max(q.abs())),
                _ => x == y,
            })
    };
    if ordered {
        return gold.iter().zip(pred).all(|(a, b)| eq(a, b));
    }
    let mut g: Vec<(String, &Vec<V>)> = gold
        .iter()
        .map(|r| (r.iter().map(key).collect::<Vec<_>>().join("|"), r))
        .collect();
    let mut p: Vec<(String, &Vec<V>)> = pred
        .iter()
        .map(|r| (r.iter().map(key).collect::<Vec<_>>().join("|"), r))
        .collect();
    g.sort_by(|a, b| a.0.cmp(&b.0));
    p.sort_by(|a, b| a.0.cmp(&b.0));
    g.iter().zip(&p).all(|(a, b)| eq(a.1, b.1))
}

#[derive(Default, Clone, Copy)]
struct Tally {
    n: u64,
    correct: u64,
    cannot: u64,
    wrong: u64,
    rejected: u64,
    errors: u64,
}

impl Tally {
    fn line(&self, name: &str) -> String {
        let pct = |x: u64| {
            if self.n == 0 {
                0.0
            } else {
                100.0 * x as f64 / self.n as f64
            }
        };
        format!(
            "{name:<8} n={:<5} accuracy={:5.1}%  cannot_translate={:5.1}%  wrong={:5.1}%  rejected={}  errors={}",
            self.n,
            pct(self.correct),
            pct(self.cannot),
            pct(self.wrong),
            self.rejected,
            self.errors
        )
    }
}

fn main() {
    let a = args();
    let started = Instant::now();
    let text = std::fs::read_to_string(a.suite.join("questions.jsonl")).unwrap_or_else(|e| {
        eprintln!("cannot read questions: {e}");
        std::process::exit(1);
    });
    let mut failures = a.failures.as_ref().map(|p| {
        std::io::BufWriter::new(std::fs::File::create(p).unwrap_or_else(|e| {
            eprintln!("cannot create {}: {e}", p.display());
            std::process::exit(1);
        }))
    });
    if let (Some(q), Some(db)) = (&a.ask, &a.db) {
        // One question against one database: print the translation and its rows.
        let conn = open(&a.suite.join("db").join(format!("{db}.sqlite"))).expect("open db");
        let snap = snapshot(&conn).expect("read catalog");
        match translate(q, &snap, Dialect::Sqlite) {
            Ok(t) => {
                println!("{}\n{}", t.sql, t.explanation);
                match run(&conn, &t.sql) {
                    Ok(rows) => println!(
                        "{} rows: {:?}",
                        rows.len(),
                        rows.iter().take(5).collect::<Vec<_>>()
                    ),
                    Err(e) => println!("error: {e}"),
                }
            }
            Err(e) => println!("cannot translate: {}", e.understood),
        }
        return;
    }
    let mut dbs: BTreeMap<String, (Connection, SchemaSnapshot)> = BTreeMap::new();
    let mut total = Tally::default();
    let mut by: BTreeMap<String, Tally> = BTreeMap::new();
    let mut count = 0usize;
    let mut empty_matches = 0u64;
    for line in text.lines() {
        let Ok(q) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let db = q["db"].as_str().unwrap_or_default().to_string();
        if a.db.as_ref().is_some_and(|d| *d != db) {
            continue;
        }
        if a.limit.is_some_and(|l| count >= l) {
            break;
        }
        count += 1;
        let question = q["question"].as_str().unwrap_or_default();
        let gold = q["gold_sql"].as_str().unwrap_or_default();
        let difficulty = q["difficulty"].as_str().unwrap_or("none").to_string();
        if !dbs.contains_key(&db) {
            let path = a.suite.join("db").join(format!("{db}.sqlite"));
            let conn = open(&path).unwrap_or_else(|e| {
                eprintln!("cannot open {}: {e}", path.display());
                std::process::exit(1);
            });
            let snap = snapshot(&conn).unwrap_or_else(|e| {
                eprintln!("cannot read {}: {e}", path.display());
                std::process::exit(1);
            });
            dbs.insert(db.clone(), (conn, snap));
        }
        let (conn, snap) = &dbs[&db];
        let mut predicted = String::new();
        let (outcome, reason) = match translate(question, snap, Dialect::Sqlite) {
            Err(e) => ("cannot", format!("cannot_translate: {}", e.understood)),
            Ok(t) => {
                predicted = t.sql.clone();
                let policy = GuardPolicy {
                    max_rows: 100_000,
                    ..Default::default()
                };
                match validate(
                    Dialect::Sqlite,
                    &t.sql,
                    &GuardSchema::from_snapshot(snap),
                    &policy,
                ) {
                    Err(e) => ("rejected", format!("guard: {e}")),
                    Ok(v) => match (run(conn, gold), run(conn, v.sql())) {
                        (Err(e), _) => ("error", format!("gold failed: {e}")),
                        (_, Err(e)) => ("error", format!("predicted failed: {e}")),
                        (Ok(g), Ok(p)) => {
                            let ordered = gold.to_lowercase().contains("order by");
                            if same(&g, &p, ordered) {
                                if g.is_empty() {
                                    empty_matches += 1;
                                }
                                ("correct", String::new())
                            } else {
                                (
                                    "wrong",
                                    format!(
                                        "rows differ: gold {} rows, predicted {} rows",
                                        g.len(),
                                        p.len()
                                    ),
                                )
                            }
                        }
                    },
                }
            }
        };
        for t in [&mut total, by.entry(difficulty.clone()).or_default()] {
            t.n += 1;
            match outcome {
                "correct" => t.correct += 1,
                "cannot" => t.cannot += 1,
                "rejected" => t.rejected += 1,
                "error" => t.errors += 1,
                _ => t.wrong += 1,
            }
        }
        if outcome != "correct"
            && let Some(f) = failures.as_mut()
        {
            let rec = serde_json::json!({
                "id": q["id"], "db": db, "difficulty": difficulty, "question": question,
                "gold": gold, "predicted": predicted, "outcome": outcome, "reason": reason,
            });
            let _ = writeln!(f, "{rec}");
        }
    }
    println!("{}", total.line("overall"));
    for name in ["easy", "medium", "hard", "extra"] {
        if let Some(t) = by.get(name) {
            println!("{}", t.line(name));
        }
    }
    println!("correct answers where gold and prediction are both empty: {empty_matches}");
    println!("runtime: {:.2}s", started.elapsed().as_secs_f64());
}
