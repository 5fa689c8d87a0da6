//! PostgreSQL: `pg_catalog` read in one read-only, repeatable-read transaction.

use std::collections::HashMap;
use std::time::Duration;

use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint,
};
use querent_domain::{ConnectionTarget, Dialect, Secret};
use tokio::time::timeout;
use tokio_postgres::types::{FromSql, ToSql};
use tokio_postgres::{Client, Row};

use crate::catalog::{IntrospectOptions, accept_samples, sampling_plan};
use crate::error::{ExecError, chain, scrub};
use crate::millis;
use crate::target::required;

/// Extra time given to the client-side timer beyond the server's statement timeout.
const MARGIN: Duration = Duration::from_secs(2);

/// Tables, partitioned tables, views, materialized views and foreign tables (partitions are
/// left out: their parent stands for them).
const RELATIONS: &str = "\
SELECT n.nspname::text, c.relname::text, c.relkind::text,
       obj_description(c.oid, 'pg_class'), c.reltuples::float8,
       has_table_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname::text = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
ORDER BY 1, 2";

/// Every visible column of those relations, in ordinal order.
const COLUMNS: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_catalog.pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum),
       t.typcategory::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname::text = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, 2, a.attnum";

/// Primary key, unique and foreign key constraints, with their column lists unnested and
/// re-aggregated in key order, plus unique indexes that back no constraint (plain column
/// lists only: partial and expression indexes are left out).
const CONSTRAINTS: &str = "\
SELECT n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord),
       fn.nspname::text, fc.relname::text,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE n.nspname::text = ANY($1::text[])
  AND con.contype IN ('p', 'u', 'f')
  AND NOT c.relispartition
UNION ALL
SELECT n.nspname::text, c.relname::text, ic.relname::text, 'u',
       ARRAY(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts
             ORDER BY k.ord),
       NULL, NULL, ARRAY[]::text[]
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE n.nspname::text = ANY($1::text[])
  AND i.indisunique AND NOT i.indisprimary
  AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x WHERE x.conindid = i.indexrelid)
ORDER BY 1, 2, 3";

/// Connects, reads the catalog, samples, rolls back and disconnects.
pub(crate) async fn introspect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, ExecError> {
    let database = required(target.database.as_deref(), "database", Dialect::Postgres)?;
    let (client, driver) = super::connect(
        target,
        password,
        options.connect_timeout,
        "querent-introspect",
    )
    .await?;

    let session = Session {
        client: &client,
        password,
        budget: options.query_timeout + MARGIN,
    };
    let result = read(&session, database, options).await;
    if result.is_ok() {
        // Nothing was written; the rollback only ends the transaction politely.
        let _ = session.batch("ROLLBACK").await;
    }
    drop(client);
    if result.is_err() {
        driver.abort();
    }
    result
}

/// A client plus what every query needs.
struct Session<'a> {
    client: &'a Client,
    password: Option<&'a Secret<String>>,
    budget: Duration,
}

