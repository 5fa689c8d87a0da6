//! `/api/v1/sessions`: the caller's chat sessions and their history.

use actix_web::web::{Path, Query};
use actix_web::{delete, get};
use querent_app::export::ExportParams;
use querent_app::sessions::{SessionDetail, SessionFilter, SessionView};
use querent_app::{ListParams, Paginated};
use querent_domain::{MessageId, SessionId};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Download, FileBytes, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(list)
        .service(get)
        .service(remove)
        .service(export);
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

/// Downloads a chat answer's result as CSV (streamed), JSON or XLSX: its SQL run again now
/// through the guard under the current policy (default), or the rows stored with the
/// answer with `source=snapshot`. Only answers that ran (`executed`, `cached`) export.
#[utoipa::path(tag = "sessions", params(ExportParams),
    responses((status = 200, description = "the file (Content-Disposition: attachment)",
            content((String = "text/csv"), (Vec<serde_json::Value> = "application/json"),
                (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, description = "the connection is generate_only, or the policy excludes what it reads", body = ErrorBody),
        (status = 404, description = "no such session or message", body = ErrorBody),
        (status = 409, description = "the answer did not run (pending, rejected, failed)", body = ErrorBody),
        (status = 422, description = "refused by the guard, or too large for XLSX", body = ErrorBody)))]
#[get("/sessions/{id}/messages/{message_id}/export")]
pub async fn export(
    caller: Caller,
    path: Path<(SessionId, MessageId)>,
    params: Query<ExportParams>,
) -> ApiResult<Download> {
    let (session, message) = path.into_inner();
    caller
        .reply(
            |app, actor| async move { app.export_message(&actor, session, message, &params).await },
        )
        .await
}
