//! Basejump AI's API (seed 000), at `/compat/basejump/api/v1`: the seed's Python quickstart
//! — create a user with an API client's secret, get its refresh and access tokens, create a
//! team, connect a database, share it with the team, add the user to the team, start a chat
//! and ask a question — runs here with only its `base_url` and environment changed.
//!
//! | seed | here | service |
//! |---|---|---|
//! | `POST /account/user/?username&role` (`client-secret`) | same | `App::client_by_secret`, `App::create_managed_user` |
//! | `POST /auth/token/?user_uuid` (`client-secret`) | same | `App::issue_managed_user_tokens` |
//! | `POST /auth/access_token/` (refresh token as bearer) | same, not rotating | `App::managed_access_token` |
//! | `POST /account/team/?team_name` | same | `App::create_team_as_manager` |
//! | `POST /connection/database/` | same | `App::create_connection` |
//! | `POST /connection/{conn_uuid}/team/` {`team_uuids`} | same, adds shares | `App::add_connection_teams` |
//! | `POST /account/user/{user_uuid}/team/{team_uuid}/` | same | `App::add_user_to_team` |
//! | `POST /chat/team/{team_uuid}/` | same | `App::start_team_chat` |
//! | `POST /chat/{chat_uuid}/message/` {`prompt`} | same | `App::prepare_chat_in_session`, the chat pipeline |
//!
//! Every path is also served without its trailing slash. The seed documents only its 200
//! answers; errors are FastAPI's `{"detail": "..."}` (Basejump's framework) with the status of
//! the native error code: 401 for a missing or wrong `client-secret` or token, 403 for a
//! role too low, 404 for what the caller cannot see (other teams' users, teams,
//! connections and chats included), 409 for a taken name, 422 for a malformed request
//! (`detail` a string, not FastAPI's list). `docs/COMPAT.md` lists the deviations.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{self, Path, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use querent_app::chat::ChatResponse;
use querent_app::{Actor, ServiceError};
use querent_domain::{ErrorCode, Secret, SessionId, TeamId, TeamRole, UserId};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::extract::{Caller, Json, Public};

/// Errors in this seed's format: `{"detail": "..."}` with the native code's status.
pub use super::DetailError as BasejumpError;

type Result<T> = std::result::Result<T, BasejumpError>;

fn error(code: ErrorCode, detail: impl Into<String>) -> actix_web::Error {
    BasejumpError(ServiceError::new(code, detail)).into()
}

/// The caller of a user endpoint: a native bearer access token (from
/// `/auth/access_token/`), refusals in Basejump's format.
struct Authed(Caller);

impl FromRequest for Authed {
    type Error = BasejumpError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Caller::from_request(req, payload);
        Box::pin(async move { fut.await.map(Authed).map_err(BasejumpError::from) })
    }
}

/// The caller of a `client-secret` endpoint: the API client the secret alone identifies.
struct ClientSecret {
    public: Public,
    secret: Option<Secret<String>>,
}

impl FromRequest for ClientSecret {
    type Error = BasejumpError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let secret = req
            .headers()
            .get("client-secret")
            .and_then(|v| v.to_str().ok())
            .map(|s| Secret::new(s.trim().to_owned()));
        let fut = Public::from_request(req, payload);
        Box::pin(async move {
            Ok(ClientSecret {
                public: fut.await.map_err(BasejumpError::from)?,
                secret,
            })
        })
    }
}

impl ClientSecret {
    /// Runs `f(app, client)` once the secret is accepted.
    async fn call<T, F, Fut>(self, f: F) -> Result<T>
    where
        F: FnOnce(querent_app::App, Actor) -> Fut + Send + 'static,
        Fut: Future<Output = querent_app::ServiceResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let secret = self.secret.ok_or_else(|| {
            BasejumpError(ServiceError::unauthorized(
                "missing client-secret header: send the API client's secret (or API key)",
            ))
        })?;
        let out: Json<T> = self
            .public
            .reply(|app, ip| async move {
                let actor = app.client_by_secret(&secret, ip).await?;
                app.check_rate_limit(&actor).await?;
                f(app, actor).await
            })
            .await?;
        Ok(out.0)
    }
}

/// A JSON body (read as the native API reads it), refusals in Basejump's format.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = BasejumpError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Json::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|j| Body(j.0)).map_err(BasejumpError::from) })
    }
}

