//! Ports of the question → SQL → rows pipeline: the [`QueryEngine`] (guard + execution,
//! implemented by querent-exec on top of querent-sql) and the [`SqlProvider`] (NL → SQL,
//! implemented by querent-offline and, later, the LLM adapters).
//!
//! The app layer only ever hands SQL *text* to the engine: the engine validates it with the
//! guard on every call and executes nothing but the guard's output, so no path through the
//! service layer can run unchecked SQL.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

mod scrub;

pub use scrub::scrub_db_message;

use crate::schema::SchemaSnapshot;
use crate::{ConnectionId, ConnectionTarget, Dialect, ErrorCode, PrivacyPolicy, Secret};

/// One result row: typed JSON values in column order (integers stay integers, NUMERIC and
/// DECIMAL are strings, timestamps ISO-8601, bytes base64, NULL is `null`).
pub type Row = Vec<serde_json::Value>;

/// A result column.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColumnMeta {
    /// The column label as the database returned it.
    pub name: String,
    /// The database's type name (`int4`, `VARCHAR`, `TEXT`, …), lower-case.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the privacy policy masks this column's values.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
}

/// What the guard accepted, as the service layer may see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedSql {
    /// The statement as it would run: normalised, row cap applied, `SELECT *` expanded and
    /// masked columns replaced.
    pub sql: String,
    /// Schema tables the statement reads (`schema.name` or `name`), sorted.
    pub tables: Vec<String>,
    /// The row cap in force: more rows than this means the result was truncated.
    pub max_rows: u64,
}

/// Why the guard refused a statement.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct GuardRejection {
    /// `guard_rejected` or `policy_violation`.
    pub code: ErrorCode,
    /// A message for people and for a provider's self-correction.
    pub message: String,
    /// "Did you mean" candidates, best first.
    pub suggestions: Vec<String>,
}

/// The default per-value byte cap ([`QueryLimits::max_value_bytes`]): 64 KiB.
pub const DEFAULT_MAX_VALUE_BYTES: u64 = 64 * 1024;

/// The default per-result byte cap ([`QueryLimits::max_result_bytes`]): 16 MiB.
pub const DEFAULT_MAX_RESULT_BYTES: u64 = 16 * 1024 * 1024;

/// Limits one execution runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryLimits {
    /// Rows returned at most (one more is fetched to detect truncation).
    pub max_rows: u64,
    /// Server-side statement timeout.
    pub statement_timeout: Duration,
    /// Time allowed to obtain a connection.
    pub connect_timeout: Duration,
    /// Longest value delivered, in bytes of its JSON text (bytes count as their base64
    /// text): longer text and byte values are cut (text at a character boundary), and
    /// the result reports [`TruncationReason::ValueBytes`].
    pub max_value_bytes: u64,
    /// Row data delivered at most, in bytes (the size of the rows as JSON, approximately):
    /// rows stop before the one that would exceed it, and the result reports
    /// [`TruncationReason::ResultBytes`].
    pub max_result_bytes: u64,
}

impl QueryLimits {
    /// Limits with the default byte caps.
    pub fn new(max_rows: u64, statement_timeout: Duration, connect_timeout: Duration) -> Self {
        Self {
            max_rows,
            statement_timeout,
            connect_timeout,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
        }
    }
}

/// Which limit cut a result short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TruncationReason {
    /// More rows existed than the row cap allowed.
    RowCap,
    /// One or more values were longer than the per-value byte cap and were shortened.
    ValueBytes,
    /// The rows reached the per-result byte cap; later rows were not delivered.
    ResultBytes,
}

impl TruncationReason {
    /// The wire spelling (`row_cap`, `value_bytes`, `result_bytes`).
    pub fn as_str(self) -> &'static str {
        match self {
            TruncationReason::RowCap => "row_cap",
            TruncationReason::ValueBytes => "value_bytes",
            TruncationReason::ResultBytes => "result_bytes",
        }
    }
}

/// A limit that cut a result short, and its value (rows for `row_cap`, bytes otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Truncation {
    /// Which limit.
    pub reason: TruncationReason,
    /// The limit in force.
    pub limit: u64,
}

