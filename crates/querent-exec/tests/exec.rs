//! Integration tests of querent-exec against real services on this machine:
//! PostgreSQL at 127.0.0.1:5432 (user `postgres`, trust auth, database `test`) and MariaDB
//! at 127.0.0.1:3306 (`root`, empty password, database `test`).
//!
//! A test that needs a service skips (with a message on stderr) when it is unreachable,
//! unless `QUERENT_REQUIRE_SERVICES=1`, in which case it fails.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

use std::path::PathBuf;
use std::time::Duration;

use querent_domain::Secret;
use querent_domain::{ConnectionTarget, Dialect, SslMode};
use querent_exec::{ExecError, ServerInfo, test_connection};

const PG_ADDR: &str = "127.0.0.1:5432";
const MY_ADDR: &str = "127.0.0.1:3306";
const TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- helpers

/// Whether a service accepts TCP connections. When it does not, querent-test-gate skips
/// the calling test with a `SKIPPED` line (or fails it under `QUERENT_REQUIRE_SERVICES=1`).
async fn service_available(name: &str, addr: &str) -> bool {
    querent_test_gate::tcp(name, addr)
}

/// Returns from the test early when the service is unreachable (see [`service_available`]).
macro_rules! require_service {
    ($name:expr, $addr:expr) => {
        if !service_available($name, $addr).await {
            return;
        }
    };
}

fn net_target(dialect: Dialect, port: u16, database: &str, username: &str) -> ConnectionTarget {
    ConnectionTarget {
        dialect,
        host: Some("127.0.0.1".to_owned()),
        port: Some(port),
        database: Some(database.to_owned()),
        username: Some(username.to_owned()),
        path: None,
        ssl_mode: SslMode::Prefer,
        ca_certificate: None,
    }
}

fn pg() -> ConnectionTarget {
    net_target(Dialect::Postgres, 5432, "test", "postgres")
}

fn my() -> ConnectionTarget {
    net_target(Dialect::Mysql, 3306, "test", "root")
}

fn sqlite(path: &std::path::Path) -> ConnectionTarget {
    ConnectionTarget {
        dialect: Dialect::Sqlite,
        host: None,
        port: None,
        database: None,
        username: None,
        path: Some(path.to_string_lossy().into_owned()),
        ssl_mode: SslMode::Disable,
        ca_certificate: None,
    }
}

/// A port nothing listens on (bound, read, released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A listener that accepts connections and never says a word; returns its port.
async fn blackhole() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// A file in the temp dir with a unique name, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(ext: &str) -> Self {
        Self(std::env::temp_dir().join(format!("querent-exec-{}.{ext}", uuid::Uuid::new_v4())))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn connection_error(r: Result<ServerInfo, ExecError>) -> String {
    match r {
        Err(ExecError::Connection(m)) => m,
        other => panic!("expected ExecError::Connection, got {other:?}"),
    }
}

fn invalid_target(r: Result<ServerInfo, ExecError>) -> String {
    match r {
        Err(ExecError::InvalidTarget(m)) => m,
        other => panic!("expected ExecError::InvalidTarget, got {other:?}"),
    }
}

async fn mysql_root() -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(3306)
        .user(Some("root"))
        .prefer_socket(false);
    mysql_async::Conn::new(opts).await.unwrap()
}

#[path = "corpus/run.rs"]
mod corpus;

#[path = "exec/tls.rs"]
mod tls;

// ---------------------------------------------------------------- postgres

#[tokio::test]
async fn pg_success_reports_version() {
    require_service!("PostgreSQL", PG_ADDR);
    let info = test_connection(&pg(), None, TIMEOUT).await.unwrap();
    assert_eq!(info.dialect, Dialect::Postgres);
    assert!(info.server_version.contains("PostgreSQL"), "{info:?}");
    assert!(info.latency_ms < TIMEOUT.as_millis() as u64);
}

#[tokio::test]
async fn pg_disable_and_password_are_accepted_with_trust_auth() {
    require_service!("PostgreSQL", PG_ADDR);
    let mut t = pg();
    t.ssl_mode = SslMode::Disable;
    let pw = Secret::new("ignored by trust auth".to_owned());
    let info = test_connection(&t, Some(&pw), TIMEOUT).await.unwrap();
    assert!(info.server_version.contains("PostgreSQL"));
}

