//! One folder per database engine, each implementing [`TargetDriver`]: everything Querent
//! does with a target of that dialect — connect, ask the version, run validated SQL (and
//! cancel it when abandoned), read the catalog — next to the connection code those share.
//!
//! [`driver`] is the one place that maps a [`Dialect`] to its driver: a new database is a
//! folder here plus its variant of `querent_domain::Dialect` (whose facts, and the SQL
//! guard's rules for it, the compiler then asks for).
//!
//! - `postgres/` — tokio-postgres; pooled; a cancel request stops an abandoned query.
//! - `mysql/` — mysql_async, MySQL and MariaDB; pooled; `KILL CONNECTION` from a second
//!   connection stops an abandoned query.
//! - `sqlite/` — rusqlite on tokio's blocking pool; read-only connections to the file kept
//!   between queries while it is unchanged; the statement interrupted when abandoned (and
//!   that connection closed).
//!
//! Connecting is not part of the trait: each driver's connection is its client library's own
//! type, used by its version query, its pool and its catalog reader alike.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use querent_domain::query::{ExecError as RunError, QueryLimits, QueryOutcome, RowSink};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionTarget, Dialect, Secret};
use querent_sql::ValidatedSql;

use crate::catalog::IntrospectOptions;
use crate::error::ExecError;

mod mysql;
mod postgres;
mod sqlite;

/// The driver of `dialect`.
pub(crate) fn driver(dialect: Dialect) -> &'static dyn TargetDriver {
    match dialect {
        Dialect::Postgres => &postgres::Postgres,
        Dialect::Mysql => &mysql::Mysql,
        Dialect::Sqlite => &sqlite::Sqlite,
    }
}

/// Everything Querent does with one database engine.
///
/// Every method checks the target's settings first (a missing or bad field is
/// [`ExecError::InvalidTarget`] naming it, before any network or file access) and never
/// puts the password in an error.
#[async_trait]
pub(crate) trait TargetDriver: Send + Sync {
    /// Connects within `connect_timeout`, asks the server for its version (the text shown
    /// to people, e.g. `PostgreSQL 17.2 …`, `SQLite 3.50.1`), disconnects.
    async fn server_version(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        connect_timeout: Duration,
    ) -> Result<String, ExecError>;

    /// What runs the target's queries, kept by the engine per connection: a bounded pool of
    /// server connections (created lazily), or a file's connections kept between queries.
    fn runner(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        settings: &RunnerSettings<'_>,
    ) -> Result<Arc<dyn Runner>, RunError>;

    /// Reads the catalog into a snapshot (unsorted, unstamped), read-only and bounded by
    /// `options`; see [`crate::read_catalog`].
    async fn read_catalog(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        options: &IntrospectOptions,
    ) -> Result<SchemaSnapshot, ExecError>;
}

/// How the engine wants runners built.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunnerSettings<'a> {
    /// The name PostgreSQL connections announce (`application_name`).
    pub application_name: &'a str,
    /// Connections per target at most.
    pub pool_size: usize,
}

/// Runs validated SQL on one target.
#[async_trait]
pub(crate) trait Runner: Send + Sync {
    /// Runs `validated` (only its `executable()` text) read-only under `limits`, streaming
    /// rows into `sink`. Dropping the future — or the sink going away — cancels the query
    /// on the server, and the connection is then discarded, never reused.
    async fn run(
        &self,
        validated: &ValidatedSql,
        limits: &QueryLimits,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, RunError>;

    /// The pool's state, or `None` when the runner has no pool a query could wait for
    /// (SQLite's kept file connections).
    fn pool_status(&self) -> Option<deadpool::Status>;

    /// Closes the pool: idle connections go at once, busy ones when they are returned.
    fn close(&self);
}
