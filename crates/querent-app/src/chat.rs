//! The chat pipeline (design §3.1): question → schema → provider → guard → execution-mode
//! gate → read-only execution streamed as events → message stored.
//!
//! A request is handled in two steps so HTTP can answer client mistakes with a 4xx before it
//! starts a stream: [`App::prepare_chat`] checks access, resolves the session and stores the
//! message (status `running`); [`App::run_chat`] then never fails — every problem after that
//! point ends the message in status `error` with a stable code, sends an `error` event and a
//! final `done` carrying the complete [`ChatResponse`].
//!
//! No store connection is held across the provider call or the query: each store call is one
//! short unit of work. When the receiver of the events goes away (client disconnected), the
//! pipeline stops, the engine cancels the query on the target and the message is marked as
//! cancelled.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use querent_cache::{MatchKind, Scope};
use querent_domain::HasErrorCode as _;
use querent_domain::chat::{Attempt, ChatMessage, ChatOptions, ChatSession, ResultSet};
use querent_domain::learning::CacheOutcome;
use querent_domain::query::{
    ColumnMeta, ExecError, GenerateRequest, QueryLimits, QueryRequest, Row, RowSink, SinkClosed,
    TruncationReason, Turn,
};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{
    Connection, ConnectionId, Dialect, ErrorCode, ExecutionMode, MessageId, MessageStatus, RunId,
    SessionId, TeamRole, now_millis,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::cache::{CacheHit, Embedded};
use crate::error::NotFoundAs;
use crate::providers::Resolved;
use crate::{Actor, App, ServiceError, ServiceResult};

/// Rows per `rows` event.
pub const ROWS_PER_EVENT: usize = 500;
/// Rows of a result kept in the message history (the answer itself carries every row
/// delivered; the stored copy is a preview, flagged `preview` on the wire).
pub const HISTORY_ROWS: usize = 200;
/// Bytes of row data (as JSON) kept in the message history at most: the preview stops
/// before the row that would pass it.
pub const HISTORY_BYTES: usize = 1024 * 1024;
/// Earlier turns of a session given to the provider.
const HISTORY_TURNS: usize = 5;
/// Longest question accepted, in characters.
pub const MAX_QUESTION_CHARS: usize = 4_000;

/// `POST /chat` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    /// The connection to ask about.
    pub connection_id: ConnectionId,
    /// Continue this session; `null` starts a new one.
    #[serde(default)]
    pub session_id: Option<SessionId>,
    /// The question in plain language.
    pub message: String,
    /// The provider to use: the id of one of the team's provider configs (as returned by
    /// `POST /providers`) or its name, `offline` for the built-in translator, or `null` for
    /// the team's default. Another team's provider is unknown here (422).
    #[serde(default)]
    pub provider: Option<String>,
    /// Options.
    #[serde(default)]
    pub options: ChatOptions,
}

/// An error as it appears inside a [`ChatResponse`] and in the `error` event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatError {
    /// Stable machine code (`cannot_translate`, `guard_rejected`, `query_error`, …).
    pub code: ErrorCode,
    /// What went wrong, for people.
    pub detail: String,
}

/// The complete answer to a question (the JSON variant's body and the `done` event).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChatResponse {
    /// The session.
    pub session_id: SessionId,
    /// This message; use it to approve, reject or edit.
    pub message_id: MessageId,
    /// The SQL (`null` when `show_query` is false or there is none).
    pub query: Option<String>,
    /// The SQL's dialect by its display name: `PostgreSQL`, `MySQL` (also MariaDB) or
    /// `SQLite`.
    pub query_dialect: String,
    /// A plain-English explanation (when `explain_results`).
    pub explanation: Option<String>,
    /// The results (when executed): every row delivered, up to the row cap.
    pub results: Option<ResultView>,
    /// executed | cached | pending_approval | query_only | rejected | error.
    pub status: MessageStatus,
    /// Whether the SQL came from the semantic cache.
    pub cache_hit: bool,
    /// Why it failed (status `error`).
    pub error: Option<ChatError>,
    /// Column statistics of every row delivered, keyed by column name (with
    /// `options.statistics`; the `dataframe_stats` shape of `GET /questions/{id}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub statistics: Option<serde_json::Value>,
    /// The chart the rows suggest, when they read as one (with `results`): `kind` `bar`
    /// (one category and one number) or `line` (a date, time or period and a number), a
    /// Vega-Lite v5 `spec` holding the charted columns' values inline (`data.values`, at
    /// most 500 rows, masked columns never), the `x` and `y` column labels and a `note` on
    /// what was left out. Absent for a single value, a wider result or rows without a
    /// number.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub chart: Option<querent_results::ChartSuggestion>,
}

/// A result as clients read it — in a chat answer (JSON and `done`), in session history
/// and from `/sql/run`: the column names as a list (as in the native API's examples), their
/// types and masks alongside, and every limit that shaped the rows said out loud.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ResultSet))]
pub struct ResultView {
    /// Column names, in order (`["count"]`).
    pub columns: Vec<String>,
    /// The database's type name of each column (`integer`, `text`, `int4`, …), in the
    /// same order as `columns`.
    pub column_types: Vec<String>,
    /// Names of the columns whose values the privacy policy masks.
    pub masked_columns: Vec<String>,
    /// Rows, each a list of typed JSON values in column order.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<Value>>))]
    pub rows: Vec<Row>,
    /// Rows the query delivered (up to the row cap). Equals the number of `rows` unless
    /// `preview` is true.
    pub row_count: u64,
    /// Whether `rows` holds only the first rows of the result: the copy kept in a session's
    /// history (at most 200 rows and 1 MiB of row data). Never true in a chat answer or a
    /// `/sql/run` result.
    pub preview: bool,
    /// Whether the result is incomplete: the row cap or the result byte cap cut it off, or
    /// values were shortened by the value byte cap (`truncated_reason` says which).
    pub truncated: bool,
    /// Which limit cut the result short: `row_cap`, `result_bytes` (the one that stopped the
    /// rows) or else `value_bytes` (values were shortened); `null` when it is complete.
    pub truncated_reason: Option<TruncationReason>,
    /// The value of that limit: rows for `row_cap` (the applied row cap), bytes for the
    /// others.
    pub truncated_limit: Option<u64>,
    /// How many values were shortened by the value byte cap (also when another limit is
    /// the `truncated_reason`).
    pub values_truncated: u64,
    /// The row cap the query ran under: the requested `max_rows` lowered to the
    /// connection's and the server's caps (so less than asked when a cap lowered it);
    /// `null` for results stored before it was recorded.
    pub max_rows_applied: Option<u64>,
    /// Time spent in the database, in milliseconds.
    pub execution_time_ms: u64,
}

