//! `introspect`: `querent_introspect::introspect` on PostgreSQL schemas of `--tables` sizes
//! (default 1,000 and 10,000 tables of 8 columns, a foreign key on every fourth table,
//! table and column comments), generated in a fresh database `querent_bench_<random>` that
//! is dropped at the end, also when something fails. Each size is read twice: catalog only
//! (`sample_values: false`) and with value sampling (the default options). With
//! `--pg-database NAME` the benchmark uses that database instead (created when missing) and
//! keeps it, so that a second run reuses its tables rather than spending a minute on DDL.

use std::time::{Duration, Instant};

use querent_domain::{ConnectionTarget, Dialect, SslMode};
use querent_introspect::{IntrospectOptions, introspect};
use serde_json::{Value, json};
use tokio_postgres::NoTls;

use super::{BenchArgs, Outcome, fmt, render_table};

/// Tables created per `batch_execute` call.
const BATCH: usize = 500;

pub(super) async fn run(args: &BenchArgs) -> Outcome {
    let admin_conn = format!("{} dbname=postgres connect_timeout=3", args.pg);
    let admin = match tokio::time::timeout(
        Duration::from_secs(5),
        tokio_postgres::connect(&admin_conn, NoTls),
    )
    .await
    {
        Ok(Ok((client, conn))) => {
            tokio::spawn(conn);
            client
        }
        Ok(Err(e)) => {
            return Outcome::Skipped(format!("PostgreSQL unreachable ({}): {e}", args.pg));
        }
        Err(_) => {
            return Outcome::Skipped(format!("PostgreSQL unreachable ({}): timeout", args.pg));
        }
    };
    if let Some(name) = &args.pg_database {
        // A kept database: created when missing, never dropped.
        let exists = admin
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[name])
            .await
            .map_err(|e| format!("looking for database {name}: {e}"));
        match exists {
            Err(e) => return Outcome::Failed(e),
            Ok(None) => {
                let sql = format!(
                    "CREATE DATABASE {}",
                    Dialect::Postgres.quote_identifier(name)
                );
                if let Err(e) = admin.batch_execute(&sql).await {
                    return Outcome::Failed(format!("CREATE DATABASE {name}: {e}"));
                }
            }
            Ok(Some(_)) => {}
        }
        return match measure(args, name).await {
            Ok((text, json)) => Outcome::Done {
                text: format!("{text}database {name} kept (--pg-database)\n"),
                json,
            },
            Err(e) => Outcome::Failed(format!("{e} (database {name} kept)")),
        };
    }
    let name = format!(
        "querent_bench_{}_{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
    );
    if let Err(e) = admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
    {
        return Outcome::Failed(format!("CREATE DATABASE {name}: {e}"));
    }
    let result = measure(args, &name).await;
    let dropped = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    let drop_note = match dropped {
        Ok(()) => format!("database {name} dropped"),
        Err(e) => format!("could not drop database {name}: {e}"),
    };
    match result {
        Ok((text, json)) => Outcome::Done {
            text: format!("{text}{drop_note}\n"),
            json,
        },
        Err(e) => Outcome::Failed(format!("{e} ({drop_note})")),
    }
}

/// The DDL of tables `from..to`: 8 columns, comments, a foreign key to the previous table
/// on every fourth one.
pub(crate) fn ddl(from: usize, to: usize) -> String {
    let mut s = String::with_capacity((to - from) * 600);
    for i in from..to {
        let fk = if i % 4 == 3 {
            format!(" REFERENCES t{:05} (id)", i - 1)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "CREATE TABLE t{i:05} (\
             id bigint PRIMARY KEY, \
             name text NOT NULL, \
             status varchar(20), \
             amount numeric(12,2), \
             created_at timestamptz NOT NULL DEFAULT now(), \
             active boolean, \
             note text, \
             parent_id bigint{fk});\n\
             COMMENT ON TABLE t{i:05} IS 'Benchmark table number {i}';\n\
             COMMENT ON COLUMN t{i:05}.amount IS 'Amount in euros, VAT included';\n"
        ));
    }
    s
}

