//! Running a [`ValidatedSql`] on an SQLite file: a worker on tokio's blocking pool takes a
//! kept connection to the unchanged file or opens it read-only with `PRAGMA query_only = 1`
//! (`idle.rs`), enforces the statement timeout with a progress handler, and sends row
//! batches back over a bounded channel. Dropping the request future (or the sink going
//! away) interrupts the worker, and that connection is closed, not kept.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use querent_domain::query::{
    ColumnMeta, DbError, DbErrorCode, ExecError as RunError, QueryLimits, QueryOutcome, Row,
    RowSink,
};
use querent_domain::{ConnectionTarget, Dialect};
use querent_sql::ValidatedSql;
use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode, InterruptHandle};
use tokio::sync::mpsc;

use super::idle::{FileStamp, Idle, forbid_attach, regular_file, reharden};
use super::values;
use crate::deliver::{Admitted, BATCH_SIZE, Budget, Delivery, column_meta};
use crate::exec_common::{Done, safety_budget};
use crate::millis;
use crate::pool::connect_error;
use crate::target::required;

/// SQLite VM instructions between two checks of the deadline and the cancel flag.
const PROGRESS_EVERY: i32 = 1_000;

/// Batches in flight between the worker and the async side.
const CHANNEL_DEPTH: usize = 4;

/// What the worker sends back.
enum Msg {
    Columns(Vec<ColumnMeta>),
    Rows(Vec<Row>),
    /// What the worker's budget admitted (its stop reason and the values it cut).
    Done(Admitted),
    Failed(RunError),
}

/// Shared between the request and its worker: set when the request is abandoned.
#[derive(Default)]
struct Cancel {
    flag: AtomicBool,
    handle: Mutex<Option<InterruptHandle>>,
}

impl Cancel {
    /// Forgets the worker's connection, so that no later cancellation can interrupt it
    /// (it may be running someone else's query by then). False when the request was
    /// cancelled already: then the connection may carry an interrupt and is not kept.
    fn release(&self) -> bool {
        let mut slot = self.handle.lock().unwrap_or_else(|e| e.into_inner());
        *slot = None;
        !self.cancelled()
    }

    fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let guard = self.handle.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = guard.as_ref() {
            h.interrupt();
        }
    }

    fn cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
}

/// Interrupts the worker unless disarmed (request future dropped, sink closed, error).
struct CancelOnDrop(Option<Arc<Cancel>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.cancel();
        }
    }
}

/// Takes a kept connection to the file (or opens it), runs the statement, streams the
/// rows into `sink`.
pub(crate) async fn run(
    target: &ConnectionTarget,
    idle: &Arc<Idle>,
    validated: &ValidatedSql,
    limits: &QueryLimits,
    sink: &mut dyn RowSink,
) -> Result<QueryOutcome, RunError> {
    let path = PathBuf::from(
        required(target.path.as_deref(), "path", Dialect::Sqlite).map_err(connect_error)?,
    );
    let cancel = Arc::new(Cancel::default());
    let mut guard = CancelOnDrop(Some(cancel.clone()));
    let (tx, mut rx) = mpsc::channel(CHANNEL_DEPTH);
    let started = Instant::now();
    let job = Job {
        path,
        validated: validated.clone(),
        statement_timeout: limits.statement_timeout,
        busy_timeout: limits.connect_timeout,
        limits: *limits,
        cancel,
        idle: idle.clone(),
    };
    let worker = tokio::task::spawn_blocking(move || job.run(&tx));

    let mut delivery = Delivery::new(sink, limits, validated.max_rows());
    let mut columns = Vec::new();
    let deadline = tokio::time::Instant::now() + safety_budget(limits);
    loop {
        let msg = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return Err(RunError::Timeout(millis(limits.statement_timeout))),
            Ok(Some(msg)) => msg,
            Ok(None) => {
                // The worker ended without a verdict: it panicked.
                guard.0 = None;
                let why = match worker.await {
                    Err(e) => format!("the sqlite worker failed: {e}"),
                    Ok(()) => "the sqlite worker stopped unexpectedly".to_owned(),
                };
                return Err(RunError::Query(DbError::querent(why)));
            }
        };
        match msg {
            Msg::Columns(c) => {
                if delivery.columns(&c).await.is_err() {
                    return Err(RunError::Cancelled);
                }
                columns = c;
            }
            Msg::Rows(rows) => {
                if delivery.push_batch(rows).await.is_err() {
                    return Err(RunError::Cancelled);
                }
            }
            Msg::Done(admitted) => {
                delivery.absorb(admitted);
                break;
            }
            Msg::Failed(e) => {
                guard.0 = None;
                return Err(e);
            }
        }
    }
    guard.0 = None;
    let delivered = delivery.finish().await.map_err(|_| RunError::Cancelled)?;
    let execution_time_ms = millis(started.elapsed());
    Ok(Done::new(columns, delivered).outcome(validated, execution_time_ms))
}

