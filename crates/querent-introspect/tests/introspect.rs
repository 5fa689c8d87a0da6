//! Introspection against real databases: PostgreSQL at 127.0.0.1:5432 (user `postgres`,
//! trust auth), MariaDB/MySQL at 127.0.0.1:3306 (`root`, empty password) and SQLite files.
//! A missing service skips its test with a message, unless `QUERENT_REQUIRE_SERVICES=1`.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use std::time::Duration;

use mysql_async::prelude::Queryable;
use querent_domain::{ConnectionTarget, Dialect, Secret, SslMode};
use querent_introspect::{
    IntrospectError, IntrospectOptions, SchemaSnapshot, TableInfo, TableKind, introspect,
};

/// Skips (or, when services are required, fails) a test whose service is missing, through
/// querent-test-gate.
fn skip(reason: &str) {
    querent_test_gate::missing("a database server", reason);
}

fn unique_db_name() -> String {
    format!("querent_i_{}", uuid::Uuid::new_v4().simple())
}

fn options() -> IntrospectOptions {
    IntrospectOptions {
        connect_timeout: Duration::from_secs(5),
        query_timeout: Duration::from_secs(10),
        ..IntrospectOptions::default()
    }
}

fn no_samples() -> IntrospectOptions {
    IntrospectOptions {
        sample_values: false,
        ..options()
    }
}

fn table<'a>(s: &'a SchemaSnapshot, name: &str) -> &'a TableInfo {
    s.table(None, name)
        .unwrap_or_else(|| panic!("table {name} missing from {:#?}", s.tables))
}