impl From<ResultSet> for ResultView {
    fn from(r: ResultSet) -> Self {
        let preview = (r.rows.len() as u64) < r.row_count;
        Self {
            column_types: r.columns.iter().map(|c| c.type_name.clone()).collect(),
            masked_columns: r
                .columns
                .iter()
                .filter(|c| c.masked)
                .map(|c| c.name.clone())
                .collect(),
            columns: r.columns.into_iter().map(|c| c.name).collect(),
            rows: r.rows,
            row_count: r.row_count,
            preview,
            truncated: r.truncated,
            truncated_reason: r.truncated_reason,
            truncated_limit: r.truncated_limit,
            values_truncated: r.values_truncated,
            max_rows_applied: r.max_rows_applied,
            execution_time_ms: r.execution_time_ms,
        }
    }
}

/// The copy of a result kept in the message history: its first rows, at most
/// [`HISTORY_ROWS`] and [`HISTORY_BYTES`] of row data (`row_count` still counts them all).
pub fn history_copy(r: &ResultSet) -> ResultSet {
    let mut bytes = 0;
    let keep = r
        .rows
        .iter()
        .take(HISTORY_ROWS)
        .take_while(|row| {
            bytes += json_len(row);
            bytes <= HISTORY_BYTES
        })
        .count();
    ResultSet {
        columns: r.columns.clone(),
        rows: r.rows[..keep].to_vec(),
        row_count: r.row_count,
        truncated: r.truncated,
        truncated_reason: r.truncated_reason,
        truncated_limit: r.truncated_limit,
        values_truncated: r.values_truncated,
        execution_time_ms: r.execution_time_ms,
        max_rows_applied: r.max_rows_applied,
    }
}

/// One server-sent event of the chat stream.
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// A stage begins: `linking`, `generating`, `validating`, `executing`.
    Status(&'static str),
    /// The SQL (only when `show_query`).
    Sql {
        /// The SQL.
        query: String,
        /// Its dialect.
        dialect: Dialect,
    },
    /// A batch of rows; the first batch carries the columns.
    Rows {
        /// Columns (first batch only).
        columns: Option<Vec<ColumnMeta>>,
        /// Rows.
        rows: Vec<Row>,
    },
    /// The explanation (only when `explain_results`).
    Explanation(String),
    /// Something failed; `done` follows.
    Error(ChatError),
    /// The end: the complete response.
    Done(Box<ChatResponse>),
}

impl ChatEvent {
    /// The SSE `event:` name.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Status(_) => "status",
            ChatEvent::Sql { .. } => "sql",
            ChatEvent::Rows { .. } => "rows",
            ChatEvent::Explanation(_) => "explanation",
            ChatEvent::Error(_) => "error",
            ChatEvent::Done(_) => "done",
        }
    }

    /// The SSE `data:` payload.
    pub fn data(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            ChatEvent::Status(stage) => json!({ "stage": stage }),
            ChatEvent::Sql { query, dialect } => json!({ "query": query, "dialect": dialect }),
            ChatEvent::Rows {
                columns: Some(c),
                rows,
            } => json!({ "columns": c, "rows": rows }),
            ChatEvent::Rows {
                columns: None,
                rows,
            } => json!({ "rows": rows }),
            ChatEvent::Explanation(text) => json!({ "text": text }),
            ChatEvent::Error(e) => json!({ "code": e.code, "detail": e.detail }),
            ChatEvent::Done(r) => serde_json::to_value(r).unwrap_or_default(),
        }
    }
}

/// Where the pipeline sends its events: a channel to an SSE stream, or nowhere (JSON).
#[derive(Clone, Debug, Default)]
pub struct Events {
    tx: Option<mpsc::Sender<ChatEvent>>,
    /// Whether events are sent on `tx` (false: `tx` only tells that the client is gone).
    forward: bool,
}

impl Events {
    /// Events go to this channel; a dropped receiver cancels the pipeline.
    pub fn channel(tx: mpsc::Sender<ChatEvent>) -> Self {
        Self {
            tx: Some(tx),
            forward: true,
        }
    }

    /// Events are discarded, but a dropped receiver of `tx` cancels the pipeline as for
    /// [`Events::channel`] (the JSON variant, whose caller takes the answer that
    /// [`App::run_chat`] returns: no event crosses to the caller's thread on the way).
    pub fn watching(tx: mpsc::Sender<ChatEvent>) -> Self {
        Self {
            tx: Some(tx),
            forward: false,
        }
    }

    /// Events are discarded (the JSON variant).
    pub fn none() -> Self {
        Self::default()
    }

    async fn emit(&self, event: ChatEvent) -> Result<(), SinkClosed> {
        match &self.tx {
            Some(tx) if self.forward => tx.send(event).await.map_err(|_| SinkClosed),
            Some(tx) if tx.is_closed() => Err(SinkClosed),
            _ => Ok(()),
        }
    }

    /// Sends `done` with a copy of the answer, when events are forwarded (the JSON
    /// variant's caller takes the answer itself: no copy of its rows is made for nothing).
    async fn done(&self, response: &ChatResponse) {
        if self.forward {
            let _ = self.emit(ChatEvent::Done(Box::new(response.clone()))).await;
        }
    }

    /// Resolves when the receiver is gone; never for [`Events::none`].
    async fn closed(&self) {
        match &self.tx {
            Some(tx) => tx.closed().await,
            None => std::future::pending().await,
        }
    }
}

/// Time spent in each stage of one answer, in microseconds (zero for stages not run).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageTimings {
    /// Loading the schema snapshot and linking the tables the question needs.
    pub linking_us: u64,
    /// Looking the question up in the semantic cache.
    pub cache_us: u64,
    /// The provider writing SQL.
    pub generating_us: u64,
    /// The guard.
    pub validating_us: u64,
    /// Running the query and collecting its rows.
    pub executing_us: u64,
    /// Everything, from `run_chat` to `done`.
    pub total_us: u64,
}

fn micros(since: Instant) -> u64 {
    since.elapsed().as_micros() as u64
}

/// A chat request whose access checks passed and whose message is stored.
#[derive(Clone, Debug)]
pub struct PreparedChat {
    actor: Actor,
    conn: Connection,
    session: ChatSession,
    message: ChatMessage,
    started: Instant,
    task: Task,
    timings: StageTimings,
    resolved: Option<Resolved>,
    /// Where a successful answer is cached (`None`: not cacheable — cache off, or a
    /// follow-up whose meaning depends on earlier turns).
    cache_scope: Option<Scope>,
    /// The question's embedding, when the cache lookup computed it.
    cache_embedded: Option<Embedded>,
    /// The session was created for this message: it has no earlier turns to read.
    new_session: bool,
}

#[derive(Clone, Debug)]
enum Task {
    /// Generate, validate, then act per mode.
    Ask,
    /// Run the message's SQL (approval, or an edit on an auto_execute connection).
    Execute,
}

