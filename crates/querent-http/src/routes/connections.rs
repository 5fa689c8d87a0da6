//! `/api/v1/connections`: target databases of the caller's teams.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use futures_util::StreamExt as _;
use querent_app::connections::*;
use querent_app::sqlite_files::{SqliteFileQuery, SqliteFileView, SqliteUploadQuery};
use querent_app::{ListParams, Paginated};
use querent_domain::{ConnectionId, ConnectionLimits, PrivacyPolicy};

use crate::Services;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Lists the connections of the caller's teams.
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Paginated<ConnectionView>)))]
#[get("/connections")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_connections(&auth.0, &q).await })
            .await?,
    ))
}

/// Registers a connection (team admin). The password is stored encrypted and never returned.
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", security(("bearer" = [])),
    request_body = ConnectionRequest,
    responses((status = 201, body = ConnectionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/connections")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<ConnectionRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_connection(&auth.0, body.0).await })
            .await?,
    ))
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
#[utoipa::path(post, path = "/api/v1/connections/sqlite-files", tag = "connections", security(("bearer" = [])),
    params(SqliteUploadQuery),
    request_body(content = SqliteFileBody, content_type = "application/octet-stream", description = "the SQLite database file"),
    responses((status = 201, body = SqliteFileView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, description = "payload_too_large", body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/connections/sqlite-files")]
pub async fn upload_sqlite(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<SqliteUploadQuery>,
    req: HttpRequest,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let actor = auth.0.clone();
    let query = q.into_inner();
    let mut upload = svc
        .call(move |app| async move { app.begin_sqlite_upload(&actor, query, declared).await })
        .await?;
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::validation(format!("body: could not be read: {e}")))?;
        upload.write(chunk.to_vec()).await?;
    }
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.finish_sqlite_upload(upload).await })
            .await?,
    ))
}

/// Deletes an uploaded SQLite file from the team's folder (team admin), freeing its share of
/// the team's upload quota (config `sqlite_team_quota_bytes`). Refused with 409 while a
/// connection of the team uses the file — delete or re-point those connections first — so
/// that a later upload of the same name can never become an existing connection's data.
/// Only files of the team's own upload folder can be deleted (not the operator's shared
/// directories, nor the demo database).
#[utoipa::path(delete, path = "/api/v1/connections/sqlite-files", tag = "connections", security(("bearer" = [])),
    params(SqliteFileQuery),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody),
        (status = 404, description = "no such file in the team's folder", body = ErrorBody),
        (status = 409, description = "a connection uses the file", body = ErrorBody), (status = 422, body = ErrorBody)))]
#[delete("/connections/sqlite-files")]
pub async fn delete_sqlite(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<SqliteFileQuery>,
) -> ApiResult<HttpResponse> {
    let query = q.into_inner();
    svc.call(move |app| async move { app.delete_sqlite_file(&auth.0, query).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests connection settings without saving them (team admin).
#[utoipa::path(post, path = "/api/v1/connections/test", tag = "connections", security(("bearer" = [])),
    request_body = ConnectionRequest,
    responses((status = 200, description = "`ok` says whether the database answered", body = TestResult), (status = 422, body = ErrorBody)))]
#[post("/connections/test")]
pub async fn test_unsaved(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<ConnectionRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.test_unsaved_connection(&auth.0, body.0).await })
            .await?,
    ))
}

/// One connection.
#[utoipa::path(get, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = ConnectionView), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_connection(&auth.0, *id).await })
            .await?,
    ))
}

/// Changes a connection (team admin).
#[utoipa::path(patch, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    request_body = UpdateConnectionRequest, params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = ConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[patch("/connections/{id}")]
pub async fn update(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    body: Json<UpdateConnectionRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.update_connection(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// Deletes a connection (team admin).
#[utoipa::path(delete, path = "/api/v1/connections/{id}", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/connections/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.delete_connection(&auth.0, *id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Tests a saved connection with its stored credentials.
#[utoipa::path(post, path = "/api/v1/connections/{id}/test", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody)))]
#[post("/connections/{id}/test")]
pub async fn test_saved(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.test_connection(&auth.0, *id).await })
            .await?,
    ))
}

/// Sets the execution mode (team admin).
#[utoipa::path(put, path = "/api/v1/connections/{id}/execution-mode", tag = "connections", security(("bearer" = [])),
    request_body = ExecutionModeRequest, params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = ConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/connections/{id}/execution-mode")]
pub async fn execution_mode(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    body: Json<ExecutionModeRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.set_execution_mode(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// Replaces the privacy policy (team admin).
#[utoipa::path(put, path = "/api/v1/connections/{id}/privacy", tag = "connections", security(("bearer" = [])),
    request_body = PrivacyPolicy, params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = ConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/connections/{id}/privacy")]
pub async fn privacy(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    body: Json<PrivacyPolicy>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.set_privacy(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// Replaces the statement timeout and row cap (team admin).
#[utoipa::path(put, path = "/api/v1/connections/{id}/config", tag = "connections", security(("bearer" = [])),
    request_body = ConnectionLimits, params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = ConnectionView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[put("/connections/{id}/config")]
pub async fn config(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    body: Json<ConnectionLimits>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.set_limits(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// The connection's schema snapshot (read from the database on first use).
#[utoipa::path(get, path = "/api/v1/connections/{id}/schema", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = querent_domain::schema::SchemaSnapshot), (status = 404, body = ErrorBody),
        (status = 502, description = "connection_error", body = ErrorBody)))]
#[get("/connections/{id}/schema")]
pub async fn schema(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_schema(&auth.0, *id).await })
            .await?,
    ))
}

/// Reads the connection's catalog again (editor or above).
#[utoipa::path(post, path = "/api/v1/connections/{id}/schema/refresh", tag = "connections", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = querent_domain::schema::SchemaSnapshot), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, description = "connection_error", body = ErrorBody)))]
#[post("/connections/{id}/schema/refresh")]
pub async fn schema_refresh(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.refresh_schema(&auth.0, *id).await })
            .await?,
    ))
}
