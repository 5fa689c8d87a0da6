//! Integration tests of querent-exec against real services on this machine:
//! PostgreSQL at 127.0.0.1:5432 (user `postgres`, trust auth, database `test`) and MariaDB
//! at 127.0.0.1:3306 (`root`, empty password, database `test`).
//!
//! A test that needs a service skips (with a message on stderr) when it is unreachable,
//! unless `QUERENT_REQUIRE_SERVICES=1`, in which case it fails.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use querent_domain::Secret;
use querent_domain::{ConnectionTarget, Dialect, SslMode};
use querent_exec::{ExecError, ServerInfo, test_connection};

const PG_ADDR: &str = "127.0.0.1:5432";
const MY_ADDR: &str = "127.0.0.1:3306";
const TIMEOUT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- helpers

/// Whether a service accepts TCP connections. When it does not: panics if
/// `QUERENT_REQUIRE_SERVICES=1`, else prints why the calling test is skipped.
async fn service_available(name: &str, addr: &str) -> bool {
    let up = matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    );
    if !up {
        if std::env::var("QUERENT_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("{name} at {addr} is unreachable and QUERENT_REQUIRE_SERVICES=1");
        }
        eprintln!(
            "skipping: {name} at {addr} is unreachable (set QUERENT_REQUIRE_SERVICES=1 to fail instead)"
        );
    }
    up
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
    let started = Instant::now();
    let err = test_connection(&t, None, TIMEOUT).await;
    let elapsed = started.elapsed();
    let msg = connection_error(err);
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
}

#[tokio::test]
async fn pg_blackhole_times_out() {
    let mut t = pg();
    t.port = Some(blackhole().await);
    let started = Instant::now();
    let err = test_connection(&t, None, Duration::from_millis(300)).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Err(ExecError::Timeout(_) | ExecError::Connection(_))),
        "{err:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
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
    let started = Instant::now();
    let msg = connection_error(test_connection(&t, None, TIMEOUT).await);
    assert!(msg.to_lowercase().contains("refused"), "{msg}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn mysql_blackhole_times_out() {
    let mut t = my();
    t.port = Some(blackhole().await);
    let started = Instant::now();
    let err = test_connection(&t, None, Duration::from_millis(300)).await;
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Err(ExecError::Timeout(_) | ExecError::Connection(_))),
        "{err:?}"
    );
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
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
async fn ssl_require_is_refused_without_connecting() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    for mut t in [pg(), my()] {
        t.port = Some(port);
        t.ssl_mode = SslMode::Require;
        let msg = connection_error(test_connection(&t, None, TIMEOUT).await);
        assert_eq!(
            msg,
            "ssl_mode=require: TLS to target databases is not supported by this build yet"
        );
    }
    let accepted = tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
    assert!(
        accepted.is_err(),
        "nothing may connect when TLS is required"
    );
}

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