#[tokio::test]
async fn pg_unknown_database_is_named() {
    require_service!("PostgreSQL", PG_ADDR);
    let mut t = pg();
    t.database = Some("querent_nope_db".to_owned());
    let err = test_connection(&t, None, TIMEOUT).await;
    let msg = connection_error(err);
    assert!(
        msg.contains(r#"database "querent_nope_db" does not exist"#),
        "{msg}"
    );
}

#[tokio::test]
async fn pg_refused_port_fails_fast() {
    let mut t = pg();
    t.port = Some(free_port());
    let err = test_connection(&t, None, TIMEOUT).await;
    let msg = connection_error(err);
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
}

#[tokio::test]
async fn pg_blackhole_times_out() {
    let mut t = pg();
    t.port = Some(blackhole().await);
    let err = test_connection(&t, None, Duration::from_millis(300)).await;
    assert!(
        matches!(err, Err(ExecError::Timeout(_) | ExecError::Connection(_))),
        "{err:?}"
    );
    if let Err(ExecError::Timeout(ms)) = err {
        assert_eq!(ms, 300);
    }
}

// ---------------------------------------------------------------- mysql / mariadb

#[tokio::test]
async fn mysql_success_reports_version() {
    require_service!("MariaDB", MY_ADDR);
    let info = test_connection(&my(), None, TIMEOUT).await.unwrap();
    assert_eq!(info.dialect, Dialect::Mysql);
    assert!(
        info.server_version.contains("MariaDB")
            || info.server_version.chars().any(|c| c.is_ascii_digit()),
        "{info:?}"
    );
}

#[tokio::test]
async fn mysql_wrong_password_is_clear() {
    require_service!("MariaDB", MY_ADDR);
    let user = format!(
        "querent_t_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let mut root = mysql_root().await;
    use mysql_async::prelude::Queryable;
    root.query_drop(format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"))
        .await
        .unwrap();
    root.query_drop(format!("GRANT USAGE ON *.* TO '{user}'@'%'"))
        .await
        .unwrap();

    let mut t = my();
    t.username = Some(user.clone());
    t.database = Some("test".to_owned());
    let wrong = Secret::new("not-the-password".to_owned());
    let wrong_result = test_connection(&t, Some(&wrong), TIMEOUT).await;
    // Without a grant on `test` the right password still fails, on the database instead.
    t.database = Some("information_schema".to_owned());
    let right = Secret::new("pw".to_owned());
    let right_result = test_connection(&t, Some(&right), TIMEOUT).await;

    root.query_drop(format!("DROP USER '{user}'@'%'"))
        .await
        .unwrap();
    root.disconnect().await.unwrap();

    let msg = connection_error(wrong_result);
    assert!(msg.contains("Access denied"), "{msg}");
    assert!(msg.contains(&user), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");
    let info = right_result.unwrap();
    assert!(!info.server_version.is_empty());
}

#[tokio::test]
async fn mysql_unknown_database_is_named() {
    require_service!("MariaDB", MY_ADDR);
    let mut t = my();
    t.database = Some("querent_nope_db".to_owned());
    let msg = connection_error(test_connection(&t, None, TIMEOUT).await);
    assert!(msg.contains("querent_nope_db"), "{msg}");
}

#[tokio::test]
async fn mysql_refused_port_fails_fast() {
    let mut t = my();
    t.port = Some(free_port());
    let msg = connection_error(test_connection(&t, None, TIMEOUT).await);
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
}

#[tokio::test]
async fn mysql_blackhole_times_out() {
    let mut t = my();
    t.port = Some(blackhole().await);
    let err = test_connection(&t, None, Duration::from_millis(300)).await;
    assert!(
        matches!(err, Err(ExecError::Timeout(_) | ExecError::Connection(_))),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- sqlite

#[tokio::test]
async fn sqlite_success_reports_version() {
    let file = TempFile::new("sqlite");
    {
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);")
            .unwrap();
    }
    let info = test_connection(&sqlite(&file.0), None, TIMEOUT)
        .await
        .unwrap();
    assert_eq!(info.dialect, Dialect::Sqlite);
    assert!(info.server_version.starts_with("SQLite 3."), "{info:?}");
}

#[tokio::test]
async fn sqlite_missing_file_is_not_created() {
    let file = TempFile::new("sqlite");
    let msg = connection_error(test_connection(&sqlite(&file.0), None, TIMEOUT).await);
    assert!(msg.contains("does not exist"), "{msg}");
    assert!(!file.0.exists(), "the test must not create a database");
}

#[tokio::test]
async fn sqlite_text_file_is_not_a_database() {
    let file = TempFile::new("txt");
    std::fs::write(
        &file.0,
        "this is not a database, just some text that is long enough to fill a header\n".repeat(20),
    )
    .unwrap();
    let msg = connection_error(test_connection(&sqlite(&file.0), None, TIMEOUT).await);
    assert!(msg.contains("not an SQLite database"), "{msg}");
}

#[tokio::test]
async fn sqlite_directory_is_refused() {
    let dir = std::env::temp_dir();
    let msg = connection_error(test_connection(&sqlite(&dir), None, TIMEOUT).await);
    assert!(msg.contains("not a regular file"), "{msg}");
}

#[tokio::test]
async fn sqlite_missing_path_is_invalid() {
    let mut t = sqlite(std::path::Path::new("x"));
    t.path = None;
    let msg = invalid_target(test_connection(&t, None, TIMEOUT).await);
    assert!(msg.contains("path"), "{msg}");
}

// ---------------------------------------------------------------- settings

#[tokio::test]
async fn missing_host_names_the_field() {
    for mut t in [pg(), my()] {
        t.host = None;
        let msg = invalid_target(test_connection(&t, None, TIMEOUT).await);
        assert!(msg.contains("host"), "{msg}");
    }
    let mut t = pg();
    t.username = None;
    let msg = invalid_target(test_connection(&t, None, TIMEOUT).await);
    assert!(msg.contains("username"), "{msg}");
}

// ================================================================ the execution engine

mod engine {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use async_trait::async_trait;
    use mysql_async::prelude::Queryable;
    use querent_domain::query::{
        ColumnMeta, DbErrorCode, ExecError, QueryEngine, QueryLimits, QueryOutcome, QueryRequest,
        Row, RowSink, SinkClosed, Truncation, TruncationReason,
    };
    use querent_domain::schema::{ColumnInfo, SchemaSnapshot, TableInfo};
    use querent_domain::{
        ConnectionId, ConnectionTarget, Dialect, ErrorCode, PrivacyPolicy, Secret,
    };
    use querent_exec::{BATCH_SIZE, Engine};
    use serde_json::{Value, json};

    use super::{
        MY_ADDR, PG_ADDR, TempFile, free_port, my, mysql_root, pg, service_available, sqlite,
    };

    const BOMB: &str =
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r";

    macro_rules! require_service {
        ($name:expr, $addr:expr) => {
            if !service_available($name, $addr).await {
                return;
            }
        };
    }

    // ------------------------------------------------------------ helpers

    fn unique(prefix: &str) -> String {
        format!(
            "{prefix}_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        )
    }

    /// A snapshot listing just what the test queries use.
    fn snapshot(
        dialect: Dialect,
        schema: Option<&str>,
        tables: &[(&str, &[&str])],
    ) -> SchemaSnapshot {
        let mut s = SchemaSnapshot {
            dialect,
            database: None,
            fingerprint: String::new(),
            taken_at: querent_domain::now_millis(),
            tables: tables
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

    fn limits(max_rows: u64, statement_timeout_ms: u64) -> QueryLimits {
        QueryLimits::new(
            max_rows,
            Duration::from_millis(statement_timeout_ms),
            Duration::from_secs(3),
        )
    }

    /// [`limits`] with a result byte cap.
    fn byte_limits(max_rows: u64, max_result_bytes: u64) -> QueryLimits {
        QueryLimits {
            max_result_bytes,
            ..limits(max_rows, 10_000)
        }
    }

    /// Everything a request borrows, owned (so it can move into a task).
    #[derive(Clone)]
    struct Ask {
        id: ConnectionId,
        target: ConnectionTarget,
        password: Option<Secret<String>>,
        schema: SchemaSnapshot,
        policy: PrivacyPolicy,
    }

    impl Ask {
        fn new(target: ConnectionTarget, schema: SchemaSnapshot) -> Self {
            Self {
                id: ConnectionId::new(),
                target,
                password: None,
                schema,
                policy: PrivacyPolicy::default(),
            }
        }

        async fn run(
            &self,
            engine: &Engine,
            sql: &str,
            limits: QueryLimits,
            sink: &mut dyn RowSink,
        ) -> Result<QueryOutcome, ExecError> {
            let request = QueryRequest {
                connection_id: self.id,
                target: &self.target,
                password: self.password.as_ref(),
                schema: &self.schema,
                policy: &self.policy,
                limits,
                sql,
            };
            engine.run(request, sink).await
        }

        async fn collect(
            &self,
            engine: &Engine,
            sql: &str,
            limits: QueryLimits,
        ) -> Result<(QueryOutcome, Recorder), ExecError> {
            let mut sink = Recorder::default();
            let outcome = self.run(engine, sql, limits, &mut sink).await?;
            Ok((outcome, sink))
        }
    }

    /// Records what a sink receives; can close after some batches.
    #[derive(Debug, Default)]
    struct Recorder {
        columns: Vec<ColumnMeta>,
        columns_calls: usize,
        batches: Vec<usize>,
        rows: Vec<Row>,
        close_after_batches: Option<usize>,
    }

    #[async_trait]
    impl RowSink for Recorder {
        async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
            self.columns = columns.to_vec();
            self.columns_calls += 1;
            Ok(())
        }
        async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed> {
            if self.close_after_batches == Some(self.batches.len()) {
                return Err(SinkClosed);
            }
            self.batches.push(batch.len());
            self.rows.extend(batch);
            Ok(())
        }
    }

    impl Recorder {
        fn column(&self, name: &str) -> Vec<Value> {
            let i = self
                .columns
                .iter()
                .position(|c| c.name == name)
                .unwrap_or_else(|| panic!("no column {name} in {:?}", self.columns));
            self.rows.iter().map(|r| r[i].clone()).collect()
        }

        fn type_of(&self, name: &str) -> &str {
            &self
                .columns
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .type_name
        }

        /// The first row as a JSON object.
        fn first(&self) -> serde_json::Map<String, Value> {
            self.columns
                .iter()
                .zip(self.rows[0].iter())
                .map(|(c, v)| (c.name.clone(), v.clone()))
                .collect()
        }
    }

    fn rejected(
        r: Result<impl std::fmt::Debug, ExecError>,
    ) -> querent_domain::query::GuardRejection {
        match r {
            Err(ExecError::Rejected(g)) => g,
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    // ------------------------------------------------------------ postgres databases

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

    /// A fresh PostgreSQL database, dropped (with FORCE) when the guard goes away.
    struct PgDb {
        name: String,
        client: tokio_postgres::Client,
    }

    impl PgDb {
        async fn new(setup: &str) -> Self {
            let name = unique("querent_exec");
            pg_client("test")
                .await
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            let client = pg_client(&name).await;
            client.batch_execute(setup).await.unwrap();
            Self { name, client }
        }

        fn target(&self) -> ConnectionTarget {
            let mut t = pg();
            t.database = Some(self.name.clone());
            t
        }

        async fn count(&self, table: &str) -> i64 {
            self.client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get(0)
        }
    }

    impl Drop for PgDb {
        fn drop(&mut self) {
            let name = self.name.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    pg_client("test")
                        .await
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await
                        .unwrap();
                });
            })
            .join()
            .unwrap();
        }
    }

    // ------------------------------------------------------------ mariadb databases

    /// A fresh MariaDB database, dropped when the guard goes away.
    struct MyDb {
        name: String,
    }

    impl MyDb {
        async fn new(setup: &[&str]) -> Self {
            let name = unique("querent_exec");
            let mut root = mysql_root().await;
            root.query_drop(format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            root.query_drop(format!("USE {name}")).await.unwrap();
            for s in setup {
                root.query_drop(*s).await.unwrap();
            }
            root.disconnect().await.unwrap();
            Self { name }
        }

        fn target(&self) -> ConnectionTarget {
            let mut t = my();
            t.database = Some(self.name.clone());
            t
        }

        /// Sessions the server still holds on this database (other than the asker's).
        async fn sessions(&self) -> Vec<u64> {
            let mut root = mysql_root().await;
            let ids: Vec<u64> = root
                .exec(
                    "SELECT ID FROM information_schema.PROCESSLIST \
                     WHERE DB = ? AND ID <> CONNECTION_ID()",
                    (self.name.as_str(),),
                )
                .await
                .unwrap();
            root.disconnect().await.unwrap();
            ids
        }

        async fn count(&self, table: &str) -> i64 {
            let mut root = mysql_root().await;
            let n: Option<i64> = root
                .query_first(format!("SELECT count(*) FROM {}.{table}", self.name))
                .await
                .unwrap();
            root.disconnect().await.unwrap();
            n.unwrap()
        }
    }

    impl Drop for MyDb {
        fn drop(&mut self) {
            let name = self.name.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let mut root = mysql_root().await;
                    // A session a test left behind (a kill the product spawned on the
                    // test's runtime cannot run while this drop blocks that runtime)
                    // would hold its metadata locks and stall the DROP below.
                    let left: Vec<u64> = root
                        .exec(
                            "SELECT ID FROM information_schema.PROCESSLIST \
                             WHERE DB = ? AND ID <> CONNECTION_ID()",
                            (name.as_str(),),
                        )
                        .await
                        .unwrap();
                    for id in left {
                        // It may have ended meanwhile: an unknown thread id is fine.
                        let _ = root.query_drop(format!("KILL CONNECTION {id}")).await;
                    }
                    root.query_drop(format!(
                        "SET SESSION lock_wait_timeout = 20; DROP DATABASE IF EXISTS {name}"
                    ))
                    .await
                    .unwrap();
                    root.disconnect().await.unwrap();
                });
            })
            .join()
            .unwrap();
        }
    }

    // ------------------------------------------------------------ sqlite databases

    fn sqlite_db(setup: &str) -> TempFile {
        let file = TempFile::new("sqlite");
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.execute_batch(setup).unwrap();
        file
    }

    fn sqlite_count(file: &TempFile, table: &str) -> i64 {
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    // ------------------------------------------------------------ guard only

    #[test]
    fn check_validates_without_a_database() {
        let engine = Engine::new();
        let schema = snapshot(
            Dialect::Postgres,
            Some("public"),
            &[("customers", &["id", "name", "ssn"])],
        );
        let policy = PrivacyPolicy::default();
        let ok = engine
            .check(
                Dialect::Postgres,
                "SELECT name FROM customers",
                &schema,
                &policy,
                10,
            )
            .unwrap();
        assert!(ok.sql.contains("LIMIT 11"), "{}", ok.sql);
        assert_eq!(ok.max_rows, 10);
        assert_eq!(ok.tables.len(), 1);

        let r = engine
            .check(
                Dialect::Postgres,
                "SELECT nme FROM customers",
                &schema,
                &policy,
                10,
            )
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::GuardRejected);
        assert_eq!(r.suggestions, vec!["name".to_owned()]);
        assert!(r.message.contains("nme"), "{}", r.message);

        let r = engine
            .check(
                Dialect::Postgres,
                "SELECT * FROM custmers",
                &schema,
                &policy,
                10,
            )
            .unwrap_err();
        assert_eq!(r.suggestions, vec!["customers".to_owned()]);

        let private = PrivacyPolicy {
            excluded_columns: vec!["customers.ssn".to_owned()],
            ..PrivacyPolicy::default()
        };
        let r = engine
            .check(
                Dialect::Postgres,
                "SELECT ssn FROM customers",
                &schema,
                &private,
                10,
            )
            .unwrap_err();
        assert_eq!(r.code, ErrorCode::PolicyViolation);

        // The cached guard schema is reused, and a changed snapshot is not confused with it.
        let other = snapshot(Dialect::Postgres, Some("public"), &[("orders", &["id"])]);
        assert!(
            engine
                .check(
                    Dialect::Postgres,
                    "SELECT id FROM orders",
                    &other,
                    &policy,
                    5
                )
                .is_ok()
        );
        assert!(
            engine
                .check(
                    Dialect::Postgres,
                    "SELECT id FROM orders",
                    &schema,
                    &policy,
                    5
                )
                .is_err()
        );
    }

    #[tokio::test]
    async fn run_refuses_before_connecting() {
        // Nothing listens here: a refusal must come from the guard, not the network.
        let mut target = pg();
        target.port = Some(free_port());
        let ask = Ask::new(
            target,
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let g = rejected(
            ask.collect(&engine, "DELETE FROM t", limits(10, 1000))
                .await,
        );
        assert_eq!(g.code, ErrorCode::GuardRejected);
        assert_eq!(
            engine.pool_status().pools,
            0,
            "no pool for a refused statement"
        );
    }

    // ------------------------------------------------------------ postgres

    const PG_TYPES: &str = "
        CREATE TABLE t (
            i2 int2, i4 int4, i8 int8, n numeric(10,2), r real, d double precision, b bool,
            tx text, vc varchar(20), dt date, tm time, ts timestamp, tstz timestamptz, u uuid,
            j json, jb jsonb, by bytea, arr int4[], nul int4
        );
        INSERT INTO t VALUES (
            -2, 40000, 9007199254740993, 12345.67, 1.5, 2.25, true, 'héllo', 'v',
            '2024-01-02', '03:04:05', '2024-01-02 03:04:05', '2024-01-02 03:04:05.25+02',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": null}',
            '\\x00ff10', '{1,NULL,3}', NULL
        );";

    const PG_COLS: &[&str] = &[
        "i2", "i4", "i8", "n", "r", "d", "b", "tx", "vc", "dt", "tm", "ts", "tstz", "u", "j", "jb",
        "by", "arr", "nul",
    ];

    #[tokio::test]
    async fn pg_values_are_typed_json() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new(PG_TYPES).await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", PG_COLS)]),
        );
        let engine = Engine::new();
        let (out, sink) = ask
            .collect(
                &engine,
                &format!("SELECT {} FROM t", PG_COLS.join(", ")),
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!(out.row_count, 1);
        assert!(!out.truncated);
        assert_eq!(sink.columns_calls, 1);
        let row = Value::Object(sink.first());
        assert_eq!(
            row,
            json!({
                "i2": -2, "i4": 40000, "i8": 9007199254740993i64, "n": "12345.67", "r": 1.5,
                "d": 2.25, "b": true, "tx": "héllo", "vc": "v", "dt": "2024-01-02",
                "tm": "03:04:05", "ts": "2024-01-02T03:04:05",
                "tstz": "2024-01-02T01:04:05.25Z",
                "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "j": {"a": [1, 2]},
                "jb": {"b": null}, "by": "AP8Q", "arr": [1, null, 3], "nul": null
            })
        );
        let types: Vec<&str> = sink.columns.iter().map(|c| c.type_name.as_str()).collect();
        assert_eq!(
            types,
            [
                "int2",
                "int4",
                "int8",
                "numeric",
                "float4",
                "float8",
                "bool",
                "text",
                "varchar",
                "date",
                "time",
                "timestamp",
                "timestamptz",
                "uuid",
                "json",
                "jsonb",
                "bytea",
                "_int4",
                "int4"
            ]
        );
        assert!(sink.columns.iter().all(|c| !c.masked));

        // Expressions: non-finite floats, intervals, numerics, infinities.
        let (_, sink) = ask
            .collect(
                &engine,
                "SELECT 'NaN'::float8 AS f, interval '1 day 02:00:00' AS iv, 1.50::numeric AS num, \
                 -0.001::numeric AS small, 'infinity'::timestamp AS inf, '1999-12-31'::date AS d",
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!(
            Value::Object(sink.first()),
            json!({"f": null, "iv": "1 day 02:00:00", "num": "1.50", "small": "-0.001",
                   "inf": "infinity", "d": "1999-12-31"})
        );
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn pg_row_cap_and_batches() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new(
            "CREATE TABLE nums (n int); INSERT INTO nums SELECT generate_series(1, 1200);",
        )
        .await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("nums", &["n"])]),
        );
        let engine = Engine::new();
        row_cap_checks(&engine, &ask).await;
        engine.forget(ask.id);
    }

    /// 25 rows with a cap of 10; 1,200 rows in batches; exactly the cap.
    async fn row_cap_checks(engine: &Engine, ask: &Ask) {
        let (out, sink) = ask
            .collect(
                engine,
                "SELECT n FROM nums WHERE n <= 25 ORDER BY n",
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (10, true));
        assert_eq!(
            sink.column("n"),
            (1..=10).map(Value::from).collect::<Vec<_>>()
        );
        assert!(out.sql.contains("11"), "{}", out.sql);

        let (out, sink) = ask
            .collect(engine, "SELECT n FROM nums ORDER BY n", limits(5000, 5000))
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (1200, false));
        assert_eq!(sink.batches, vec![BATCH_SIZE, BATCH_SIZE, 200]);
        assert_eq!(sink.rows.last().unwrap()[0], json!(1200));

        let (out, _) = ask
            .collect(engine, "SELECT n FROM nums", limits(1200, 5000))
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (1200, false));
        let (out, sink) = ask
            .collect(engine, "SELECT n FROM nums", limits(1199, 5000))
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (1199, true));
        assert_eq!(sink.batches, vec![BATCH_SIZE, BATCH_SIZE, 199]);

        let (out, sink) = ask
            .collect(engine, "SELECT n FROM nums WHERE n < 0", limits(10, 5000))
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (0, false));
        assert_eq!(sink.columns_calls, 1, "columns are sent even without rows");
        assert!(sink.batches.is_empty());
    }

    /// Tables of [`byte_cap_checks`]: `big` (id 1: 100,000 × 'x' and 100,000 bytes; id 2:
    /// 40,000 × 'é'), `rows1k` (2,000 rows of 1,000 × 'y').
    const PG_BIG: &str = "
        CREATE TABLE big (id int, t text, b bytea);
        INSERT INTO big VALUES (1, repeat('x', 100000), decode(repeat('ab', 100000), 'hex')),
                               (2, repeat('é', 40000), NULL);
        CREATE TABLE rows1k (id int, s text);
        INSERT INTO rows1k SELECT n, repeat('y', 1000) FROM generate_series(1, 2000) n;
        CREATE TABLE people (id int, email text);
        INSERT INTO people VALUES (1, 'alice@example.com');";

    fn big_snapshot(dialect: Dialect, schema: Option<&str>) -> SchemaSnapshot {
        snapshot(
            dialect,
            schema,
            &[
                ("big", &["id", "t", "b"]),
                ("rows1k", &["id", "s"]),
                ("people", &["id", "email"]),
                ("huge", &["t"]),
            ],
        )
    }

    /// Values longer than 64 KiB are cut (text at a character boundary, bytes as base64),
    /// rows stop at the result byte cap, and each is reported; the connection is usable
    /// afterwards.
    async fn byte_cap_checks(engine: &Engine, ask: &Ask) {
        let cap = querent_domain::query::DEFAULT_MAX_VALUE_BYTES;
        let (out, sink) = ask
            .collect(
                engine,
                "SELECT id, t FROM big ORDER BY id",
                limits(10, 10_000),
            )
            .await
            .unwrap();
        assert_eq!(out.row_count, 2);
        assert!(out.truncated);
        assert_eq!(
            out.truncated_by,
            Some(Truncation {
                reason: TruncationReason::ValueBytes,
                limit: cap
            })
        );
        assert_eq!(out.values_truncated, 2);
        let t = sink.column("t");
        let x = t[0].as_str().unwrap();
        assert_eq!(x.len() as u64, cap);
        assert!(x.bytes().all(|b| b == b'x'));
        let e = t[1].as_str().unwrap();
        assert_eq!(e.len() as u64, cap, "65,536 bytes are 32,768 é");
        assert!(e.chars().all(|c| c == 'é'));

        let (out, sink) = ask
            .collect(engine, "SELECT b FROM big WHERE id = 1", limits(10, 10_000))
            .await
            .unwrap();
        assert_eq!(out.values_truncated, 1);
        let b = sink.column("b")[0].as_str().unwrap().to_owned();
        assert_eq!(b.len() as u64, cap, "base64 of 49,152 bytes");
        assert!(b.starts_with("q6ur"), "{}", &b[..8]);

        // Rows stop at the result cap (each row counts about 1,010 bytes).
        let (out, sink) = ask
            .collect(
                engine,
                "SELECT id, s FROM rows1k ORDER BY id",
                byte_limits(5000, 64 * 1024),
            )
            .await
            .unwrap();
        assert_eq!(
            out.truncated_by,
            Some(Truncation {
                reason: TruncationReason::ResultBytes,
                limit: 64 * 1024
            })
        );
        assert!((60..=65).contains(&out.row_count), "{}", out.row_count);
        assert_eq!(sink.rows.len() as u64, out.row_count);
        let bytes: usize = sink
            .rows
            .iter()
            .map(|r| serde_json::to_vec(r).unwrap().len())
            .sum();
        assert!(bytes <= 64 * 1024, "{bytes}");
        assert_eq!(sink.column("id")[0], json!(1));

        // The row cap is reported as before, and the engine keeps working.
        let (out, _) = ask
            .collect(engine, "SELECT id FROM rows1k", limits(10, 10_000))
            .await
            .unwrap();
        assert_eq!(
            (out.row_count, out.truncated_by),
            (
                10,
                Some(Truncation {
                    reason: TruncationReason::RowCap,
                    limit: 10
                })
            )
        );
        let (out, _) = ask
            .collect(
                engine,
                "SELECT id FROM rows1k WHERE id = 7",
                limits(10, 10_000),
            )
            .await
            .unwrap();
        assert_eq!(
            (out.row_count, out.truncated, out.truncated_by),
            (1, false, None)
        );
    }

    #[tokio::test]
    async fn pg_byte_caps() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new(PG_BIG).await;
        let ask = Ask::new(db.target(), big_snapshot(Dialect::Postgres, Some("public")));
        let engine = Engine::new();
        byte_cap_checks(&engine, &ask).await;
        // The connections that were stopped early or held a big row are not pooled.
        let e = &engine;
        wait_until("no connection is checked out", || {
            let s = e.pool_status();
            async move { s.in_use == 0 }
        })
        .await;
        engine.forget(ask.id);
    }

    /// A value built on the server (an aggregate of many long strings) is cut there, before
    /// the client library would hold it whole: typed columns keep their types, JSON stays
    /// JSON, arrays come back as JSON, and every cut is reported.
    #[tokio::test]
    async fn pg_long_values_are_cut_on_the_server() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new("CREATE TABLE t (a int);").await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let cap = 1024;
        let lim = QueryLimits {
            max_value_bytes: cap,
            ..limits(10, 20_000)
        };
        // About 100 MB built by the server, in one value.
        let sql = "SELECT 7 AS n, string_agg(repeat('x', 100000), '') AS big, \
                   json_build_object('k', repeat('y', 5000)) AS doc, \
                   array_agg(repeat('z', 3000)) AS arr, \
                   ARRAY[1, 2] AS small, '{\"a\": 1}'::jsonb AS small_doc \
                   FROM generate_series(1, 1000)";
        let (outcome, rec) = ask.collect(&engine, sql, lim).await.unwrap();
        let row = rec.first();
        assert_eq!(row["n"], json!(7));
        assert_eq!(row["big"].as_str().unwrap().len() as u64, cap);
        assert!(row["doc"].is_string(), "{}", row["doc"]);
        assert!(row["arr"].is_string(), "{}", row["arr"]);
        assert_eq!(row["small"], json!([1, 2]));
        assert_eq!(row["small_doc"], json!({"a": 1}));
        assert!(outcome.values_truncated >= 3, "{outcome:?}");
        // The types reported are the statement's own.
        assert_eq!(rec.type_of("big"), "text");
        assert_eq!(rec.type_of("small"), "_int4");
        engine.forget(ask.id);
    }

    /// Database errors keep their code; a provider's view drops the value they quote.
    #[tokio::test]
    async fn pg_errors_are_structured_and_scrubbed_for_providers() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new(PG_BIG).await;
        let ask = Ask::new(db.target(), big_snapshot(Dialect::Postgres, Some("public")));
        let engine = Engine::new();
        let sql = "SELECT id FROM people WHERE CAST(email AS integer) = 1";
        let err = match ask.collect(&engine, sql, limits(10, 5000)).await {
            Err(ExecError::Query(db)) => db,
            other => panic!("expected a query error, got {other:?}"),
        };
        assert_eq!(
            err.code,
            DbErrorCode::Postgres {
                sqlstate: "22P02".into()
            }
        );
        // The client sees the database's whole message…
        let full = err.to_string();
        assert!(full.contains("alice@example.com"), "{full}");
        assert!(full.ends_with("[SQLSTATE 22P02]"), "{full}");
        // …a provider only the code and the message without the value.
        let scrubbed = err.for_provider(sql);
        assert_eq!(
            scrubbed,
            "SQLSTATE 22P02: invalid input syntax for type integer: \"…\""
        );
        engine.forget(ask.id);
    }

    /// Every pooled PostgreSQL session runs with standard_conforming_strings on, even when
    /// the database says otherwise: a backslash in '…' is an ordinary character.
    #[tokio::test]
    async fn pg_sessions_use_standard_conforming_strings() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new("CREATE TABLE t (a int);").await;
        db.client
            .batch_execute(&format!(
                "ALTER DATABASE {} SET standard_conforming_strings = off",
                db.name
            ))
            .await
            .unwrap();
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let (_, sink) = ask
            .collect(&engine, r"SELECT 'a\b' AS s", limits(10, 5000))
            .await
            .unwrap();
        assert_eq!(sink.column("s"), vec![json!(r"a\b")]);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn pg_statement_timeout_and_denied_sleep() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new("CREATE TABLE t (a int);").await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let r = ask.collect(&engine, BOMB, limits(10, 500)).await;
        assert!(matches!(r, Err(ExecError::Timeout(500))), "{:?}", r.err());
        // The connection was not returned dirty: the next query works.
        let (out, _) = ask
            .collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();
        assert_eq!(out.row_count, 0);

        let g = rejected(
            ask.collect(&engine, "SELECT pg_sleep(10)", limits(10, 60_000))
                .await,
        );
        assert!(g.message.contains("pg_sleep"), "{}", g.message);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn pg_writes_through_a_function_are_refused() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new(
            "CREATE TABLE t (a int); INSERT INTO t VALUES (1);
             CREATE FUNCTION evil() RETURNS int LANGUAGE plpgsql AS
             $$ BEGIN INSERT INTO t VALUES (99); DELETE FROM t WHERE a = 1; RETURN 1; END $$;",
        )
        .await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        // A user-defined function is not on the allow-list: refused before any database
        // sees it (the read-only transaction stays as a second line behind the guard).
        for sql in [
            "SELECT evil()",
            "SELECT evil() FROM t",
            "SELECT public.evil()",
        ] {
            let r = rejected(ask.collect(&engine, sql, limits(10, 5000)).await);
            assert_eq!(r.code, querent_domain::ErrorCode::PolicyViolation, "{sql}");
            assert!(r.message.contains("evil"), "{}", r.message);
        }
        rejected(
            ask.collect(&engine, "INSERT INTO t VALUES (2)", limits(10, 5000))
                .await,
        );
        rejected(
            ask.collect(&engine, "SELECT 1; DELETE FROM t", limits(10, 5000))
                .await,
        );
        assert_eq!(db.count("t").await, 1);
        let rows = db.client.query("SELECT a FROM t", &[]).await.unwrap();
        assert_eq!(rows[0].get::<_, i32>(0), 1);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn unreachable_targets_are_connection_errors() {
        let engine = Engine::new();
        for mut target in [pg(), my()] {
            target.port = Some(1);
            let dialect = target.dialect;
            let ask = Ask::new(target, snapshot(dialect, None, &[("t", &["a"])]));
            let r = ask
                .collect(&engine, "SELECT a FROM t", limits(10, 1000))
                .await;
            match r {
                Err(ExecError::Connection(m)) => {
                    assert!(m.to_lowercase().contains("refused"), "{m}")
                }
                other => panic!("expected Connection, got {other:?}"),
            }
        }
        // A missing SQLite file, and a password never appears in messages.
        let file = TempFile::new("sqlite");
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", &["a"])]),
        );
        match ask
            .collect(&engine, "SELECT a FROM t", limits(10, 1000))
            .await
        {
            Err(ExecError::Connection(m)) => assert!(m.contains("does not exist"), "{m}"),
            other => panic!("expected Connection, got {other:?}"),
        }
        assert!(!file.0.exists());
        let mut ask = Ask::new(
            {
                let mut t = pg();
                t.port = Some(free_port());
                t
            },
            snapshot(Dialect::Postgres, None, &[("t", &["a"])]),
        );
        ask.password = Some(Secret::new("hunter2-secret".to_owned()));
        let e = ask
            .collect(&engine, "SELECT a FROM t", limits(10, 1000))
            .await
            .unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    async fn pg_active(client: &tokio_postgres::Client, app: &str) -> i64 {
        client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'",
                &[&app],
            )
            .await
            .unwrap()
            .get(0)
    }

    async fn wait_until<F, Fut>(what: &str, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let started = Instant::now();
        while !f().await {
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "timed out waiting until {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn pg_dropping_the_request_cancels_the_query() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new("CREATE TABLE t (a int);").await;
        let app = unique("querent_test");
        let engine = Arc::new(Engine::new().with_application_name(app.clone()));
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]),
        );
        let task = {
            let (engine, ask) = (engine.clone(), ask.clone());
            tokio::spawn(async move {
                ask.collect(&engine, BOMB, limits(10, 60_000))
                    .await
                    .map(|_| ())
            })
        };
        wait_until("the query runs", || async {
            pg_active(&db.client, &app).await == 1
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(engine.pool_status().in_use, 1);
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        wait_until("the query is gone", || async {
            pg_active(&db.client, &app).await == 0
        })
        .await;
        assert_eq!(engine.pool_status().in_use, 0);

        // The sink going away cancels too, and reports Cancelled.
        let mut sink = Recorder {
            close_after_batches: Some(0),
            ..Recorder::default()
        };
        let r = ask
            .run(
                &engine,
                "SELECT a FROM t UNION ALL SELECT 1",
                limits(10, 5000),
                &mut sink,
            )
            .await;
        assert!(matches!(r, Err(ExecError::Cancelled)), "{r:?}");
        assert_eq!(engine.pool_status().in_use, 0);
        // And the pool still works afterwards.
        let (out, _) = ask
            .collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();
        assert_eq!(out.row_count, 0);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn pg_pools_forget_busy_and_status() {
        require_service!("PostgreSQL", PG_ADDR);
        let db = PgDb::new("CREATE TABLE t (a int);").await;
        let schema = snapshot(Dialect::Postgres, Some("public"), &[("t", &["a"])]);
        let app = unique("querent_test");
        let engine = Arc::new(
            Engine::new()
                .with_application_name(app.clone())
                .with_pool_size(1),
        );
        let a = Ask::new(db.target(), schema.clone());
        let b = Ask::new(db.target(), schema);
        a.collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();
        b.collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();
        let s = engine.pool_status();
        assert_eq!((s.pools, s.in_use, s.exhausted), (2, 0, 0));

        // An edited connection (new password) gets a fresh pool under the same id.
        let mut edited = a.clone();
        edited.password = Some(Secret::new("new password".to_owned()));
        edited
            .collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();
        assert_eq!(engine.pool_status().pools, 2);

        // One slot: a long query holds it, a second request waits (exhausted), then Busy.
        let long = {
            let (engine, a) = (engine.clone(), a.clone());
            tokio::spawn(async move {
                a.collect(&engine, BOMB, limits(10, 60_000))
                    .await
                    .map(|_| ())
            })
        };
        wait_until("the long query runs", || async {
            pg_active(&db.client, &app).await == 1
        })
        .await;
        let waiter = {
            let (engine, a) = (engine.clone(), a.clone());
            tokio::spawn(async move {
                let mut l = limits(10, 5000);
                l.connect_timeout = Duration::from_millis(700);
                a.collect(&engine, "SELECT a FROM t", l).await.map(|_| ())
            })
        };
        let e = engine.clone();
        wait_until("the pool is exhausted", || {
            let s = e.pool_status();
            async move { s.exhausted == 1 && s.in_use == 1 }
        })
        .await;
        assert!(matches!(waiter.await.unwrap(), Err(ExecError::Busy)));
        long.abort();
        let _ = long.await;
        wait_until("the query is gone", || async {
            pg_active(&db.client, &app).await == 0
        })
        .await;
        a.collect(&engine, "SELECT a FROM t", limits(10, 5000))
            .await
            .unwrap();

        engine.forget(a.id);
        assert_eq!(engine.pool_status().pools, 1);
        engine.forget(b.id);
        engine.forget(b.id);
        assert_eq!(engine.pool_status(), Default::default());
    }

    // ------------------------------------------------------------ mariadb

    /// MariaDB stops recursive CTEs after `max_recursive_iterations` (1000 by default), so
    /// its long query is a cross join: 10^9 rows.
    const MY_BOMB: &str = "SELECT sum(a.a + b.a + c.a) FROM t AS a, t AS b, t AS c";
    const MY_FILL: &str = "INSERT INTO t SELECT seq FROM seq_1_to_1000";

    const MY_COLS: &[&str] = &[
        "ti", "si", "i", "bi", "bu", "n", "f", "d", "b", "tx", "vc", "dt", "tm", "ts", "tsp", "u",
        "j", "bl", "nul",
    ];

    #[tokio::test]
    async fn mysql_values_are_typed_json() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&[
            "CREATE TABLE t (ti TINYINT, si SMALLINT, i INT, bi BIGINT, bu BIGINT UNSIGNED,
                n DECIMAL(10,2), f FLOAT, d DOUBLE, b BOOLEAN, tx TEXT, vc VARCHAR(20), dt DATE,
                tm TIME, ts DATETIME(2), tsp TIMESTAMP NULL, u UUID, j JSON, bl BLOB, nul INT)",
            "INSERT INTO t VALUES (-2, 300, 40000, 9007199254740993, 18446744073709551615,
                12345.67, 1.5, 2.25, TRUE, 'héllo', 'v', '2024-01-02', '03:04:05',
                '2024-01-02 03:04:05.25', '2024-01-02 03:04:05',
                'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', x'00ff10', NULL)",
        ])
        .await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Mysql, Some(&db.name), &[("t", MY_COLS)]),
        );
        let engine = Engine::new();
        let (out, sink) = ask
            .collect(
                &engine,
                &format!("SELECT {} FROM t", MY_COLS.join(", ")),
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (1, false));
        let mut row = sink.first();
        // MariaDB's JSON is LONGTEXT on the wire (no type of its own): it arrives as text.
        let j = row.remove("j").unwrap();
        assert!(
            j == json!({"a": [1, 2]}) || j == json!("{\"a\": [1, 2]}"),
            "{j}"
        );
        assert_eq!(
            Value::Object(row),
            json!({
                "ti": -2, "si": 300, "i": 40000, "bi": 9007199254740993i64,
                "bu": 18446744073709551615u64, "n": "12345.67", "f": 1.5, "d": 2.25, "b": 1,
                "tx": "héllo", "vc": "v", "dt": "2024-01-02", "tm": "03:04:05",
                "ts": "2024-01-02T03:04:05.25", "tsp": "2024-01-02T03:04:05",
                "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "bl": "AP8Q", "nul": null
            })
        );
        for (col, ty) in [
            ("ti", "tinyint"),
            ("si", "smallint"),
            ("i", "int"),
            ("bi", "bigint"),
            ("bu", "bigint unsigned"),
            ("n", "decimal"),
            ("f", "float"),
            ("d", "double"),
            ("tx", "text"),
            ("vc", "varchar"),
            ("dt", "date"),
            ("tm", "time"),
            ("ts", "datetime"),
            ("tsp", "timestamp"),
            ("bl", "blob"),
        ] {
            assert_eq!(sink.type_of(col), ty, "{col}");
        }
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn mysql_row_cap_and_batches() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&[
            "CREATE TABLE nums (n INT)",
            "INSERT INTO nums SELECT seq FROM seq_1_to_1200",
        ])
        .await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Mysql, Some(&db.name), &[("nums", &["n"])]),
        );
        let engine = Engine::new();
        row_cap_checks(&engine, &ask).await;
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn mysql_byte_caps() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&[
            "CREATE TABLE big (id INT, t LONGTEXT CHARACTER SET utf8mb4, b LONGBLOB)",
            "INSERT INTO big VALUES (1, REPEAT('x', 100000), UNHEX(REPEAT('ab', 100000))),
                (2, REPEAT('é', 40000), NULL)",
            "CREATE TABLE rows1k (id INT, s TEXT)",
            "INSERT INTO rows1k SELECT seq, REPEAT('y', 1000) FROM seq_1_to_2000",
        ])
        .await;
        let ask = Ask::new(db.target(), big_snapshot(Dialect::Mysql, Some(&db.name)));
        let engine = Engine::new();
        byte_cap_checks(&engine, &ask).await;
        let e = &engine;
        wait_until("no connection is checked out", || {
            let s = e.pool_status();
            async move { s.in_use == 0 }
        })
        .await;
        engine.forget(ask.id);
        // A capped read abandons its query: the engine kills that session in the
        // background (and closes the idle ones with the pool), so none is left holding
        // the tables' metadata locks. Polled on this runtime, where the kill runs.
        let started = Instant::now();
        loop {
            let left = db.sessions().await;
            if left.is_empty() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "sessions still open on the database: {left:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[tokio::test]
    async fn mysql_statement_timeout_and_denied_sleep() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&["CREATE TABLE t (a INT)", MY_FILL]).await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Mysql, Some(&db.name), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let r = ask.collect(&engine, MY_BOMB, limits(10, 500)).await;
        assert!(matches!(r, Err(ExecError::Timeout(500))), "{:?}", r.err());
        let (out, _) = ask
            .collect(&engine, "SELECT a FROM t", limits(5000, 5000))
            .await
            .unwrap();
        assert_eq!(out.row_count, 1000);
        let g = rejected(
            ask.collect(&engine, "SELECT SLEEP(10)", limits(10, 60_000))
                .await,
        );
        assert!(g.message.to_lowercase().contains("sleep"), "{}", g.message);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn mysql_writes_through_a_function_are_refused() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&[
            "CREATE TABLE t (a INT)",
            "INSERT INTO t VALUES (1)",
            "CREATE FUNCTION evil() RETURNS INT DETERMINISTIC MODIFIES SQL DATA
             BEGIN INSERT INTO t VALUES (99); DELETE FROM t WHERE a = 1; RETURN 1; END",
        ])
        .await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Mysql, Some(&db.name), &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let r = rejected(
            ask.collect(&engine, "SELECT evil()", limits(10, 5000))
                .await,
        );
        assert_eq!(r.code, querent_domain::ErrorCode::PolicyViolation);
        rejected(
            ask.collect(&engine, "DELETE FROM t", limits(10, 5000))
                .await,
        );
        assert_eq!(db.count("t").await, 1);
        engine.forget(ask.id);
    }

    #[tokio::test]
    async fn mysql_dropping_the_request_kills_the_query() {
        require_service!("MariaDB", MY_ADDR);
        let db = MyDb::new(&["CREATE TABLE t (a INT)", MY_FILL]).await;
        let ask = Ask::new(
            db.target(),
            snapshot(Dialect::Mysql, Some(&db.name), &[("t", &["a"])]),
        );
        let engine = Arc::new(Engine::new());
        let running = || {
            let name = db.name.clone();
            async move {
                let mut root = mysql_root().await;
                let n: Option<i64> = root
                    .exec_first(
                        "SELECT count(*) FROM information_schema.processlist WHERE db = ? AND command = 'Query'",
                        (name,),
                    )
                    .await
                    .unwrap();
                root.disconnect().await.unwrap();
                n.unwrap()
            }
        };
        let task = {
            let (engine, ask) = (engine.clone(), ask.clone());
            tokio::spawn(async move {
                ask.collect(&engine, MY_BOMB, limits(10, 60_000))
                    .await
                    .map(|_| ())
            })
        };
        wait_until("the query runs", || async { running().await == 1 }).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        task.abort();
        let _ = task.await;
        wait_until("the query is gone", || async { running().await == 0 }).await;
        assert_eq!(engine.pool_status().in_use, 0);
        engine.forget(ask.id);
    }

    // ------------------------------------------------------------ sqlite

    #[tokio::test]
    async fn sqlite_values_are_typed_json() {
        let file = sqlite_db(
            "CREATE TABLE t (i INTEGER, n NUMERIC, r REAL, b BOOLEAN, tx TEXT, vc VARCHAR(20),
                dt DATE, ts DATETIME, u TEXT, j JSON, bl BLOB, nul INTEGER);
             INSERT INTO t VALUES (9007199254740993, 12.5, 2.25, 1, 'héllo', 'v', '2024-01-02',
                '2024-01-02T03:04:05', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                '{\"a\": [1, 2]}', x'00ff10', NULL);",
        );
        let cols: &[&str] = &[
            "i", "n", "r", "b", "tx", "vc", "dt", "ts", "u", "j", "bl", "nul",
        ];
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", cols)]),
        );
        let engine = Engine::new();
        let (out, sink) = ask
            .collect(
                &engine,
                &format!("SELECT {} FROM t", cols.join(", ")),
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!((out.row_count, out.truncated), (1, false));
        assert_eq!(
            Value::Object(sink.first()),
            json!({
                "i": 9007199254740993i64, "n": 12.5, "r": 2.25, "b": true, "tx": "héllo",
                "vc": "v", "dt": "2024-01-02", "ts": "2024-01-02T03:04:05",
                "u": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "j": {"a": [1, 2]}, "bl": "AP8Q",
                "nul": null
            })
        );
        assert_eq!(sink.type_of("vc"), "varchar(20)");
        assert_eq!(sink.type_of("i"), "integer");
        let (_, sink) = ask
            .collect(
                &engine,
                "SELECT i + 1 AS e, 1.0 / 0 AS z FROM t",
                limits(10, 5000),
            )
            .await
            .unwrap();
        assert_eq!(
            Value::Object(sink.first()),
            json!({"e": 9007199254740994i64, "z": null})
        );
        assert_eq!(sink.type_of("e"), "integer");
        assert_eq!(engine.pool_status().pools, 0, "sqlite files are not pooled");
    }

    #[tokio::test]
    async fn sqlite_byte_caps_and_length_limit() {
        let file = sqlite_db(
            "CREATE TABLE big (id INTEGER, t TEXT, b BLOB);
             INSERT INTO big VALUES
                (1, replace(hex(zeroblob(50000)), '00', 'xx'),
                    unhex(replace(hex(zeroblob(100000)), '00', 'AB'))),
                (2, replace(hex(zeroblob(40000)), '00', 'é'), NULL);
             CREATE TABLE rows1k (id INTEGER, s TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO rows1k SELECT i, replace(hex(zeroblob(500)), '00', 'yy') FROM n;
             CREATE TABLE people (id INTEGER, email TEXT);
             CREATE TABLE huge (t TEXT);
             INSERT INTO huge VALUES (replace(hex(zeroblob(1048576)), '00', 'zz'));",
        );
        let ask = Ask::new(sqlite(&file.0), big_snapshot(Dialect::Sqlite, None));
        let engine = Engine::new();
        byte_cap_checks(&engine, &ask).await;

        // SQLITE_LIMIT_LENGTH: with a 1 MiB result cap SQLite refuses to build or read a
        // longer value; with the default (16 MiB) the 2 MiB value is read and cut.
        let err = match ask
            .collect(&engine, "SELECT t FROM huge", byte_limits(10, 1024 * 1024))
            .await
        {
            Err(ExecError::Query(db)) => db,
            other => panic!("expected SQLITE_TOOBIG, got {other:?}"),
        };
        assert_eq!(
            err.code,
            DbErrorCode::Sqlite {
                name: "SQLITE_TOOBIG".into()
            },
            "{err}"
        );
        let built =
            "SELECT t || t || t || t || t || t || t || t || t || t || t AS s FROM big WHERE id = 1";
        assert!(matches!(
            ask.collect(&engine, built, byte_limits(10, 1024 * 1024))
                .await,
            Err(ExecError::Query(_))
        ));
        let (out, sink) = ask
            .collect(&engine, "SELECT t FROM huge", limits(10, 10_000))
            .await
            .unwrap();
        assert_eq!(out.values_truncated, 1);
        assert_eq!(sink.column("t")[0].as_str().unwrap().len(), 64 * 1024);
    }

    #[tokio::test]
    async fn sqlite_row_cap_and_batches() {
        let file = sqlite_db(
            "CREATE TABLE nums (n INTEGER);
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 1200)
             INSERT INTO nums SELECT n FROM s;",
        );
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("nums", &["n"])]),
        );
        row_cap_checks(&Engine::new(), &ask).await;
    }

    #[tokio::test]
    async fn sqlite_statement_timeout_and_refused_writes() {
        let file = sqlite_db("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);");
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let r = ask.collect(&engine, BOMB, limits(10, 500)).await;
        assert!(matches!(r, Err(ExecError::Timeout(500))), "{:?}", r.err());

        for sql in [
            "DELETE FROM t",
            "INSERT INTO t VALUES (2)",
            "SELECT a FROM t; DROP TABLE t",
            "ATTACH DATABASE 'x.db' AS x",
            "PRAGMA query_only = 0",
        ] {
            rejected(ask.collect(&engine, sql, limits(10, 5000)).await);
        }
        let g = rejected(
            ask.collect(&engine, "SELECT load_extension('x')", limits(10, 5000))
                .await,
        );
        assert!(g.message.contains("load_extension"), "{}", g.message);
        assert_eq!(sqlite_count(&file, "t"), 1);
    }

    #[tokio::test]
    async fn masked_columns_are_flagged() {
        let file =
            sqlite_db("CREATE TABLE t (a INTEGER, secret TEXT); INSERT INTO t VALUES (1, 'x');");
        let mut ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", &["a", "secret"])]),
        );
        ask.policy.masked_column_patterns = vec!["t.secret".to_owned()];
        let engine = Engine::new();
        let (_, sink) = ask
            .collect(&engine, "SELECT a, secret FROM t", limits(10, 5000))
            .await
            .unwrap();
        let flags: Vec<(&str, bool)> = sink
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.masked))
            .collect();
        assert_eq!(flags, [("a", false), ("secret", true)]);
        assert_ne!(
            sink.column("secret"),
            vec![json!("x")],
            "the value is masked"
        );
        assert_eq!(sink.column("a"), vec![json!(1)]);
    }

    #[tokio::test]
    async fn sqlite_answers_follow_the_file_through_writes_and_replacement() {
        let file = sqlite_db("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);");
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", &["a"])]),
        );
        let engine = Engine::new();
        let count = || async {
            let (_, sink) = ask
                .collect(&engine, "SELECT count(*) AS n FROM t", limits(10, 5000))
                .await
                .unwrap();
            sink.column("n")[0].as_i64().unwrap()
        };
        assert_eq!(count().await, 1);
        assert_eq!(count().await, 1, "a kept connection answers the same");
        rusqlite::Connection::open(&file.0)
            .unwrap()
            .execute_batch("INSERT INTO t VALUES (2);")
            .unwrap();
        assert_eq!(count().await, 2, "a write is seen");
        // Another file moved over the path (an upload replacing it).
        let other = sqlite_db("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3);");
        std::fs::rename(&other.0, &file.0).unwrap();
        assert_eq!(
            count().await,
            3,
            "the replacement is read, not the old inode"
        );
        // An idle connection holds no lock: writers are not kept waiting.
        assert!(sqlite_unlocked(&file));
    }

    /// Whether a writer can take the file's exclusive lock (no reader holds it).
    fn sqlite_unlocked(file: &TempFile) -> bool {
        let conn = rusqlite::Connection::open(&file.0).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE; COMMIT;").is_ok()
    }

    #[tokio::test]
    async fn sqlite_dropping_the_request_interrupts_the_worker() {
        let file = sqlite_db("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);");
        let ask = Ask::new(
            sqlite(&file.0),
            snapshot(Dialect::Sqlite, None, &[("t", &["a"])]),
        );
        let engine = Arc::new(Engine::new());
        // Reads `t`, so the worker holds a shared lock while it runs.
        let sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) \
                   SELECT count(*) FROM r WHERE n > (SELECT count(*) FROM t)";
        let task = {
            let (engine, ask) = (engine.clone(), ask.clone());
            tokio::spawn(async move {
                ask.collect(&engine, sql, limits(10, 60_000))
                    .await
                    .map(|_| ())
            })
        };
        wait_until("the worker holds its lock", || async {
            !sqlite_unlocked(&file)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!sqlite_unlocked(&file));
        task.abort();
        let _ = task.await;
        wait_until("the worker is gone", || async { sqlite_unlocked(&file) }).await;
    }
}
