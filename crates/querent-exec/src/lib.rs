//! # querent-exec
//!
//! Talks to the *target* databases, the ones users ask questions about (never Querent's own
//! metadata store). Each database engine is one folder, `src/drivers/<name>/`, implementing
//! the crate's `TargetDriver` trait (connect, version, run, cancel, read the catalog); a new
//! database is one more folder and one more variant of `querent_domain::Dialect`. Three
//! jobs:
//!
//! - **Connection tests**: [`test_connection`] (and [`TargetTester`], the `TargetProbe`
//!   port) connects within a timeout, asks the server for its version and disconnects.
//! - **Catalogs**: [`read_catalog`] reads tables, columns, keys, comments, row estimates
//!   and bounded samples of low-cardinality columns ([`IntrospectOptions`]; never of
//!   columns the privacy policy excludes or masks) in a read-only transaction with a
//!   statement timeout. querent-introspect stamps and fingerprints the result and serves
//!   it through the `SchemaReader` port.
//! - **Execution**: [`Engine`] implements the `QueryEngine` port
//!   (`querent_domain::query`). Every `check` and `run` validates the SQL text with the
//!   guard (`querent_sql::validate`); the executors only ever receive the guard's
//!   `ValidatedSql`. A run checks out a connection from the target's bounded pool
//!   (deadpool; one per connection id, replaced when the target or password changes,
//!   dropped by `forget`), opens a read-only transaction (`BEGIN READ ONLY` /
//!   `START TRANSACTION READ ONLY`; SQLite files opened read-only, never through a
//!   symbolic link, with `PRAGMA query_only = 1`, `trusted_schema` off, defensive mode
//!   on and no ATTACH, the connection kept for the next query only while the file's
//!   device, inode, size and times are unchanged), sets the statement timeout (`statement_timeout`,
//!   `max_statement_time` on MariaDB, `MAX_EXECUTION_TIME` on MySQL, a progress handler on
//!   SQLite), streams typed JSON rows to the `RowSink` in batches of at most
//!   [`BATCH_SIZE`], stops at the row cap (reporting truncation), and rolls back. Results
//!   are bounded in bytes too (`QueryLimits::max_value_bytes`, `max_result_bytes`): values
//!   are cut while they are converted (never copied whole), rows stop before the one that
//!   would pass the result cap (the query is then cancelled on the server instead of
//!   drained), SQLite's `SQLITE_LIMIT_LENGTH` stops it building giant values, a connection
//!   that carried a row over 1 MiB is closed rather than pooled (its driver buffers go with
//!   it), and `QueryOutcome::truncated_by` names the limit that cut a result short. Every
//!   pooled session reads string literals one way only: PostgreSQL with
//!   `standard_conforming_strings = on`, MySQL/MariaDB with `NO_BACKSLASH_ESCAPES` and
//!   `ANSI_QUOTES` removed from its `sql_mode` and the `utf8mb4` character set (`SET NAMES`,
//!   so no multi-byte client charset such as GBK or SJIS can swallow an escaping backslash;
//!   both checked after they are set). If the
//!   request future is dropped or the sink goes away, the query is cancelled on the server
//!   (a PostgreSQL cancel request, `KILL CONNECTION` from a second connection, an SQLite interrupt) and the connection
//!   is discarded, never returned to the pool; so is a connection after any error.
//!
//! Depends on: `querent-domain` (targets, [`Secret`]s, the ports and their types),
//! `querent-sql` (the guard), `tokio-postgres` (PostgreSQL), `mysql_async` (MySQL and
//! MariaDB), `rusqlite` (SQLite files, on the blocking pool), `deadpool` (pools), tokio,
//! serde_json and base64 (result values). It is the only Querent crate that links a
//! database driver for targets.
//!
//! Must never:
//! - execute anything but a `querent_sql::ValidatedSql` (plus the fixed transaction,
//!   timeout and version statements): the only way SQL written by a model or a person
//!   reaches a target is through the guard;
//! - write to a target database: every query runs in a read-only transaction that is rolled
//!   back, SQLite files are opened read-only and never created;
//! - return a connection to its pool after a timeout, a cancellation or an error;
//! - log credentials or put a password in an error message: passwords are only exposed to
//!   the drivers' configuration builders, and driver messages are scrubbed of them.
//!
//! TLS to target databases follows the connection's `ssl_mode` (`disable`, `prefer`,
//! `require`, `verify-ca`, `verify-full`) with rustls and an optional CA certificate stored
//! with the connection (`tls.rs`).
//!
//! There are two error types: [`ExecError`] (this crate's, for connection tests and
//! catalog reads) and `querent_domain::query::ExecError` (what [`Engine`] returns through
//! the port).
//!
//! ## Example
//!
//! ```
//! use std::time::Duration;
//! use querent_domain::{ConnectionTarget, Dialect, SslMode};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let target = ConnectionTarget {
//!     dialect: Dialect::Sqlite,
//!     host: None, port: None, database: None, username: None,
//!     path: Some("/nonexistent/db.sqlite".into()),
//!     ssl_mode: SslMode::Prefer,
//!     ca_certificate: None,
//! };
//! // A SQLite target is opened read-only and never created.
//! let err = querent_exec::test_connection(&target, None, Duration::from_secs(5)).await;
//! assert!(err.unwrap_err().to_string().contains("does not exist"));
//! # });
//! ```
//!
//! A successful test in `examples/test_a_connection.rs`.

