//! SQLite: `sqlite_master` joined with the `pragma_*` table-valued functions, on a
//! connection opened read-only with `query_only`, on tokio's blocking pool.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint,
};
use querent_domain::{ConnectionTarget, Dialect};
use rusqlite::{Connection, params};
use tokio::time::timeout;

use crate::catalog::{IntrospectOptions, accept_samples, sampling_plan};
use crate::error::ExecError;
use crate::millis;
use crate::target::required;

/// Extra time given to the blocking work beyond the configured timeouts.
const MARGIN: Duration = Duration::from_secs(2);

/// Opens the file read-only and reads it. The whole read (catalog and samples) is bounded by
/// the query timeout: when it passes, the running statement is interrupted.
pub(crate) async fn introspect(
    target: &ConnectionTarget,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, ExecError> {
    let path = PathBuf::from(required(target.path.as_deref(), "path", Dialect::Sqlite)?);
    let busy = options.connect_timeout;
    let budget = busy + MARGIN;
    let conn = match timeout(
        budget,
        tokio::task::spawn_blocking(move || open(&path, busy)),
    )
    .await
    {
        Err(_) => return Err(ExecError::Timeout(millis(budget))),
        Ok(Err(join)) => {
            return Err(ExecError::Connection(format!(
                "sqlite worker failed: {join}"
            )));
        }
        Ok(Ok(result)) => result?,
    };
    let interrupt = conn.get_interrupt_handle();
    let opts = options.clone();
    let task = tokio::task::spawn_blocking(move || read(&conn, &opts));
    match timeout(options.query_timeout, task).await {
        Err(_) => {
            interrupt.interrupt();
            Err(ExecError::Timeout(millis(options.query_timeout)))
        }
        Ok(Err(join)) => Err(ExecError::Query(format!("sqlite worker failed: {join}"))),
        Ok(Ok(result)) => result,
    }
}

/// Opens an existing file read-only (never creating it) and proves it is a database.
#[allow(clippy::disallowed_methods)] // runs on the blocking pool
fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, ExecError> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(ExecError::Connection(format!(
                "sqlite: {shown} is not a regular file"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ExecError::Connection(format!(
                "sqlite: database file {shown} does not exist"
            )));
        }
        Err(e) => {
            return Err(ExecError::Connection(format!(
                "sqlite: cannot access {shown}: {e}"
            )));
        }
    }
    // As querent-exec opens target files: read-only, never through a symbolic link, the
    // file's schema untrusted (views and triggers cannot call unsafe functions).
    let conn = Connection::open_with_flags(path, super::target_open_flags())
        .map_err(|e| ExecError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    super::harden_target_connection(&conn)
        .map_err(|e| ExecError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    conn.busy_timeout(busy_timeout)
        .map_err(|e| ExecError::Connection(format!("sqlite: {e}")))?;
    conn.execute_batch("PRAGMA query_only = ON")
        .map_err(|e| ExecError::Connection(format!("sqlite: {e}")))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| ExecError::Connection(format!("sqlite: cannot read {shown}: {e}")))?;
    Ok(conn)
}

/// A catalog query error.
fn q(e: rusqlite::Error) -> ExecError {
    ExecError::Query(format!("sqlite: {e}"))
}

/// Whether a declared type has SQLite's TEXT affinity.
fn text_affinity(declared: &str) -> bool {
    let t = declared.to_ascii_uppercase();
    !t.contains("INT") && (t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT"))
}

/// Whether a column's values are worth sampling: text, and booleans, which SQLite stores
/// as whatever was written (`'T'`/`'F'`, `'Y'`/`'N'`, `1`/`0`), so that a question's
/// "male singers" compares with the stored yes.
fn sampled_affinity(declared: &str) -> bool {
    text_affinity(declared) || declared.to_ascii_uppercase().contains("BOOL")
}

/// Reads every requested schema (`main` by default).
fn read(conn: &Connection, options: &IntrospectOptions) -> Result<SchemaSnapshot, ExecError> {
    let schemas: Vec<String> = if options.schemas.is_empty() {
        vec!["main".to_owned()]
    } else {
        options.schemas.clone()
    };
    let mut tables = Vec::new();
    let mut candidates = Vec::new();
    for schema in &schemas {
        read_schema(conn, schema, &mut tables, &mut candidates)?;
    }
    if options.sample_values {
        sample(conn, &mut tables, &candidates, options);
    }
    Ok(SchemaSnapshot {
        dialect: Dialect::Sqlite,
        database: None,
        fingerprint: String::new(),
        taken_at: 0,
        tables,
    })
}

/// Reads one schema with four queries (relations, columns, foreign keys, unique indexes).
#[allow(clippy::too_many_lines)] // four catalog reads and their assembly
fn read_schema(
    conn: &Connection,
    schema: &str,
    tables: &mut Vec<TableInfo>,
    candidates: &mut Vec<(usize, usize)>,
) -> Result<(), ExecError> {
    let master = format!("{}.sqlite_master", Dialect::Sqlite.quote_identifier(schema));
    let shown_schema = (schema != "main").then(|| schema.to_owned());
    let user_tables = r"m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'";

    let mut index: HashMap<String, usize> = HashMap::new();
    let sql =
        format!("SELECT m.name, m.type FROM {master} AS m WHERE {user_tables} ORDER BY m.name");
    let mut stmt = conn.prepare(&sql).map_err(q)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(q)?;
    for row in rows {
        let (name, kind) = row.map_err(q)?;
        index.insert(name.clone(), tables.len());
        tables.push(TableInfo {
            schema: shown_schema.clone(),
            name,
            kind: if kind == "view" {
                TableKind::View
            } else {
                TableKind::Table
            },
            comment: None,
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: None,
        });
    }

    let sql = format!(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
         FROM {master} AS m JOIN pragma_table_info(m.name, ?1) AS p \
         WHERE {user_tables} ORDER BY m.name, p.cid"
    );
    let mut stmt = conn.prepare(&sql).map_err(q)?;
    let rows = stmt
        .query_map(params![schema], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .map_err(q)?;
    let mut pk_parts: HashMap<usize, Vec<(i64, String)>> = HashMap::new();
    for row in rows {
        let (table, name, declared, notnull, default, pk) = row.map_err(q)?;
        let Some(&ti) = index.get(&table) else {
            continue;
        };
        let declared = declared.unwrap_or_default();
        if pk > 0 {
            pk_parts.entry(ti).or_default().push((pk, name.clone()));
        }
        if tables[ti].kind == TableKind::Table && sampled_affinity(&declared) {
            candidates.push((ti, tables[ti].columns.len()));
        }
        tables[ti].columns.push(ColumnInfo {
            name,
            data_type: declared,
            // Primary key columns are reported as NOT NULL (as SQLite enforces for
            // INTEGER PRIMARY KEY and every sane schema intends).
            nullable: notnull == 0 && pk == 0,
            default,
            comment: None,
            sample_values: Vec::new(),
        });
    }
    for (ti, mut parts) in pk_parts {
        parts.sort();
        tables[ti].primary_key = parts.into_iter().map(|(_, n)| n).collect();
    }

    let sql = format!(
        "SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\" \
         FROM {master} AS m JOIN pragma_foreign_key_list(m.name, ?1) AS f \
         WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq"
    );
    let mut stmt = conn.prepare(&sql).map_err(q)?;
    let rows = stmt
        .query_map(params![schema], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(q)?;
    let mut current: Option<(usize, i64)> = None;
    // Foreign keys that name no referenced columns point at the referenced primary key.
    let mut implicit: Vec<(usize, usize)> = Vec::new();
    for row in rows {
        let (table, id, ref_table, from, to) = row.map_err(q)?;
        let Some(&ti) = index.get(&table) else {
            continue;
        };
        let same = current == Some((ti, id));
        current = Some((ti, id));
        let fks = &mut tables[ti].foreign_keys;
        if !same {
            fks.push(ForeignKey {
                name: None,
                columns: Vec::new(),
                referenced_schema: None,
                referenced_table: ref_table,
                referenced_columns: Vec::new(),
            });
        }
        let Some(fk) = fks.last_mut() else { continue };
        fk.columns.push(from);
        match to {
            Some(to) => fk.referenced_columns.push(to),
            None if !same => implicit.push((ti, fks.len() - 1)),
            None => {}
        }
    }
    for (ti, fi) in implicit {
        let referenced = tables[ti].foreign_keys[fi].referenced_table.clone();
        let pk = index
            .get(&referenced)
            .map(|&ri| tables[ri].primary_key.clone())
            .unwrap_or_default();
        tables[ti].foreign_keys[fi].referenced_columns = pk;
    }

    let sql = format!(
        "SELECT m.name, il.name, il.origin, ii.name \
         FROM {master} AS m JOIN pragma_index_list(m.name, ?1) AS il \
         JOIN pragma_index_info(il.name, ?1) AS ii \
         WHERE m.type = 'table' AND il.\"unique\" = 1 AND il.origin IN ('u', 'c') \
           AND il.partial = 0 \
         ORDER BY m.name, il.name, ii.seqno"
    );
    let mut stmt = conn.prepare(&sql).map_err(q)?;
    let rows = stmt
        .query_map(params![schema], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .map_err(q)?;
    let mut uniques: Vec<(usize, String, String, Vec<Option<String>>)> = Vec::new();
    for row in rows {
        let (table, index_name, origin, column) = row.map_err(q)?;
        let Some(&ti) = index.get(&table) else {
            continue;
        };
        match uniques.last_mut() {
            Some((t, n, _, cols)) if *t == ti && *n == index_name => cols.push(column),
            _ => uniques.push((ti, index_name, origin, vec![column])),
        }
    }
    for (ti, index_name, origin, cols) in uniques {
        // Expression indexes (a column without a name) are not column constraints.
        let Some(columns) = cols.into_iter().collect::<Option<Vec<String>>>() else {
            continue;
        };
        tables[ti].unique_constraints.push(UniqueConstraint {
            // Constraint-backed indexes get generated names (`sqlite_autoindex_…`).
            name: (origin == "c").then_some(index_name),
            columns,
        });
    }
    Ok(())
}

/// Samples distinct text values of candidate columns; best effort (the first failure
/// ends sampling with a log line).
fn sample(
    conn: &Connection,
    tables: &mut [TableInfo],
    candidates: &[(usize, usize)],
    options: &IntrospectOptions,
) {
    let rows_limit = i64::try_from(options.max_sample_rows).unwrap_or(i64::MAX);
    let values_limit =
        i64::try_from(options.max_distinct_samples.saturating_add(1)).unwrap_or(i64::MAX);
    for (ti, ci) in sampling_plan(tables, candidates, options) {
        let table = &tables[ti];
        let column = Dialect::Sqlite.quote_identifier(&table.columns[ci].name);
        let relation = format!(
            "{}.{}",
            Dialect::Sqlite.quote_identifier(table.schema.as_deref().unwrap_or("main")),
            Dialect::Sqlite.quote_identifier(&table.name)
        );
        let sql = format!(
            "SELECT DISTINCT v FROM (SELECT {column} AS v FROM {relation} \
             WHERE typeof({column}) = 'text' LIMIT ?1) ORDER BY v LIMIT ?2"
        );
        let result = conn.prepare(&sql).and_then(|mut stmt| {
            stmt.query_map(params![rows_limit, values_limit], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<String>, _>>()
        });
        match result {
            Ok(values) => {
                tables[ti].columns[ci].sample_values =
                    accept_samples(values, options.max_distinct_samples);
            }
            Err(e) => {
                tracing::warn!(table = %tables[ti].name, error = %e, "sampling stopped");
                return;
            }
        }
    }
}
