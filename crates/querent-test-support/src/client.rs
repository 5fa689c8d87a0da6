//! [`Client`]: an HTTP client of a [`TestApp`](crate::TestApp) that holds its access token
//! and returns typed views ([`crate::views`]).
//!
//! The typed calls (`get`, `post`, …) assert a 2xx status and deserialise the body,
//! panicking with the method, path, status and body when either fails; which 2xx is pinned
//! by the OpenAPI check every response goes through (each operation documents one success
//! status), and [`Client::delete`] asserts its 204 itself. [`Client::fails`] is their
//! mirror for error answers and returns the typed [`ApiError`]. [`Client::send`] gives the
//! raw [`Response`] for anything else (headers, odd statuses, non-JSON bodies, bodies a
//! test reads as text on purpose).
//! Every response is read through [`TestApp::read`](crate::TestApp::read), like the
//! untyped helpers.

use querent_domain::{ConnectionId, ExecutionMode, TeamId, TeamRole, UserId};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::app::{Response, TestApp, parse_sse};
use crate::views::{
    ApiError, ChatAnswer, ChatStream, ConnectionView, Event, Me, Page, ProviderView, ResultView,
    Tokens, UserView,
};

/// A client of one server, as one caller (or anonymous).
#[derive(Clone, Debug)]
pub struct Client {
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) token: Option<String>,
}

impl Client {
    /// An anonymous client of the server at `base_url` (`http://host:port`): for servers a
    /// test starts otherwise than as a [`TestApp`], such as `querent serve` child processes.
    pub fn new(base_url: impl Into<String>) -> Client {
        Client {
            base_url: base_url.into(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            token: None,
        }
    }

    /// The base URL of the server this client talks to.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The same server as another caller.
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            token: Some(token.into()),
            ..self.clone()
        }
    }

    /// The same server without a token.
    pub fn anonymous(&self) -> Client {
        Client {
            token: None,
            ..self.clone()
        }
    }

    /// The access token this client sends (panics for an anonymous client).
    pub fn token(&self) -> &str {
        self.token
            .as_deref()
            .expect("an anonymous client has no token")
    }

    fn request(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self
            .http
            .request(method, format!("{}{path}", self.base_url));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Sends a request (`body` as JSON when given) and reads the response whole.
    pub async fn send(&self, method: &str, path: &str, body: Option<Value>) -> Response {
        let mut req = self.request(method, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        TestApp::read(req.send().await.expect("request")).await
    }

    /// Sends `body` as is, with `Content-Type: application/json` (for malformed JSON).
    pub async fn send_raw(&self, method: &str, path: &str, body: &str) -> Response {
        let req = self
            .request(method, path)
            .header("content-type", "application/json")
            .body(body.to_owned());
        TestApp::read(req.send().await.expect("request")).await
    }

    /// Sends and expects a 2xx answer whose body deserialises as `T`.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> T {
        let r = self.send(method, path, body).await;
        typed(method, path, &r)
    }

    /// `GET`, expecting 2xx and a `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        self.call("GET", path, None).await
    }

    /// `POST` with a JSON body, expecting 2xx and a `T`.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.call("POST", path, Some(body)).await
    }

    /// `PUT` with a JSON body, expecting 2xx and a `T`.
    pub async fn put<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.call("PUT", path, Some(body)).await
    }

    /// `PATCH` with a JSON body, expecting 2xx and a `T`.
    pub async fn patch<T: DeserializeOwned>(&self, path: &str, body: Value) -> T {
        self.call("PATCH", path, Some(body)).await
    }

    /// `DELETE`, expecting `204 No Content`.
    pub async fn delete(&self, path: &str) {
        let r = self.send("DELETE", path, None).await;
        assert_eq!(r.status, 204, "DELETE {path}: {} {}", r.status, r.text);
    }

    /// Sends and expects an error answer: the typed `{"detail", "code"}` with its status.
    pub async fn fails(&self, method: &str, path: &str, body: Option<Value>) -> ApiError {
        let r = self.send(method, path, body).await;
        r.error()
    }

    /// Asks a question in a new session, JSON variant (`Accept: application/json`).
    pub async fn ask(&self, connection: ConnectionId, question: &str) -> ChatAnswer {
        self.chat(json!({"connection_id": connection, "message": question}))
            .await
    }

    /// `POST /api/v1/chat` with `body`, JSON variant: the answer (any 200, whatever its
    /// status field says).
    pub async fn chat(&self, body: Value) -> ChatAnswer {
        let r = self.chat_raw(body).await;
        r.answer()
    }

    /// `POST /api/v1/chat` with `body`, JSON variant, read raw (for refusals).
    pub async fn chat_raw(&self, body: Value) -> Response {
        self.post_json_variant("/api/v1/chat", body).await
    }

    /// `POST path` with `Accept: application/json`: the JSON variant of a streaming
    /// endpoint (chat, approvals, edits), read raw; `.answer()` or `.error()` it.
    pub async fn post_json_variant(&self, path: &str, body: Value) -> Response {
        let req = self
            .request("POST", path)
            .header("accept", "application/json")
            .json(&body);
        TestApp::read(req.send().await.expect("request")).await
    }

    /// `POST path` as a server-sent event stream (chat, approvals, edits): every event and
    /// the `done` answer. Panics when the answer is not a 200 stream ending with `done`.
    pub async fn stream(&self, path: &str, body: Value) -> ChatStream {
        let req = self
            .request("POST", path)
            .header("accept", "text/event-stream")
            .json(&body);
        let r = TestApp::read(req.send().await.expect("request")).await;
        let is_stream = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        assert!(
            r.status == 200 && is_stream,
            "POST {path}: {} {}",
            r.status,
            r.text
        );
        let events: Vec<Event> = parse_sse(&r.text)
            .into_iter()
            .map(|(name, data)| Event { name, data })
            .collect();
        let last = events.last().expect("at least one event");
        assert_eq!(last.name, "done", "the stream ends with done: {}", r.text);
        let done = answer_of(&last.data);
        ChatStream { events, done }
    }

    /// `POST /api/v1/chat` as a stream.
    pub async fn chat_stream(&self, body: Value) -> ChatStream {
        self.stream("/api/v1/chat", body).await
    }

    /// Logs `username` in (expecting success) and returns the tokens.
    pub async fn login(&self, username: &str, password: &str) -> Tokens {
        self.anonymous()
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": password}),
            )
            .await
    }

    /// Who this client is (`GET /auth/me`).
    pub async fn me(&self) -> Me {
        self.get("/api/v1/auth/me").await
    }

    /// Registers a connection (`POST /connections` with `body`).
    pub async fn create_connection(&self, body: Value) -> ConnectionView {
        self.post("/api/v1/connections", body).await
    }

    /// Registers the SQLite file at `path` as connection `name` (of the caller's team).
    pub async fn add_sqlite(&self, name: &str, path: &str) -> ConnectionView {
        self.create_connection(json!({"name": name, "dialect": "sqlite", "path": path}))
            .await
    }

    /// Configures a provider (`POST /providers` with `body`).
    pub async fn add_provider(&self, body: Value) -> ProviderView {
        self.post("/api/v1/providers", body).await
    }

    /// `POST /sql/run`, expecting the result.
    pub async fn run_sql(&self, connection: ConnectionId, sql: &str) -> ResultView {
        self.post(
            "/api/v1/sql/run",
            json!({"connection_id": connection, "sql": sql}),
        )
        .await
    }

    /// `POST /connections/sqlite-files?{query}` with `bytes` as the raw body, read raw.
    pub async fn upload_sqlite(&self, query: &str, bytes: Vec<u8>) -> Response {
        let req = self
            .request("POST", &format!("/api/v1/connections/sqlite-files?{query}"))
            .header("content-type", "application/octet-stream")
            .body(bytes);
        TestApp::read(req.send().await.expect("upload")).await
    }

    /// As a team admin: gives `user` the `role` in `team`.
    pub async fn add_member(&self, team: TeamId, user: UserId, role: TeamRole) {
        let _: Value = self
            .post(
                &format!("/api/v1/teams/{team}/members/{user}"),
                json!({ "role": role }),
            )
            .await;
    }

    /// The connections this caller sees (first page).
    pub async fn connections(&self) -> Vec<ConnectionView> {
        self.get::<Page<ConnectionView>>("/api/v1/connections")
            .await
            .items
    }

    /// Sets a connection's execution mode (team admin).
    pub async fn set_mode(&self, connection: ConnectionId, mode: ExecutionMode) {
        let _: Value = self
            .put(
                &format!("/api/v1/connections/{connection}/execution-mode"),
                json!({ "mode": mode }),
            )
            .await;
    }

    /// As an admin: creates a member `username` (password `{username}-password-1`), logs
    /// them in, and returns them with a client of theirs.
    pub async fn create_user(&self, username: &str) -> (UserView, Client) {
        let password = format!("{username}-password-1");
        let user: UserView = self
            .post(
                "/api/v1/users",
                json!({"username": username, "password": password}),
            )
            .await;
        let tokens = self.login(username, &password).await;
        (user, self.with_token(tokens.access_token))
    }

    /// As an admin: creates a user with `role` in `team` and returns a client of theirs.
    pub async fn create_member(&self, team: TeamId, username: &str, role: TeamRole) -> Client {
        let (user, client) = self.create_user(username).await;
        self.add_member(team, user.id, role).await;
        client
    }
}