/// The worker's inputs.
struct Job {
    path: PathBuf,
    validated: ValidatedSql,
    statement_timeout: Duration,
    busy_timeout: Duration,
    limits: QueryLimits,
    cancel: Arc<Cancel>,
    idle: Arc<Idle>,
}

impl Job {
    /// Runs on the blocking pool; every outcome is sent over `tx` (a closed channel means
    /// the request is gone, and the worker just stops).
    fn run(self, tx: &mpsc::Sender<Msg>) {
        if let Err(e) = self.stream(tx) {
            let _ = tx.blocking_send(Msg::Failed(e));
        }
    }

    /// Runs the query on a kept or new connection, and keeps that connection when the
    /// query ended cleanly.
    fn stream(&self, tx: &mpsc::Sender<Msg>) -> Result<(), RunError> {
        let stamp = FileStamp::of(&regular_file(&self.path)?);
        let conn = match self.idle.take(stamp) {
            Some(conn) => {
                reharden(&conn)?;
                conn
            }
            None => open(&self.path)?,
        };
        conn.busy_timeout(self.busy_timeout)
            .map_err(|e| RunError::Connection(format!("sqlite: {e}")))?;
        // SQLite refuses to build (or read) a longer value: `repeat`-style giants end in
        // SQLITE_TOOBIG instead of memory.
        conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, length_limit(&self.limits))
            .map_err(|e| RunError::Connection(format!("sqlite: {e}")))?;
        let streamed = self.stream_on(&conn, tx);
        // Kept only after a clean end, with no cancellation on its way to it; its progress
        // handler (which holds this request's cancel flag) goes first.
        if streamed.is_ok()
            && self.cancel.release()
            && conn.progress_handler(0, None::<fn() -> bool>).is_ok()
            && conn.is_autocommit()
        {
            self.idle.give_back(conn, stamp);
        }
        streamed
    }

    fn stream_on(&self, conn: &Connection, tx: &mpsc::Sender<Msg>) -> Result<(), RunError> {
        let deadline = Instant::now() + self.statement_timeout;
        {
            let mut slot = self.cancel.handle.lock().unwrap_or_else(|e| e.into_inner());
            *slot = Some(conn.get_interrupt_handle());
        }
        let cancel = self.cancel.clone();
        conn.progress_handler(
            PROGRESS_EVERY,
            Some(move || cancel.cancelled() || Instant::now() >= deadline),
        )
        .map_err(|e| self.error(&e, deadline))?;
        if self.cancel.cancelled() {
            return Err(RunError::Cancelled);
        }

        let validated = &self.validated;
        let mut stmt = conn
            .prepare(validated.executable())
            .map_err(|e| self.error(&e, deadline))?;
        // Defence in depth: the guard admits only queries, and the file is read-only.
        if !stmt.readonly() {
            return Err(RunError::Query(DbError::querent(
                "the statement would write to the database",
            )));
        }
        let decls: Vec<(String, Option<String>)> = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), c.decl_type().map(str::to_lowercase)))
            .collect();
        let mut budget = Budget::new(&self.limits, validated.max_rows());
        let mut rows = stmt.query([]).map_err(|e| self.error(&e, deadline))?;
        let mut batch: Vec<Row> = Vec::new();
        let mut sent_columns = false;
        while let Some(row) = rows.next().map_err(|e| self.error(&e, deadline))? {
            if !sent_columns {
                // Columns without a declared type are named after the first row's values.
                let meta = decls.iter().enumerate().map(|(i, (name, decl))| {
                    let ty = match decl {
                        Some(d) => d.clone(),
                        None => row
                            .get_ref(i)
                            .map(|v| values::storage_class(v).to_owned())
                            .unwrap_or_default(),
                    };
                    (name.clone(), ty)
                });
                if tx
                    .blocking_send(Msg::Columns(column_meta(meta, validated)))
                    .is_err()
                {
                    return Ok(());
                }
                sent_columns = true;
            }
            if budget.full() {
                budget.overflow();
                break;
            }
            let values: Row = decls
                .iter()
                .enumerate()
                .map(|(i, (_, decl))| match row.get_ref(i) {
                    Ok(v) => values::value(decl.as_deref().unwrap_or(""), v, &mut budget.values),
                    Err(_) => serde_json::Value::Null,
                })
                .collect();
            if !budget.admit(&values) {
                break;
            }
            batch.push(values);
            if batch.len() >= BATCH_SIZE
                && tx
                    .blocking_send(Msg::Rows(std::mem::take(&mut batch)))
                    .is_err()
            {
                return Ok(());
            }
        }
        if !sent_columns {
            let meta = decls
                .iter()
                .map(|(name, decl)| (name.clone(), decl.clone().unwrap_or_default()));
            if tx
                .blocking_send(Msg::Columns(column_meta(meta, validated)))
                .is_err()
            {
                return Ok(());
            }
        }
        if !batch.is_empty() && tx.blocking_send(Msg::Rows(batch)).is_err() {
            return Ok(());
        }
        let _ = tx.blocking_send(Msg::Done(budget.admitted()));
        Ok(())
    }

    /// An SQLite error as the engine reports it: an interrupt is a timeout when the
    /// deadline passed and a cancellation otherwise; busy/locked is a timeout too.
    fn error(&self, e: &rusqlite::Error, deadline: Instant) -> RunError {
        let timeout = RunError::Timeout(millis(self.statement_timeout));
        match e.sqlite_error_code() {
            Some(ErrorCode::OperationInterrupted) => {
                if self.cancel.cancelled() && Instant::now() < deadline {
                    RunError::Cancelled
                } else {
                    timeout
                }
            }
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => timeout,
            Some(code) => {
                let message = match e {
                    rusqlite::Error::SqliteFailure(_, Some(m)) => m.clone(),
                    other => other.to_string(),
                };
                let hint = (code == ErrorCode::TooBig).then(|| {
                    format!(
                        "values are limited to {} bytes on this server",
                        length_limit(&self.limits)
                    )
                });
                RunError::Query(DbError {
                    code: DbErrorCode::Sqlite {
                        name: code_name(code).to_owned(),
                    },
                    message,
                    detail: None,
                    hint,
                })
            }
            None => RunError::Query(DbError::querent(e.to_string())),
        }
    }
}

