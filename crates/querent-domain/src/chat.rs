//! Chat sessions and their messages as stored.

use serde::{Deserialize, Serialize};

use crate::query::{ColumnMeta, Row};
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

/// The stored part of a result: columns and the first rows (masked values stay masked).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultSet {
    /// Result columns.
    pub columns: Vec<ColumnMeta>,
    /// Rows, each a list of typed JSON values in column order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Object>>))]
    pub rows: Vec<Row>,
    /// Rows the query returned (up to the row cap).
    pub row_count: u64,
    /// Whether the row cap cut the result off.
    pub truncated: bool,
    /// Time spent in the database, in milliseconds.
    pub execution_time_ms: u64,
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
}

impl Default for ChatOptions {
    fn default() -> Self {
        Self {
            show_query: true,
            max_rows: 100,
            explain_results: false,
            use_cache: true,
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
    pub error_code: Option<String>,
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
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}
