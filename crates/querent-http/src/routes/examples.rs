//! `/api/v1/examples` (verified question/SQL pairs) and `/api/v1/chat/feedback/{id}`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use querent_app::examples::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{ExampleId, MessageId};

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Adds a verified example (editor or above); its SQL must pass the guard.
#[utoipa::path(post, path = "/api/v1/examples", tag = "examples", security(("bearer" = [])),
    request_body = CreateExample,
    responses((status = 201, body = ExampleView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid, or refused by the guard", body = ErrorBody)))]
#[post("/examples")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<CreateExample>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_example(&auth.0, &body.0).await })
            .await?,
    ))
}

/// The examples of the caller's teams, or of one connection.
#[utoipa::path(get, path = "/api/v1/examples", tag = "examples", security(("bearer" = [])),
    params(ExampleFilter, ListParams), responses((status = 200, body = Paginated<ExampleView>), (status = 404, body = ErrorBody)))]
#[get("/examples")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    filter: web::Query<ExampleFilter>,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_examples(&auth.0, &filter, &params).await })
            .await?,
    ))
}

/// One example.
#[utoipa::path(get, path = "/api/v1/examples/{id}", tag = "examples", security(("bearer" = [])),
    params(("id" = String, Path, description = "example id")),
    responses((status = 200, body = ExampleView), (status = 404, body = ErrorBody)))]
#[get("/examples/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ExampleId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_example(&auth.0, id).await })
            .await?,
    ))
}

/// Changes an example's question or SQL (editor or above); new SQL must pass the guard.
#[utoipa::path(patch, path = "/api/v1/examples/{id}", tag = "examples", security(("bearer" = [])),
    params(("id" = String, Path, description = "example id")), request_body = UpdateExample,
    responses((status = 200, body = ExampleView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[patch("/examples/{id}")]
pub async fn update(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ExampleId>,
    body: Json<UpdateExample>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.update_example(&auth.0, id, &body.0).await })
            .await?,
    ))
}

/// Deletes an example (editor or above).
#[utoipa::path(delete, path = "/api/v1/examples/{id}", tag = "examples", security(("bearer" = [])),
    params(("id" = String, Path, description = "example id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/examples/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ExampleId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    svc.call(move |app| async move { app.delete_example(&auth.0, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Feedback on an answer. `up` stores the question and its SQL as a verified example and
/// caches the answer (editor or above); `corrected_sql` (validated by the guard) becomes
/// the example instead and the cached answer is evicted; `down` evicts the cached answer
/// and withdraws an example an earlier `up` stored.
#[utoipa::path(post, path = "/api/v1/chat/feedback/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, description = "message id")), request_body = FeedbackRequest,
    responses((status = 200, body = FeedbackResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid, or corrected_sql refused by the guard", body = ErrorBody)))]
#[post("/chat/feedback/{message_id}")]
pub async fn feedback(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<MessageId>,
    body: Json<FeedbackRequest>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.chat_feedback(&auth.0, id, &body.0).await })
            .await?,
    ))
}