mod catalog;
mod deliver;
mod drivers;
mod engine;
mod error;
mod exec_common;
mod pool;
mod target;
mod tls;
mod values;

use std::time::{Duration, Instant};

use querent_domain::ConnectionTarget;
use querent_domain::Secret;
use querent_domain::ports::{ProbeError, TargetProbe};

pub use catalog::{IntrospectOptions, read_catalog};
pub use deliver::BATCH_SIZE;
pub use engine::{DEFAULT_APPLICATION_NAME, Engine};
pub use error::ExecError;
pub use pool::DEFAULT_POOL_SIZE;

/// Extra time, beyond the connect timeout, that the version query may take.
///
/// The whole [`test_connection`] is bounded by `connect_timeout + VERSION_QUERY_MARGIN`:
/// connecting (DNS, TCP, handshake, authentication) gets `connect_timeout`, and the version
/// query must finish by the end of the margin.
pub const VERSION_QUERY_MARGIN: Duration = Duration::from_secs(1);

pub use querent_domain::ports::ServerInfo;

/// The [`TargetProbe`] port implemented with [`test_connection`], for the services.
#[derive(Debug, Clone, Copy, Default)]
pub struct TargetTester;

#[async_trait::async_trait]
impl TargetProbe for TargetTester {
    async fn probe(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        timeout: Duration,
    ) -> Result<ServerInfo, ProbeError> {
        test_connection(target, password, timeout)
            .await
            .map_err(|e| match e {
                ExecError::Timeout(ms) => ProbeError::Timeout(ms),
                ExecError::InvalidTarget(m) => ProbeError::InvalidTarget(m),
                other @ (ExecError::Connection(_) | ExecError::Query(_)) => {
                    ProbeError::Connection(other.to_string())
                }
            })
    }
}

/// Connects (within `connect_timeout`), asks for the server version, disconnects.
///
/// - PostgreSQL: host, database and username are required, port defaults to 5432.
/// - MySQL/MariaDB: host, database and username are required, port defaults to 3306.
/// - SQLite: `path` is required and must be an existing database file; it is opened
///   read-only and never created.
///
/// Errors: [`ExecError::InvalidTarget`] (naming the missing or bad field) before any
/// network activity, [`ExecError::Connection`] when the server refuses, authentication
/// fails, the database does not exist or TLS is required, [`ExecError::Timeout`] when the
/// server does not answer in time. The password never appears in an error.
pub async fn test_connection(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> Result<ServerInfo, ExecError> {
    let started = Instant::now();
    tracing::debug!(
        dialect = %target.dialect,
        host = target.host.as_deref().unwrap_or(""),
        port = target.port,
        database = target.database.as_deref().unwrap_or(""),
        path = target.path.as_deref().unwrap_or(""),
        "testing target connection"
    );
    let result = drivers::driver(target.dialect)
        .server_version(target, password, connect_timeout)
        .await;
    let latency_ms = millis(started.elapsed());
    match result {
        Ok(server_version) => {
            tracing::debug!(dialect = %target.dialect, latency_ms, "target connection ok");
            Ok(ServerInfo {
                dialect: target.dialect,
                server_version,
                latency_ms,
            })
        }
        Err(err) => {
            tracing::debug!(dialect = %target.dialect, latency_ms, error = %err, "target connection failed");
            Err(err)
        }
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