/// One execution request.
#[derive(Clone, Copy)]
pub struct QueryRequest<'a> {
    /// The connection (pool key).
    pub connection_id: ConnectionId,
    /// Where to connect.
    pub target: &'a ConnectionTarget,
    /// The decrypted password, if any.
    pub password: Option<&'a Secret<String>>,
    /// The schema the guard checks against.
    pub schema: &'a SchemaSnapshot,
    /// The connection's privacy policy.
    pub policy: &'a PrivacyPolicy,
    /// Limits.
    pub limits: QueryLimits,
    /// The SQL text to validate and run.
    pub sql: &'a str,
}

/// How an execution ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryOutcome {
    /// The statement that ran (guard output).
    pub sql: String,
    /// Result columns.
    pub columns: Vec<ColumnMeta>,
    /// Rows delivered (at most the row cap).
    pub row_count: u64,
    /// Whether the result is incomplete: more rows existed than the row cap allowed, the
    /// result byte cap stopped the rows, or values were shortened.
    pub truncated: bool,
    /// The limit that cut it short: the one that stopped the rows (row cap or result
    /// bytes), else the value byte cap when values were shortened.
    #[serde(default)]
    pub truncated_by: Option<Truncation>,
    /// How many values were shortened by the per-value byte cap.
    #[serde(default)]
    pub values_truncated: u64,
    /// Time spent in the database, in milliseconds.
    pub execution_time_ms: u64,
}

/// The receiver of a result as it streams: columns once, then row batches.
#[async_trait]
pub trait RowSink: Send {
    /// The result's columns, before any rows.
    async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed>;
    /// A batch of rows (at most the engine's batch size, never beyond the row cap).
    async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed>;
}

/// The consumer went away (client disconnected): the engine cancels the query and releases
/// its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the receiver of the result went away")]
pub struct SinkClosed;

/// A [`RowSink`] that keeps everything in memory.
#[derive(Debug, Default)]
pub struct CollectRows {
    /// Columns received.
    pub columns: Vec<ColumnMeta>,
    /// Rows received.
    pub rows: Vec<Row>,
}

#[async_trait]
impl RowSink for CollectRows {
    async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        self.columns = columns.to_vec();
        Ok(())
    }
    async fn rows(&mut self, mut batch: Vec<Row>) -> Result<(), SinkClosed> {
        self.rows.append(&mut batch);
        Ok(())
    }
}

/// The database's own code of an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbErrorCode {
    /// PostgreSQL: the SQLSTATE (`22P02`).
    Postgres {
        /// The five-character SQLSTATE.
        sqlstate: String,
    },
    /// MySQL or MariaDB: the error number (`1292`) and the SQLSTATE (`22007`).
    Mysql {
        /// The server's error number.
        number: u16,
        /// The five-character SQLSTATE.
        sqlstate: String,
    },
    /// SQLite: the result code's name (`SQLITE_ERROR`).
    Sqlite {
        /// `SQLITE_…`.
        name: String,
    },
    /// Raised by Querent itself (no database code).
    Querent,
}

impl std::fmt::Display for DbErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbErrorCode::Postgres { sqlstate } => write!(f, "SQLSTATE {sqlstate}"),
            DbErrorCode::Mysql { number, sqlstate } => {
                write!(f, "MySQL error {number} (SQLSTATE {sqlstate})")
            }
            DbErrorCode::Sqlite { name } => write!(f, "SQLite {name}"),
            DbErrorCode::Querent => f.write_str("error"),
        }
    }
}

/// A database's refusal of a statement, kept in parts so that each audience gets what it
/// may see: the client the whole message (`Display`: message, detail, hint and code, as
/// the database said them), an LLM provider only the code and a message scrubbed of
/// anything that may be a data value ([`DbError::for_provider`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbError {
    /// The database's code.
    pub code: DbErrorCode,
    /// The primary message.
    pub message: String,
    /// PostgreSQL's DETAIL (often quotes values: never sent to a provider).
    pub detail: Option<String>,
    /// PostgreSQL's HINT.
    pub hint: Option<String>,
}

impl DbError {
    /// An error raised by Querent itself while running a statement.
    pub fn querent(message: impl Into<String>) -> Self {
        Self {
            code: DbErrorCode::Querent,
            message: message.into(),
            detail: None,
            hint: None,
        }
    }

