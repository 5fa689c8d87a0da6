//! # querent-exec
//!
//! Talks to the *target* databases, the ones users ask questions about (never Querent's own
//! metadata store). Its job, as it grows: keep a connection pool per target, run every query
//! in a read-only transaction under a statement timeout, cap the rows it returns, and stream
//! row batches back to the chat pipeline. Today it does the first step of that: a real
//! connection test, [`test_connection`], which connects within a timeout, asks the server for
//! its version and disconnects; pools and execution come later.
//!
//! Depends on: `querent-domain` (for [`ConnectionTarget`], [`Dialect`], `SslMode`),
//! (passwords arrive as [`Secret`]s; [`TargetTester`] implements its `TargetProbe` port), `tokio-postgres` (PostgreSQL),
//! `mysql_async` (MySQL and MariaDB), `rusqlite` (SQLite files, opened read-only on the
//! blocking pool) and tokio.
//!
//! Must never:
//! - once execution exists, accept anything but `querent_sql::ValidatedSql` as a query (the
//!   only way SQL written by a model or a person reaches a target is through the guard);
//! - write to a target database: connection tests only read the version, SQLite files are
//!   opened read-only and never created;
//! - log credentials or put a password in an error message: passwords are only exposed to
//!   the drivers' configuration builders, and driver messages are scrubbed of them.
//!
//! TLS to target databases is not available in this build: `ssl_mode=require` is refused
//! without connecting, `prefer` falls back to plain connections.

mod error;
pub mod mysql;
pub mod postgres;
mod sqlite;
mod target;

use std::time::{Duration, Instant};

use querent_domain::Secret;
use querent_domain::ports::{ProbeError, TargetProbe};
use querent_domain::{ConnectionTarget, Dialect};

pub use error::{ExecError, chain, is_io_timeout, scrub};
pub use target::required;

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
    let result = match target.dialect {
        Dialect::Postgres => postgres::server_version(target, password, connect_timeout).await,
        Dialect::Mysql => mysql::server_version(target, password, connect_timeout).await,
        Dialect::Sqlite => sqlite::server_version(target, connect_timeout).await,
    };
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
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
