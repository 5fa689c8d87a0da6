//! Typed views of the API's JSON, for tests: what a client deserialises. They mirror the
//! app's response types (which only serialise) field for field, with the domain's own
//! types (ids, enums, [`ErrorCode`]) wherever those deserialise, so a test
//! reads `answer.status == MessageStatus::Executed` instead of indexing untyped JSON, and a
//! renamed or retyped field fails to deserialise instead of comparing `Null`.

use querent_app::examples::Rating;
use querent_domain::chat::Attempt;
use querent_domain::learning::ExampleSource;
use querent_domain::query::TruncationReason;
use querent_domain::{
    ApiClientId, CacheEntryId, ConnectionId, ConnectionLimits, Dialect, ErrorCode, ExampleId,
    ExecutionMode, MessageId, MessageStatus, PrivacyPolicy, ProviderId, ProviderKind, Role, Scope,
    SessionId, TeamId, TeamRole, UserId,
};
use serde::Deserialize;
use serde_json::Value;

/// An error body: `{"detail", "code"}`, with the status it came with.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// HTTP status (not part of the body).
    #[serde(skip)]
    pub status: u16,
    /// The stable machine code.
    pub code: ErrorCode,
    /// The message for people.
    pub detail: String,
}

/// A page of a list: `{items, next_cursor}`.
#[derive(Clone, Debug, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, `None` on the last.
    pub next_cursor: Option<String>,
}

/// `POST /auth/login` and `/auth/refresh`.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// `POST /auth/setup`: the first admin, their team and their tokens.
#[derive(Clone, Debug, Deserialize)]
pub struct Setup {
    /// The admin.
    pub user: UserView,
    /// Their team.
    pub team: TeamView,
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// `GET /auth/setup-status`.
#[derive(Clone, Debug, Deserialize)]
pub struct SetupStatus {
    /// Whether no user exists yet (first-boot setup is open).
    pub needs_setup: bool,
}

/// `POST /auth/token`: an API client's access token.
#[derive(Clone, Debug, Deserialize)]
pub struct ClientToken {
    /// The access token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds the access token lives.
    pub expires_in: i64,
    /// Granted scopes, space separated.
    pub scope: String,
}

/// An API client (`GET /api-clients` items).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ApiClientView {
    /// The public client id.
    pub client_id: ApiClientId,
    /// Name.
    pub name: String,
    /// Owning team.
    pub team_id: TeamId,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Whether it was revoked.
    pub revoked: bool,
}

/// `POST /api-clients`: the client and, this once, its secret.
#[derive(Clone, Debug, Deserialize)]
pub struct ApiClientCreated {
    /// The client (its fields sit next to the secret).
    #[serde(flatten)]
    pub client: ApiClientView,
    /// The secret.
    pub client_secret: String,
    /// Client id and secret as one bearer credential (`qk_…`).
    pub api_key: String,
}

/// An audit entry (`GET /audit` items).
#[derive(Clone, Debug, Deserialize)]
pub struct AuditView {
    /// Who acted.
    pub actor: String,
    /// What was done (`auth.setup`, `settings.update`, …).
    pub action: String,
    /// What it was done to.
    pub target: Option<String>,
    /// Extra detail.
    pub detail: Option<String>,
}

/// A user.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct UserView {
    /// Id.
    pub id: UserId,
    /// Username.
    pub username: String,
    /// Email.
    pub email: Option<String>,
    /// Server role.
    pub role: Role,
    /// Whether the user may not log in.
    pub disabled: bool,
}

/// A team.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TeamView {
    /// Id.
    pub id: TeamId,
    /// Name.
    pub name: String,
}

/// A member of a team.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MemberView {
    /// The user.
    pub user_id: UserId,
    /// Their name.
    pub username: String,
    /// Their role in the team.
    pub role: TeamRole,
}

/// A registered database.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ConnectionView {
    /// Id.
    pub id: ConnectionId,
    /// Its stable integer alias (Connecty's `dw_id`).
    pub dw_id: i64,
    /// Owning team.
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// Dialect.
    pub dialect: Dialect,
    /// SQLite file.
    pub path: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Port.
    pub port: Option<u16>,
    /// Database.
    pub database: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Execution mode.
    pub execution_mode: ExecutionMode,
    /// Privacy policy.
    pub privacy: PrivacyPolicy,
    /// Limits.
    pub config: ConnectionLimits,
    /// Whether a password is stored (it is never returned).
    pub has_password: bool,
}

