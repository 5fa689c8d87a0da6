//! `/api/v1/sessions`: the caller's chat sessions and their history.

use actix_web::web::{Path, Query};
use actix_web::{delete, get};
use querent_app::sessions::{SessionDetail, SessionFilter, SessionView};
use querent_app::{ListParams, Paginated};
use querent_domain::SessionId;

use crate::error::ApiResult;
use crate::extract::{Caller, Json};
use crate::reply::NoContent;

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list).service(get).service(remove);
}

/// The caller's sessions, oldest first.
#[utoipa::path(tag = "sessions", params(SessionFilter, ListParams), responses((status = 200, body = Paginated<SessionView>)))]
#[get("/sessions")]
pub async fn list(
    caller: Caller,
    filter: Query<SessionFilter>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<SessionView>>> {
    caller
        .reply(|app, actor| async move { app.list_sessions(&actor, &filter, &params).await })
        .await
}

/// A session with its messages in order (SQL, status, result preview).
#[utoipa::path(tag = "sessions", responses((status = 200, body = SessionDetail)))]
#[get("/sessions/{id}")]
pub async fn get(caller: Caller, id: Path<SessionId>) -> ApiResult<Json<SessionDetail>> {
    caller
        .reply(|app, actor| async move { app.get_session(&actor, *id).await })
        .await
}

/// Deletes a session and its messages.
#[utoipa::path(tag = "sessions", responses((status = 204, description = "deleted")))]
#[delete("/sessions/{id}")]
pub async fn remove(caller: Caller, id: Path<SessionId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_session(&actor, *id).await })
        .await
}
