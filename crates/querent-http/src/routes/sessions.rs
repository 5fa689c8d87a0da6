//! `/api/v1/sessions`: the caller's chat sessions and their history.

use actix_web::{HttpResponse, delete, get, web};
use querent_app::sessions::{SessionDetail, SessionFilter, SessionView};
use querent_app::{ListParams, Paginated};
use querent_domain::SessionId;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

/// The caller's sessions, oldest first.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "chat", security(("bearer" = [])),
    params(SessionFilter, ListParams), responses((status = 200, body = Paginated<SessionView>)))]
#[get("/sessions")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    filter: web::Query<SessionFilter>,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_sessions(&auth.0, &filter, &params).await })
            .await?,
    ))
}

/// A session with its messages in order (SQL, status, result preview).
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionDetail), (status = 404, body = ErrorBody)))]
#[get("/sessions/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_session(&auth.0, id).await })
            .await?,
    ))
}

/// Deletes a session and its messages.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", tag = "chat", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/sessions/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<SessionId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    svc.call(move |app| async move { app.delete_session(&auth.0, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