/// `POST /connections/test` and `/connections/{id}/test`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ConnectionTest {
    /// Whether the database answered.
    pub ok: bool,
    /// The dialect tested.
    pub dialect: Dialect,
    /// The server's version string, when `ok`.
    pub server_version: Option<String>,
    /// Why it failed, when not `ok`.
    pub error: Option<ErrorInfo>,
}

/// `POST /connections/sqlite-files`: an uploaded SQLite file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SqliteFile {
    /// Where it was stored (the `path` to register).
    pub path: String,
    /// Its size in bytes.
    pub size_bytes: u64,
}

/// A provider (`GET /providers` items; never the key).
#[derive(Clone, Debug, Deserialize)]
pub struct ProviderView {
    /// Id.
    pub id: ProviderId,
    /// Owning team.
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ProviderKind,
    /// API root.
    pub base_url: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Whether an API key is stored.
    pub has_api_key: bool,
    /// Whether it is the team's default.
    pub is_default: bool,
    /// Tunables (as sent: the domain's type refuses fields it does not know).
    pub options: Value,
}

/// `POST /providers/{id}/test`.
#[derive(Clone, Debug, Deserialize)]
pub struct ProviderTest {
    /// Whether the provider answered.
    pub ok: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// Its reply (shortened).
    pub reply: Option<String>,
}

/// `GET /providers/{id}/models`.
#[derive(Clone, Debug, Deserialize)]
pub struct ModelList {
    /// Model ids.
    pub models: Vec<String>,
}

/// `GET /usage`.
#[derive(Clone, Debug, Deserialize)]
pub struct Usage {
    /// The team.
    pub team_id: TeamId,
    /// Totals.
    pub total: UsageTotals,
    /// Per provider.
    pub by_provider: Vec<UsageTotals>,
}

/// Token and cost totals.
#[derive(Clone, Debug, Deserialize)]
pub struct UsageTotals {
    /// The provider (empty for the totals).
    pub provider: String,
    /// Messages answered.
    pub messages: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Estimated cost in US dollars.
    pub cost_usd: f64,
}

/// `GET /settings`: the effective settings.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SettingsView {
    /// How long cached answers live, in seconds.
    pub cache_ttl_seconds: u64,
    /// Rows returned when a request does not say.
    pub default_max_rows: u32,
    /// The most rows any request may ask for.
    pub max_rows_limit: u32,
    /// Statement timeout when a connection does not set a lower one, in ms.
    pub statement_timeout_ms: u32,
    /// Log level.
    pub log_level: String,
    /// Requests per minute per caller.
    pub rate_limit_per_minute: u32,
    /// Longest value a result delivers, in bytes.
    pub max_value_bytes: u64,
    /// Row data a result delivers at most, in bytes.
    pub max_result_bytes: u64,
}

/// `GET /health`.
#[derive(Clone, Debug, Deserialize)]
pub struct Health {
    /// `ok` while the process serves requests.
    pub status: String,
    /// Server version.
    pub version: String,
}

/// `GET /ready`.
#[derive(Clone, Debug, Deserialize)]
pub struct Readiness {
    /// Store backend: `sqlite` or `postgres`.
    pub store: String,
    /// The default SQL provider.
    pub provider: String,
    /// The semantic cache's embedder.
    pub embedder: String,
    /// Why the lexical fallback is in use although a model was configured.
    pub embedder_note: Option<String>,
    /// Target database pools.
    pub targets: PoolStatus,
}

/// Pool figures of `/ready`.
#[derive(Clone, Debug, Deserialize)]
pub struct PoolStatus {
    /// Pools open.
    pub pools: u64,
    /// Connections in use.
    pub in_use: u64,
    /// Pools with every connection busy and callers waiting.
    pub exhausted: u64,
}

/// `GET /cache/stats`.
#[derive(Clone, Debug, Deserialize)]
pub struct CacheStats {
    /// Over every connection listed.
    pub total: CacheCounts,
    /// Per connection.
    pub connections: Vec<ConnectionCacheStats>,
    /// The embedder used for similarity.
    pub embedder: String,
}

/// Hit and miss counts.
#[derive(Clone, Debug, Deserialize)]
pub struct CacheCounts {
    /// Exact hits.
    pub exact_hits: u64,
    /// Similar hits.
    pub similar_hits: u64,
    /// All hits.
    pub hits: u64,
    /// Misses.
    pub misses: u64,
    /// hits / (hits + misses).
    pub hit_ratio: f64,
    /// Live entries.
    pub entries: u64,
}

