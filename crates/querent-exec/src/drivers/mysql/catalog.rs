//! MySQL and MariaDB: `information_schema` read in one read-only transaction.

use std::collections::HashMap;
use std::time::Duration;

use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Params, Value};
use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint,
};
use querent_domain::{ConnectionTarget, Dialect, Secret};
use tokio::time::timeout;

use crate::catalog::{IntrospectOptions, accept_samples, sampling_plan};
use crate::error::{ExecError, scrub};
use crate::millis;
use crate::target::required;

/// Extra time given to the client-side timer beyond the server's statement timeout.
const MARGIN: Duration = Duration::from_secs(2);

/// Column types whose values are sampled.
const TEXT_TYPES: &[&str] = &["char", "varchar", "tinytext", "text", "enum"];

/// Connects, reads the catalog, samples, rolls back and disconnects.
pub(crate) async fn introspect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, ExecError> {
    let database = required(target.database.as_deref(), "database", Dialect::Mysql)?;
    let mut conn = super::connect(target, password, options.connect_timeout).await?;

    let budget = options.query_timeout + MARGIN;
    let result = read(&mut conn, database, options, password, budget).await;
    if result.is_ok() {
        let _ = timeout(budget, conn.query_drop("ROLLBACK")).await;
        match timeout(budget, conn.disconnect()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "mysql disconnect failed"),
            Err(_) => tracing::debug!("mysql disconnect timed out"),
        }
    }
    result
}

/// Runs one prepared query with bound parameters, under the client-side timer.
async fn query<T: FromRow + Send + 'static>(
    conn: &mut Conn,
    sql: &str,
    params: Vec<Value>,
    password: Option<&Secret<String>>,
    budget: Duration,
) -> Result<Vec<T>, ExecError> {
    let params = if params.is_empty() {
        Params::Empty
    } else {
        Params::Positional(params)
    };
    match timeout(budget, conn.exec::<T, _, _>(sql, params)).await {
        Err(_) => Err(ExecError::Timeout(millis(budget))),
        Ok(Err(e)) => Err(ExecError::Query(scrub(super::my_message(&e), password))),
        Ok(Ok(rows)) => Ok(rows),
    }
}

/// Runs a statement without results.
async fn exec_drop(
    conn: &mut Conn,
    sql: &str,
    password: Option<&Secret<String>>,
    budget: Duration,
) -> Result<(), ExecError> {
    match timeout(budget, conn.query_drop(sql)).await {
        Err(_) => Err(ExecError::Timeout(millis(budget))),
        Ok(Err(e)) => Err(ExecError::Query(scrub(super::my_message(&e), password))),
        Ok(Ok(())) => Ok(()),
    }
}

/// `?, ?, …` for `n` bound values.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// An empty string as `None`.
fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.is_empty())
}

