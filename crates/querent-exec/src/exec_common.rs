//! Pieces shared by the PostgreSQL and MySQL executors.

use std::time::Duration;

use querent_domain::query::{ColumnMeta, QueryLimits, QueryOutcome, SinkClosed};
use querent_sql::ValidatedSql;

/// Time beyond the statement timeout after which the engine gives up on a query itself
/// (cancelling it on the server), in case the server's own timeout does not fire or the
/// consumer is too slow.
pub(crate) const SAFETY_MARGIN: Duration = Duration::from_secs(5);

/// The whole execution's budget: statement timeout plus [`SAFETY_MARGIN`].
pub(crate) fn safety_budget(limits: &QueryLimits) -> Duration {
    limits.statement_timeout.saturating_add(SAFETY_MARGIN)
}

/// Why an execution stopped early.
pub(crate) enum Failure<E> {
    /// The sink went away: cancel like a dropped future.
    SinkClosed,
    /// The driver or the server failed.
    Driver(E),
}

impl<E> From<SinkClosed> for Failure<E> {
    fn from(_: SinkClosed) -> Self {
        Failure::SinkClosed
    }
}

impl From<tokio_postgres::Error> for Failure<tokio_postgres::Error> {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Driver(e)
    }
}

impl From<mysql_async::Error> for Failure<mysql_async::Error> {
    fn from(e: mysql_async::Error) -> Self {
        Failure::Driver(e)
    }
}

/// A finished stream.
pub(crate) struct Done {
    /// Result columns.
    pub columns: Vec<ColumnMeta>,
    /// Rows delivered.
    pub row_count: u64,
    /// Whether a row beyond the cap existed.
    pub truncated: bool,
}

impl Done {
    /// The outcome reported to the caller.
    pub fn outcome(self, validated: &ValidatedSql, execution_time_ms: u64) -> QueryOutcome {
        QueryOutcome {
            sql: validated.sql().to_owned(),
            columns: self.columns,
            row_count: self.row_count,
            truncated: self.truncated,
            execution_time_ms,
        }
    }
}