/// One connection's cache figures.
#[derive(Clone, Debug, Deserialize)]
pub struct ConnectionCacheStats {
    /// The connection.
    pub connection_id: ConnectionId,
    /// Its name.
    pub connection_name: String,
    /// Its counts (their fields sit next to the connection's).
    #[serde(flatten)]
    pub counts: CacheCounts,
}

/// A semantic cache entry (`GET /cache/entries` items).
#[derive(Clone, Debug, Deserialize)]
pub struct CacheEntryView {
    /// Id.
    pub id: CacheEntryId,
    /// Connection.
    pub connection_id: ConnectionId,
    /// The question it was stored for.
    pub question: String,
    /// The SQL.
    pub sql: String,
    /// Embedder of its vector.
    pub embedder: String,
    /// Times served.
    pub hits: u64,
}

/// `DELETE /cache`.
#[derive(Clone, Debug, Deserialize)]
pub struct CacheCleared {
    /// Entries removed.
    pub removed: u64,
}

/// A verified example.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ExampleView {
    /// Id.
    pub id: ExampleId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// The question.
    pub question: String,
    /// The SQL.
    pub sql: String,
    /// Where it came from.
    pub source: ExampleSource,
    /// The chat message it came from.
    pub message_id: Option<MessageId>,
}

/// `POST /chat/feedback/{message_id}`: what feedback changed.
#[derive(Clone, Debug, Deserialize)]
pub struct FeedbackResult {
    /// The message.
    pub message_id: MessageId,
    /// The rating recorded.
    pub rating: Rating,
    /// The verified example stored or updated, if any.
    pub example: Option<ExampleView>,
    /// Whether the answer was stored in the semantic cache.
    pub cached: bool,
    /// Cache entries removed for the question.
    pub cache_entries_removed: u64,
}

/// A result: a chat answer's `results`, a session message's stored copy, `/sql/run`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultView {
    /// Column names.
    pub columns: Vec<String>,
    /// Their type names, in the same order.
    pub column_types: Vec<String>,
    /// Names of masked columns.
    pub masked_columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Vec<Value>>,
    /// Rows delivered.
    pub row_count: u64,
    /// Whether `rows` are only the first of `row_count` (the history's copy).
    pub preview: bool,
    /// Whether a limit cut the result.
    pub truncated: bool,
    /// Which.
    pub truncated_reason: Option<TruncationReason>,
    /// Its value.
    pub truncated_limit: Option<u64>,
    /// Values shortened.
    pub values_truncated: u64,
    /// The row cap applied.
    pub max_rows_applied: Option<u64>,
    /// Time in the database, in milliseconds.
    pub execution_time_ms: u64,
}

/// An error inside a successful answer: a chat answer, the `error` event, a connection
/// test.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ChatErrorView {
    /// The stable machine code.
    pub code: ErrorCode,
    /// The message for people.
    pub detail: String,
}

/// The complete answer to a question: the JSON variant's body and the `done` event.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ChatAnswer {
    /// The session.
    pub session_id: SessionId,
    /// This message.
    pub message_id: MessageId,
    /// The SQL (`None` when hidden or absent).
    pub query: Option<String>,
    /// The SQL's dialect by its display name (`PostgreSQL`, `MySQL`, `SQLite`).
    pub query_dialect: String,
    /// The explanation (with `explain_results`).
    pub explanation: Option<String>,
    /// The results (when executed).
    pub results: Option<ResultView>,
    /// What happened.
    pub status: MessageStatus,
    /// Whether the SQL came from the semantic cache.
    pub cache_hit: bool,
    /// Why it failed.
    pub error: Option<ChatErrorView>,
    /// The body as it came, for snapshots and fields this view does not name.
    #[serde(skip)]
    pub json: Value,
}

impl ChatAnswer {
    /// The rows of the results (empty when there are none).
    pub fn rows(&self) -> Vec<Vec<Value>> {
        self.results
            .as_ref()
            .map(|r| r.rows.clone())
            .unwrap_or_default()
    }

    /// The SQL, lower-cased, panicking when there is none.
    pub fn sql(&self) -> String {
        match &self.query {
            Some(q) => q.to_lowercase(),
            None => panic!("no query in {}", self.json),
        }
    }

