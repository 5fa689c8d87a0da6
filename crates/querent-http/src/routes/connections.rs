//! `/api/v1/connections`: target databases of the caller's teams.

use actix_web::web::{Path, Payload, Query};
use actix_web::{HttpRequest, delete, get, patch, post, put};
use futures_util::StreamExt as _;
use querent_app::connections::*;
use querent_app::row_filters::RowFilters;
use querent_app::sharing::{ConnectionTeams, ShareRequest};
use querent_app::sqlite_files::{SqliteFileQuery, SqliteFileView, SqliteUploadQuery};
use querent_app::{ListParams, Paginated};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionId, ConnectionLimits, PrivacyPolicy};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file. `/connections/test` and `/connections/sqlite-files`
/// come before `/connections/{id}` so they are not taken for an id.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(list)
        .service(create)
        .service(test_unsaved)
        .service(upload_sqlite)
        .service(delete_sqlite)
        .service(get)
        .service(update)
        .service(remove)
        .service(test_saved)
        .service(execution_mode)
        .service(privacy)
        .service(row_filters)
        .service(set_row_filters)
        .service(teams)
        .service(share)
        .service(config)
        .service(schema)
        .service(schema_refresh);
}

/// Lists the connections of the caller's teams.
#[utoipa::path(tag = "connections", params(ListParams), responses((status = 200, body = Paginated<ConnectionView>)))]
#[get("/connections")]
pub async fn list(
    caller: Caller,
    q: Query<ListParams>,
) -> ApiResult<Json<Paginated<ConnectionView>>> {
    caller
        .reply(|app, actor| async move { app.list_connections(&actor, &q).await })
        .await
}

/// Registers a connection (team admin). The password is stored encrypted and never returned.
#[utoipa::path(tag = "connections", request_body = ConnectionRequest,
    responses((status = 201, body = ConnectionView), (status = 409, description = "the name is taken", body = ErrorBody)))]
#[post("/connections")]
pub async fn create(
    caller: Caller,
    body: Json<ConnectionRequest>,
) -> ApiResult<Created<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.create_connection(&actor, body.0).await })
        .await
}

/// The raw bytes of a SQLite database file (OpenAPI description of the upload body).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct SqliteFileBody(Vec<u8>);

/// Uploads a SQLite database file into the team's folder on the server (team admin), so it
/// can be registered: SQLite connections may only use files in the server's SQLite
/// directories. The body is the file itself (`Content-Type: application/octet-stream`); it
/// must start with the SQLite header and stay within the upload limit (config
/// `sqlite_upload_max_bytes`) and the team's quota for all its files together (config
/// `sqlite_team_quota_bytes`; 413 beyond either — free space with `DELETE
/// /connections/sqlite-files`). The answer's `path` goes into `POST /connections` with
/// `dialect: sqlite`; only the uploading team may register it. An existing file of the same
/// name is never replaced (409). A copy of a Querent metadata store is refused when it is
/// registered or used (403).
#[utoipa::path(tag = "connections", params(SqliteUploadQuery),
    request_body(content = SqliteFileBody, content_type = "application/octet-stream", description = "the SQLite database file"),
    responses((status = 201, body = SqliteFileView), (status = 409, description = "a file of that name exists", body = ErrorBody)))]
#[post("/connections/sqlite-files")]
pub async fn upload_sqlite(
    caller: Caller,
    q: Query<SqliteUploadQuery>,
    req: HttpRequest,
    mut payload: Payload,
) -> ApiResult<Created<SqliteFileView>> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let query = q.into_inner();
    let mut upload = caller
        .clone()
        .call(|app, actor| async move { app.begin_sqlite_upload(&actor, query, declared).await })
        .await?;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::validation(format!("body: could not be read: {e}")))?;
        upload.write(chunk.to_vec()).await?;
    }
    caller
        .reply(|app, _| async move { app.finish_sqlite_upload(upload).await })
        .await
}

/// Deletes an uploaded SQLite file from the team's folder (team admin), freeing its share of
/// the team's upload quota (config `sqlite_team_quota_bytes`). Refused with 409 while a
/// connection of the team uses the file — delete or re-point those connections first — so
/// that a later upload of the same name can never become an existing connection's data.
/// Only files of the team's own upload folder can be deleted (not the operator's shared
/// directories, nor the demo database).
#[utoipa::path(tag = "connections", params(SqliteFileQuery),
    responses((status = 204, description = "deleted"),
        (status = 404, description = "no such file in the team's folder", body = ErrorBody),
        (status = 409, description = "a connection uses the file", body = ErrorBody)))]
#[delete("/connections/sqlite-files")]
pub async fn delete_sqlite(caller: Caller, q: Query<SqliteFileQuery>) -> ApiResult<NoContent> {
    let query = q.into_inner();
    caller
        .reply(|app, actor| async move { app.delete_sqlite_file(&actor, query).await })
        .await
}

/// Tests connection settings without saving them (team admin).
#[utoipa::path(tag = "connections", request_body = ConnectionRequest,
    responses((status = 200, description = "`ok` says whether the database answered", body = TestResult)))]
#[post("/connections/test")]
pub async fn test_unsaved(
    caller: Caller,
    body: Json<ConnectionRequest>,
) -> ApiResult<Json<TestResult>> {
    caller
        .reply(|app, actor| async move { app.test_unsaved_connection(&actor, body.0).await })
        .await
}

