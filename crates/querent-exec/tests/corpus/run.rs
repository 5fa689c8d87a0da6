//! The adversarial and benign corpora (`hostile.sql`, `benign.sql`, and `holdout.sql`, written
//! after the guard and kept out of its development) through the engine — guard, rewrite and
//! execution — against real PostgreSQL, MariaDB and SQLite databases seeded with protected
//! values: an excluded table (`secrets`), an excluded column (`customers.ssn`) and a masked
//! one (`customers.email`).
//!
//! Every hostile statement must be refused, or run without any protected value (or a server
//! file, path or password hash) in its rows or its error, and every database must be
//! unchanged afterwards. At least 98% of the benign statements must be accepted.

use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use querent_domain::query::{
    ColumnMeta, ExecError, QueryEngine, QueryLimits, QueryRequest, Row, RowSink, SinkClosed,
};
use querent_domain::schema::{ColumnInfo, SchemaSnapshot, TableInfo};
use querent_domain::{ConnectionId, ConnectionTarget, Dialect, PrivacyPolicy};
use querent_exec::Engine;

use super::{MY_ADDR, PG_ADDR, TempFile, my, mysql_root, pg, service_available, sqlite};

const HOSTILE: &str = include_str!("hostile.sql");
const BENIGN: &str = include_str!("benign.sql");
const HOLDOUT: &str = include_str!("holdout.sql");

/// Values that must never come out.
const PROTECTED: &[&str] = &[
    "SSN-",
    "alice@secret",
    "bob@secret",
    "secret.example",
    "TOPSECRET",
    "root:x:0:0",
];

const TABLES: &[(&str, &[&str])] = &[
    (
        "customers",
        &["id", "name", "email", "city", "ssn", "signup"],
    ),
    (
        "orders",
        &["id", "customer_id", "total", "status", "ordered_at"],
    ),
    ("products", &["id", "name", "price", "category"]),
    ("order_items", &["order_id", "product_id", "quantity"]),
    ("secrets", &["id", "secret_value"]),
    ("flags", &["id", "read", "only", "key", "note"]),
];

const ROWS: &[&str] = &[
    "INSERT INTO customers VALUES (1, 'Alice', 'alice@secret.example', 'Paris', 'SSN-111-22-3333', '2024-01-05')",
    "INSERT INTO customers VALUES (2, 'Bob', 'bob@secret.example', 'Lyon', 'SSN-444-55-6666', '2024-02-10')",
    "INSERT INTO customers VALUES (3, 'Cy', NULL, NULL, 'SSN-777-88-9999', '2024-03-15')",
    "INSERT INTO orders VALUES (1, 1, 25.50, 'paid', '2024-03-01 10:00:00')",
    "INSERT INTO orders VALUES (2, 1, 10.00, 'shipped', '2024-04-02 11:30:00')",
    "INSERT INTO orders VALUES (3, 2, 99.90, 'paid', '2024-05-03 09:15:00')",
    "INSERT INTO products VALUES (1, 'Pen', 2.50, 'office')",
    "INSERT INTO products VALUES (2, 'Desk', 120.00, 'furniture')",
    "INSERT INTO order_items VALUES (1, 1, 3)",
    "INSERT INTO order_items VALUES (1, 2, 1)",
    "INSERT INTO order_items VALUES (3, 2, 2)",
    "INSERT INTO secrets VALUES (1, 'TOPSECRET-42')",
    "INSERT INTO flags VALUES (1, 1, 0, 7, 'alice@secret.example')",
];