/// One POST endpoint at `path` and at `path` without its trailing slash.
fn post<F, Args>(path: &'static str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    let bare = path.trim_end_matches('/');
    web::resource([path, bare])
        .route(web::post().to(handler))
        .default_service(web::to(|| async {
            Err::<HttpResponse, _>(error(ErrorCode::MethodNotAllowed, "Method Not Allowed"))
        }))
}

/// Registers this layer's routes on its scope, with its error format for malformed
/// paths, queries and bodies, wrong methods and unknown paths.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|err, _| {
        error(
            ErrorCode::ValidationError,
            format!("path: {err}; the ids are UUIDs"),
        )
    }))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| error(ErrorCode::ValidationError, format!("query: {err}"))),
    )
    .service(post("/account/user/", create_user))
    .service(post("/auth/token/", refresh_token))
    .service(post("/auth/access_token/", access_token))
    .service(post("/account/team/", create_team))
    .service(post("/connection/database/", create_connection))
    .service(post("/connection/{conn_uuid}/team/", share_connection))
    .service(post(
        "/account/user/{user_uuid}/team/{team_uuid}/",
        add_to_team,
    ))
    .service(post("/chat/team/{team_uuid}/", create_chat))
    .service(post("/chat/{chat_uuid}/message/", message))
    .default_service(web::to(|| async {
        Err::<HttpResponse, _>(error(ErrorCode::NotFound, "Not Found"))
    }));
}

/// Basejump's user roles and the team role each becomes in the client's team.
fn team_role(role: Option<&str>) -> std::result::Result<TeamRole, ServiceError> {
    match role.map(str::to_ascii_uppercase).as_deref() {
        Some("ADMIN") => Ok(TeamRole::Admin),
        None | Some("MEMBER") => Ok(TeamRole::Editor),
        Some("VIEWER") => Ok(TeamRole::Viewer),
        Some(other) => Err(ServiceError::validation(format!(
            "role: `{other}` is not one of ADMIN, MEMBER, VIEWER"
        ))),
    }
}

#[derive(Deserialize)]
struct NewUser {
    username: String,
    role: Option<String>,
}

/// `POST /account/user/?username=&role=` (`client-secret`): a user managed by the client's
/// team, a member of it with the role.
async fn create_user(client: ClientSecret, q: Query<NewUser>) -> Result<web::Json<Value>> {
    let role = team_role(q.role.as_deref())?;
    let username = q.username.clone();
    let user = client
        .call(
            move |app, actor| async move { app.create_managed_user(&actor, &username, role).await },
        )
        .await?;
    Ok(web::Json(json!({
        "user_uuid": user.id,
        "username": user.username,
        "role": q.role.as_deref().map_or("MEMBER".to_owned(), str::to_ascii_uppercase),
    })))
}

#[derive(Deserialize)]
struct UserParam {
    user_uuid: Option<UserId>,
}

/// `POST /auth/token/?user_uuid=` (`client-secret`): a new refresh token for the user.
async fn refresh_token(client: ClientSecret, q: Query<UserParam>) -> Result<web::Json<Value>> {
    let user = q
        .user_uuid
        .ok_or_else(|| ServiceError::validation("user_uuid: is required"))?;
    let pair = client
        .call(move |app, actor| async move { app.issue_managed_user_tokens(&actor, user).await })
        .await?;
    Ok(web::Json(json!({
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
    })))
}

/// `POST /auth/access_token/` with the refresh token as bearer: an access token. The
/// refresh token is not rotated (the seed keeps using it).
async fn access_token(
    req: HttpRequest,
    public: Public,
    q: Query<UserParam>,
) -> Result<web::Json<Value>> {
    let refresh = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| Secret::new(t.trim().to_owned()))
        .ok_or_else(|| {
            ServiceError::unauthorized(
                "missing bearer token: send `Authorization: Bearer <refresh_token>`",
            )
        })?;
    let user = q.user_uuid;
    let token: Json<String> = public
        .reply(|app, _| async move { app.managed_access_token(&refresh, user).await })
        .await?;
    Ok(web::Json(json!({
        "access_token": token.0,
        "token_type": "bearer",
    })))
}

#[derive(Deserialize)]
struct TeamParam {
    team_name: String,
}