    /// The error code, panicking when there is none.
    pub fn error_code(&self) -> ErrorCode {
        match &self.error {
            Some(e) => e.code,
            None => panic!("no error in {}", self.json),
        }
    }
}

/// One server-sent event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// The `event:` name (`status`, `sql`, `rows`, `explanation`, `error`, `done`).
    pub name: String,
    /// The `data:` JSON.
    pub data: Value,
}

/// A chat answered as a server-sent event stream.
#[derive(Clone, Debug)]
pub struct ChatStream {
    /// Every event in order, `done` last.
    pub events: Vec<Event>,
    /// The `done` event's answer.
    pub done: ChatAnswer,
}

impl ChatStream {
    /// The events' names, `status` events as `status:STAGE`.
    pub fn names(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| match e.name.as_str() {
                "status" => format!("status:{}", e.data["stage"].as_str().unwrap_or("?")),
                other => other.to_owned(),
            })
            .collect()
    }

    /// The data of the first event named `name`, panicking when there is none.
    pub fn event(&self, name: &str) -> &Value {
        match self.events.iter().find(|e| e.name == name) {
            Some(e) => &e.data,
            None => panic!("no `{name}` event in {:?}", self.names()),
        }
    }

    /// Every row of every `rows` event, in order.
    pub fn rows(&self) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e.name == "rows")
            .flat_map(|e| e.data["rows"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

/// An error inside a successful answer (the document's `ErrorInfo`).
pub type ErrorInfo = ChatErrorView;

/// A session (`GET /sessions` items).
#[derive(Clone, Debug, Deserialize)]
pub struct SessionView {
    /// Id.
    pub id: SessionId,
    /// The connection asked.
    pub connection_id: ConnectionId,
    /// Title (the first question).
    pub title: String,
}

/// A session with its messages (`GET /sessions/{id}`).
#[derive(Clone, Debug, Deserialize)]
pub struct SessionDetail {
    /// The session (its fields sit next to `messages`).
    #[serde(flatten)]
    pub session: SessionView,
    /// Messages, oldest first.
    pub messages: Vec<MessageView>,
}

/// A message of a session.
#[derive(Clone, Debug, Deserialize)]
pub struct MessageView {
    /// Id.
    pub id: MessageId,
    /// The question.
    pub question: String,
    /// The SQL.
    pub sql: Option<String>,
    /// What happened.
    pub status: MessageStatus,
    /// The row preview.
    pub results: Option<ResultView>,
    /// Why it failed.
    pub error: Option<ChatErrorView>,
    /// The provider that answered.
    pub provider: Option<String>,
    /// The explanation, when one was asked for.
    pub explanation: Option<String>,
    /// Prompt tokens used.
    pub prompt_tokens: i64,
    /// Completion tokens used.
    pub completion_tokens: i64,
    /// Every provider call made for it (first try and self-corrections).
    pub attempts: Vec<Attempt>,
}

/// `POST /sql/validate`.
#[derive(Clone, Debug, Deserialize)]
pub struct SqlValidation {
    /// Whether the guard accepts it.
    pub valid: bool,
    /// Why not: the error code.
    pub code: Option<ErrorCode>,
    /// Why not: the message.
    pub detail: Option<String>,
    /// Names the guard suggests instead of an unknown one.
    pub suggestions: Vec<String>,
    /// What would run.
    pub normalized_sql: Option<String>,
    /// The tables it reads.
    pub tables: Vec<String>,
}

/// A team with its members (`GET /teams/{id}`).
#[derive(Clone, Debug, Deserialize)]
pub struct TeamDetail {
    /// Id.
    pub id: TeamId,
    /// Name.
    pub name: String,
    /// Members.
    pub members: Vec<MemberView>,
}

/// The caller (`GET /auth/me`).
#[derive(Clone, Debug, Deserialize)]
pub struct Me {
    /// `user` or `client`.
    pub kind: String,
    /// The user, for a user.
    pub user: Option<UserView>,
    /// The client id, for an API client.
    pub client_id: Option<ApiClientId>,
    /// Scopes (API clients).
    pub scopes: Vec<Scope>,
    /// Team memberships (for a client: its team, with the role its scopes grant).
    pub teams: Vec<MembershipView>,
}

/// One team membership of the caller.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MembershipView {
    /// The team.
    pub team_id: TeamId,
    /// Its name.
    pub team_name: String,
    /// The role in it.
    pub role: TeamRole,
}
