//! `stats`: querent-results' one-pass column statistics (`StatsBuilder`) over 1,000,000
//! synthetic rows of five columns — `int8` id, `float8` amount, `text` customer (about
//! 50,000 distinct values), `timestamptz` (one per second, so 1,000,000 distinct) and
//! `bool` — fed in batches of 10,000 as rows arrive from a query; only the pushes and the
//! final `finish` are timed, not the generation. Reports rows/s (best and median of three
//! passes) and the distinct-count error against the exact counts (HyperLogLog beyond
//! 10,000 values), plus rows/s of the CSV export of the same rows into `io::sink`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use querent_domain::query::{ColumnMeta, Row};
use querent_results::{CsvWriter, DataframeStats, StatsBuilder};
use serde_json::{Value, json};

use super::{BenchArgs, Outcome, fmt, ms, render_table, summarize};

const ROWS: usize = 1_000_000;
const BATCH: usize = 10_000;
const CUSTOMERS: u64 = 50_000;
const PASSES: usize = 3;
/// 2024-01-01T00:00:00Z.
const START: i64 = 1_704_067_200;

fn columns() -> Vec<ColumnMeta> {
    let col = |name: &str, type_name: &str| ColumnMeta {
        name: name.into(),
        type_name: type_name.into(),
        masked: false,
    };
    vec![
        col("id", "int8"),
        col("amount", "float8"),
        col("customer", "text"),
        col("created_at", "timestamptz"),
        col("active", "bool"),
    ]
}

/// A deterministic 64-bit mix (SplitMix64), for reproducible synthetic values.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row `i` of the synthetic result, and its customer number.
fn row(i: usize) -> (Row, u64) {
    let h = mix(i as u64);
    let customer = h % CUSTOMERS;
    let at = time::OffsetDateTime::from_unix_timestamp(START + i as i64)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let amount = ((h >> 20) % 100_000) as f64 / 100.0;
    (
        vec![
            json!(i),
            json!(amount),
            Value::String(format!("customer-{customer:05}")),
            Value::String(at),
            Value::Bool(h & 1 == 1),
        ],
        customer,
    )
}

/// One timed pass: (time spent in the builder, the statistics, customers seen).
fn pass(columns: &[ColumnMeta], count_customers: bool) -> (Duration, DataframeStats, usize) {
    let mut builder = StatsBuilder::new(columns);
    let mut spent = Duration::ZERO;
    let mut customers = HashSet::new();
    let mut batch = Vec::with_capacity(BATCH);
    for start in (0..ROWS).step_by(BATCH) {
        batch.clear();
        for i in start..(start + BATCH).min(ROWS) {
            let (r, c) = row(i);
            if count_customers {
                customers.insert(c);
            }
            batch.push(r);
        }
        let t = Instant::now();
        builder.push_batch(&batch);
        spent += t.elapsed();
    }
    let t = Instant::now();
    let stats = builder.finish();
    spent += t.elapsed();
    (spent, stats, customers.len())
}

/// CSV export of the same rows into `io::sink`: time spent writing.
fn csv_pass(columns: &[ColumnMeta]) -> Result<Duration, String> {
    let mut csv = CsvWriter::new(std::io::sink(), columns).map_err(|e| e.to_string())?;
    let mut spent = Duration::ZERO;
    let mut batch = Vec::with_capacity(BATCH);
    for start in (0..ROWS).step_by(BATCH) {
        batch.clear();
        batch.extend((start..(start + BATCH).min(ROWS)).map(|i| row(i).0));
        let t = Instant::now();
        csv.write_rows(&batch).map_err(|e| e.to_string())?;
        spent += t.elapsed();
    }
    csv.finish().map_err(|e| e.to_string())?;
    Ok(spent)
}

/// The distinct count a column's statistics report, and whether it is an estimate.
fn distinct(stats: &DataframeStats, column: &str) -> Option<(u64, bool)> {
    let s = stats.get(column)?;
    s.string
        .as_ref()
        .map(|x| (x.distinct_count, x.distinct_approx))
        .or_else(|| {
            s.temporal
                .as_ref()
                .map(|x| (x.distinct_count, x.distinct_approx))
        })
}

pub(super) async fn run(_args: &BenchArgs) -> Outcome {
    let columns = columns();
    let mut times = Vec::new();
    let mut last = None;
    for p in 0..PASSES {
        let (spent, stats, customers) = pass(&columns, p == 0);
        times.push(ms(spent));
        if p == 0 {
            last = Some((stats, customers));
        }
    }
    let Some((stats, customers)) = last else {
        return Outcome::Failed("no pass ran".into());
    };
    let csv = match csv_pass(&columns) {
        Ok(d) => ms(d),
        Err(e) => return Outcome::Failed(format!("CSV export: {e}")),
    };
    let s = summarize(&times);
    let per_sec = |t_ms: f64| ROWS as f64 / (t_ms / 1000.0);
    let mut errors = serde_json::Map::new();
    let mut error_rows = Vec::new();
    for (column, exact) in [("customer", customers as u64), ("created_at", ROWS as u64)] {
        let Some((estimate, approx)) = distinct(&stats, column) else {
            return Outcome::Failed(format!("no distinct count for {column}"));
        };
        let error = (estimate as f64 - exact as f64) / exact as f64 * 100.0;
        error_rows.push(vec![
            column.to_owned(),
            exact.to_string(),
            estimate.to_string(),
            approx.to_string(),
            fmt(error, 2),
        ]);
        errors.insert(
            column.to_owned(),
            json!({"exact": exact, "estimate": estimate, "approx": approx, "error_pct": error}),
        );
    }
    let text = format!(
        "{}\n\n{}\n",
        render_table(
            &[
                "pass",
                "rows",
                "best ms",
                "p50 ms",
                "rows/s (best)",
                "rows/s (p50)"
            ],
            &[
                vec![
                    "stats".to_owned(),
                    ROWS.to_string(),
                    fmt(s.min, 1),
                    fmt(s.p50, 1),
                    fmt(per_sec(s.min), 0),
                    fmt(per_sec(s.p50), 0),
                ],
                vec![
                    "csv (1 pass)".to_owned(),
                    ROWS.to_string(),
                    fmt(csv, 1),
                    fmt(csv, 1),
                    fmt(per_sec(csv), 0),
                    fmt(per_sec(csv), 0),
                ],
            ],
        ),
        render_table(
            &["column", "exact distinct", "reported", "approx", "error %"],
            &error_rows,
        )
    );
    Outcome::Done {
        text,
        json: json!({
            "rows": ROWS,
            "columns": columns.len(),
            "stats_ms": s,
            "stats_rows_per_sec_best": per_sec(s.min),
            "stats_rows_per_sec_p50": per_sec(s.p50),
            "csv_ms": csv,
            "csv_rows_per_sec": per_sec(csv),
            "distinct": Value::Object(errors),
        }),
    }
}