    /// What an LLM provider may see for self-correction: the code and the message with
    /// every fragment that may be a data value removed (see [`scrub_db_message`]); the
    /// DETAIL never, the HINT scrubbed. `sql` is the statement the provider wrote: quoted
    /// names that appear in it are kept, since they are what the model needs to fix.
    pub fn for_provider(&self, sql: &str) -> String {
        let mut out = scrub_db_message(&self.message, sql);
        if let Some(hint) = &self.hint {
            let hint = scrub_db_message(hint, sql);
            if !hint.is_empty() {
                out.push_str(" (hint: ");
                out.push_str(&hint);
                out.push(')');
            }
        }
        match self.code {
            DbErrorCode::Querent => out,
            ref code => format!("{code}: {out}"),
        }
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        match &self.code {
            DbErrorCode::Postgres { sqlstate } => write!(f, " [SQLSTATE {sqlstate}]"),
            DbErrorCode::Mysql { number, sqlstate } => {
                write!(f, " [error {number}, SQLSTATE {sqlstate}]")
            }
            DbErrorCode::Sqlite { .. } | DbErrorCode::Querent => Ok(()),
        }
    }
}

/// Why an execution failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The guard refused the statement; nothing was sent to the database.
    #[error(transparent)]
    Rejected(#[from] GuardRejection),
    /// The target could not be reached (or refused the credentials) within the timeout.
    #[error("{0}")]
    Connection(String),
    /// The statement ran longer than the statement timeout and was cancelled.
    #[error("the query ran longer than {0} ms and was cancelled")]
    Timeout(u64),
    /// The database refused or failed the statement (its code and message, scrubbed of
    /// secrets). Its `Display` is the whole message, for the client; a provider gets only
    /// [`DbError::for_provider`].
    #[error("{0}")]
    Query(DbError),
    /// The consumer went away; the query was cancelled.
    #[error("the request was cancelled")]
    Cancelled,
    /// The target's connection pool is exhausted.
    #[error("too many queries are running on this connection; try again shortly")]
    Busy,
}

impl crate::HasErrorCode for ExecError {
    fn code(&self) -> ErrorCode {
        match self {
            ExecError::Rejected(r) => r.code,
            ExecError::Connection(_) => ErrorCode::ConnectionError,
            ExecError::Timeout(_) => ErrorCode::QueryTimeout,
            ExecError::Query(_) => ErrorCode::QueryError,
            ExecError::Cancelled => ErrorCode::QueryError,
            ExecError::Busy => ErrorCode::Unavailable,
        }
    }
}

/// Pool figures for `/ready`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolStatus {
    /// Pools currently open (one per connection used).
    pub pools: u64,
    /// Connections checked out right now.
    pub in_use: u64,
    /// Pools with no idle connection and waiters queued.
    pub exhausted: u64,
}

/// Guard + execution against target databases.
#[async_trait]
pub trait QueryEngine: Send + Sync + 'static {
    /// Validates `sql` for `dialect` against `schema` and `policy` with a row cap of
    /// `max_rows`; never touches a database.
    fn check(
        &self,
        dialect: Dialect,
        sql: &str,
        schema: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        max_rows: u64,
    ) -> Result<CheckedSql, GuardRejection>;

    /// Validates `request.sql` and, if the guard accepts it, runs the guard's output in a
    /// read-only transaction under the limits, streaming into `sink`, then rolls back.
    /// Dropping the returned future cancels the query on the server.
    async fn run(
        &self,
        request: QueryRequest<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, ExecError>;

    /// Drops the pool of a connection (after it was edited or deleted).
    fn forget(&self, connection: ConnectionId);

    /// Pool figures.
    fn pool_status(&self) -> PoolStatus;

    /// Each open pool's figures, per connection (for `/metrics`); none by default.
    fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        Vec::new()
    }
}

/// One target connection's pool, for `/metrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionPoolStats {
    /// The connection the pool serves.
    pub connection: crate::ConnectionId,
    /// The most connections it may open.
    pub max_size: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections checked out now.
    pub in_use: u64,
    /// Callers waiting for a connection now.
    pub waiting: u64,
    /// Queries that found every connection busy and had to wait, since the pool opened
    /// (carried over when the pool is rebuilt for new settings).
    pub waits: u64,
}