/// SQLite's own name of a result code.
fn code_name(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::InternalMalfunction => "SQLITE_INTERNAL",
        ErrorCode::PermissionDenied => "SQLITE_PERM",
        ErrorCode::OperationAborted => "SQLITE_ABORT",
        ErrorCode::DatabaseBusy => "SQLITE_BUSY",
        ErrorCode::DatabaseLocked => "SQLITE_LOCKED",
        ErrorCode::OutOfMemory => "SQLITE_NOMEM",
        ErrorCode::ReadOnly => "SQLITE_READONLY",
        ErrorCode::OperationInterrupted => "SQLITE_INTERRUPT",
        ErrorCode::SystemIoFailure => "SQLITE_IOERR",
        ErrorCode::DatabaseCorrupt => "SQLITE_CORRUPT",
        ErrorCode::NotFound => "SQLITE_NOTFOUND",
        ErrorCode::DiskFull => "SQLITE_FULL",
        ErrorCode::CannotOpen => "SQLITE_CANTOPEN",
        ErrorCode::FileLockingProtocolFailed => "SQLITE_PROTOCOL",
        ErrorCode::SchemaChanged => "SQLITE_SCHEMA",
        ErrorCode::TooBig => "SQLITE_TOOBIG",
        ErrorCode::ConstraintViolation => "SQLITE_CONSTRAINT",
        ErrorCode::TypeMismatch => "SQLITE_MISMATCH",
        ErrorCode::ApiMisuse => "SQLITE_MISUSE",
        ErrorCode::NoLargeFileSupport => "SQLITE_NOLFS",
        ErrorCode::AuthorizationForStatementDenied => "SQLITE_AUTH",
        ErrorCode::ParameterOutOfRange => "SQLITE_RANGE",
        ErrorCode::NotADatabase => "SQLITE_NOTADB",
        _ => "SQLITE_ERROR",
    }
}