async fn measure(args: &BenchArgs, name: &str) -> Result<(String, Value), String> {
    let (client, conn) = tokio_postgres::connect(&format!("{} dbname={name}", args.pg), NoTls)
        .await
        .map_err(|e| format!("connect to {name}: {e}"))?;
    tokio::spawn(conn);
    let target = ConnectionTarget {
        dialect: Dialect::Postgres,
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        database: Some(name.to_owned()),
        username: Some("postgres".into()),
        path: None,
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    };
    let target = with_pg_settings(target, &args.pg);
    let mut sizes = args.tables.clone();
    sizes.sort_unstable();
    sizes.dedup();
    // Tables t00000… left by an earlier run in a kept database (`--pg-database`).
    let mut created = existing_tables(&client).await?;
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for size in sizes {
        let t = Instant::now();
        let reused = created.min(size);
        while created < size {
            let end = (created + BATCH).min(size);
            client
                .batch_execute(&ddl(created, end))
                .await
                .map_err(|e| format!("creating tables {created}..{end}: {e}"))?;
            created = end;
        }
        if reused < size {
            client
                .batch_execute("ANALYZE")
                .await
                .map_err(|e| format!("ANALYZE: {e}"))?;
        }
        let ddl_secs = t.elapsed().as_secs_f64();
        for sample in [false, true] {
            let options = IntrospectOptions {
                sample_values: sample,
                query_timeout: Duration::from_secs(300),
                ..IntrospectOptions::default()
            };
            let t = Instant::now();
            let snap = introspect(&target, None, &options)
                .await
                .map_err(|e| format!("introspecting {size} tables: {e}"))?;
            let secs = t.elapsed().as_secs_f64();
            let tables = snap.tables.len();
            let columns: usize = snap.tables.iter().map(|t| t.columns.len()).sum();
            let fks: usize = snap.tables.iter().map(|t| t.foreign_keys.len()).sum();
            rows.push(vec![
                size.to_string(),
                if sample { "yes" } else { "no" }.to_owned(),
                tables.to_string(),
                columns.to_string(),
                fks.to_string(),
                fmt(secs, 2),
                fmt(tables as f64 / secs, 0),
                if reused == size {
                    "reused".to_owned()
                } else {
                    fmt(ddl_secs, 1)
                },
            ]);
            out.push(json!({
                "tables_created": size,
                "sample_values": sample,
                "tables": tables,
                "columns": columns,
                "foreign_keys": fks,
                "secs": secs,
                "tables_per_sec": tables as f64 / secs,
                "ddl_secs": ddl_secs,
                "tables_reused": reused,
            }));
        }
    }
    let table = render_table(
        &[
            "schema size",
            "sampling",
            "tables read",
            "columns",
            "FKs",
            "introspect s",
            "tables/s",
            "DDL s (untimed)",
        ],
        &rows,
    );
    Ok((
        format!("PostgreSQL database {name}; each size adds tables to the previous one\n{table}\n"),
        json!({"database": name, "runs": out}),
    ))
}

/// How many bench tables (t00000, t00001, … without a gap) the database already has.
async fn existing_tables(client: &tokio_postgres::Client) -> Result<usize, String> {
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_catalog.pg_class \
             WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' \
               AND relname ~ '^t[0-9]{5}$' \
               AND substr(relname, 2)::int < (SELECT count(*) FROM pg_catalog.pg_class \
                   WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' \
                     AND relname ~ '^t[0-9]{5}$')",
            &[],
        )
        .await
        .map_err(|e| format!("counting existing tables: {e}"))?;
    let n: i64 = row.get(0);
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Host, port and user of the connection string, when it names them.
fn with_pg_settings(mut target: ConnectionTarget, conn: &str) -> ConnectionTarget {
    for part in conn.split_whitespace() {
        match part.split_once('=') {
            Some(("host", v)) => target.host = Some(v.to_owned()),
            Some(("port", v)) => target.port = v.parse().ok().or(target.port),
            Some(("user", v)) => target.username = Some(v.to_owned()),
            _ => {}
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddl_has_foreign_keys_to_earlier_tables_only() {
        let s = ddl(0, 8);
        assert_eq!(s.matches("CREATE TABLE").count(), 8);
        assert_eq!(s.matches("REFERENCES").count(), 2);
        assert!(s.contains("t00003 (id bigint") && s.contains("REFERENCES t00002 (id)"));
        assert!(!ddl(4, 6).contains("REFERENCES"));
    }
}
