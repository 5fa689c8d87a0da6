//! Read-only connections to one target file kept between queries, so that a query does not
//! open the file and parse its schema again (issue 19: most of the SQLite share of a chat).
//!
//! A kept connection is only reused while the file is the one it was opened on, unchanged:
//! each query reads the file's metadata (device, inode, size, modification and change
//! times) and, when any of them moved — a write, a replacement, a restored backup — every
//! idle connection is closed and a fresh one opened. A connection goes back only after a
//! query that ended cleanly, never after a cancellation, an interrupt or an error of the
//! connection itself; every reuse sets the hardening again (`trusted_schema` off, defensive
//! mode, `query_only`), and ATTACH is impossible on these connections (its limit is 0).

use std::fs::Metadata;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use querent_domain::query::ExecError as RunError;
use rusqlite::Connection;
use rusqlite::limits::Limit;

/// What identifies the content of a file well enough to trust a connection opened on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    /// The stamp of `meta`; `None` where the platform does not say enough (then nothing is
    /// kept).
    pub(super) fn of(meta: &Metadata) -> Option<Self> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            Some(Self {
                dev: meta.dev(),
                ino: meta.ino(),
                size: meta.size(),
                mtime: (meta.mtime(), meta.mtime_nsec()),
                ctime: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}

/// The idle connections of one target file (at most `max`).
pub(crate) struct Idle {
    max: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The file the idle connections were opened on.
    stamp: Option<FileStamp>,
    conns: Vec<Connection>,
    /// Closed (the connection was edited or removed): nothing is kept any more.
    closed: bool,
}

impl Idle {
    /// Keeps at most `max` idle connections (0: none).
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle connection opened on the file as `stamp` describes it, if there is one.
    /// Idle connections opened on an earlier state of the file are closed.
    pub(super) fn take(&self, stamp: Option<FileStamp>) -> Option<Connection> {
        let stale = {
            let mut state = self.lock();
            if stamp.is_some() && state.stamp == stamp {
                return state.conns.pop();
            }
            state.stamp = stamp;
            std::mem::take(&mut state.conns)
        };
        // Closed outside the lock.
        drop(stale);
        None
    }

    /// Keeps `conn`, opened on the file as `stamp` described it, unless the file has moved
    /// on since, enough are kept already or the runner was closed.
    pub(super) fn give_back(&self, conn: Connection, stamp: Option<FileStamp>) {
        let mut state = self.lock();
        if !state.closed && stamp.is_some() && state.stamp == stamp && state.conns.len() < self.max
        {
            state.conns.push(conn);
            return;
        }
        drop(state);
        drop(conn);
    }

    /// Closes every idle connection and keeps none from now on.
    pub(crate) fn close(&self) {
        let stale = {
            let mut state = self.lock();
            state.closed = true;
            std::mem::take(&mut state.conns)
        };
        drop(stale);
    }

    /// Idle connections right now (tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().conns.len()
    }
}

/// Sets again, on a connection about to run a query, what [`super::run`]'s open set: the
/// file's schema untrusted, defensive mode, `query_only`, no ATTACH. Nothing a validated
/// query can do changes these; this keeps a reused connection exactly as hardened as a new
/// one whatever ran on it before.
pub(super) fn reharden(conn: &Connection) -> Result<(), RunError> {
    super::harden_target_connection(conn)
        .and_then(|()| conn.execute_batch("PRAGMA query_only = 1"))
        .map_err(|e| RunError::Connection(format!("sqlite: {e}")))?;
    forbid_attach(conn)
}

/// No ATTACH on a target connection (a kept connection must not carry a second database
/// into the next query).
pub(super) fn forbid_attach(conn: &Connection) -> Result<(), RunError> {
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)
        .map_err(|e| RunError::Connection(format!("sqlite: {e}")))?;
    Ok(())
}

/// Metadata of the file at `path`, refusing anything but a regular file.
#[allow(clippy::disallowed_methods)] // runs on the blocking pool (the SQLite worker)
pub(super) fn regular_file(path: &Path) -> Result<Metadata, RunError> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(m),
        Ok(_) => Err(RunError::Connection(format!(
            "sqlite: {shown} is not a regular file"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(RunError::Connection(format!(
            "sqlite: database file {shown} does not exist"
        ))),
        Err(e) => Err(RunError::Connection(format!(
            "sqlite: cannot access {shown}: {e}"
        ))),
    }
}
