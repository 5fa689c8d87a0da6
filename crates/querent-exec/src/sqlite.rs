//! SQLite targets (rusqlite), opened read-only on tokio's blocking pool.

use std::path::{Path, PathBuf};
use std::time::Duration;

use querent_domain::{ConnectionTarget, Dialect};
use rusqlite::{Connection, OpenFlags};
use tokio::time::timeout;

use crate::error::ExecError;
use crate::target::required;
use crate::{VERSION_QUERY_MARGIN, millis};

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
    // path is taken literally.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
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