impl Session<'_> {
    /// Runs statements without results.
    async fn batch(&self, sql: &str) -> Result<(), ExecError> {
        match timeout(self.budget, self.client.batch_execute(sql)).await {
            Err(_) => Err(ExecError::Timeout(millis(self.budget))),
            Ok(Err(e)) => Err(ExecError::Query(scrub(
                super::pg_message(&e),
                self.password,
            ))),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Runs one query with bound parameters.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, ExecError> {
        match timeout(self.budget, self.client.query(sql, params)).await {
            Err(_) => Err(ExecError::Timeout(millis(self.budget))),
            Ok(Err(e)) => Err(ExecError::Query(scrub(
                super::pg_message(&e),
                self.password,
            ))),
            Ok(Ok(rows)) => Ok(rows),
        }
    }
}

/// Reads a column of a catalog row.
fn get<'a, T: FromSql<'a>>(row: &'a Row, idx: usize) -> Result<T, ExecError> {
    row.try_get(idx)
        .map_err(|e| ExecError::Query(format!("unexpected catalog value: {}", chain(&e))))
}

/// The catalog reads and the sampling, inside one read-only transaction.
async fn read(
    s: &Session<'_>,
    database: &str,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, ExecError> {
    // A number, not user text: safe to format into the statement.
    let timeout_ms = millis(options.query_timeout).max(1);
    s.batch(&format!(
        "BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
         SET LOCAL statement_timeout = {timeout_ms}"
    ))
    .await?;

    let schemas: Vec<String> = if options.schemas.is_empty() {
        vec!["public".to_owned()]
    } else {
        options.schemas.clone()
    };

    let mut tables: Vec<TableInfo> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut selectable: Vec<bool> = Vec::new();
    for row in s.query(RELATIONS, &[&schemas]).await? {
        let schema: String = get(&row, 0)?;
        let name: String = get(&row, 1)?;
        let relkind: String = get(&row, 2)?;
        let kind = match relkind.as_str() {
            "v" => TableKind::View,
            "m" => TableKind::MaterializedView,
            _ => TableKind::Table,
        };
        let reltuples: Option<f64> = get(&row, 4)?;
        let row_estimate = match (kind, reltuples) {
            (TableKind::View, _) => None,
            // -1 (PostgreSQL 14+): never vacuumed or analysed.
            (_, Some(n)) if n >= 0.0 => Some(n.round() as u64),
            _ => None,
        };
        index.insert((schema.clone(), name.clone()), tables.len());
        selectable.push(get::<bool>(&row, 5)? && matches!(relkind.as_str(), "r" | "p"));
        tables.push(TableInfo {
            schema: Some(schema),
            name,
            kind,
            comment: get(&row, 3)?,
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate,
        });
    }

    // (table index, column index) of string-like columns worth sampling.
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for row in s.query(COLUMNS, &[&schemas]).await? {
        let key = (get::<String>(&row, 0)?, get::<String>(&row, 1)?);
        let Some(&ti) = index.get(&key) else { continue };
        let category: String = get(&row, 7)?;
        if selectable[ti] && (category == "S" || category == "E") {
            candidates.push((ti, tables[ti].columns.len()));
        }
        tables[ti].columns.push(ColumnInfo {
            name: get(&row, 2)?,
            data_type: get(&row, 3)?,
            nullable: get(&row, 4)?,
            default: get(&row, 5)?,
            comment: get(&row, 6)?,
            sample_values: Vec::new(),
        });
    }

    for row in s.query(CONSTRAINTS, &[&schemas]).await? {
        let key = (get::<String>(&row, 0)?, get::<String>(&row, 1)?);
        let Some(&ti) = index.get(&key) else { continue };
        let name: String = get(&row, 2)?;
        let contype: String = get(&row, 3)?;
        let columns: Vec<String> = get(&row, 4)?;
        let table = &mut tables[ti];
        match contype.as_str() {
            "p" => table.primary_key = columns,
            "u" => table.unique_constraints.push(UniqueConstraint {
                name: Some(name),
                columns,
            }),
            _ => {
                let ref_schema: Option<String> = get(&row, 5)?;
                let ref_table: Option<String> = get(&row, 6)?;
                let Some(referenced_table) = ref_table else {
                    continue;
                };
                table.foreign_keys.push(ForeignKey {
                    name: Some(name),
                    columns,
                    referenced_schema: ref_schema.filter(|rs| *rs != key.0),
                    referenced_table,
                    referenced_columns: get(&row, 7)?,
                });
            }
        }
    }

    if options.sample_values {
        sample(s, &mut tables, &candidates, options).await;
    }

    Ok(SchemaSnapshot {
        dialect: Dialect::Postgres,
        database: Some(database.to_owned()),
        fingerprint: String::new(),
        taken_at: 0,
        tables,
    })
}

/// Samples distinct values of candidate columns. Best effort: the first failure (which
/// aborts the transaction in PostgreSQL) ends sampling with a log line, keeping what was
/// read so far.
async fn sample(
    s: &Session<'_>,
    tables: &mut [TableInfo],
    candidates: &[(usize, usize)],
    options: &IntrospectOptions,
) {
    let rows_limit = i64::try_from(options.max_sample_rows).unwrap_or(i64::MAX);
    let values_limit =
        i64::try_from(options.max_distinct_samples.saturating_add(1)).unwrap_or(i64::MAX);
    for (ti, ci) in sampling_plan(tables, candidates, options) {
        let table = &tables[ti];
        let column = Dialect::Postgres.quote_identifier(&table.columns[ci].name);
        let relation = format!(
            "{}.{}",
            Dialect::Postgres.quote_identifier(table.schema.as_deref().unwrap_or("public")),
            Dialect::Postgres.quote_identifier(&table.name)
        );
        let sql = format!(
            "SELECT DISTINCT v FROM (SELECT {column}::text AS v FROM {relation} \
             WHERE {column} IS NOT NULL LIMIT $1) AS s ORDER BY v LIMIT $2"
        );
        match s.query(&sql, &[&rows_limit, &values_limit]).await {
            Ok(rows) => {
                let values: Vec<String> = rows
                    .iter()
                    .filter_map(|r| r.try_get::<_, String>(0).ok())
                    .collect();
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