/// The longest string or blob SQLite may build or read for a query (`SQLITE_LIMIT_LENGTH`):
/// the result byte cap (nothing longer could be delivered), at least the value cap, at
/// least 1 MiB (so ordinary queries never meet it).
fn length_limit(limits: &QueryLimits) -> i32 {
    let bytes = limits
        .max_result_bytes
        .max(limits.max_value_bytes)
        .max(1024 * 1024);
    i32::try_from(bytes).unwrap_or(i32::MAX)
}

/// Opens an existing database file read-only (never creating it) with `query_only` on and
/// no ATTACH; the caller sets the busy timeout and the length limit.
fn open(path: &Path) -> Result<Connection, RunError> {
    let shown = path.display();
    // READ_ONLY without CREATE, never through a symbolic link; no URI flag, so the
    // configured path is taken literally (as the connection test does) and cannot smuggle
    // in URI parameters. The file's schema is untrusted: trusted_schema off, defensive on.
    let conn = Connection::open_with_flags(path, super::target_open_flags())
        .map_err(|e| RunError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    super::harden_target_connection(&conn)
        .map_err(|e| RunError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    conn.execute_batch("PRAGMA query_only = 1")
        .map_err(|e| RunError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    forbid_attach(&conn)?;
    Ok(conn)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    /// A database file in the temporary folder (removed when dropped).
    struct File(PathBuf);

    impl File {
        fn new(setup: &str) -> Self {
            let path = std::env::temp_dir()
                .join(format!("querent-sqlite-run-{}.db", uuid::Uuid::new_v4()));
            Connection::open(&path)
                .unwrap()
                .execute_batch(setup)
                .unwrap();
            Self(path)
        }

        fn stamp(&self) -> Option<FileStamp> {
            FileStamp::of(&regular_file(&self.0).unwrap())
        }
    }

    impl Drop for File {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn target_connections_attach_nothing_and_write_nothing() {
        let file = File::new("CREATE TABLE t (a INTEGER);");
        let conn = open(&file.0).unwrap();
        let attach = conn.execute_batch("ATTACH DATABASE ':memory:' AS other");
        assert!(attach.is_err(), "{attach:?}");
        assert!(conn.execute_batch("CREATE TEMP TABLE x (a)").is_err());
        // A reused connection is hardened again whatever ran on it.
        conn.execute_batch("PRAGMA query_only = 0").unwrap();
        reharden(&conn).unwrap();
        let on: i64 = conn
            .query_row("PRAGMA query_only", [], |r| r.get(0))
            .unwrap();
        assert_eq!(on, 1);
    }

    #[cfg(unix)]
    #[test]
    fn connections_are_kept_only_for_the_unchanged_file() {
        let file = File::new("CREATE TABLE t (a INTEGER);");
        let idle = Idle::new(2);
        let stamp = file.stamp();
        assert!(stamp.is_some());
        assert!(idle.take(stamp).is_none(), "nothing kept yet");
        for _ in 0..3 {
            idle.give_back(open(&file.0).unwrap(), stamp);
        }
        assert_eq!(idle.len(), 2, "at most max");
        assert!(idle.take(stamp).is_some());
        assert_eq!(idle.len(), 1);

        // A write moves the file on: the kept connection is closed, none is handed out,
        // and one opened on the earlier state is not kept.
        Connection::open(&file.0)
            .unwrap()
            .execute_batch("INSERT INTO t VALUES (1)")
            .unwrap();
        let now = file.stamp();
        assert_ne!(now, stamp);
        assert!(idle.take(now).is_none());
        assert_eq!(idle.len(), 0);
        idle.give_back(open(&file.0).unwrap(), stamp);
        assert_eq!(idle.len(), 0);
        idle.give_back(open(&file.0).unwrap(), now);
        assert_eq!(idle.len(), 1);

        // Closed: nothing kept any more.
        idle.close();
        assert_eq!(idle.len(), 0);
        idle.give_back(open(&file.0).unwrap(), now);
        assert_eq!(idle.len(), 0);
    }
}
