//! Pieces shared by the drivers' executors (`drivers/<name>/run.rs`).

use std::time::Duration;

use querent_domain::query::{ColumnMeta, QueryLimits, QueryOutcome, SinkClosed, Truncation};
use querent_sql::ValidatedSql;

use crate::deliver::Delivered;

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

/// What becomes of a pooled connection after a query that finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AfterQuery {
    /// Rolled back cleanly: back to the pool.
    Reuse,
    /// Rolled back, but a large row may have grown the driver's buffers: close it so the
    /// memory is freed.
    Close,
    /// The result byte cap stopped reading while the server may still be sending rows:
    /// cancel the query on the server and close the connection (no rollback round trip,
    /// which would first read every remaining row).
    Cancel,
}

impl AfterQuery {
    /// The fate of a connection after a delivery that ended this way.
    pub fn of(delivered: &Delivered) -> Self {
        if delivered.stopped_early {
            AfterQuery::Cancel
        } else if delivered.large_rows {
            AfterQuery::Close
        } else {
            AfterQuery::Reuse
        }
    }
}

/// A finished stream.
pub(crate) struct Done {
    /// Result columns.
    pub columns: Vec<ColumnMeta>,
    /// Rows delivered.
    pub row_count: u64,
    /// The limit that cut the result short, if any.
    pub truncated_by: Option<Truncation>,
    /// Values shortened by the per-value cap.
    pub values_truncated: u64,
    /// What becomes of the connection.
    pub after: AfterQuery,
}

impl Done {
    /// A finished stream with these columns, as delivered.
    pub fn new(columns: Vec<ColumnMeta>, delivered: Delivered) -> Self {
        Self {
            columns,
            row_count: delivered.row_count,
            truncated_by: delivered.truncated_by,
            values_truncated: delivered.values_truncated,
            after: AfterQuery::of(&delivered),
        }
    }

    /// The outcome reported to the caller.
    pub fn outcome(self, validated: &ValidatedSql, execution_time_ms: u64) -> QueryOutcome {
        QueryOutcome {
            sql: validated.sql().to_owned(),
            columns: self.columns,
            row_count: self.row_count,
            truncated: self.truncated_by.is_some(),
            truncated_by: self.truncated_by,
            values_truncated: self.values_truncated,
            execution_time_ms,
        }
    }
}
