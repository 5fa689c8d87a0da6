//! Typed views of the API's JSON, for tests: what a client deserialises. They mirror the
//! app's response types (which only serialise) field for field, with the domain's own
//! types (ids, enums, [`ErrorCode`], [`ResultSet`]) wherever those deserialise, so a test
//! reads `answer.status == MessageStatus::Executed` instead of indexing untyped JSON, and a
//! renamed or retyped field fails to deserialise instead of comparing `Null`.

use querent_domain::chat::ResultSet;
use querent_domain::{
    ConnectionId, Dialect, ErrorCode, ExecutionMode, MessageId, MessageStatus, Role, SessionId,
    TeamId, TeamRole, UserId,
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
    /// Owning team.
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// Dialect.
    pub dialect: Dialect,
    /// SQLite file.
    pub path: Option<String>,
    /// Execution mode.
    pub execution_mode: ExecutionMode,
}

/// An error inside a chat answer and in the `error` event.
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
    /// The SQL's dialect.
    pub query_dialect: Dialect,
    /// The explanation (with `explain_results`).
    pub explanation: Option<String>,
    /// The results (when executed).
    pub results: Option<ResultSet>,
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
    pub results: Option<ResultSet>,
    /// Why it failed.
    pub error: Option<ChatErrorView>,
    /// The provider that answered.
    pub provider: Option<String>,
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
    /// `user` or `api_client`.
    pub kind: String,
    /// The user, for a user.
    pub user: Option<UserView>,
}