fn col_names(t: &TableInfo) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// Assertions shared by every dialect: the same logical schema was created in each.
fn check_common(s: &SchemaSnapshot, with_comments: bool) {
    let names: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    for expected in [
        "customers",
        "products",
        "orders",
        "order_items",
        "big_orders",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    // Sorted by schema then name.
    let mut sorted = s.tables.clone();
    sorted.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    assert_eq!(sorted, s.tables);
    assert_eq!(s.fingerprint.len(), 16);
    assert!(s.taken_at > 0);

    let customers = table(s, "customers");
    assert_eq!(customers.kind, TableKind::Table);
    assert_eq!(col_names(customers), ["id", "email", "segment", "name"]);
    assert_eq!(customers.primary_key, ["id"]);
    assert!(!customers.column("id").unwrap().nullable);
    assert!(!customers.column("email").unwrap().nullable);
    assert!(customers.column("name").unwrap().nullable);
    assert!(
        customers
            .column("segment")
            .unwrap()
            .default
            .as_deref()
            .is_some_and(|d| d.contains("retail")),
        "{customers:#?}"
    );
    assert_eq!(customers.unique_constraints.len(), 1, "{customers:#?}");
    assert_eq!(customers.unique_constraints[0].columns, ["email"]);

    let products = table(s, "products");
    assert_eq!(products.unique_constraints.len(), 1, "{products:#?}");
    assert_eq!(products.unique_constraints[0].columns, ["sku", "category"]);

    let orders = table(s, "orders");
    assert_eq!(orders.foreign_keys.len(), 1);
    assert_eq!(orders.foreign_keys[0].columns, ["customer_id"]);
    assert_eq!(orders.foreign_keys[0].referenced_table, "customers");
    assert_eq!(orders.foreign_keys[0].referenced_columns, ["id"]);
    assert_eq!(orders.foreign_keys[0].referenced_schema, None);

    let items = table(s, "order_items");
    assert_eq!(items.primary_key, ["order_id", "product_id"]);
    let fks: Vec<(&[String], &str, &[String])> = items
        .foreign_keys
        .iter()
        .map(|f| {
            (
                f.columns.as_slice(),
                f.referenced_table.as_str(),
                f.referenced_columns.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        fks,
        [
            (&strings(&["order_id"])[..], "orders", &strings(&["id"])[..]),
            (
                &strings(&["product_id"])[..],
                "products",
                &strings(&["id"])[..]
            ),
        ]
    );

    let view = table(s, "big_orders");
    assert_eq!(view.kind, TableKind::View);
    assert_eq!(col_names(view), ["id", "status"]);
    assert_eq!(view.row_estimate, None);

    if with_comments {
        assert_eq!(customers.comment.as_deref(), Some("People who buy"));
        assert_eq!(
            customers.column("segment").unwrap().comment.as_deref(),
            Some("Market segment")
        );
        assert_eq!(customers.column("email").unwrap().comment, None);
        assert_eq!(products.comment, None);
    } else {
        assert!(s.tables.iter().all(|t| t.comment.is_none()));
    }
}

/// Samples present: low-cardinality text columns only.
fn check_samples(s: &SchemaSnapshot) {
    let customers = table(s, "customers");
    assert_eq!(
        customers.column("segment").unwrap().sample_values,
        ["retail", "wholesale"]
    );
    // Twelve distinct e-mails: more than ten, so not a low-cardinality column.
    assert!(customers.column("email").unwrap().sample_values.is_empty());
    // Not text.
    assert!(customers.column("id").unwrap().sample_values.is_empty());
    assert_eq!(
        table(s, "orders").column("status").unwrap().sample_values,
        ["new", "paid", "shipped"]
    );
    // Views are never sampled.
    assert!(
        table(s, "big_orders")
            .columns
            .iter()
            .all(|c| c.sample_values.is_empty())
    );
}

fn check_no_samples(s: &SchemaSnapshot) {
    assert!(
        s.tables
            .iter()
            .flat_map(|t| &t.columns)
            .all(|c| c.sample_values.is_empty())
    );
}

/// Rows shared by every dialect (plain SQL that all three accept).
fn seed_rows() -> Vec<String> {
    let mut stmts = Vec::new();
    for i in 1..=12 {
        let segment = if i % 3 == 0 { "wholesale" } else { "retail" };
        stmts.push(format!(
            "INSERT INTO customers (id, email, segment, name) VALUES ({i}, 'c{i}@example.com', '{segment}', NULL)"
        ));
    }
    stmts.push(
        "INSERT INTO products (id, sku, category) VALUES (1, 'A-1', 'tools'), (2, 'B-2', 'toys')"
            .to_owned(),
    );
    for (i, status) in ["new", "paid", "shipped", "paid"].iter().enumerate() {
        let id = i + 1;
        stmts.push(format!(
            "INSERT INTO orders (id, customer_id, status) VALUES ({id}, {id}, '{status}')"
        ));
    }
    stmts.push(
        "INSERT INTO order_items (order_id, product_id, quantity) VALUES (1, 1, 2), (2, 2, 1)"
            .to_owned(),
    );
    stmts
}

// ---------------------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------------------

const PG_SCHEMA: &str = r#"
CREATE TABLE customers (
    id integer PRIMARY KEY,
    email text NOT NULL UNIQUE,
    segment text NOT NULL DEFAULT 'retail',
    name varchar(80)
);
COMMENT ON TABLE customers IS 'People who buy';
COMMENT ON COLUMN customers.segment IS 'Market segment';
CREATE TABLE products (
    id integer PRIMARY KEY,
    sku text NOT NULL,
    category text,
    price numeric(10, 2),
    CONSTRAINT products_sku_category UNIQUE (sku, category)
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE order_items (
    order_id bigint REFERENCES orders (id),
    product_id integer REFERENCES products (id),
    quantity integer NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE VIEW big_orders AS SELECT id, status FROM orders;
CREATE UNIQUE INDEX orders_customer_created ON orders (customer_id, created_at);
CREATE UNIQUE INDEX products_lower_sku ON products (lower(sku));
CREATE UNIQUE INDEX orders_paid_once ON orders (customer_id) WHERE status = 'paid';
CREATE TABLE "we""ird" ("co""l" text);
INSERT INTO "we""ird" VALUES ('x'), ('y');
CREATE SCHEMA other;
CREATE TABLE other.hidden (id integer PRIMARY KEY);
"#;

fn pg_target(database: &str) -> ConnectionTarget {
    ConnectionTarget {
        dialect: Dialect::Postgres,
        host: Some("127.0.0.1".to_owned()),
        port: Some(5432),
        database: Some(database.to_owned()),
        username: Some("postgres".to_owned()),
        path: None,
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    }
}

async fn pg_client(database: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut config = tokio_postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(5432)
        .user("postgres")
        .dbname(database)
        .connect_timeout(Duration::from_secs(3));
    let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(client)
}

#[tokio::test]
async fn postgres_snapshot() {
    let admin = match pg_client("postgres").await {
        Ok(c) => c,
        Err(e) => return skip(&format!("PostgreSQL at 127.0.0.1:5432 unavailable: {e}")),
    };
    let db = unique_db_name();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    // Run the body in its own task so the database is dropped even when it panics.
    let outcome = tokio::spawn(postgres_body(db.clone())).await;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn postgres_body(db: String) {
    let client = pg_client(&db).await.unwrap();
    client.batch_execute(PG_SCHEMA).await.unwrap();
    for stmt in seed_rows() {
        client.batch_execute(&stmt).await.unwrap();
    }
    client.batch_execute("ANALYZE").await.unwrap();

    let target = pg_target(&db);
    let s = introspect(&target, None, &options()).await.unwrap();
    assert_eq!(s.dialect, Dialect::Postgres);
    assert_eq!(s.database.as_deref(), Some(db.as_str()));
    check_common(&s, true);
    check_samples(&s);
    assert!(
        s.tables
            .iter()
            .all(|t| t.schema.as_deref() == Some("public"))
    );
    assert!(
        s.table(None, "hidden").is_none(),
        "only `public` by default"
    );

    let customers = table(&s, "customers");
    let types: Vec<&str> = customers
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(types, ["integer", "text", "text", "character varying(80)"]);
    assert_eq!(
        customers.unique_constraints[0].name.as_deref(),
        Some("customers_email_key")
    );
    assert_eq!(customers.row_estimate, Some(12));
    assert_eq!(
        table(&s, "orders").column("created_at").unwrap().data_type,
        "timestamp with time zone"
    );
    assert_eq!(
        table(&s, "products").column("price").unwrap().data_type,
        "numeric(10,2)"
    );
    assert_eq!(table(&s, "big_orders").comment, None);
    // A plain unique index counts; expression and partial ones do not.
    let order_uniques: Vec<_> = table(&s, "orders")
        .unique_constraints
        .iter()
        .map(|u| (u.name.as_deref(), u.columns.clone()))
        .collect();
    assert_eq!(
        order_uniques,
        [(
            Some("orders_customer_created"),
            strings(&["customer_id", "created_at"])
        )]
    );
    // Identifiers with quotes in them are quoted, not interpolated.
    assert_eq!(table(&s, "we\"ird").columns[0].name, "co\"l");
    assert_eq!(table(&s, "we\"ird").columns[0].sample_values, ["x", "y"]);

    // Stable across reads, independent of samples; other schemas on request.
    let again = introspect(&target, None, &no_samples()).await.unwrap();
    check_no_samples(&again);
    check_common(&again, true);
    assert_eq!(again.fingerprint, s.fingerprint);
    let both = IntrospectOptions {
        schemas: vec!["public".to_owned(), "other".to_owned()],
        ..options()
    };
    let wide = introspect(&target, None, &both).await.unwrap();
    assert_eq!(
        wide.table(Some("other"), "hidden").unwrap().primary_key,
        ["id"]
    );
    assert_ne!(wide.fingerprint, s.fingerprint);

    // Comments and data do not move the fingerprint; structure does.
    client
        .batch_execute(
            "COMMENT ON TABLE products IS 'Things we sell'; \
             INSERT INTO customers (id, email, segment) VALUES (99, 'z@example.com', 'vip')",
        )
        .await
        .unwrap();
    let commented = introspect(&target, None, &options()).await.unwrap();
    assert_eq!(commented.fingerprint, s.fingerprint);
    client
        .batch_execute("ALTER TABLE products ADD COLUMN weight integer")
        .await
        .unwrap();
    let altered = introspect(&target, None, &options()).await.unwrap();
    assert_ne!(altered.fingerprint, s.fingerprint);
    assert!(table(&altered, "products").column("weight").is_some());
}

#[tokio::test]
async fn postgres_errors_are_clear() {
    if pg_client("postgres").await.is_err() {
        return skip("PostgreSQL at 127.0.0.1:5432 unavailable");
    }
    let missing = unique_db_name();
    let pw = Secret::new("never-show-this-pw".to_owned());
    match introspect(&pg_target(&missing), Some(&pw), &options()).await {
        Err(IntrospectError::Connection(m)) => {
            assert!(m.contains("does not exist"), "{m}");
            assert!(!m.contains("never-show-this-pw"));
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    let mut no_host = pg_target("x");
    no_host.host = None;
    match introspect(&no_host, None, &options()).await {
        Err(IntrospectError::InvalidTarget(m)) => assert!(m.contains("host"), "{m}"),
        other => panic!("expected InvalidTarget, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// MySQL / MariaDB
// ---------------------------------------------------------------------------------------

const MY_SCHEMA: &str = r#"
CREATE TABLE customers (
    id INT NOT NULL PRIMARY KEY,
    email VARCHAR(100) NOT NULL UNIQUE,
    segment VARCHAR(20) NOT NULL DEFAULT 'retail' COMMENT 'Market segment',
    name VARCHAR(80)
) ENGINE=InnoDB COMMENT='People who buy';
CREATE TABLE products (
    id INT NOT NULL PRIMARY KEY,
    sku VARCHAR(40) NOT NULL,
    category VARCHAR(40),
    price DECIMAL(10, 2),
    CONSTRAINT products_sku_category UNIQUE (sku, category)
) ENGINE=InnoDB;
CREATE TABLE orders (
    id BIGINT NOT NULL PRIMARY KEY,
    customer_id INT NOT NULL,
    status ENUM('new', 'paid', 'shipped') NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
) ENGINE=InnoDB;
CREATE TABLE order_items (
    order_id BIGINT NOT NULL,
    product_id INT NOT NULL,
    quantity INT NOT NULL,
    PRIMARY KEY (order_id, product_id),
    FOREIGN KEY (order_id) REFERENCES orders (id),
    FOREIGN KEY (product_id) REFERENCES products (id)
) ENGINE=InnoDB;
CREATE VIEW big_orders AS SELECT id, status FROM orders;
CREATE TABLE `we``ird` (`co``l` VARCHAR(10));
INSERT INTO `we``ird` VALUES ('x'), ('y');
"#;

fn my_target(database: &str) -> ConnectionTarget {
    ConnectionTarget {
        dialect: Dialect::Mysql,
        host: Some("127.0.0.1".to_owned()),
        port: Some(3306),
        database: Some(database.to_owned()),
        username: Some("root".to_owned()),
        path: None,
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    }
}

async fn my_conn(database: Option<&str>) -> Result<mysql_async::Conn, mysql_async::Error> {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(3306)
        .user(Some("root"))
        .db_name(database)
        .prefer_socket(false);
    tokio::time::timeout(Duration::from_secs(3), mysql_async::Conn::new(opts))
        .await
        .map_err(|_| mysql_async::Error::Other("connect timed out".into()))?
}

#[tokio::test]
async fn mysql_snapshot() {
    let mut admin = match my_conn(None).await {
        Ok(c) => c,
        Err(e) => return skip(&format!("MariaDB/MySQL at 127.0.0.1:3306 unavailable: {e}")),
    };
    let db = unique_db_name();
    admin
        .query_drop(format!("CREATE DATABASE `{db}`"))
        .await
        .unwrap();
    let outcome = tokio::spawn(mysql_body(db.clone())).await;
    admin
        .query_drop(format!(
            "SET SESSION lock_wait_timeout = 20; DROP DATABASE IF EXISTS `{db}`"
        ))
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn mysql_body(db: String) {
    let mut conn = my_conn(Some(&db)).await.unwrap();
    conn.query_drop(MY_SCHEMA).await.unwrap();
    for stmt in seed_rows() {
        conn.query_drop(stmt).await.unwrap();
    }

    let target = my_target(&db);
    let s = introspect(&target, None, &options()).await.unwrap();
    assert_eq!(s.dialect, Dialect::Mysql);
    check_common(&s, true);
    check_samples(&s);
    assert!(
        s.tables
            .iter()
            .all(|t| t.schema.as_deref() == Some(db.as_str()))
    );

    let customers = table(&s, "customers");
    let types: Vec<&str> = customers
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    // MySQL 8.0.19+ drops the display width that MariaDB prints.
    assert!(types[0] == "int(11)" || types[0] == "int", "{types:?}");
    assert_eq!(types[1..], ["varchar(100)", "varchar(20)", "varchar(80)"]);
    assert!(customers.row_estimate.is_some());
    assert_eq!(
        table(&s, "orders").column("status").unwrap().data_type,
        "enum('new','paid','shipped')"
    );
    assert_eq!(
        table(&s, "orders").foreign_keys[0].name.as_deref(),
        Some("orders_customer_fk")
    );
    assert_eq!(table(&s, "we`ird").columns[0].name, "co`l");
    assert_eq!(table(&s, "we`ird").columns[0].sample_values, ["x", "y"]);

    let again = introspect(&target, None, &no_samples()).await.unwrap();
    check_no_samples(&again);
    check_common(&again, true);
    assert_eq!(again.fingerprint, s.fingerprint);

    conn.query_drop("ALTER TABLE products ADD COLUMN weight INT")
        .await
        .unwrap();
    let altered = introspect(&target, None, &options()).await.unwrap();
    assert_ne!(altered.fingerprint, s.fingerprint);
    assert!(table(&altered, "products").column("weight").is_some());

    // A wrong password: the server's message, never the password.
    let pw = Secret::new("never-show-this-pw".to_owned());
    match introspect(&target, Some(&pw), &options()).await {
        Err(IntrospectError::Connection(m)) => {
            assert!(m.contains("Access denied"), "{m}");
            assert!(!m.contains("never-show-this-pw"), "{m}");
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    let _ = conn.disconnect().await;
}

// ---------------------------------------------------------------------------------------
// SQLite
// ---------------------------------------------------------------------------------------

const SQLITE_SCHEMA: &str = r#"
PRAGMA foreign_keys = ON;
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    segment TEXT NOT NULL DEFAULT 'retail',
    name VARCHAR(80)
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    category TEXT,
    price NUMERIC(10, 2),
    UNIQUE (sku, category)
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE order_items (
    order_id INTEGER REFERENCES orders,
    product_id INTEGER REFERENCES products (id),
    quantity INTEGER NOT NULL,
    PRIMARY KEY (order_id, product_id)
);
CREATE VIEW big_orders AS SELECT id, status FROM orders;
CREATE TABLE "we""ird" ("co""l" TEXT);
INSERT INTO "we""ird" VALUES ('x'), ('y');
"#;

fn sqlite_target(path: &std::path::Path) -> ConnectionTarget {
    ConnectionTarget {
        dialect: Dialect::Sqlite,
        host: None,
        port: None,
        database: None,
        username: None,
        path: Some(path.display().to_string()),
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    }
}

#[tokio::test]
async fn sqlite_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SQLITE_SCHEMA).unwrap();
        for stmt in seed_rows() {
            conn.execute_batch(&stmt).unwrap();
        }
    }
    let before = std::fs::read(&path).unwrap();
    let target = sqlite_target(&path);
    let s = introspect(&target, None, &options()).await.unwrap();
    assert_eq!(s.dialect, Dialect::Sqlite);
    assert_eq!(s.database, None);
    check_common(&s, false);
    check_samples(&s);
    assert!(s.tables.iter().all(|t| t.schema.is_none()));
    let customers = table(&s, "customers");
    let types: Vec<&str> = customers
        .columns
        .iter()
        .map(|c| c.data_type.as_str())
        .collect();
    assert_eq!(types, ["INTEGER", "TEXT", "TEXT", "VARCHAR(80)"]);
    assert_eq!(customers.row_estimate, None);
    assert_eq!(table(&s, "we\"ird").columns[0].sample_values, ["x", "y"]);

    let again = introspect(&target, None, &no_samples()).await.unwrap();
    check_no_samples(&again);
    assert_eq!(again.fingerprint, s.fingerprint);
    // The privacy policy keeps excluded and masked columns out of sampling.
    let private = IntrospectOptions {
        privacy: querent_domain::PrivacyPolicy {
            excluded_tables: vec!["orders".to_owned()],
            excluded_columns: Vec::new(),
            masked_column_patterns: vec!["seg*".to_owned()],
            row_filters: Vec::new(),
        },
        ..options()
    };
    let guarded = introspect(&target, None, &private).await.unwrap();
    assert!(
        table(&guarded, "customers")
            .column("segment")
            .unwrap()
            .sample_values
            .is_empty()
    );
    assert!(
        table(&guarded, "orders")
            .column("status")
            .unwrap()
            .sample_values
            .is_empty()
    );
    assert_eq!(
        table(&guarded, "we\"ird").columns[0].sample_values,
        ["x", "y"]
    );
    assert_eq!(guarded.fingerprint, s.fingerprint);

    // Read-only: the file is byte for byte unchanged.
    assert_eq!(std::fs::read(&path).unwrap(), before);

    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE products ADD COLUMN weight INTEGER")
            .unwrap();
    }
    let altered = introspect(&target, None, &options()).await.unwrap();
    assert_ne!(altered.fingerprint, s.fingerprint);
    assert!(table(&altered, "products").column("weight").is_some());

    // A boolean holds what was written ('T'/'F' here): sampled like text, so that a
    // translation compares with the stored yes.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE singer (id INTEGER PRIMARY KEY, is_male bool);
             INSERT INTO singer (is_male) VALUES ('T'), ('T'), ('F');",
        )
        .unwrap();
    }
    let with_flag = introspect(&target, None, &options()).await.unwrap();
    assert_eq!(
        table(&with_flag, "singer")
            .column("is_male")
            .unwrap()
            .sample_values,
        ["F", "T"]
    );
}

#[tokio::test]
async fn sqlite_missing_file_is_a_connection_error_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    match introspect(&sqlite_target(&path), None, &options()).await {
        Err(IntrospectError::Connection(m)) => assert!(m.contains("does not exist"), "{m}"),
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(!path.exists());

    let not_db = dir.path().join("text.db");
    std::fs::write(
        &not_db,
        b"this is not a database at all, not even close......",
    )
    .unwrap();
    assert!(matches!(
        introspect(&sqlite_target(&not_db), None, &options()).await,
        Err(IntrospectError::Connection(_))
    ));
}
