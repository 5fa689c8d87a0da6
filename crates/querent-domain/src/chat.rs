//! Chat sessions and their messages as stored.

use serde::{Deserialize, Serialize};

use crate::query::{ColumnMeta, QueryOutcome, Row, TruncationReason};
use crate::{ConnectionId, Dialect, MessageId, MessageStatus, SessionId, TeamId, UnixMillis};

/// A conversation about one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSession {
    /// Id.
    pub id: SessionId,
    /// The team that owns the connection.
    pub team_id: TeamId,
    /// The connection every question of the session is asked about.
    pub connection_id: ConnectionId,
    /// Who started it: `user:<id>` or `client:<id>` (see `Actor::audit_name`).
    pub owner: String,
    /// The first question, shortened.
    pub title: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Time of the latest message.
    pub updated_at: UnixMillis,
}

/// A result: columns, rows (masked values stay masked) and the limits that shaped it. A
/// chat answer holds every row delivered; the copy stored with a message keeps only the
/// first rows (`rows.len() < row_count` then). Clients read it through the app's wire view
/// (`querent_app::chat::ResultView`), not in this stored shape.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultSet {
    /// Result columns.
    pub columns: Vec<ColumnMeta>,
    /// Rows, each a list of typed JSON values in column order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Value>>))]
    pub rows: Vec<Row>,
    /// Rows the query returned (up to the row cap).
    pub row_count: u64,
    /// Whether the result is incomplete: the row cap or the result byte cap cut it off, or
    /// values were shortened by the value byte cap (`truncated_reason` says which).
    pub truncated: bool,
    /// Which limit cut the result short: `row_cap`, `result_bytes` (the one that stopped the
    /// rows) or else `value_bytes` (values were shortened); `null` when it is complete.
    #[serde(default)]
    pub truncated_reason: Option<TruncationReason>,
    /// The value of that limit: rows for `row_cap`, bytes for the others.
    #[serde(default)]
    pub truncated_limit: Option<u64>,
    /// How many values were shortened by the value byte cap (also when another limit is
    /// the `truncated_reason`).
    #[serde(default)]
    pub values_truncated: u64,
    /// Time spent in the database, in milliseconds.
    pub execution_time_ms: u64,
    /// The row cap the query ran under: the requested `max_rows` lowered to the
    /// connection's and the server's caps (`None` in results stored before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows_applied: Option<u64>,
}

impl ResultSet {
    /// The result of an execution under the row cap `max_rows`, with the rows kept of it.
    pub fn from_outcome(outcome: QueryOutcome, rows: Vec<Row>, max_rows: u64) -> Self {
        Self {
            columns: outcome.columns,
            rows,
            row_count: outcome.row_count,
            truncated: outcome.truncated,
            truncated_reason: outcome.truncated_by.map(|t| t.reason),
            truncated_limit: outcome.truncated_by.map(|t| t.limit),
            values_truncated: outcome.values_truncated,
            execution_time_ms: outcome.execution_time_ms,
            max_rows_applied: Some(max_rows),
        }
    }
}

/// Options a question was asked with (kept so an approval runs it the same way).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ChatOptions {
    /// Return the SQL in the response and the `sql` event.
    pub show_query: bool,
    /// Rows to return at most (also bounded by the connection's and the server's caps).
    pub max_rows: u32,
    /// Add a plain-English explanation of the query and its result.
    pub explain_results: bool,
    /// Answer from the semantic cache when an earlier answer fits (the cached SQL is
    /// validated and run again); `false` always asks the provider.
    pub use_cache: bool,
    /// Add column statistics of the result (every row delivered) to the answer.
    pub statistics: bool,
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            show_query: true,
            max_rows: 100,
            explain_results: false,
            use_cache: true,
            statistics: false,
        }
    }
}

/// One call to the provider while answering a question (the first try and each
/// self-correction).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    /// The SQL it wrote, if any.
    pub sql: Option<String>,
    /// Why it was not accepted (guard or database message), or the provider's failure.
    pub error: Option<String>,
    /// Time the provider took, in milliseconds.
    pub latency_ms: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

/// One question and its answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatMessage {
    /// Id (UUIDv7: sorts in creation order).
    pub id: MessageId,
    /// The session.
    pub session_id: SessionId,
    /// What was asked.
    pub question: String,
    /// The SQL (as generated or edited, before the guard's rewriting), if any.
    pub sql: Option<String>,
    /// The dialect of `sql`.
    pub dialect: Dialect,
    /// Where it stands.
    pub status: MessageStatus,
    /// A plain-English description of the SQL.
    pub explanation: Option<String>,
    /// The stored result preview.
    pub results: Option<ResultSet>,
    /// Stable error code when `status` is `error`.
    pub error_code: Option<crate::ErrorCode>,
    /// Error message when `status` is `error`.
    pub error_detail: Option<String>,
    /// The provider that wrote the SQL (`offline`, …) or `user` when edited by hand.
    pub provider: Option<String>,
    /// Prompt tokens used.
    pub prompt_tokens: i64,
    /// Completion tokens used.
    pub completion_tokens: i64,
    /// Time from question to answer, in milliseconds.
    pub latency_ms: Option<i64>,
    /// Options the question was asked with.
    pub options: ChatOptions,
    /// Every provider call made for it, in order.
    pub attempts: Vec<Attempt>,
    /// Estimated cost of the provider calls, in US dollars (when prices are configured).
    pub cost_usd: Option<f64>,
    /// The semantic cache entry that answered it (status `cached`, or a cached SQL waiting
    /// for approval), so feedback can evict exactly that entry.
    pub cache_entry_id: Option<crate::CacheEntryId>,
    /// Who asked: `user:<id>` or `client:<id>`.
    pub asked_by: String,
    /// The run that owns the message now (set when it is asked, approved or edited); the
    /// final write of a run is conditional on it ([`crate::ports::MetadataStore::finish_message`]).
    pub run_id: Option<crate::RunId>,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change (the store's clock for messages: see
    /// [`crate::ports::MetadataStore::interrupt_running_messages`]).
    pub updated_at: UnixMillis,
}