impl Response {
    /// The body as `T`, panicking (with the body) unless the status is 2xx and it parses.
    pub fn typed<T: DeserializeOwned>(&self) -> T {
        typed("", "", self)
    }

    /// The body as an error answer, panicking (with the body) on a 2xx or another shape.
    pub fn error(&self) -> ApiError {
        assert!(
            self.status >= 400,
            "expected an error, got {} {}",
            self.status,
            self.text
        );
        let mut e: ApiError = serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not an error body ({e}): {} {}", self.status, self.text));
        e.status = self.status;
        e
    }

    /// The body as a chat answer (status 200).
    pub fn answer(&self) -> ChatAnswer {
        assert_eq!(self.status, 200, "{}", self.text);
        answer_of(&self.json)
    }
}

fn typed<T: DeserializeOwned>(method: &str, path: &str, r: &Response) -> T {
    assert!(
        (200..300).contains(&r.status),
        "{method} {path}: {} {}",
        r.status,
        r.text
    );
    // An empty body reads as `null` (for `()` and `Option`).
    let text = if r.text.is_empty() { "null" } else { &r.text };
    serde_json::from_str(text).unwrap_or_else(|e| {
        panic!(
            "{method} {path}: the body is not a {} ({e}): {}",
            std::any::type_name::<T>(),
            r.text
        )
    })
}

fn answer_of(json: &Value) -> ChatAnswer {
    let mut answer: ChatAnswer = serde_json::from_value(json.clone())
        .unwrap_or_else(|e| panic!("not a chat answer ({e}): {json}"));
    answer.json = json.clone();
    answer
}
