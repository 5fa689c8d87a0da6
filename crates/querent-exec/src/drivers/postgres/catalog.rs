//! PostgreSQL: `pg_catalog` read in one read-only, repeatable-read transaction.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::TryStreamExt as _;
use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint,
};
use querent_domain::{ConnectionTarget, Dialect, Secret};
use tokio::time::timeout;
use tokio_postgres::types::{FromSql, ToSql, Type};
use tokio_postgres::{Client, Row};

use crate::catalog::{IntrospectOptions, accept_samples, sampling_plan};
use crate::error::{ExecError, chain, scrub};
use crate::millis;
use crate::target::required;

/// Extra time given to the client-side timer beyond the server's statement timeout.
const MARGIN: Duration = Duration::from_secs(2);

/// Tables, partitioned tables, views, materialized views and foreign tables (partitions are
/// left out: their parent stands for them). The comment is joined from `pg_description`
/// rather than read with `obj_description`, a SQL function run once per row (a third of a
/// second for 10,000 tables); the privilege is only asked when values will be sampled ($2).
const RELATIONS: &str = "\
SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text,
       ds.description, c.reltuples::float8,
       $2::bool AND has_table_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_description ds
       ON ds.objoid = c.oid AND ds.classoid = 'pg_catalog.pg_class'::regclass
      AND ds.objsubid = 0
WHERE n.nspname::text = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
ORDER BY 2, 3";

/// Every visible column of those relations, by relation oid and attribute number (put in
/// order by the reader: a server-side sort of 80,000 rows spilled to disk). Defaults are
/// deparsed without naming their relation unless they refer to a column (generated
/// columns): `pg_get_expr` with a relation opens it, 30 µs per default. Comments are
/// joined, not read with `col_description` once per column.
const COLUMNS: &str = "\
SELECT a.attrelid, a.attnum, a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       CASE WHEN ad.adbin IS NULL THEN NULL
            WHEN ad.adbin::text LIKE '%{VAR %' THEN pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
            ELSE pg_catalog.pg_get_expr(ad.adbin, 0) END,
       ds.description, t.typcategory::text
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_catalog.pg_description ds
       ON ds.objoid = a.attrelid AND ds.classoid = 'pg_catalog.pg_class'::regclass
      AND ds.objsubid = a.attnum
WHERE n.nspname::text = ANY($1::text[])
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped";

/// Primary key, unique and foreign key constraints with their key columns as attribute
/// numbers (named by the reader from the columns it read, in key order), plus unique
/// indexes that back no constraint (plain column lists only: partial and expression indexes
/// are left out; the key columns are the first `indnkeyatts`).
const CONSTRAINTS: &str = "\
SELECT con.conrelid, con.conname::text, con.contype::text, con.conkey,
       con.confrelid, con.confkey
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname::text = ANY($1::text[])
  AND con.contype IN ('p', 'u', 'f')
  AND NOT c.relispartition
UNION ALL
SELECT i.indrelid, ic.relname::text, 'u',
       ARRAY(SELECT k.attnum
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             WHERE k.ord <= i.indnkeyatts
             ORDER BY k.ord),
       0::oid, NULL
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE n.nspname::text = ANY($1::text[])
  AND i.indisunique AND NOT i.indisprimary
  AND i.indpred IS NULL AND i.indexprs IS NULL
  AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint x WHERE x.conindid = i.indexrelid)
ORDER BY 1, 2";

/// Schema, name and columns of relations that foreign keys refer to outside the relations
/// read (another schema, a partition of a partitioned table).
const REFERENCED: &str = "\
SELECT c.oid, n.nspname::text, c.relname::text, a.attnum, a.attname::text
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
WHERE c.oid = ANY($1::oid[])";

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

/// Bound parameters with their types (so that a query is one round trip: no separate
/// prepare).
type Params<'a> = [(&'a (dyn ToSql + Sync), Type)];

