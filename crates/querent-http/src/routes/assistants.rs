//! `/api/v1/assistants`: saved profiles for asking one database (connection, provider and
//! model, instructions, default options and execution mode), and asking them — answered
//! like `POST /chat`, as server-sent events or JSON.

use actix_web::web::{Path, Query};
use actix_web::{HttpRequest, delete, get, patch, post};
use querent_app::assistants::{AssistantAsk, AssistantRequest, AssistantUpdate, AssistantView};
use querent_app::chat::ChatResponse;
use querent_app::{ListParams, Paginated};
use querent_domain::AssistantId;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};
use crate::routes::chat::{ChatReply, ChatStreamEvent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(ask);
}

/// Creates an assistant (editor or above in the connection's team). Its provider must be
/// one of the team's (id or name) or `offline`; its execution mode may only be stricter
/// than the connection's; instructions are at most 4,000 characters.
#[utoipa::path(tag = "assistants", request_body = AssistantRequest,
    responses((status = 201, body = AssistantView),
        (status = 404, description = "no such connection", body = ErrorBody),
        (status = 409, description = "name taken", body = ErrorBody)))]
#[post("/assistants")]
pub async fn create(
    caller: Caller,
    body: Json<AssistantRequest>,
) -> ApiResult<Created<AssistantView>> {
    caller
        .reply(|app, actor| async move { app.create_assistant(&actor, body.0).await })
        .await
}

/// The assistants of the caller's teams.
#[utoipa::path(tag = "assistants", params(ListParams), responses((status = 200, body = Paginated<AssistantView>)))]
#[get("/assistants")]
pub async fn list(
    caller: Caller,
    q: Query<ListParams>,
) -> ApiResult<Json<Paginated<AssistantView>>> {
    caller
        .reply(|app, actor| async move { app.list_assistants(&actor, &q).await })
        .await
}

/// One assistant.
#[utoipa::path(tag = "assistants", responses((status = 200, body = AssistantView)))]
#[get("/assistants/{id}")]
pub async fn get(caller: Caller, id: Path<AssistantId>) -> ApiResult<Json<AssistantView>> {
    caller
        .reply(|app, actor| async move { app.get_assistant(&actor, *id).await })
        .await
}

/// Changes an assistant (editor or above); only the fields given change, an empty string
/// clears a text field.
#[utoipa::path(tag = "assistants", request_body = AssistantUpdate,
    responses((status = 200, body = AssistantView), (status = 409, description = "name taken", body = ErrorBody)))]
#[patch("/assistants/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<AssistantId>,
    body: Json<AssistantUpdate>,
) -> ApiResult<Json<AssistantView>> {
    caller
        .reply(|app, actor| async move { app.update_assistant(&actor, *id, body.0).await })
        .await
}

/// Deletes an assistant (editor or above).
#[utoipa::path(tag = "assistants", responses((status = 204, description = "deleted")))]
#[delete("/assistants/{id}")]
pub async fn remove(caller: Caller, id: Path<AssistantId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_assistant(&actor, *id).await })
        .await
}

/// Asks an assistant a question: exactly `POST /chat` on its connection, with its provider
/// and model, its instructions in the prompt, its options and its execution mode —
/// server-sent events, or the ChatResponse as JSON with `Accept: application/json`.
#[utoipa::path(tag = "assistants", request_body = AssistantAsk,
    responses(
        (status = 200, description = "server-sent events (see ChatStreamEvent), or the ChatResponse with Accept: application/json",
            content((ChatResponse = "application/json"), (ChatStreamEvent = "text/event-stream"))),
        (status = 404, description = "no such assistant or session", body = ErrorBody),
        (status = 422, description = "invalid request, cannot_translate, guard_rejected or query_error (JSON variant)", body = ErrorBody),
        (status = 403, description = "policy_violation (JSON variant)", body = ErrorBody),
        (status = 502, description = "connection_error or provider_error (JSON variant)", body = ErrorBody),
        (status = 504, description = "query_timeout (JSON variant)", body = ErrorBody)))]
#[post("/assistants/{id}/ask")]
pub async fn ask(
    caller: Caller,
    req: HttpRequest,
    id: Path<AssistantId>,
    body: Json<AssistantAsk>,
) -> ApiResult<ChatReply> {
    let svc = caller.services().clone();
    let prepared = caller
        .call(|app, actor| async move { app.prepare_assistant_ask(&actor, *id, body.0).await })
        .await?;
    ChatReply::run(&svc, &req, prepared).await
}