/// One connection.
#[utoipa::path(tag = "connections", responses((status = 200, body = ConnectionView)))]
#[get("/connections/{id}")]
pub async fn get(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.get_connection(&actor, *id).await })
        .await
}

/// Changes a connection (team admin).
#[utoipa::path(tag = "connections", request_body = UpdateConnectionRequest,
    responses((status = 200, body = ConnectionView), (status = 409, description = "the name is taken", body = ErrorBody)))]
#[patch("/connections/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<UpdateConnectionRequest>,
) -> ApiResult<Json<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.update_connection(&actor, *id, body.0).await })
        .await
}

/// Deletes a connection (team admin).
#[utoipa::path(tag = "connections", responses((status = 204, description = "deleted")))]
#[delete("/connections/{id}")]
pub async fn remove(caller: Caller, id: Path<ConnectionId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_connection(&actor, *id).await })
        .await
}

/// Tests a saved connection with its stored credentials.
#[utoipa::path(tag = "connections", responses((status = 200, body = TestResult)))]
#[post("/connections/{id}/test")]
pub async fn test_saved(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<TestResult>> {
    caller
        .reply(|app, actor| async move { app.test_connection(&actor, *id).await })
        .await
}

/// Sets the execution mode (team admin).
#[utoipa::path(tag = "connections", request_body = ExecutionModeRequest, responses((status = 200, body = ConnectionView)))]
#[put("/connections/{id}/execution-mode")]
pub async fn execution_mode(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<ExecutionModeRequest>,
) -> ApiResult<Json<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.set_execution_mode(&actor, *id, body.0).await })
        .await
}

/// The teams the connection is shared with besides its owning team (owning team's admin).
#[utoipa::path(tag = "connections", responses((status = 200, body = ConnectionTeams)))]
#[get("/connections/{id}/teams")]
pub async fn teams(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<ConnectionTeams>> {
    caller
        .reply(|app, actor| async move { app.connection_teams(&actor, *id).await })
        .await
}

/// Replaces the teams the connection is shared with (owning team's admin; the caller must
/// belong to every team listed, or be a server administrator). Members of those teams use
/// the connection with their role in their own team; only the owning team manages it.
#[utoipa::path(tag = "connections", request_body = ShareRequest, responses((status = 200, body = ConnectionTeams)))]
#[put("/connections/{id}/teams")]
pub async fn share(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<ShareRequest>,
) -> ApiResult<Json<ConnectionTeams>> {
    caller
        .reply(|app, actor| async move { app.set_connection_teams(&actor, *id, body.0).await })
        .await
}

/// Replaces the privacy policy (team admin).
#[utoipa::path(tag = "connections", request_body = PrivacyPolicy, responses((status = 200, body = ConnectionView)))]
#[put("/connections/{id}/privacy")]
pub async fn privacy(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<PrivacyPolicy>,
) -> ApiResult<Json<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.set_privacy(&actor, *id, body.0).await })
        .await
}

/// The connection's row filters: per table, a predicate and whom it applies to (team
/// admin).
#[utoipa::path(tag = "connections", responses((status = 200, body = RowFilters)))]
#[get("/connections/{id}/row-filters")]
pub async fn row_filters(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<RowFilters>> {
    caller
        .reply(|app, actor| async move { app.row_filters(&actor, *id).await })
        .await
}

/// Replaces the row filters (team admin). Each predicate is checked by the guard against
/// its table; the filters apply on every path that runs SQL for the people they name.
#[utoipa::path(tag = "connections", request_body = RowFilters, responses((status = 200, body = RowFilters)))]
#[put("/connections/{id}/row-filters")]
pub async fn set_row_filters(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<RowFilters>,
) -> ApiResult<Json<RowFilters>> {
    caller
        .reply(|app, actor| async move { app.set_row_filters(&actor, *id, body.0).await })
        .await
}

/// Replaces the statement timeout and row cap (team admin).
#[utoipa::path(tag = "connections", request_body = ConnectionLimits, responses((status = 200, body = ConnectionView)))]
#[put("/connections/{id}/config")]
pub async fn config(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<ConnectionLimits>,
) -> ApiResult<Json<ConnectionView>> {
    caller
        .reply(|app, actor| async move { app.set_limits(&actor, *id, body.0).await })
        .await
}

/// The connection's schema snapshot (read from the database on first use).
#[utoipa::path(tag = "connections",
    responses((status = 200, body = SchemaSnapshot), (status = 502, description = "connection_error", body = ErrorBody)))]
#[get("/connections/{id}/schema")]
pub async fn schema(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<SchemaSnapshot>> {
    caller
        .reply(|app, actor| async move { app.get_schema(&actor, *id).await })
        .await
}

/// Reads the connection's catalog again (editor or above).
#[utoipa::path(tag = "connections",
    responses((status = 200, body = SchemaSnapshot), (status = 502, description = "connection_error", body = ErrorBody)))]
#[post("/connections/{id}/schema/refresh")]
pub async fn schema_refresh(
    caller: Caller,
    id: Path<ConnectionId>,
) -> ApiResult<Json<SchemaSnapshot>> {
    caller
        .reply(|app, actor| async move { app.refresh_schema(&actor, *id).await })
        .await
}
