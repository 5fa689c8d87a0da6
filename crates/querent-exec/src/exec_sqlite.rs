//! Running a [`ValidatedSql`] on an SQLite file: a worker on tokio's blocking pool opens
//! the file read-only with `PRAGMA query_only = 1`, enforces the statement timeout with a
//! progress handler, and sends row batches back over a bounded channel. Dropping the
//! request future (or the sink going away) interrupts the worker.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use querent_domain::query::{
    ColumnMeta, ExecError as RunError, QueryLimits, QueryOutcome, Row, RowSink,
};
use querent_domain::{ConnectionTarget, Dialect};
use querent_sql::ValidatedSql;
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags};
use tokio::sync::mpsc;

use crate::deliver::{BATCH_SIZE, Delivery, column_meta};
use crate::exec_common::{Done, safety_budget};
use crate::millis;
use crate::pool::connect_error;
use crate::target::required;
use crate::values::sqlite as values;

/// SQLite VM instructions between two checks of the deadline and the cancel flag.
const PROGRESS_EVERY: i32 = 1_000;

/// Batches in flight between the worker and the async side.
const CHANNEL_DEPTH: usize = 4;

/// What the worker sends back.
enum Msg {
    Columns(Vec<ColumnMeta>),
    Rows(Vec<Row>),
    Done { truncated: bool },
    Failed(RunError),
}

/// Shared between the request and its worker: set when the request is abandoned.
#[derive(Default)]
struct Cancel {
    flag: AtomicBool,
    handle: Mutex<Option<InterruptHandle>>,
}

impl Cancel {
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

/// Opens the file, runs the statement, streams the rows into `sink`.
pub(crate) async fn run(
    target: &ConnectionTarget,
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
        cancel,
    };
    let worker = tokio::task::spawn_blocking(move || job.run(&tx));

    let mut delivery = Delivery::new(sink, validated.max_rows());
    let mut columns = Vec::new();
    let deadline = tokio::time::Instant::now() + safety_budget(limits);
    let truncated_by_worker = loop {
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
                return Err(RunError::Query(why));
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
            Msg::Done { truncated } => break truncated,
            Msg::Failed(e) => {
                guard.0 = None;
                return Err(e);
            }
        }
    };
    guard.0 = None;
    let (row_count, truncated) = delivery.finish().await.map_err(|_| RunError::Cancelled)?;
    let execution_time_ms = millis(started.elapsed());
    Ok(Done {
        columns,
        row_count,
        truncated: truncated || truncated_by_worker,
    }
    .outcome(validated, execution_time_ms))
}

/// The worker's inputs.
struct Job {
    path: PathBuf,
    validated: ValidatedSql,
    statement_timeout: Duration,
    busy_timeout: Duration,
    cancel: Arc<Cancel>,
}

impl Job {
    /// Runs on the blocking pool; every outcome is sent over `tx` (a closed channel means
    /// the request is gone, and the worker just stops).
    fn run(self, tx: &mpsc::Sender<Msg>) {
        if let Err(e) = self.stream(tx) {
            let _ = tx.blocking_send(Msg::Failed(e));
        }
    }

    fn stream(&self, tx: &mpsc::Sender<Msg>) -> Result<(), RunError> {
        let conn = open(&self.path, self.busy_timeout)?;
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
            .prepare(validated.sql())
            .map_err(|e| self.error(&e, deadline))?;
        // Defence in depth: the guard admits only queries, and the file is read-only.
        if !stmt.readonly() {
            return Err(RunError::Query(
                "the statement would write to the database".to_owned(),
            ));
        }
        let decls: Vec<(String, Option<String>)> = stmt
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), c.decl_type().map(str::to_lowercase)))
            .collect();
        let max_rows = validated.max_rows();
        let mut rows = stmt.query([]).map_err(|e| self.error(&e, deadline))?;
        let mut batch: Vec<Row> = Vec::new();
        let mut count: u64 = 0;
        let mut truncated = false;
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
            if count >= max_rows {
                truncated = true;
                break;
            }
            let values: Row = decls
                .iter()
                .enumerate()
                .map(|(i, (_, decl))| match row.get_ref(i) {
                    Ok(v) => values::value(decl.as_deref().unwrap_or(""), v),
                    Err(_) => serde_json::Value::Null,
                })
                .collect();
            batch.push(values);
            count += 1;
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
        let _ = tx.blocking_send(Msg::Done { truncated });
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
            _ => RunError::Query(e.to_string()),
        }
    }
}

/// Opens an existing database file read-only (never creating it) with `query_only` on.
fn open(path: &Path, busy_timeout: Duration) -> Result<Connection, RunError> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(RunError::Connection(format!(
                "sqlite: {shown} is not a regular file"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(RunError::Connection(format!(
                "sqlite: database file {shown} does not exist"
            )));
        }
        Err(e) => {
            return Err(RunError::Connection(format!(
                "sqlite: cannot access {shown}: {e}"
            )));
        }
    }
    // READ_ONLY without CREATE; no URI flag, so the configured path is taken literally
    // (as the connection test does) and cannot smuggle in URI parameters.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| RunError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    conn.busy_timeout(busy_timeout)
        .map_err(|e| RunError::Connection(format!("sqlite: {e}")))?;
    conn.execute_batch("PRAGMA query_only = 1")
        .map_err(|e| RunError::Connection(format!("sqlite: cannot open {shown}: {e}")))?;
    Ok(conn)
}