impl Session<'_> {
    /// The error of a failed statement, without the password.
    fn failed(&self, e: &tokio_postgres::Error) -> ExecError {
        ExecError::Query(scrub(super::pg_message(e), self.password))
    }

    /// Runs statements without results.
    async fn batch(&self, sql: &str) -> Result<(), ExecError> {
        match timeout(self.budget, self.client.batch_execute(sql)).await {
            Err(_) => Err(ExecError::Timeout(millis(self.budget))),
            Ok(Err(e)) => Err(self.failed(&e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Runs one query with bound parameters.
    async fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, ExecError> {
        match timeout(self.budget, self.client.query_typed(sql, params)).await {
            Err(_) => Err(ExecError::Timeout(millis(self.budget))),
            Ok(Err(e)) => Err(self.failed(&e)),
            Ok(Ok(rows)) => Ok(rows),
        }
    }

    /// Runs [`COLUMNS`] and decodes its rows as they arrive, so that decoding (80,000
    /// rows for 10,000 tables) overlaps the server's work instead of following it.
    async fn columns(&self, params: &Params<'_>) -> Result<Vec<ColumnRow>, ExecError> {
        let read = async {
            let stream = self
                .client
                .query_typed_raw(COLUMNS, params.iter().map(|(v, t)| (*v, t.clone())))
                .await
                .map_err(|e| self.failed(&e))?;
            let mut stream = std::pin::pin!(stream);
            let mut columns = Vec::new();
            while let Some(row) = stream.try_next().await.map_err(|e| self.failed(&e))? {
                let category: &str = get(&row, 7)?;
                columns.push((
                    get(&row, 0)?,
                    get(&row, 1)?,
                    ColumnInfo {
                        name: get(&row, 2)?,
                        data_type: get(&row, 3)?,
                        nullable: get(&row, 4)?,
                        default: get(&row, 5)?,
                        comment: get(&row, 6)?,
                        sample_values: Vec::new(),
                    },
                    category == "S" || category == "E",
                ));
            }
            Ok(columns)
        };
        match timeout(self.budget, read).await {
            Err(_) => Err(ExecError::Timeout(millis(self.budget))),
            Ok(result) => result,
        }
    }
}

/// A row of [`COLUMNS`]: relation oid, attribute number, the column, and whether it is
/// string-like (worth sampling).
type ColumnRow = (u32, i16, ColumnInfo, bool);

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
    // A number, not user text: safe to format into the statement. JIT is off: the
    // constraint query's estimated cost crosses `jit_above_cost` on large catalogs, and
    // compiling it took longer than running it.
    let timeout_ms = millis(options.query_timeout).max(1);
    s.batch(&format!(
        "BEGIN; SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; \
         SET LOCAL statement_timeout = {timeout_ms}; SET LOCAL jit = off"
    ))
    .await?;

    let schemas: Vec<String> = if options.schemas.is_empty() {
        vec!["public".to_owned()]
    } else {
        options.schemas.clone()
    };

    // The three reads go out together (pipelined on the connection).
    let by_schema: [(&(dyn ToSql + Sync), Type); 1] = [(&schemas, Type::TEXT_ARRAY)];
    let relations_params: [(&(dyn ToSql + Sync), Type); 2] = [
        (&schemas, Type::TEXT_ARRAY),
        (&options.sample_values, Type::BOOL),
    ];
    let (relations, columns, constraints) = tokio::try_join!(
        s.query(RELATIONS, &relations_params),
        s.columns(&by_schema),
        s.query(CONSTRAINTS, &by_schema),
    )?;

    let mut tables: Vec<TableInfo> = Vec::with_capacity(relations.len());
    let mut index: HashMap<u32, usize> = HashMap::with_capacity(relations.len());
    let mut selectable: Vec<bool> = Vec::with_capacity(relations.len());
    for row in &relations {
        let relkind: String = get(row, 3)?;
        let kind = match relkind.as_str() {
            "v" => TableKind::View,
            "m" => TableKind::MaterializedView,
            _ => TableKind::Table,
        };
        let reltuples: Option<f64> = get(row, 5)?;
        let row_estimate = match (kind, reltuples) {
            (TableKind::View, _) => None,
            // -1 (PostgreSQL 14+): never vacuumed or analysed.
            (_, Some(n)) if n >= 0.0 => Some(n.round() as u64),
            _ => None,
        };
        index.insert(get(row, 0)?, tables.len());
        selectable.push(get::<bool>(row, 6)? && matches!(relkind.as_str(), "r" | "p"));
        tables.push(TableInfo {
            schema: Some(get(row, 1)?),
            name: get(row, 2)?,
            kind,
            comment: get(row, 4)?,
            columns: Vec::new(),
            primary_key: Vec::new(),
            unique_constraints: Vec::new(),
            foreign_keys: Vec::new(),
            row_estimate,
        });
    }
    drop(relations);

    // (table index, attribute number, column, string-like) in table and ordinal order.
    let mut found: Vec<(usize, i16, ColumnInfo, bool)> = Vec::with_capacity(columns.len());
    for (oid, attnum, column, stringy) in columns {
        let Some(&ti) = index.get(&oid) else {
            continue;
        };
        found.push((ti, attnum, column, stringy));
    }
    found.sort_unstable_by_key(|&(ti, attnum, ..)| (ti, attnum));
    // Attribute numbers of each table's columns, for naming key columns.
    let mut attnums: Vec<Vec<i16>> = vec![Vec::new(); tables.len()];
    // (table index, column index) of string-like columns worth sampling.
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for (ti, attnum, column, stringy) in found {
        if selectable[ti] && stringy {
            candidates.push((ti, tables[ti].columns.len()));
        }
        attnums[ti].push(attnum);
        tables[ti].columns.push(column);
    }

    add_constraints(s, &mut tables, &index, &attnums, &constraints).await?;

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

/// The names of the columns with these attribute numbers, in key order.
fn key_names(columns: &[ColumnInfo], attnums: &[i16], key: &[i16]) -> Vec<String> {
    key.iter()
        .filter_map(|k| attnums.iter().position(|a| a == k))
        .map(|i| columns[i].name.clone())
        .collect()
}

/// Schema, name, and (attribute number, name) pairs of a relation outside those read.
type Referenced = (String, String, Vec<(i16, String)>);

/// Puts the primary keys, unique constraints and foreign keys of the constraint rows
/// (ordered by table and name) on their tables. Relations that foreign keys refer to
/// outside those read are looked up in one more query.
async fn add_constraints(
    s: &Session<'_>,
    tables: &mut [TableInfo],
    index: &HashMap<u32, usize>,
    attnums: &[Vec<i16>],
    rows: &[Row],
) -> Result<(), ExecError> {
    let mut outside: Vec<u32> = Vec::new();
    for row in rows {
        let conrelid: u32 = get(row, 0)?;
        let confrelid: u32 = get(row, 4)?;
        if index.contains_key(&conrelid) && confrelid != 0 && !index.contains_key(&confrelid) {
            outside.push(confrelid);
        }
    }
    let mut referenced: HashMap<u32, Referenced> = HashMap::new();
    if !outside.is_empty() {
        outside.sort_unstable();
        outside.dedup();
        let params: [(&(dyn ToSql + Sync), Type); 1] = [(&outside, Type::OID_ARRAY)];
        for row in s.query(REFERENCED, &params).await? {
            let entry = referenced
                .entry(get(&row, 0)?)
                .or_insert_with(|| (String::new(), String::new(), Vec::new()));
            entry.0 = get(&row, 1)?;
            entry.1 = get(&row, 2)?;
            entry.2.push((get(&row, 3)?, get(&row, 4)?));
        }
    }

    for row in rows {
        let Some(&ti) = index.get(&get::<u32>(row, 0)?) else {
            continue;
        };
        let name: String = get(row, 1)?;
        let contype: &str = get(row, 2)?;
        let key: Vec<i16> = get(row, 3)?;
        let columns = key_names(&tables[ti].columns, &attnums[ti], &key);
        match contype {
            "p" => tables[ti].primary_key = columns,
            "u" => tables[ti].unique_constraints.push(UniqueConstraint {
                name: Some(name),
                columns,
            }),
            _ => {
                let confrelid: u32 = get(row, 4)?;
                let fkey: Vec<i16> = get::<Option<Vec<i16>>>(row, 5)?.unwrap_or_default();
                let (ref_schema, referenced_table, referenced_columns) =
                    if let Some(&ri) = index.get(&confrelid) {
                        let r = &tables[ri];
                        (
                            r.schema.clone(),
                            r.name.clone(),
                            key_names(&r.columns, &attnums[ri], &fkey),
                        )
                    } else if let Some((schema, table, cols)) = referenced.get(&confrelid) {
                        let names = fkey
                            .iter()
                            .filter_map(|k| cols.iter().find(|(a, _)| a == k))
                            .map(|(_, n)| n.clone())
                            .collect();
                        (Some(schema.clone()), table.clone(), names)
                    } else {
                        continue;
                    };
                let table = &mut tables[ti];
                let own_schema = table.schema.clone();
                table.foreign_keys.push(ForeignKey {
                    name: Some(name),
                    columns,
                    referenced_schema: ref_schema.filter(|rs| Some(rs) != own_schema.as_ref()),
                    referenced_table,
                    referenced_columns,
                });
            }
        }
    }
    Ok(())
}

/// Sampling queries sent together (pipelined on the connection, answered in order).
const SAMPLE_PIPELINE: usize = 16;

/// Samples distinct values of candidate columns. Best effort: the first failure (which
/// aborts the transaction in PostgreSQL) ends sampling with a log line, keeping what was
/// read so far. The queries go out [`SAMPLE_PIPELINE`] at a time, each with the statement
/// timeout (the client waits for a group as long as for its queries one after the other).
async fn sample(
    s: &Session<'_>,
    tables: &mut [TableInfo],
    candidates: &[(usize, usize)],
    options: &IntrospectOptions,
) {
    let rows_limit = i64::try_from(options.max_sample_rows).unwrap_or(i64::MAX);
    let values_limit =
        i64::try_from(options.max_distinct_samples.saturating_add(1)).unwrap_or(i64::MAX);
    let params: [(&(dyn ToSql + Sync), Type); 2] =
        [(&rows_limit, Type::INT8), (&values_limit, Type::INT8)];
    let plan = sampling_plan(tables, candidates, options);
    for group in plan.chunks(SAMPLE_PIPELINE) {
        let sqls: Vec<String> = group
            .iter()
            .map(|&(ti, ci)| sample_sql(&tables[ti], &tables[ti].columns[ci].name))
            .collect();
        let queries = sqls.iter().map(|sql| s.client.query_typed(sql, &params));
        let budget = s.budget * u32::try_from(group.len()).unwrap_or(u32::MAX);
        let Ok(results) = timeout(budget, futures_util::future::join_all(queries)).await else {
            let error = ExecError::Timeout(millis(budget));
            tracing::warn!(table = %tables[group[0].0].name, error = %error, "sampling stopped");
            return;
        };
        for (&(ti, ci), result) in group.iter().zip(results) {
            match result {
                Ok(rows) => {
                    let values: Vec<String> = rows
                        .iter()
                        .filter_map(|r| r.try_get::<_, String>(0).ok())
                        .collect();
                    tables[ti].columns[ci].sample_values =
                        accept_samples(values, options.max_distinct_samples);
                }
                Err(e) => {
                    let error = s.failed(&e);
                    tracing::warn!(table = %tables[ti].name, error = %error, "sampling stopped");
                    return;
                }
            }
        }
    }
}

/// The bounded query for the distinct values of one column.
fn sample_sql(table: &TableInfo, column: &str) -> String {
    let column = Dialect::Postgres.quote_identifier(column);
    let relation = format!(
        "{}.{}",
        Dialect::Postgres.quote_identifier(table.schema.as_deref().unwrap_or("public")),
        Dialect::Postgres.quote_identifier(&table.name)
    );
    format!(
        "SELECT DISTINCT v FROM (SELECT {column}::text AS v FROM {relation} \
         WHERE {column} IS NOT NULL LIMIT $1) AS s ORDER BY v LIMIT $2"
    )
}
