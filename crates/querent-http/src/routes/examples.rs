//! `/api/v1/examples` (verified question/SQL pairs) and `/api/v1/chat/feedback/{id}`.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, patch, post};
use querent_app::examples::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{ExampleId, MessageId};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(feedback)
        .service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove);
}

/// Adds a verified example (editor or above); its SQL must pass the guard.
#[utoipa::path(tag = "examples", request_body = CreateExample,
    responses((status = 201, body = ExampleView), (status = 404, description = "no such connection", body = ErrorBody),
        (status = 422, description = "invalid, or refused by the guard", body = ErrorBody)))]
#[post("/examples")]
pub async fn create(caller: Caller, body: Json<CreateExample>) -> ApiResult<Created<ExampleView>> {
    caller
        .reply(|app, actor| async move { app.create_example(&actor, &body.0).await })
        .await
}

/// The examples of the caller's teams, or of one connection.
#[utoipa::path(tag = "examples", params(ExampleFilter, ListParams),
    responses((status = 200, body = Paginated<ExampleView>), (status = 404, description = "no such connection", body = ErrorBody)))]
#[get("/examples")]
pub async fn list(
    caller: Caller,
    filter: Query<ExampleFilter>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<ExampleView>>> {
    caller
        .reply(|app, actor| async move { app.list_examples(&actor, &filter, &params).await })
        .await
}

/// One example.
#[utoipa::path(tag = "examples", responses((status = 200, body = ExampleView)))]
#[get("/examples/{id}")]
pub async fn get(caller: Caller, id: Path<ExampleId>) -> ApiResult<Json<ExampleView>> {
    caller
        .reply(|app, actor| async move { app.get_example(&actor, *id).await })
        .await
}

/// Changes an example's question or SQL (editor or above); new SQL must pass the guard.
#[utoipa::path(tag = "examples", request_body = UpdateExample, responses((status = 200, body = ExampleView)))]
#[patch("/examples/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<ExampleId>,
    body: Json<UpdateExample>,
) -> ApiResult<Json<ExampleView>> {
    caller
        .reply(|app, actor| async move { app.update_example(&actor, *id, &body.0).await })
        .await
}

/// Deletes an example (editor or above).
#[utoipa::path(tag = "examples", responses((status = 204, description = "deleted")))]
#[delete("/examples/{id}")]
pub async fn remove(caller: Caller, id: Path<ExampleId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_example(&actor, *id).await })
        .await
}

/// Feedback on an answer. `up` stores the question and its SQL as a verified example and
/// caches the answer (editor or above); `corrected_sql` (validated by the guard) becomes
/// the example instead and the cached answer is evicted; `down` evicts the cached answer
/// and withdraws an example an earlier `up` stored.
#[utoipa::path(tag = "chat", request_body = FeedbackRequest,
    responses((status = 200, body = FeedbackResult),
        (status = 422, description = "invalid, or corrected_sql refused by the guard", body = ErrorBody)))]
#[post("/chat/feedback/{message_id}")]
pub async fn feedback(
    caller: Caller,
    id: Path<MessageId>,
    body: Json<FeedbackRequest>,
) -> ApiResult<Json<FeedbackResult>> {
    caller
        .reply(|app, actor| async move { app.chat_feedback(&actor, *id, &body.0).await })
        .await
}
