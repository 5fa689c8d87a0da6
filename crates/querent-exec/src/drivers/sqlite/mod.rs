//! SQLite targets (rusqlite), opened read-only on tokio's blocking pool: how a target file
//! is opened, the version probe, and the driver. Execution is `run.rs`, the connections
//! kept between queries while the file is unchanged `idle.rs`, value decoding `values.rs`,
//! the catalog reader `catalog.rs`.

mod catalog;
mod idle;
mod run;
mod values;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use querent_domain::query::{ExecError as RunError, QueryLimits, QueryOutcome, RowSink};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionTarget, Dialect, Secret};
use querent_sql::ValidatedSql;
use rusqlite::{Connection, OpenFlags};
use tokio::time::timeout;

use crate::catalog::IntrospectOptions;
use crate::drivers::{Runner, RunnerSettings, TargetDriver};
use crate::error::ExecError;
use crate::target::required;
use crate::{VERSION_QUERY_MARGIN, millis};

/// The SQLite driver.
pub(crate) struct Sqlite;

#[async_trait]
impl TargetDriver for Sqlite {
    async fn server_version(
        &self,
        target: &ConnectionTarget,
        _password: Option<&Secret<String>>,
        connect_timeout: Duration,
    ) -> Result<String, ExecError> {
        server_version(target, connect_timeout).await
    }

    fn runner(
        &self,
        target: &ConnectionTarget,
        _password: Option<&Secret<String>>,
        settings: &RunnerSettings<'_>,
    ) -> Result<Arc<dyn Runner>, RunError> {
        Ok(Arc::new(FileRunner {
            target: target.clone(),
            idle: Arc::new(idle::Idle::new(settings.pool_size)),
        }))
    }

    async fn read_catalog(
        &self,
        target: &ConnectionTarget,
        _password: Option<&Secret<String>>,
        options: &IntrospectOptions,
    ) -> Result<SchemaSnapshot, ExecError> {
        catalog::introspect(target, options).await
    }
}

/// A target file and the read-only connections to it kept between queries (at most the
/// engine's pool size, reused only while the file is unchanged).
struct FileRunner {
    target: ConnectionTarget,
    idle: Arc<idle::Idle>,
}

#[async_trait]
impl Runner for FileRunner {
    async fn run(
        &self,
        validated: &ValidatedSql,
        limits: &QueryLimits,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, RunError> {
        run::run(&self.target, &self.idle, validated, limits, sink).await
    }

    /// None: a query never waits for one of these connections (another is opened), so
    /// there is no pool to report.
    fn pool_status(&self) -> Option<deadpool::Status> {
        None
    }

    fn close(&self) {
        self.idle.close();
    }
}

/// How every target SQLite file is opened: read-only without CREATE (never created or
/// written), no URI flag (the path is taken literally and cannot smuggle in URI
/// parameters), and `NOFOLLOW`: a path that is a symbolic link is refused by SQLite itself
/// (stored paths are canonical, so a link there appeared after the sandbox checked it).
pub(crate) fn target_open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW
}

/// Hardens a freshly opened connection to a target file (a file an admin uploaded, so its
/// schema is untrusted): `trusted_schema` off, so views, triggers and defaults in the file
/// cannot call functions that are not marked innocuous nor use unsafe virtual tables, and
/// SQLite's defensive mode on (no writes to the schema or shadow tables, no
/// `sqlite_dbpage` writes, whatever a statement tries).
pub(crate) fn harden_target_connection(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.execute_batch("PRAGMA trusted_schema = OFF")
}

/// Opens the file read-only (never creating it), checks that it really is a database and
/// returns `SQLite <version>`.
pub(crate) async fn server_version(
    target: &ConnectionTarget,
    connect_timeout: Duration,
) -> Result<String, ExecError> {
    let path = PathBuf::from(required(target.path.as_deref(), "path", Dialect::Sqlite)?);
    let busy = connect_timeout;
    let task = tokio::task::spawn_blocking(move || probe(&path, busy));
    // The blocking work cannot be cancelled, but its busy timeout equals the connect
    // timeout, so it ends shortly after we stop waiting.
    let budget = connect_timeout + VERSION_QUERY_MARGIN;
    match timeout(budget, task).await {
        Err(_) => Err(ExecError::Timeout(millis(budget))),
        Ok(Err(join)) => Err(ExecError::Connection(format!(
            "sqlite worker failed: {join}"
        ))),
        Ok(Ok(result)) => result,
    }
}

/// The blocking part of [`server_version`].
#[allow(clippy::disallowed_methods)] // runs on the blocking pool
fn probe(path: &Path, busy_timeout: Duration) -> Result<String, ExecError> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(ExecError::Connection(format!(
                "sqlite: {shown} is not a regular file"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ExecError::Connection(format!(
                "sqlite: database file {shown} does not exist"
            )));
        }
        Err(e) => {
            return Err(ExecError::Connection(format!(
                "sqlite: cannot access {shown}: {e}"
            )));
        }
    }
    // READ_ONLY without CREATE: never creates or modifies the file. No URI flag, so the
    // path is taken literally; never through a symbolic link.
    let conn = Connection::open_with_flags(path, target_open_flags())
        .map_err(|e| ExecError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    harden_target_connection(&conn)
        .map_err(|e| ExecError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    conn.busy_timeout(busy_timeout)
        .map_err(|e| ExecError::Connection(format!("sqlite: {e}")))?;
    // Opening is lazy: only reading the schema proves the file is a database (some SQLite
    // builds already fail `sqlite_version()` on a non-database file, so this comes first).
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            ExecError::Connection(format!("sqlite: {shown} is not an SQLite database ({e})"))
        }
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            ExecError::Timeout(millis(busy_timeout))
        }
        _ => ExecError::Connection(format!("sqlite: cannot read {shown}: {e}")),
    })?;
    let version: String = conn
        .query_row("select sqlite_version()", [], |r| r.get(0))
        .map_err(|e| ExecError::Connection(format!("sqlite: select sqlite_version(): {e}")))?;
    Ok(format!("SQLite {version}"))
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    /// A database file in a fresh temporary folder (removed when dropped).
    struct Folder(PathBuf);

    impl Folder {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!("querent-sqlite-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&dir).unwrap();
            // Canonical, as stored target paths are.
            Self(std::fs::canonicalize(dir).unwrap())
        }
    }

    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn database(dir: &Path) -> PathBuf {
        let path = dir.join("db.sqlite");
        let c = Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t (a INTEGER); CREATE VIEW v AS SELECT a FROM t;")
            .unwrap();
        path
    }

    #[cfg(unix)]
    #[test]
    fn target_files_are_never_opened_through_a_link() {
        let dir = Folder::new();
        let real = database(&dir.0);
        let link = dir.0.join("link.sqlite");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(probe(&real, Duration::from_secs(1)).is_ok());
        let refused = probe(&link, Duration::from_secs(1)).unwrap_err();
        assert!(refused.to_string().contains("cannot open"), "{refused}");
    }

    #[test]
    fn target_connections_distrust_the_file_schema() {
        let dir = Folder::new();
        let path = database(&dir.0);
        let conn = Connection::open_with_flags(&path, target_open_flags()).unwrap();
        harden_target_connection(&conn).unwrap();
        let trusted: i64 = conn
            .query_row("PRAGMA trusted_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(trusted, 0);
        assert!(
            conn.db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE)
                .unwrap()
        );
        // Ordinary views still work.
        let n: i64 = conn
            .query_row("SELECT count(*) FROM v", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
    }
}