/// `POST /account/team/?team_name=`: a team; the caller becomes its owner.
async fn create_team(caller: Authed, q: Query<TeamParam>) -> Result<web::Json<Value>> {
    let name = q.team_name.clone();
    let team: Json<querent_app::teams::TeamView> = caller
        .0
        .reply(|app, actor| async move { app.create_team_as_manager(&actor, &name).await })
        .await?;
    Ok(web::Json(json!({
        "team_uuid": team.0.id,
        "team_name": team.0.name,
    })))
}

/// A schema to index.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaName {
    schema_nm: String,
}

/// `POST /connection/database/` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewConnection {
    database_type: String,
    username: Option<String>,
    password: Option<Secret<String>>,
    host: Option<String>,
    port: Option<u16>,
    database_name: String,
    #[serde(default)]
    query: serde_json::Map<String, Value>,
    #[serde(default)]
    schemas: Vec<SchemaName>,
    data_source_desc: Option<String>,
    ssl_mode: Option<String>,
    database_desc: Option<String>,
    #[serde(default)]
    include_default_schema: bool,
}

/// Builds the native connection request (names and values only; the service validates).
fn native_connection(body: NewConnection) -> std::result::Result<Value, ServiceError> {
    let dialect = match body.database_type.to_ascii_lowercase().as_str() {
        "postgres" | "postgresql" => "postgres",
        "mysql" | "mariadb" => "mysql",
        "sqlite" => "sqlite",
        other => {
            return Err(ServiceError::validation(format!(
                "database_type: `{other}` is not supported; use postgres, mysql or sqlite"
            )));
        }
    };
    if let Some(k) = body.query.keys().next() {
        return Err(ServiceError::validation(format!(
            "query: connection URL parameters are not supported (`{k}`); use ssl_mode"
        )));
    }
    let ssl_mode = match body
        .ssl_mode
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("disable") => Some("disable"),
        Some("allow" | "prefer") => Some("prefer"),
        Some("require") => Some("require"),
        Some(other) => {
            return Err(ServiceError::validation(format!(
                "ssl_mode: `{other}` is not supported; use disable, allow, prefer or require"
            )));
        }
    };
    let mut schemas: Vec<String> = body.schemas.into_iter().map(|s| s.schema_nm).collect();
    if body.include_default_schema
        && dialect == "postgres"
        && !schemas.iter().any(|s| s == "public")
    {
        schemas.push("public".into());
    }
    let description = [body.database_desc, body.data_source_desc]
        .into_iter()
        .flatten()
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|d| !d.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let short = uuid::Uuid::new_v4().simple().to_string();
    let base: String = body
        .database_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("database")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_-".contains(*c))
        .take(40)
        .collect();
    let mut req = json!({
        "name": format!("{}-{}", if base.is_empty() { "database" } else { &base }, &short[..8]),
        "dialect": dialect,
    });
    let set = |req: &mut Value, k: &str, v: Value| {
        if let Some(o) = req.as_object_mut() {
            o.insert(k.to_owned(), v);
        }
    };
    if dialect == "sqlite" {
        set(&mut req, "path", json!(body.database_name));
    } else {
        set(&mut req, "database", json!(body.database_name));
        set(&mut req, "host", json!(body.host));
        set(&mut req, "port", json!(body.port));
        set(&mut req, "username", json!(body.username));
        if let Some(p) = &body.password {
            set(&mut req, "password", json!(p.expose()));
        }
        if let Some(m) = ssl_mode {
            set(&mut req, "ssl_mode", json!(m));
        }
    }
    if !schemas.is_empty() {
        set(&mut req, "schemas", json!(schemas));
    }
    if !description.is_empty() {
        set(&mut req, "description", json!(description));
    }
    Ok(req)
}

