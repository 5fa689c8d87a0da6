//! Shared by the Spider examples (querent-semantic's `linking_recall`, querent-offline's
//! `drafted_model_effect`, included with `#[path]`): a `SchemaSnapshot` of a Spider SQLite
//! database — tables, columns, primary and foreign keys, and the values of low-cardinality
//! text columns — as the introspector would build it.

use std::collections::HashMap;

use querent_domain::Dialect;
use querent_domain::schema::{ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind};
use rusqlite::Connection;

/// Text columns with at most this many distinct values are sampled, all of them: the
/// introspector's `max_distinct_samples` (10 by default), or `QUERENT_SAMPLES=<n>` to
/// measure another setting (the examples' figures before 2026-12-07 were taken with 50).
fn low_cardinality() -> i64 {
    std::env::var("QUERENT_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn snapshot(path: &str) -> rusqlite::Result<SchemaSnapshot> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut names: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, type FROM sqlite_master WHERE type IN ('table','view') \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    names.dedup();
    let mut tables = Vec::new();
    for (name, kind) in names {
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let cols: Vec<(String, String, bool, Option<String>, i64)> = conn
            .prepare(&format!("PRAGMA table_info({})", quote(&name)))?
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, i64>(3)? == 0,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        for (cname, ty, nullable, default, pkpos) in cols {
            if pkpos > 0 {
                pk.push((pkpos, cname.clone()));
            }
            let lower = ty.to_lowercase();
            let texty = lower.is_empty()
                || lower.contains("char")
                || lower.contains("text")
                || lower.contains("clob")
                || lower.contains("varchar")
                // (SQLite keeps a boolean as written: 'T'/'F' as often as 1/0.)
                || lower.contains("bool");
            let mut sample_values = Vec::new();
            if texty {
                let qc = quote(&cname);
                let distinct: i64 = conn
                    .query_row(
                        &format!("SELECT COUNT(DISTINCT {qc}) FROM {}", quote(&name)),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap_or(i64::MAX);
                if distinct <= low_cardinality() {
                    let sql = format!(
                        "SELECT CAST({qc} AS TEXT) AS v, COUNT(*) AS n FROM {} WHERE {qc} IS NOT NULL \
                         GROUP BY v ORDER BY n DESC, v",
                        quote(&name)
                    );
                    if let Ok(mut st) = conn.prepare(&sql) {
                        sample_values = st
                            .query_map([], |r| r.get::<_, Option<String>>(0))
                            .map(|rows| rows.flatten().flatten().collect())
                            .unwrap_or_default();
                    }
                }
            }
            columns.push(ColumnInfo {
                name: cname,
                data_type: ty,
                nullable,
                default,
                comment: None,
                sample_values,
            });
        }
        pk.sort();
        let mut fks: HashMap<i64, ForeignKey> = HashMap::new();
        let rows: Vec<(i64, String, String, Option<String>)> = conn
            .prepare(&format!("PRAGMA foreign_key_list({})", quote(&name)))?
            .query_map([], |r| Ok((r.get(0)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<Result<_, _>>()?;
        for (id, table, from, to) in rows {
            let fk = fks.entry(id).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                referenced_schema: None,
                referenced_table: table,
                referenced_columns: Vec::new(),
            });
            fk.columns.push(from);
            fk.referenced_columns.push(to.unwrap_or_default());
        }
        let mut foreign_keys: Vec<ForeignKey> = fks.into_values().collect();
        foreign_keys.sort_by(|a, b| a.columns.cmp(&b.columns));
        tables.push(TableInfo {
            schema: None,
            name,
            kind: if kind == "view" {
                TableKind::View
            } else {
                TableKind::Table
            },
            comment: None,
            columns,
            primary_key: pk.into_iter().map(|(_, c)| c).collect(),
            unique_constraints: Vec::new(),
            foreign_keys,
            row_estimate: None,
        });
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