/// A previous turn of the conversation, for follow-up questions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    /// What the user asked.
    pub question: String,
    /// The SQL that answered it, if any.
    pub sql: Option<String>,
}

/// Everything a provider gets to write SQL for a question.
#[derive(Clone, Debug)]
pub struct GenerateRequest {
    /// The question in plain language.
    pub question: String,
    /// The SQL dialect to write.
    pub dialect: Dialect,
    /// The (linked) schema.
    pub schema: Arc<SchemaSnapshot>,
    /// The privacy policy: providers should not reference excluded objects.
    pub policy: PrivacyPolicy,
    /// Earlier turns of the session, oldest first.
    pub history: Vec<Turn>,
    /// For self-correction: the previous attempt and why it was refused. The reason must
    /// carry no data values: a guard refusal (it names identifiers only), a database error
    /// through [`DbError::for_provider`], or a fixed note.
    pub previous_error: Option<(String, String)>,
    /// Row cap the answer will run under.
    pub max_rows: u64,
    /// The connection's semantic model, if it has one (synonyms, value mappings, metrics).
    pub semantic: Option<Arc<crate::semantic::SemanticModel>>,
    /// The most similar verified examples, most similar first.
    pub examples: Vec<crate::semantic::FewShot>,
    /// Instructions of the assistant the question was asked of (its profile's text), for
    /// the provider's prompt as a clearly delimited section. They refine the answer; they
    /// grant nothing — the guard, not the prompt, keeps the SQL safe — and the offline
    /// translator ignores them.
    pub instructions: Option<String>,
}

/// Tokens a provider call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenUsage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

/// A provider's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// The SQL (not yet validated).
    pub sql: String,
    /// A plain-English description of what the SQL does.
    pub explanation: Option<String>,
    /// Tokens used.
    pub usage: TokenUsage,
}

/// Why a provider gave no SQL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The question could not be translated; says what was understood.
    #[error("{0}")]
    CannotTranslate(String),
    /// The provider failed (network, HTTP error, malformed reply), with its message.
    #[error("{0}")]
    Failed(String),
}

impl crate::HasErrorCode for ProviderError {
    fn code(&self) -> ErrorCode {
        match self {
            ProviderError::CannotTranslate(_) => ErrorCode::CannotTranslate,
            ProviderError::Failed(_) => ErrorCode::ProviderError,
        }
    }
}

/// Writes SQL for a question.
#[async_trait]
pub trait SqlProvider: Send + Sync + 'static {
    /// A short name for logs and messages (`offline`, `openai:gpt-4o`, …).
    fn name(&self) -> &str;
    /// Writes one SQL statement answering the request.
    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError>;

    /// Answers a free-form instruction with text (used to draft semantic-model
    /// descriptions). `None` from providers without a language model (the offline
    /// translator), which is the default.
    async fn complete_text(
        &self,
        _system: &str,
        _user: &str,
    ) -> Result<Option<TextReply>, ProviderError> {
        Ok(None)
    }
}

/// A free-form reply of a language model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextReply {
    /// The text.
    pub text: String,
    /// Tokens used.
    pub usage: TokenUsage,
}

/// Builds providers from stored configurations (implemented by the binary with querent-llm
/// and querent-offline), and talks to them for tests and model lists.
#[async_trait]
pub trait ProviderFactory: Send + Sync + 'static {
    /// A provider for a configuration, with its decrypted API key.
    fn build(
        &self,
        config: &crate::providers::ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<Arc<dyn SqlProvider>, ProviderError>;
    /// Checks a base URL against the outbound policy (no link-local or metadata addresses;
    /// private ranges only when allowed); the message says why it is refused.
    async fn check_url(&self, base_url: &str) -> Result<(), String>;
    /// A tiny real call; returns the model's reply.
    async fn test(
        &self,
        config: &crate::providers::ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<String, ProviderError>;
    /// The models the provider offers.
    async fn list_models(
        &self,
        config: &crate::providers::ProviderConfig,
        api_key: Option<Secret<String>>,
    ) -> Result<Vec<String>, ProviderError>;
}