fn create_tables(dialect: Dialect) -> Vec<String> {
    let (text, num, ts) = match dialect {
        Dialect::Postgres => ("text", "numeric(10,2)", "timestamp"),
        Dialect::Mysql => ("varchar(200)", "decimal(10,2)", "datetime"),
        Dialect::Sqlite => ("TEXT", "REAL", "TEXT"),
    };
    let date = if dialect == Dialect::Sqlite {
        "TEXT"
    } else {
        "date"
    };
    vec![
        format!(
            "CREATE TABLE customers (id int PRIMARY KEY, name {text}, email {text}, city {text}, ssn {text}, signup {date})"
        ),
        format!(
            "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total {num}, status {text}, ordered_at {ts})"
        ),
        format!(
            "CREATE TABLE products (id int PRIMARY KEY, name {text}, price {num}, category {text})"
        ),
        "CREATE TABLE order_items (order_id int, product_id int, quantity int)".into(),
        format!("CREATE TABLE secrets (id int PRIMARY KEY, secret_value {text})"),
        // Columns named like reserved words of one dialect or another.
        {
            let q = if dialect == Dialect::Mysql { '`' } else { '"' };
            format!(
                "CREATE TABLE flags (id int PRIMARY KEY, {q}read{q} int, {q}only{q} int, {q}key{q} int, note {text})"
            )
        },
    ]
}

fn policy() -> PrivacyPolicy {
    PrivacyPolicy {
        excluded_tables: vec!["secrets".into()],
        excluded_columns: vec!["customers.ssn".into()],
        masked_column_patterns: vec!["*email*".into(), "flags.note".into()],
        row_filters: Vec::new(),
    }
}

fn snapshot(dialect: Dialect, schema: Option<&str>) -> SchemaSnapshot {
    let mut s = SchemaSnapshot {
        dialect,
        database: None,
        fingerprint: String::new(),
        taken_at: querent_domain::now_millis(),
        tables: TABLES
            .iter()
            .map(|(name, cols)| {
                let columns = cols.iter().map(|c| ColumnInfo::plain(c, "any")).collect();
                TableInfo::plain(schema, name, columns)
            })
            .collect(),
    };
    s.normalize();
    s
}

/// The statements of a corpus for one dialect.
fn statements(corpus: &str, dialect: Dialect, db: &str) -> Vec<String> {
    let letter = match dialect {
        Dialect::Postgres => 'p',
        Dialect::Mysql => 'm',
        Dialect::Sqlite => 's',
    };
    let mut on = false;
    let mut out = Vec::new();
    for line in corpus.lines() {
        if let Some(set) = line.strip_prefix("## ") {
            on = set.contains(letter);
        } else if line.starts_with('#') || line.trim().is_empty() {
            continue;
        } else if on {
            out.push(line.replace("{NL}", "\n").replace("{DB}", db));
        }
    }
    out
}

/// Keeps the rows (as JSON text) a statement returned.
#[derive(Default)]
struct Keep {
    text: String,
}