/// `POST /connection/database/`: a connection of the caller's team (its first one).
async fn create_connection(caller: Authed, body: Body<NewConnection>) -> Result<web::Json<Value>> {
    let native = native_connection(body.0)?;
    let req: querent_app::connections::ConnectionRequest = serde_json::from_value(native)
        .map_err(|e| ServiceError::validation(format!("connection: {e}")))?;
    let conn: Json<querent_app::connections::ConnectionView> = caller
        .0
        .reply(|app, actor| async move { app.create_connection(&actor, req).await })
        .await?;
    Ok(web::Json(json!({
        "conn_uuid": conn.0.id,
        "db_uuid": conn.0.id,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamList {
    team_uuids: Vec<TeamId>,
}

/// `POST /connection/{conn_uuid}/team/` {team_uuids}: shares the connection with teams.
async fn share_connection(
    caller: Authed,
    id: Path<querent_domain::ConnectionId>,
    body: Body<TeamList>,
) -> Result<web::Json<Value>> {
    let id = id.into_inner();
    let teams = body.0.team_uuids;
    let shared: Json<querent_app::sharing::ConnectionTeams> = caller
        .0
        .reply(|app, actor| async move { app.add_connection_teams(&actor, id, teams).await })
        .await?;
    let team_uuids: Vec<TeamId> = shared
        .0
        .shared_with_teams
        .iter()
        .map(|t| t.team_id)
        .collect();
    Ok(web::Json(json!({
        "conn_uuid": id,
        "team_uuids": team_uuids,
    })))
}

/// `POST /account/user/{user_uuid}/team/{team_uuid}/`: adds the user to the team.
async fn add_to_team(caller: Authed, ids: Path<(UserId, TeamId)>) -> Result<web::Json<Value>> {
    let (user, team) = ids.into_inner();
    let role: Json<TeamRole> = caller
        .0
        .reply(|app, actor| async move { app.add_user_to_team(&actor, user, team).await })
        .await?;
    Ok(web::Json(json!({
        "user_uuid": user,
        "team_uuid": team,
        "role": role.0.to_string().to_ascii_uppercase(),
    })))
}

/// `POST /chat/team/{team_uuid}/`: a chat of the team, about its newest connection.
async fn create_chat(caller: Authed, team: Path<TeamId>) -> Result<web::Json<Value>> {
    let team = team.into_inner();
    let chat: Json<querent_app::compat_support::StartedChat> = caller
        .0
        .reply(|app, actor| async move { app.start_team_chat(&actor, team).await })
        .await?;
    Ok(web::Json(json!({
        "chat_uuid": chat.0.session_id,
        "team_uuid": chat.0.team_id,
        "conn_uuid": chat.0.connection_id,
    })))
}

/// `POST /chat/{chat_uuid}/message/` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Prompt {
    prompt: String,
}

/// The answer to a prompt.
#[derive(Serialize)]
struct Answer {
    chat_uuid: SessionId,
    msg_uuid: querent_domain::MessageId,
    role: &'static str,
    content: String,
    sql_query: Option<String>,
    query_result: Option<Value>,
    status: String,
    error: Option<Value>,
}

/// A short answer in words: the single value of a one-cell result, else a row count.
fn content_of(r: &ChatResponse) -> String {
    if let Some(e) = &r.error {
        return e.detail.clone();
    }
    if let Some(text) = &r.explanation {
        return text.clone();
    }
    match &r.results {
        Some(res) if res.columns.len() == 1 && res.rows.len() == 1 => {
            let value = serde_json::to_value(&res.rows[0])
                .ok()
                .and_then(|row| row.get(0).cloned())
                .unwrap_or(Value::Null);
            let shown = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
            format!("{}: {shown}", res.columns[0])
        }
        Some(res) => format!("The query returned {} rows.", res.row_count),
        None => format!("The query is {}.", r.status),
    }
}

/// `POST /chat/{chat_uuid}/message/` {prompt}: asks the question in the chat and answers
/// when done.
async fn message(
    caller: Authed,
    chat: Path<SessionId>,
    body: Body<Prompt>,
) -> Result<web::Json<Answer>> {
    let chat = chat.into_inner();
    let prompt = body.0.prompt;
    let caller = caller.0;
    let services = caller.services().clone();
    let prepared: Json<querent_app::chat::PreparedChat> = caller
        .reply(|app, actor| async move { app.prepare_chat_in_session(&actor, chat, prompt).await })
        .await?;
    let r = services.run_chat(prepared.0).await?;
    Ok(web::Json(Answer {
        chat_uuid: r.session_id,
        msg_uuid: r.message_id,
        role: "ai",
        content: content_of(&r),
        sql_query: r.query.clone(),
        query_result: r.results.as_ref().and_then(|res| {
            serde_json::to_value(res).ok().map(|v| {
                json!({
                    "columns": v.get("columns"),
                    "rows": v.get("rows"),
                    "row_count": v.get("row_count"),
                    "truncated": v.get("truncated"),
                })
            })
        }),
        status: r.status.to_string(),
        error: r
            .error
            .as_ref()
            .map(|e| json!({"code": e.code, "detail": e.detail})),
    }))
}