impl PreparedChat {
    /// The message being answered.
    pub fn message_id(&self) -> MessageId {
        self.message.id
    }

    /// Applies an assistant's profile (assistants.rs): its provider (model and instructions
    /// already applied) and an execution mode, which may only be stricter than the
    /// connection's (the caller has checked; a looser one is ignored here too).
    pub(crate) fn with_profile(mut self, resolved: Resolved, mode: ExecutionMode) -> Self {
        let strictness = |m: ExecutionMode| match m {
            ExecutionMode::AutoExecute => 0,
            ExecutionMode::ReviewFirst => 1,
            ExecutionMode::GenerateOnly => 2,
        };
        if strictness(mode) > strictness(self.conn.execution_mode) {
            self.conn.execution_mode = mode;
        }
        self.resolved = Some(resolved);
        self
    }
}

/// Forwards a result as `rows` events and keeps its rows for the final answer (`done` and
/// the JSON variant carry every row delivered). What is held is bounded by the engine's
/// limits: the row cap and the result byte cap (`max_result_bytes`); the message stores
/// only [`history_copy`].
struct ForwardRows<'a> {
    events: &'a Events,
    columns: Vec<ColumnMeta>,
    rows: Vec<Row>,
    sent_columns: bool,
}

impl<'a> ForwardRows<'a> {
    fn new(events: &'a Events) -> Self {
        Self {
            events,
            columns: Vec::new(),
            rows: Vec::new(),
            sent_columns: false,
        }
    }
}

/// The length of a value's JSON text, counted without building it.
fn json_len(v: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, v) {
        Ok(()) => count.0,
        Err(_) => usize::MAX / 2,
    }
}

#[async_trait]
impl RowSink for ForwardRows<'_> {
    async fn columns(&mut self, columns: &[ColumnMeta]) -> Result<(), SinkClosed> {
        self.columns = columns.to_vec();
        Ok(())
    }

    async fn rows(&mut self, batch: Vec<Row>) -> Result<(), SinkClosed> {
        self.rows.extend_from_slice(&batch);
        let mut rest = batch;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(ROWS_PER_EVENT));
            let columns = (!self.sent_columns).then(|| self.columns.clone());
            self.sent_columns = true;
            self.events
                .emit(ChatEvent::Rows {
                    columns,
                    rows: rest,
                })
                .await?;
            rest = tail;
        }
        Ok(())
    }
}

/// The outcome of the execution stage.
enum Executed {
    /// The result, with the rows of its preview.
    Rows(ResultSet),
    /// The error, and whether rows had already been streamed.
    Failed(ExecError, bool),
}

/// Why running a message's SQL failed, and whether asking the provider again may help (a
/// database error before any row was sent).
struct RunFailure {
    error: ServiceError,
    retryable: bool,
    /// What the provider may be told (a database error's code and scrubbed message).
    for_provider: Option<String>,
}

impl From<ServiceError> for RunFailure {
    fn from(error: ServiceError) -> Self {
        Self {
            error,
            retryable: false,
            for_provider: None,
        }
    }
}

/// Provider calls after the first one when the guard or the database refuses the SQL.
pub const MAX_CORRECTIONS: usize = 2;

/// What a provider is told when its query returned no rows and its configuration asks for
/// a second look (`reconsider_empty_results`).
const RECONSIDER_NOTE: &str = "the query ran but returned no rows; if the question expects \
rows, reconsider the filters and the literal values (spelling, case, the sample values in the \
schema); if no rows is the right answer, reply with the same SQL";

/// After a failed "reconsider" pass, puts back the answer it tried to improve (keeping the
/// attempts made); true when there was one.
fn keep_first(p: &mut PreparedChat, before: &mut Option<ChatMessage>) -> bool {
    match before.take() {
        Some(mut first) => {
            first.attempts = std::mem::take(&mut p.message.attempts);
            first.prompt_tokens = p.message.prompt_tokens;
            first.completion_tokens = p.message.completion_tokens;
            first.cost_usd = p.message.cost_usd;
            p.message = first;
            true
        }
        None => false,
    }
}

fn chat_error(code: ErrorCode, detail: impl Into<String>) -> ChatError {
    ChatError {
        code,
        detail: detail.into(),
    }
}

fn title_of(question: &str) -> String {
    let q = question.trim();
    match q.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &q[..i]),
        None => q.to_owned(),
    }
}