#[async_trait]
impl RowSink for Keep {
    async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        for c in columns {
            self.text.push_str(&c.name);
            self.text.push(' ');
        }
        Ok(())
    }
    async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed> {
        for row in batch {
            self.text
                .push_str(&serde_json::Value::Array(row).to_string());
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Tally {
    refused: usize,
    ran: usize,
    db_errors: usize,
    /// The statements the database refused, with its message.
    errors: Vec<String>,
    leaks: Vec<String>,
}

struct Target {
    dialect: Dialect,
    target: ConnectionTarget,
    schema: SchemaSnapshot,
    /// Strings of the server that must not come out either (data directory…).
    server: Vec<String>,
}

async fn run_corpus(engine: &Engine, t: &Target, sqls: &[String]) -> (Tally, Vec<String>) {
    let id = ConnectionId::new();
    let policy = policy();
    let mut tally = Tally::default();
    let mut accepted = Vec::new();
    for sql in sqls {
        let mut sink = Keep::default();
        let request = QueryRequest {
            connection_id: id,
            target: &t.target,
            password: None,
            schema: &t.schema,
            policy: &policy,
            limits: QueryLimits::new(50, Duration::from_millis(3000), Duration::from_secs(3)),
            sql,
        };
        let (seen, refused) = match engine.run(request, &mut sink).await {
            Ok(_) => {
                tally.ran += 1;
                accepted.push(sql.clone());
                (sink.text, false)
            }
            Err(ExecError::Rejected(r)) => {
                tally.refused += 1;
                (r.message, true)
            }
            Err(e) => {
                tally.db_errors += 1;
                tally.errors.push(format!("{sql} -> {e}"));
                accepted.push(sql.clone());
                let detail = match &e {
                    ExecError::Query(db) => format!(
                        "{e} {} {} {}",
                        db.detail.clone().unwrap_or_default(),
                        db.hint.clone().unwrap_or_default(),
                        db.for_provider(sql)
                    ),
                    _ => e.to_string(),
                };
                (format!("{} {detail}", sink.text), false)
            }
        };
        // A refusal message quotes the statement's own names, never data.
        if refused {
            continue;
        }
        // What the statement itself spells out is not a leak (`WHERE email = '…'`).
        for p in PROTECTED
            .iter()
            .map(|s| s.to_string())
            .chain(t.server.iter().cloned())
        {
            if seen.contains(&p) && !sql.contains(&p) {
                tally
                    .leaks
                    .push(format!("{:?} {sql:?} -> {}", t.dialect, truncate(&seen)));
                break;
            }
        }
    }
    engine.forget(id);
    (tally, accepted)
}

fn truncate(s: &str) -> String {
    s.chars().take(300).collect()
}

// ------------------------------------------------------------------ databases

async fn pg_client(db: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port=5432 user=postgres dbname={db}"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    client
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// What a database holds: every table's rows, in order, and the list of tables.
async fn pg_state(client: &tokio_postgres::Client) -> String {
    let mut out = String::new();
    let tables = client
        .query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    for t in tables {
        let name: String = t.get(0);
        let rows = client
            .query(&format!("SELECT t::text FROM {name} t ORDER BY 1"), &[])
            .await
            .unwrap();
        out.push_str(&name);
        for r in rows {
            out.push_str(&r.get::<_, String>(0));
        }
    }
    out
}

async fn my_state(db: &str) -> String {
    let mut root = mysql_root().await;
    let tables: Vec<String> = root
        .query(format!(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = '{db}' ORDER BY 1"
        ))
        .await
        .unwrap();
    let mut out = String::new();
    for t in tables {
        let rows: Vec<mysql_async::Row> = root
            .query(format!("SELECT * FROM {db}.{t} ORDER BY 1"))
            .await
            .unwrap();
        out.push_str(&t);
        for r in rows {
            out.push_str(&format!("{r:?}"));
        }
    }
    root.disconnect().await.unwrap();
    out
}

fn sqlite_state(path: &std::path::Path) -> String {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = String::new();
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in names.iter().filter(|n| !n.starts_with("sqlite_")) {
        out.push_str(t);
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\" ORDER BY 1"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..n {
                out.push_str(&format!(
                    "{:?}",
                    r.get::<_, rusqlite::types::Value>(i).unwrap()
                ));
            }
        }
    }
    out
}

/// Runs the three corpora on one target; returns a printable summary and the failures.
async fn exercise(t: &Target) -> (String, Vec<String>) {
    let engine = Engine::new();
    let db = t.target.database.clone().unwrap_or_default();
    let mut failures = Vec::new();
    let mut summary = format!("{:?}:", t.dialect);
    for (name, corpus) in [("hostile", HOSTILE), ("holdout", HOLDOUT)] {
        let sqls = statements(corpus, t.dialect, &db);
        let (tally, _) = run_corpus(&engine, t, &sqls).await;
        summary.push_str(&format!(
            " {name} {} (refused {}, ran {}, database errors {}, leaks {});",
            sqls.len(),
            tally.refused,
            tally.ran,
            tally.db_errors,
            tally.leaks.len()
        ));
        failures.extend(tally.leaks);
    }
    let benign = statements(BENIGN, t.dialect, &db);
    let (tally, accepted) = run_corpus(&engine, t, &benign).await;
    let refused: Vec<&String> = benign.iter().filter(|s| !accepted.contains(s)).collect();
    // A benign statement counts only when it ran: accepted but failing in the database
    // (say, a reserved word printed unquoted) is a failure too.
    if (tally.ran as f64) < 0.98 * benign.len() as f64 {
        failures.push(format!(
            "{:?}: only {} of {} benign statements ran (database errors: {})",
            t.dialect,
            tally.ran,
            benign.len(),
            tally.db_errors
        ));
    }
    summary.push_str(&format!(
        " benign {} (accepted {}, ran {}, database errors {})",
        benign.len(),
        accepted.len(),
        tally.ran,
        tally.db_errors
    ));
    if (accepted.len() as f64) < 0.98 * benign.len() as f64 {
        failures.push(format!(
            "{:?}: benign statements refused: {refused:#?}",
            t.dialect
        ));
    }
    for r in &refused {
        eprintln!("{:?} benign refused: {r}", t.dialect);
    }
    for e in &tally.errors {
        eprintln!("{:?} benign failed in the database: {e}", t.dialect);
    }
    (summary, failures)
}

#[tokio::test]
async fn corpus_on_postgres() {
    if !service_available("PostgreSQL", PG_ADDR).await {
        return;
    }
    let name = unique("querent_corpus");
    pg_client("test")
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let client = pg_client(&name).await;
    for s in create_tables(Dialect::Postgres).iter().chain(
        ROWS.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .iter(),
    ) {
        client.batch_execute(s).await.unwrap();
    }
    client
        .batch_execute(
            "CREATE SEQUENCE orders_id_seq;
             CREATE FUNCTION evil() RETURNS int LANGUAGE plpgsql AS
             $$ BEGIN DELETE FROM secrets; RETURN 1; END $$;",
        )
        .await
        .unwrap();
    let data_dir: String = client
        .query_one("SELECT current_setting('data_directory')", &[])
        .await
        .unwrap()
        .get(0);
    let before = pg_state(&client).await;
    let mut target = pg();
    target.database = Some(name.clone());
    let t = Target {
        dialect: Dialect::Postgres,
        target,
        schema: snapshot(Dialect::Postgres, Some("public")),
        server: vec![data_dir],
    };
    let (summary, failures) = exercise(&t).await;
    let after = pg_state(&client).await;
    drop(client);
    pg_client("test")
        .await
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    eprintln!("{summary}");
    assert_eq!(before, after, "the database changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn corpus_on_mariadb() {
    if !service_available("MariaDB", MY_ADDR).await {
        return;
    }
    let name = unique("querent_corpus");
    let mut root = mysql_root().await;
    root.query_drop(format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    root.query_drop(format!("USE {name}")).await.unwrap();
    for s in create_tables(Dialect::Mysql) {
        root.query_drop(s).await.unwrap();
    }
    for s in ROWS {
        root.query_drop(*s).await.unwrap();
    }
    root.query_drop(
        "CREATE FUNCTION evil() RETURNS INT DETERMINISTIC MODIFIES SQL DATA
         BEGIN DELETE FROM secrets; RETURN 1; END",
    )
    .await
    .unwrap();
    let data_dir: Option<String> = root.query_first("SELECT @@datadir").await.unwrap();
    root.disconnect().await.unwrap();
    let before = my_state(&name).await;
    let mut target = my();
    target.database = Some(name.clone());
    let t = Target {
        dialect: Dialect::Mysql,
        target,
        schema: snapshot(Dialect::Mysql, Some(&name)),
        server: data_dir.into_iter().collect(),
    };
    let (summary, failures) = exercise(&t).await;
    let after = my_state(&name).await;
    let mut root = mysql_root().await;
    root.query_drop(format!(
        "SET SESSION lock_wait_timeout = 20; DROP DATABASE {name}"
    ))
    .await
    .unwrap();
    root.disconnect().await.unwrap();
    eprintln!("{summary}");
    assert_eq!(before, after, "the database changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn corpus_on_sqlite() {
    let file = TempFile::new("sqlite");
    {
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        for s in create_tables(Dialect::Sqlite) {
            conn.execute_batch(&s).unwrap();
        }
        for s in ROWS {
            conn.execute_batch(s).unwrap();
        }
    }
    let before = sqlite_state(&file.0);
    let t = Target {
        dialect: Dialect::Sqlite,
        target: sqlite(&file.0),
        schema: snapshot(Dialect::Sqlite, None),
        server: Vec::new(),
    };
    let (summary, failures) = exercise(&t).await;
    let after = sqlite_state(&file.0);
    eprintln!("{summary}");
    assert_eq!(before, after, "the database changed");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