/// One `information_schema.TABLES` row.
type TableRow = (String, String, String, Option<String>, Option<u64>);
/// One `information_schema.COLUMNS` row.
type ColumnRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
);
/// One key column of a constraint.
type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The catalog reads and the sampling, inside one read-only transaction.
async fn read(
    conn: &mut Conn,
    database: &str,
    options: &IntrospectOptions,
    password: Option<&Secret<String>>,
    budget: Duration,
) -> Result<SchemaSnapshot, ExecError> {
    // Statement timeout: MariaDB's `max_statement_time` (seconds), else MySQL's
    // `max_execution_time` (milliseconds). Numbers, not user text.
    let ms = millis(options.query_timeout).max(1);
    let mariadb = format!("SET SESSION max_statement_time = {}", ms as f64 / 1000.0);
    if exec_drop(conn, &mariadb, password, budget).await.is_err() {
        let mysql = format!("SET SESSION max_execution_time = {ms}");
        if let Err(e) = exec_drop(conn, &mysql, password, budget).await {
            tracing::debug!(error = %e, "no statement timeout available on this server");
        }
    }
    exec_drop(conn, "START TRANSACTION READ ONLY", password, budget).await?;

    let schemas: Vec<String> = if options.schemas.is_empty() {
        vec![database.to_owned()]
    } else {
        options.schemas.clone()
    };
    let bind = || {
        schemas
            .iter()
            .map(|s| Value::from(s.as_str()))
            .collect::<Vec<_>>()
    };
    let marks = placeholders(schemas.len());

    let sql = format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT, TABLE_ROWS \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({marks}) \
         AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED') \
         ORDER BY TABLE_SCHEMA, TABLE_NAME"
    );
    let mut tables: Vec<TableInfo> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for (schema, name, kind, comment, rows) in
        query::<TableRow>(conn, &sql, bind(), password, budget).await?
    {
        let kind = if kind == "VIEW" {
            TableKind::View
        } else {
            TableKind::Table
        };
        index.insert((schema.clone(), name.clone()), tables.len());
        tables.push(TableInfo {
            schema: Some(schema),
            name,
            kind,
            // Views carry the literal comment "VIEW".
            comment: if kind == TableKind::View {
                None
            } else {
                non_empty(comment)
            },
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate: if kind == TableKind::View { None } else { rows },
        });
    }

    let sql = format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, \
         COLUMN_DEFAULT, COLUMN_COMMENT, DATA_TYPE \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN ({marks}) \
         ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"
    );
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for (schema, table, name, column_type, nullable, default, comment, data_type) in
        query::<ColumnRow>(conn, &sql, bind(), password, budget).await?
    {
        let Some(&ti) = index.get(&(schema, table)) else {
            continue;
        };
        if tables[ti].kind == TableKind::Table
            && TEXT_TYPES.contains(&data_type.to_ascii_lowercase().as_str())
        {
            candidates.push((ti, tables[ti].columns.len()));
        }
        tables[ti].columns.push(ColumnInfo {
            name,
            data_type: column_type,
            nullable: nullable.eq_ignore_ascii_case("YES"),
            default,
            comment: non_empty(comment),
            sample_values: Vec::new(),
        });
    }

    let sql = format!(
        "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, t.CONSTRAINT_TYPE, \
         k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, \
         k.REFERENCED_COLUMN_NAME \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.TABLE_CONSTRAINTS t \
           ON t.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND t.TABLE_SCHEMA = k.TABLE_SCHEMA \
          AND t.TABLE_NAME = k.TABLE_NAME AND t.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE k.TABLE_SCHEMA IN ({marks}) \
           AND t.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY') \
         ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
    );
    // Rows arrive one per key column, grouped by constraint.
    let mut current: Option<(usize, String)> = None;
    for (schema, table, constraint, ctype, column, ref_schema, ref_table, ref_column) in
        query::<KeyRow>(conn, &sql, bind(), password, budget).await?
    {
        let Some(&ti) = index.get(&(schema.clone(), table)) else {
            continue;
        };
        let same = current.as_ref() == Some(&(ti, constraint.clone()));
        current = Some((ti, constraint.clone()));
        let t = &mut tables[ti];
        match ctype.as_str() {
            "PRIMARY KEY" => t.primary_key.push(column),
            "UNIQUE" => match t.unique_constraints.last_mut() {
                Some(u) if same => u.columns.push(column),
                _ => t.unique_constraints.push(UniqueConstraint {
                    name: Some(constraint),
                    columns: vec![column],
                }),
            },
            _ => {
                let (Some(ref_table), Some(ref_column)) = (ref_table, ref_column) else {
                    continue;
                };
                match t.foreign_keys.last_mut() {
                    Some(f) if same => {
                        f.columns.push(column);
                        f.referenced_columns.push(ref_column);
                    }
                    _ => t.foreign_keys.push(ForeignKey {
                        name: Some(constraint),
                        columns: vec![column],
                        referenced_schema: ref_schema.filter(|rs| *rs != schema),
                        referenced_table: ref_table,
                        referenced_columns: vec![ref_column],
                    }),
                }
            }
        }
    }

    if options.sample_values {
        sample(conn, &mut tables, &candidates, options, password, budget).await;
    }

    Ok(SchemaSnapshot {
        dialect: Dialect::Mysql,
        database: Some(database.to_owned()),
        fingerprint: String::new(),
        taken_at: 0,
        tables,
    })
}

/// Samples distinct values of candidate columns; best effort (the first failure ends
/// sampling with a log line).
async fn sample(
    conn: &mut Conn,
    tables: &mut [TableInfo],
    candidates: &[(usize, usize)],
    options: &IntrospectOptions,
    password: Option<&Secret<String>>,
    budget: Duration,
) {
    let values_limit =
        u64::try_from(options.max_distinct_samples.saturating_add(1)).unwrap_or(u64::MAX);
    for (ti, ci) in sampling_plan(tables, candidates, options) {
        let table = &tables[ti];
        let column = Dialect::Mysql.quote_identifier(&table.columns[ci].name);
        let relation = match &table.schema {
            Some(schema) => format!(
                "{}.{}",
                Dialect::Mysql.quote_identifier(schema),
                Dialect::Mysql.quote_identifier(&table.name)
            ),
            None => Dialect::Mysql.quote_identifier(&table.name),
        };
        let sql = format!(
            "SELECT DISTINCT v FROM (SELECT CAST({column} AS CHAR) AS v FROM {relation} \
             WHERE {column} IS NOT NULL LIMIT ?) AS s ORDER BY v LIMIT ?"
        );
        let params = vec![
            Value::from(options.max_sample_rows),
            Value::from(values_limit),
        ];
        match query::<(Option<String>,)>(conn, &sql, params, password, budget).await {
            Ok(rows) => {
                let values: Vec<String> = rows.into_iter().filter_map(|(v,)| v).collect();
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