impl App {
    /// Step 1 of a chat request: access checks, session, stored message. Client mistakes come
    /// back here as errors (before any stream starts).
    pub async fn prepare_chat(
        &self,
        actor: &Actor,
        req: ChatRequest,
    ) -> ServiceResult<PreparedChat> {
        let question = req.message.trim().to_owned();
        if question.is_empty() {
            return Err(ServiceError::validation("message: must not be empty"));
        }
        if question.chars().count() > MAX_QUESTION_CHARS {
            return Err(ServiceError::validation(format!(
                "message: at most {MAX_QUESTION_CHARS} characters"
            )));
        }
        self.check_options(&req.options)?;
        let (conn, via_team) = self
            .connection_access(actor, req.connection_id, TeamRole::Viewer)
            .await?;
        let resolved = self
            .resolve_provider(via_team, req.provider.as_deref())
            .await?;
        let now = now_millis();
        let new_session = req.session_id.is_none();
        let session = match req.session_id {
            Some(id) => {
                let s = self.owned_session(actor, id).await?;
                if s.connection_id != conn.id {
                    return Err(ServiceError::validation(
                        "session_id: this session is about another connection; start a new session",
                    ));
                }
                s
            }
            None => {
                let s = ChatSession {
                    id: SessionId::new(),
                    // The team through which the caller uses the connection (its own
                    // team for a shared one), so the session stays in that team.
                    team_id: via_team,
                    connection_id: conn.id,
                    owner: actor.audit_name(),
                    title: title_of(&question),
                    created_at: now,
                    updated_at: now,
                };
                // Stored with the message below, in one unit of work.
                s
            }
        };
        let message = ChatMessage {
            id: MessageId::new(),
            session_id: session.id,
            question,
            sql: None,
            dialect: conn.target.dialect,
            status: MessageStatus::Running,
            explanation: None,
            results: None,
            error_code: None,
            error_detail: None,
            provider: None,
            prompt_tokens: 0,
            completion_tokens: 0,
            latency_ms: None,
            options: req.options,
            attempts: Vec::new(),
            cost_usd: None,
            cache_entry_id: None,
            run_id: Some(RunId::new()),
            asked_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        if new_session {
            self.store()
                .insert_session_with_message(&session, &message)
                .await?;
        } else {
            self.store().insert_message(&message).await?;
        }
        Ok(PreparedChat {
            actor: actor.clone(),
            conn,
            session,
            message,
            started: Instant::now(),
            task: Task::Ask,
            timings: StageTimings::default(),
            resolved: Some(resolved),
            cache_scope: None,
            cache_embedded: None,
            new_session,
        })
    }

    /// Step 2: runs the pipeline, sending events; always ends with `done` and returns the
    /// same response. Stops (and cancels the query) when the receiver goes away.
    pub async fn run_chat(&self, prepared: PreparedChat, events: Events) -> ChatResponse {
        self.run_chat_timed(prepared, events).await.0
    }

    /// [`App::run_chat`], also returning the time spent per stage (for `querent eval` and
    /// `querent bench`).
    pub async fn run_chat_timed(
        &self,
        prepared: PreparedChat,
        events: Events,
    ) -> (ChatResponse, StageTimings) {
        let message_id = prepared.message.id;
        let run = prepared.message.run_id;
        // What the early ends need: the session and the message as prepared (not the
        // connection, the actor and the provider with them).
        let fallback = (prepared.session.clone(), prepared.message.clone());
        let _working = self.in_flight();
        tokio::select! {
            // A shutdown wins over an answer ready at the same moment, and stops a chat
            // that starts after it began.
            biased;
            () = self.shutting_down() => {
                // The pipeline future is dropped (cancelling any query); the message and
                // the stream say why.
                let message = self
                    .end_early(&fallback.1, ErrorCode::ShuttingDown, crate::shutdown::SHUTTING_DOWN_DETAIL)
                    .await;
                let _ = events
                    .emit(ChatEvent::Error(chat_error(
                        ErrorCode::ShuttingDown,
                        crate::shutdown::SHUTTING_DOWN_DETAIL.to_owned(),
                    )))
                    .await;
                let response = self.response_of(&fallback.0, &message, false);
                events.done(&response).await;
                (response, StageTimings::default())
            }
            done = self.pipeline(prepared, &events) => done,
            // Keeps the message's heartbeat fresh so recovery leaves it alone (recovery.rs).
            never = self.keep_alive(message_id, run) => match never {},
            () = events.closed() => {
                // The client went away: the pipeline future is dropped (cancelling any query)
                // and the message records why it has no answer.
                let message = self
                    .end_early(
                        &fallback.1,
                        ErrorCode::QueryError,
                        "the client disconnected before the answer was complete",
                    )
                    .await;
                (
                    self.response_of(&fallback.0, &message, false),
                    StageTimings::default(),
                )
            }
        }
    }

    /// Stores the message of a chat whose pipeline was dropped as `error` with `code` and
    /// `detail` (only while it is still this run's: an edit since then owns it).
    async fn end_early(
        &self,
        prepared: &ChatMessage,
        code: ErrorCode,
        detail: &str,
    ) -> ChatMessage {
        let (message_id, run) = (prepared.id, prepared.run_id);
        let mut message = prepared.clone();
        if let Ok(current) = self.store().get_message(message_id).await {
            message = current;
        }
        message.status = MessageStatus::Error;
        message.error_code = Some(code);
        message.error_detail = Some(detail.to_owned());
        message.updated_at = now_millis();
        match self.store().finish_message(&message, run).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(%message_id, "a newer run owns this message; the ended run leaves it alone")
            }
            Err(e) => tracing::warn!(error = %e, %message_id, "could not record an ended chat"),
        }
        message
    }

    async fn pipeline(&self, mut p: PreparedChat, events: &Events) -> (ChatResponse, StageTimings) {
        let result = match p.task {
            Task::Ask => self.ask(&mut p, events).await,
            Task::Execute => self.execute_stage(&mut p, events).await,
        };
        // Only SQL that passed the guard and ran is cached — and only SQL a provider wrote
        // (or an editor approved): a hand edit is not a team-wide answer until someone
        // confirms it with feedback.
        let hand_written = matches!(
            p.message.provider.as_deref(),
            Some(USER_PROVIDER | CACHE_PROVIDER)
        );
        if result.is_ok()
            && p.message.status == MessageStatus::Executed
            && !hand_written
            && let (Some(scope), Some(sql)) = (&p.cache_scope, &p.message.sql)
        {
            let embedded = p.cache_embedded.take();
            // Off the request path: the mirror has it at once, the store after the next
            // flush (cache.rs).
            self.cache_answer_later(
                scope,
                &p.message.question,
                sql,
                Some(p.message.id),
                embedded,
            )
            .await;
        }
        if let Err(e) = result {
            p.message.status = MessageStatus::Error;
            p.message.error_code = Some(e.code);
            p.message.error_detail = Some(e.detail.clone());
            let _ = events
                .emit(ChatEvent::Error(chat_error(e.code, e.detail)))
                .await;
        }
        p.message.latency_ms = Some(p.started.elapsed().as_millis() as i64);
        p.message.updated_at = now_millis();
        // The history keeps a preview of the rows; the answer below carries them all.
        let stored = ChatMessage {
            results: p.message.results.as_ref().map(history_copy),
            ..p.message.clone()
        };
        // The final write lands only while the message is still this run's: if it was
        // marked interrupted and then edited or re-run meanwhile, the newer run's state
        // stays (a mark alone is overwritten with the real outcome).
        match self.store().finish_message(&stored, stored.run_id).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                message_id = %p.message.id,
                "a newer run took this message over; this run's outcome is not stored"
            ),
            Err(e) => {
                tracing::error!(error = %e, message_id = %p.message.id, "could not store a chat message")
            }
        }
        let response = self.response_of(&p.session, &p.message, true);
        p.timings.total_us = micros(p.started);
        self.metrics().chat_answer(p.message.status, &p.timings);
        events.done(&response).await;
        (response, p.timings)
    }

    /// Generation, validation and the execution-mode gate.
    #[allow(clippy::too_many_lines)] // the chat pipeline's stages in order (link, cache, generate, guard, gate, run)
    async fn ask(&self, p: &mut PreparedChat, events: &Events) -> ServiceResult<()> {
        let _ = events.emit(ChatEvent::Status("linking")).await;
        let t = Instant::now();
        let schema = self.schema_for(&p.actor, &p.conn).await?;
        let model = self.semantic_model_of(&p.conn).await;
        // A session created for this message has no earlier turns: no read.
        let history = if p.new_session {
            Vec::new()
        } else {
            self.history_of(p.session.id, p.message.id).await?
        };
        // A follow-up ("only for Germany") needs the tables of the question it refines.
        let link_text = match history.iter().rev().find(|t| t.sql.is_some()) {
            Some(previous) => format!("{} {}", previous.question, p.message.question),
            None => p.message.question.clone(),
        };
        let prompt_schema = self.link_schema(&p.conn, &schema, model.as_deref(), &link_text);
        p.timings.linking_us = micros(t);
        let max_rows = self.effective_max_rows(&p.conn, &p.message.options);
        if p.message.options.use_cache && history.is_empty() {
            let scope = cache_scope_of(&p.conn, &schema, model.as_deref());
            let _ = events.emit(ChatEvent::Status("cache")).await;
            let t = Instant::now();
            let found = self.cache_lookup(&scope, &p.message.question).await;
            p.timings.cache_us = micros(t);
            p.cache_scope = Some(scope);
            p.cache_embedded = found.embedded;
            if let Some(hit) = found.hit
                && self
                    .answer_from_cache(p, events, &schema, hit, max_rows)
                    .await?
            {
                return Ok(());
            }
        }
        let examples = self.few_shots(p.conn.id, &p.message.question).await;
        let resolved = match &p.resolved {
            Some(r) => r.clone(),
            None => self.resolve_provider(p.conn.team_id, None).await?,
        };
        let provider = Arc::clone(&resolved.provider);
        let mut request = GenerateRequest {
            question: p.message.question.clone(),
            dialect: p.conn.target.dialect,
            schema: prompt_schema,
            policy: p.conn.privacy.clone(),
            history,
            previous_error: None,
            max_rows,
            semantic: model,
            examples,
            // An assistant's provider adds its instructions (assistants.rs).
            instructions: None,
        };
        p.message.provider = Some(provider.name().to_owned());
        let reconsider = resolved
            .config
            .as_ref()
            .is_some_and(|c| c.options.reconsider_empty_results);
        // The answer before a "reconsider" pass: kept when the pass does not produce a
        // better one.
        let mut before_reconsider: Option<ChatMessage> = None;
        // The last refusal as the client sees it (the provider may have seen less).
        let mut refused_detail: Option<String> = None;
        for attempt in 0..=MAX_CORRECTIONS {
            let _ = events.emit(ChatEvent::Status("generating")).await;
            let t = Instant::now();
            let generated = provider.generate(&request).await;
            let took = t.elapsed();
            p.timings.generating_us += took.as_micros() as u64;
            if generated.is_err() {
                self.metrics()
                    .provider_call(provider.name(), false, Default::default(), None);
            }
            let generated = match generated {
                Ok(g) => g,
                Err(e) => {
                    p.message.attempts.push(Attempt {
                        sql: None,
                        error: Some(e.to_string()),
                        latency_ms: took.as_millis() as u64,
                        ..Attempt::default()
                    });
                    if keep_first(p, &mut before_reconsider) {
                        return Ok(());
                    }
                    return Err(ServiceError::new(e.code(), e.to_string()));
                }
            };
            p.message.prompt_tokens += generated.usage.prompt_tokens as i64;
            p.message.completion_tokens += generated.usage.completion_tokens as i64;
            let cost = resolved.config.as_ref().and_then(|c| {
                c.cost(
                    generated.usage.prompt_tokens,
                    generated.usage.completion_tokens,
                )
            });
            if let Some(cost) = cost {
                p.message.cost_usd = Some(p.message.cost_usd.unwrap_or(0.0) + cost);
            }
            self.metrics()
                .provider_call(provider.name(), true, generated.usage, cost);
            // A provider that answers a correction with the same SQL will not correct
            // itself: keep the first error.
            if let Some((previous, why)) = &request.previous_error
                && previous.trim() == generated.sql.trim()
            {
                p.message.attempts.push(Attempt {
                    sql: Some(generated.sql.clone()),
                    error: Some("the provider repeated the refused SQL".into()),
                    latency_ms: took.as_millis() as u64,
                    prompt_tokens: generated.usage.prompt_tokens,
                    completion_tokens: generated.usage.completion_tokens,
                });
                if keep_first(p, &mut before_reconsider) {
                    return Ok(());
                }
                let code = p.message.error_code.unwrap_or(ErrorCode::GuardRejected);
                return Err(ServiceError::new(
                    code,
                    refused_detail.clone().unwrap_or_else(|| why.clone()),
                ));
            }
            p.message.attempts.push(Attempt {
                sql: Some(generated.sql.clone()),
                error: None,
                latency_ms: took.as_millis() as u64,
                prompt_tokens: generated.usage.prompt_tokens,
                completion_tokens: generated.usage.completion_tokens,
            });
            p.message.sql = Some(generated.sql.clone());
            p.message.explanation = generated.explanation.clone();
            let _ = events.emit(ChatEvent::Status("validating")).await;
            let t = Instant::now();
            let checked = self.engine().check(
                p.conn.target.dialect,
                &generated.sql,
                &schema,
                &p.conn.privacy,
                max_rows,
            );
            p.timings.validating_us += micros(t);
            if let Err(r) = checked {
                let mut why = r.message.clone();
                if !r.suggestions.is_empty() && !why.contains("did you mean") {
                    why.push_str(&format!(" (did you mean {}?)", r.suggestions.join(", ")));
                }
                if let Some(a) = p.message.attempts.last_mut() {
                    a.error = Some(why.clone());
                }
                if keep_first(p, &mut before_reconsider) {
                    return Ok(());
                }
                if attempt < MAX_CORRECTIONS {
                    p.message.error_code = Some(r.code);
                    // A guard refusal names identifiers only: it may go back as it is.
                    refused_detail = Some(why.clone());
                    request.previous_error = Some((generated.sql, why));
                    continue;
                }
                return Err(ServiceError::new(r.code, r.message));
            }
            p.message.error_code = None;
            if p.message.options.show_query {
                let _ = events
                    .emit(ChatEvent::Sql {
                        query: generated.sql.clone(),
                        dialect: p.conn.target.dialect,
                    })
                    .await;
            }
            return match p.conn.execution_mode {
                ExecutionMode::GenerateOnly => {
                    p.message.status = MessageStatus::QueryOnly;
                    self.explain(p, events).await;
                    Ok(())
                }
                ExecutionMode::ReviewFirst => {
                    p.message.status = MessageStatus::PendingApproval;
                    self.explain(p, events).await;
                    Ok(())
                }
                ExecutionMode::AutoExecute => {
                    match self.run_message_sql(p, events, &schema).await {
                        Ok(()) => {
                            let empty =
                                p.message.results.as_ref().is_some_and(|r| r.row_count == 0);
                            if empty
                                && reconsider
                                && before_reconsider.is_none()
                                && attempt < MAX_CORRECTIONS
                            {
                                before_reconsider = Some(p.message.clone());
                                if let Some(a) = p.message.attempts.last_mut() {
                                    a.error = Some(RECONSIDER_NOTE.into());
                                }
                                request.previous_error =
                                    Some((generated.sql, RECONSIDER_NOTE.into()));
                                continue;
                            }
                            Ok(())
                        }
                        Err(_) if keep_first(p, &mut before_reconsider) => Ok(()),
                        Err(f) if f.retryable && attempt < MAX_CORRECTIONS => {
                            if let Some(a) = p.message.attempts.last_mut() {
                                a.error = Some(f.error.detail.clone());
                            }
                            p.message.error_code = Some(f.error.code);
                            // The provider is a third party: it gets the database's code and
                            // a message without values, never the whole message.
                            let why = f
                                .for_provider
                                .unwrap_or_else(|| "the database refused the query".to_owned());
                            refused_detail = Some(f.error.detail);
                            request.previous_error = Some((generated.sql, why));
                            continue;
                        }
                        Err(f) => Err(f.error),
                    }
                }
            };
        }
        Err(ServiceError::internal(
            "self-correction loop ended without an answer",
        ))
    }

    /// Serves a cache hit: the SQL is validated by the guard and, on auto_execute
    /// connections, run again. `false` when the entry no longer fits (refused by the guard,
    /// or a database error before any row was sent): it is evicted and the question goes
    /// to the provider.
    async fn answer_from_cache(
        &self,
        p: &mut PreparedChat,
        events: &Events,
        schema: &SchemaSnapshot,
        hit: CacheHit,
        max_rows: u64,
    ) -> ServiceResult<bool> {
        if let Err(r) = self.engine().check(
            p.conn.target.dialect,
            &hit.sql,
            schema,
            &p.conn.privacy,
            max_rows,
        ) {
            tracing::info!(entry = %hit.id, reason = %r.message, "cached SQL no longer passes the guard; evicted");
            self.cache_evict(hit.id).await;
            self.count(p.conn.id, CacheOutcome::Miss).await;
            return Ok(false);
        }
        p.message.sql = Some(hit.sql.clone());
        p.message.provider = Some(CACHE_PROVIDER.to_owned());
        p.message.cache_entry_id = Some(hit.id);
        p.message.explanation = Some(match hit.kind {
            MatchKind::Exact => {
                "Answered from the semantic cache: this question was answered before.".to_owned()
            }
            MatchKind::Similar => format!(
                "Answered from the semantic cache: it asks the same as the earlier question \"{}\".",
                hit.question
            ),
        });
        let served = match hit.kind {
            MatchKind::Exact => CacheOutcome::ExactHit,
            MatchKind::Similar => CacheOutcome::SimilarHit,
        };
        if p.message.options.show_query {
            let _ = events
                .emit(ChatEvent::Sql {
                    query: hit.sql.clone(),
                    dialect: p.conn.target.dialect,
                })
                .await;
        }
        match p.conn.execution_mode {
            ExecutionMode::GenerateOnly => {
                p.message.status = MessageStatus::QueryOnly;
                self.explain(p, events).await;
                self.count(p.conn.id, served).await;
                Ok(true)
            }
            ExecutionMode::ReviewFirst => {
                p.message.status = MessageStatus::PendingApproval;
                self.explain(p, events).await;
                self.count(p.conn.id, served).await;
                Ok(true)
            }
            ExecutionMode::AutoExecute => match self.run_message_sql(p, events, schema).await {
                Ok(()) => {
                    p.message.status = MessageStatus::Cached;
                    self.count(p.conn.id, served).await;
                    Ok(true)
                }
                Err(f) if f.retryable => {
                    tracing::info!(entry = %hit.id, error = %f.error.detail, "cached SQL failed to run; evicted");
                    self.cache_evict(hit.id).await;
                    self.count(p.conn.id, CacheOutcome::Miss).await;
                    p.message.sql = None;
                    p.message.provider = None;
                    p.message.cache_entry_id = None;
                    p.message.explanation = None;
                    p.message.results = None;
                    p.message.status = MessageStatus::Running;
                    Ok(false)
                }
                Err(f) => {
                    // Rows were already sent (or it timed out): the answer came from the
                    // cache and failed; it counts as served.
                    self.count(p.conn.id, served).await;
                    Err(f.error)
                }
            },
        }
    }

    /// The connection's semantic model; store trouble means none (answers still work).
    async fn semantic_model_of(
        &self,
        conn: &Connection,
    ) -> Option<Arc<querent_domain::semantic::SemanticModel>> {
        match self.semantic_model_under(conn.id, &conn.privacy).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e.detail, connection = %conn.id, "could not load the semantic model");
                None
            }
        }
    }

    /// The cache scope of a connection now: its schema fingerprint and model version.
    pub(crate) async fn cache_scope(&self, conn: &Connection, schema: &SchemaSnapshot) -> Scope {
        let model = self.semantic_model_of(conn).await;
        cache_scope_of(conn, schema, model.as_deref())
    }

    /// Runs the message's stored SQL (approvals and edits).
    async fn execute_stage(&self, p: &mut PreparedChat, events: &Events) -> ServiceResult<()> {
        let schema = self.schema_for(&p.actor, &p.conn).await?;
        if p.message.options.use_cache
            && self
                .history_of(p.session.id, p.message.id)
                .await?
                .is_empty()
        {
            p.cache_scope = Some(self.cache_scope(&p.conn, &schema).await);
        }
        if p.message.options.show_query
            && let Some(sql) = &p.message.sql
        {
            let _ = events
                .emit(ChatEvent::Sql {
                    query: sql.clone(),
                    dialect: p.conn.target.dialect,
                })
                .await;
        }
        self.run_message_sql(p, events, &schema)
            .await
            .map_err(|f| f.error)
    }

    async fn run_message_sql(
        &self,
        p: &mut PreparedChat,
        events: &Events,
        schema: &SchemaSnapshot,
    ) -> Result<(), RunFailure> {
        let _ = events.emit(ChatEvent::Status("executing")).await;
        let sql = p.message.sql.clone().unwrap_or_default();
        let max_rows = self.effective_max_rows(&p.conn, &p.message.options);
        let t = Instant::now();
        let executed = self.execute(&p.conn, schema, &sql, max_rows, events).await;
        p.timings.executing_us = micros(t);
        match executed? {
            Executed::Rows(result) => {
                p.message.status = MessageStatus::Executed;
                p.message.results = Some(result);
                self.explain(p, events).await;
                Ok(())
            }
            Executed::Failed(e, rows_sent) => Err(RunFailure {
                retryable: e.code() == ErrorCode::QueryError && !rows_sent,
                for_provider: match &e {
                    ExecError::Query(db) => Some(db.for_provider(&sql)),
                    ExecError::Rejected(r) => Some(r.message.clone()),
                    _ => None,
                },
                error: ServiceError::new(e.code(), e.to_string()),
            }),
        }
    }

    /// Sends the explanation event (when asked for), adding what the result held.
    async fn explain(&self, p: &mut PreparedChat, events: &Events) {
        if !p.message.options.explain_results {
            return;
        }
        let mut text = p
            .message
            .explanation
            .clone()
            .unwrap_or_else(|| "This query was written by hand.".to_owned());
        match (&p.message.status, &p.message.results) {
            (MessageStatus::Executed, Some(r)) => {
                let rows = if r.row_count == 1 { "row" } else { "rows" };
                text.push_str(&format!(" It returned {} {rows}", r.row_count));
                text.push_str(match (r.truncated, r.truncated_reason) {
                    (false, _) => ".",
                    (true, Some(TruncationReason::ResultBytes)) => {
                        " (cut off at the result size limit)."
                    }
                    (true, Some(TruncationReason::ValueBytes)) => " (long values were shortened).",
                    (true, _) => " (cut off at the row limit).",
                });
            }
            (MessageStatus::PendingApproval, _) => {
                text.push_str(" It runs once an editor approves it.");
            }
            (MessageStatus::QueryOnly, _) => {
                text.push_str(" This connection only generates SQL; it was not run.");
            }
            _ => {}
        }
        p.message.explanation = Some(text.clone());
        let _ = events.emit(ChatEvent::Explanation(text)).await;
    }

    /// Validates and runs `sql` on a connection, streaming rows into `events`.
    async fn execute(
        &self,
        conn: &Connection,
        schema: &SchemaSnapshot,
        sql: &str,
        max_rows: u64,
        events: &Events,
    ) -> ServiceResult<Executed> {
        let password = self.connection_password(conn)?;
        let target = self.usable_target(conn).await?;
        let limits = self.limits_of(conn, max_rows).await;
        let mut sink = ForwardRows::new(events);
        let request = QueryRequest {
            connection_id: conn.id,
            target: &target,
            password: password.as_ref(),
            schema,
            policy: &conn.privacy,
            limits,
            sql,
        };
        match self.engine().run(request, &mut sink).await {
            Ok(outcome) => {
                let result = ResultSet::from_outcome(outcome, sink.rows, max_rows);
                if !sink.sent_columns {
                    // An empty result still tells the client its columns.
                    let _ = events
                        .emit(ChatEvent::Rows {
                            columns: Some(result.columns.clone()),
                            rows: Vec::new(),
                        })
                        .await;
                }
                Ok(Executed::Rows(result))
            }
            Err(e) => Ok(Executed::Failed(e, sink.sent_columns)),
        }
    }

    /// The limits a query on `conn` runs under: its row cap and statement timeout, the
    /// server's byte caps (settings; their defaults when the store cannot say).
    pub(crate) async fn limits_of(&self, conn: &Connection, max_rows: u64) -> QueryLimits {
        let settings = match self.current_settings().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e.detail, "settings unreadable; default byte caps apply");
                crate::settings::Settings::default()
            }
        };
        QueryLimits {
            max_rows,
            statement_timeout: std::time::Duration::from_millis(u64::from(
                conn.limits.statement_timeout_ms,
            )),
            connect_timeout: self.config().connect_timeout,
            max_value_bytes: settings.max_value_bytes,
            max_result_bytes: settings.max_result_bytes,
        }
    }

    pub(crate) fn connection_password(
        &self,
        conn: &Connection,
    ) -> ServiceResult<Option<querent_domain::Secret<String>>> {
        Ok(conn
            .encrypted_secret
            .as_deref()
            .map(|c| self.crypto().decrypt(c))
            .transpose()?)
    }

    /// The stored snapshot, read from the catalog on first use.
    pub(crate) async fn schema_for(
        &self,
        actor: &Actor,
        conn: &Connection,
    ) -> ServiceResult<Arc<SchemaSnapshot>> {
        match self.stored_schema(conn).await? {
            Some(s) => Ok(s),
            None => Ok(Arc::new(self.read_and_store_schema(actor, conn.id).await?)),
        }
    }

    /// The row cap: the request's, bounded by the connection's and the server's.
    pub(crate) fn effective_max_rows(&self, conn: &Connection, options: &ChatOptions) -> u64 {
        u64::from(options.max_rows)
            .min(u64::from(conn.limits.max_rows))
            .min(u64::from(self.config().server_max_rows))
            .max(1)
    }

    fn check_options(&self, options: &ChatOptions) -> ServiceResult<()> {
        if options.max_rows == 0 {
            return Err(ServiceError::validation(
                "options.max_rows: must be at least 1",
            ));
        }
        Ok(())
    }

    /// The turns before `current` (ids are UUIDv7: they sort in creation order) that have
    /// SQL, at most the last `HISTORY_TURNS`.
    pub(crate) async fn history_of(
        &self,
        session: SessionId,
        current: MessageId,
    ) -> ServiceResult<Vec<Turn>> {
        let messages = self.store().list_messages(session).await?;
        let turns: Vec<Turn> = messages
            .into_iter()
            .filter(|m| m.id < current && m.sql.is_some())
            .map(|m| Turn {
                question: m.question,
                sql: m.sql,
            })
            .collect();
        let skip = turns.len().saturating_sub(HISTORY_TURNS);
        Ok(turns.into_iter().skip(skip).collect())
    }

    pub(crate) fn response_of(
        &self,
        session: &ChatSession,
        m: &ChatMessage,
        with_rows: bool,
    ) -> ChatResponse {
        ChatResponse {
            session_id: session.id,
            message_id: m.id,
            query: m.sql.clone().filter(|_| m.options.show_query),
            query_dialect: m.dialect.display_name().to_owned(),
            explanation: m.explanation.clone().filter(|_| m.options.explain_results),
            results: m
                .results
                .clone()
                .filter(|_| with_rows)
                .map(ResultView::from),
            status: m.status,
            cache_hit: m.status == MessageStatus::Cached
                || m.provider.as_deref() == Some(CACHE_PROVIDER),
            error: match (m.error_code, &m.error_detail) {
                (Some(code), detail) => Some(ChatError {
                    code,
                    detail: detail.clone().unwrap_or_default(),
                }),
                _ => None,
            },
            statistics: m
                .results
                .as_ref()
                .filter(|_| with_rows && m.options.statistics)
                .and_then(|r| {
                    serde_json::to_value(querent_results::compute_stats(&r.columns, &r.rows)).ok()
                }),
            chart: m
                .results
                .as_ref()
                .filter(|_| with_rows)
                .and_then(|r| querent_results::answer_chart(&r.columns, &r.rows)),
        }
    }

    /// A session the caller owns (404 otherwise).
    pub(crate) async fn owned_session(
        &self,
        actor: &Actor,
        id: SessionId,
    ) -> ServiceResult<ChatSession> {
        let s = self.store().get_session(id).await.or_not_found("session")?;
        if s.owner != actor.audit_name() {
            return Err(ServiceError::not_found("session"));
        }
        // Membership may have been revoked since.
        self.require_team_role(actor, s.team_id, TeamRole::Viewer, "session")
            .await?;
        Ok(s)
    }

    /// A message and its session, for someone with at least `min` in the team (the asker
    /// may always read their own).
    pub(crate) async fn message_for(
        &self,
        actor: &Actor,
        id: MessageId,
        min: TeamRole,
    ) -> ServiceResult<(ChatSession, ChatMessage, Connection)> {
        let m = self.store().get_message(id).await.or_not_found("message")?;
        let s = self
            .store()
            .get_session(m.session_id)
            .await
            .or_not_found("message")?;
        // The session's team decides (a shared connection's sessions stay in the team that
        // asked); the connection must still be usable by the caller.
        self.require_team_role(actor, s.team_id, min, "message")
            .await?;
        let conn = self
            .load_connection(actor, s.connection_id, TeamRole::Viewer)
            .await
            .map_err(|e| {
                if e.code == ErrorCode::Forbidden {
                    ServiceError::not_found("message")
                } else {
                    e
                }
            })?;
        Ok((s, m, conn))
    }

    /// Approves a pending query (editor or above) and prepares its execution.
    pub async fn prepare_approval(
        &self,
        actor: &Actor,
        id: MessageId,
    ) -> ServiceResult<PreparedChat> {
        let (session, mut message, conn) = self.message_for(actor, id, TeamRole::Viewer).await?;
        self.require_team_role(actor, session.team_id, TeamRole::Editor, "message")
            .await?;
        if conn.execution_mode == ExecutionMode::GenerateOnly {
            return Err(ServiceError::forbidden(
                "this connection is generate_only: its queries are never executed",
            ));
        }
        let run = RunId::new();
        self.leave_pending(id, MessageStatus::Running, "approved", Some(run))
            .await?;
        message.status = MessageStatus::Running;
        message.run_id = Some(run);
        self.audit_by(actor, "chat.approve", format!("message:{id}"), None)
            .await;
        Ok(PreparedChat {
            actor: actor.clone(),
            conn,
            session,
            message,
            started: Instant::now(),
            task: Task::Execute,
            timings: StageTimings::default(),
            resolved: None,
            cache_scope: None,
            cache_embedded: None,
            new_session: false,
        })
    }

    /// Moves a pending message on to `to`; only one caller wins, the others get a 409
    /// naming the status the message is in now.
    async fn leave_pending(
        &self,
        id: MessageId,
        to: MessageStatus,
        verb: &str,
        run: Option<RunId>,
    ) -> ServiceResult<()> {
        if self
            .store()
            .transition_message(id, MessageStatus::PendingApproval, to, run)
            .await?
        {
            return Ok(());
        }
        let now = self.store().get_message(id).await?.status;
        Err(ServiceError::conflict(format!(
            "only a pending_approval message can be {verb}; this one is {now}"
        )))
    }

    /// Rejects a pending query (editor or above).
    pub async fn reject_message(
        &self,
        actor: &Actor,
        id: MessageId,
    ) -> ServiceResult<ChatResponse> {
        let (session, _, _conn) = self.message_for(actor, id, TeamRole::Viewer).await?;
        self.require_team_role(actor, session.team_id, TeamRole::Editor, "message")
            .await?;
        self.leave_pending(id, MessageStatus::Rejected, "rejected", None)
            .await?;
        self.audit_by(actor, "chat.reject", format!("message:{id}"), None)
            .await;
        let m = self.store().get_message(id).await?;
        Ok(self.response_of(&session, &m, true))
    }

    /// Replaces the SQL of a message (editor or above) after validating it; per the
    /// connection's mode the result runs now ([`PreparedChat`] to run), waits for approval
    /// or is only stored (the response is final).
    pub async fn prepare_edit(
        &self,
        actor: &Actor,
        id: MessageId,
        sql: &str,
    ) -> ServiceResult<Result<PreparedChat, ChatResponse>> {
        let (session, mut message, conn) = self.message_for(actor, id, TeamRole::Viewer).await?;
        self.require_team_role(actor, session.team_id, TeamRole::Editor, "message")
            .await?;
        if matches!(
            message.status,
            MessageStatus::Running | MessageStatus::Rejected
        ) {
            return Err(ServiceError::conflict(format!(
                "a {} message cannot be edited",
                message.status
            )));
        }
        let sql = sql.trim();
        if sql.is_empty() {
            return Err(ServiceError::validation("sql: must not be empty"));
        }
        let schema = self.schema_for(actor, &conn).await?;
        let max_rows = self.effective_max_rows(&conn, &message.options);
        self.engine()
            .check(conn.target.dialect, sql, &schema, &conn.privacy, max_rows)
            .map_err(|r| ServiceError::new(r.code, r.message))?;
        let previous = message.status;
        message.sql = Some(sql.to_owned());
        message.provider = Some(USER_PROVIDER.into());
        message.explanation = None;
        message.results = None;
        message.error_code = None;
        message.error_detail = None;
        message.updated_at = now_millis();
        // A new run owns the message from here: a pipeline still finishing an older run
        // (say one marked interrupted) can no longer overwrite it.
        let run = RunId::new();
        message.run_id = Some(run);
        message.status = match conn.execution_mode {
            ExecutionMode::AutoExecute => MessageStatus::Running,
            ExecutionMode::ReviewFirst => MessageStatus::PendingApproval,
            ExecutionMode::GenerateOnly => MessageStatus::QueryOnly,
        };
        // Only one editor wins a concurrent edit of the same message.
        if !self
            .store()
            .transition_message(id, previous, message.status, Some(run))
            .await?
        {
            return Err(ServiceError::conflict(
                "the message changed while it was being edited; reload it",
            ));
        }
        self.store().update_message(&message).await?;
        self.audit_by(actor, "chat.edit", format!("message:{id}"), None)
            .await;
        if message.status == MessageStatus::Running {
            Ok(Ok(PreparedChat {
                actor: actor.clone(),
                conn,
                session,
                message,
                started: Instant::now(),
                task: Task::Execute,
                timings: StageTimings::default(),
                resolved: None,
                cache_scope: None,
                cache_embedded: None,
                new_session: false,
            }))
        } else {
            Ok(Err(self.response_of(&session, &message, true)))
        }
    }
}

/// The `provider` recorded on a message answered from the semantic cache.
pub const CACHE_PROVIDER: &str = "cache";

/// The `provider` recorded on a message whose SQL was edited by hand.
pub const USER_PROVIDER: &str = "user";

fn cache_scope_of(
    conn: &Connection,
    schema: &SchemaSnapshot,
    model: Option<&querent_domain::semantic::SemanticModel>,
) -> Scope {
    // The row filters in force for the caller are part of the scope: an answer cached
    // under one set of filters never serves a caller under another.
    let schema_fingerprint = if conn.privacy.row_filters.is_empty() {
        schema.fingerprint.clone()
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        conn.privacy.row_filters.hash(&mut h);
        format!("{}+rf{:016x}", schema.fingerprint, h.finish())
    };
    Scope {
        connection_id: conn.id,
        schema_fingerprint,
        semantic_version: model.map(|m| m.version),
    }
}
