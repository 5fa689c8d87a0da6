//! `/api/v1/chat`: questions answered as server-sent events (or JSON with
//! `Accept: application/json`), approvals, rejections and edits of generated SQL, and the
//! list of queries waiting for approval.

use std::convert::Infallible;

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use querent_app::chat::{ChatEvent, ChatRequest, ChatResponse, PreparedChat};
use querent_app::sessions::{MessageView, SessionFilter};
use querent_app::{ListParams, Paginated};
use querent_domain::{MessageId, MessageStatus};
use serde::Deserialize;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Whether the client asked for the JSON variant (`Accept: application/json` without
/// `text/event-stream`); SSE otherwise.
fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    accept.contains("application/json") && !accept.contains("text/event-stream")
}

/// One SSE frame.
fn frame(event: &ChatEvent) -> Bytes {
    Bytes::from(format!(
        "event: {}\ndata: {}\n\n",
        event.name(),
        event.data()
    ))
}

/// How often an idle stream sends an SSE comment. Besides keeping proxies from closing
/// the stream, the write is how a client that went away is noticed while a query runs:
/// the failed write drops the stream, which cancels the pipeline and the query.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

fn sse(rx: tokio::sync::mpsc::Receiver<ChatEvent>) -> HttpResponse {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stream = futures_util::stream::unfold((rx, tick), |(mut rx, mut tick)| async move {
        tokio::select! {
            event = rx.recv() => event.map(|e| (Ok::<_, Infallible>(frame(&e)), (rx, tick))),
            _ = tick.tick() => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, tick))),
        }
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

/// The JSON variant: 200 with the response, or the error's status with the response plus
/// `detail` and `code` (so it is both a ChatResponse and a standard error body).
fn json_response(response: &ChatResponse) -> HttpResponse {
    let mut body = serde_json::to_value(response).unwrap_or_default();
    let status = match (&response.status, &response.error) {
        (MessageStatus::Error, Some(e)) => {
            if let Some(map) = body.as_object_mut() {
                map.insert("detail".into(), e.detail.clone().into());
                map.insert("code".into(), e.code.as_str().into());
            }
            StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }
        _ => StatusCode::OK,
    };
    HttpResponse::build(status).json(body)
}

/// Runs a prepared chat as SSE or JSON.
async fn answer(
    svc: &Services,
    req: &HttpRequest,
    prepared: PreparedChat,
) -> ApiResult<HttpResponse> {
    Ok(if wants_json(req) {
        json_response(&svc.run_chat(prepared).await?)
    } else {
        sse(svc.stream_chat(prepared))
    })
}

/// A final response (nothing to run) as SSE (`done` only) or JSON.
fn final_answer(req: &HttpRequest, response: ChatResponse) -> HttpResponse {
    if wants_json(req) {
        json_response(&response)
    } else {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let _ = tx.try_send(ChatEvent::Done(Box::new(response)));
        sse(rx)
    }
}

/// Asks a question about a connection.
///
/// Server-sent events, in order: `status` {stage} for linking, generating, validating and
/// executing; `sql` {query, dialect} (when `show_query`); `rows` {columns?, rows} in
/// batches of at most 500 (the first batch carries the columns); `explanation` {text} (when
/// `explain_results`); `error` {code, detail} on failure; and always a final `done` whose
/// data is the complete ChatResponse. With `Accept: application/json` the ChatResponse is
/// returned as one JSON body (with `detail` and `code` and the error's status on failure).
/// The connection's execution mode decides: auto_execute runs the query, review_first
/// stores it as `pending_approval`, generate_only returns it as `query_only`.
#[utoipa::path(post, path = "/api/v1/chat", tag = "chat", security(("bearer" = [])), request_body = ChatRequest,
    responses(
        (status = 200, description = "text/event-stream of status, sql, rows, explanation, error and done events; or the ChatResponse with Accept: application/json", body = ChatResponse),
        (status = 404, body = ErrorBody), (status = 422, description = "invalid request, cannot_translate, guard_rejected or query_error (JSON variant)", body = ErrorBody),
        (status = 403, description = "policy_violation (JSON variant)", body = ErrorBody),
        (status = 502, description = "connection_error (JSON variant)", body = ErrorBody),
        (status = 504, description = "query_timeout (JSON variant)", body = ErrorBody)))]
#[post("/chat")]
pub async fn chat(
    svc: web::Data<Services>,
    auth: Auth,
    req: HttpRequest,
    body: Json<ChatRequest>,
) -> ApiResult<HttpResponse> {
    let prepared = svc
        .call(move |app| async move { app.prepare_chat(&auth.0, body.0).await })
        .await?;
    answer(&svc, &req, prepared).await
}

/// Approves a query waiting for approval and runs it (editor or above); SSE or JSON like
/// `POST /chat`.
#[utoipa::path(post, path = "/api/v1/chat/execute/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, description = "message id")),
    responses((status = 200, body = ChatResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not pending approval", body = ErrorBody)))]
#[post("/chat/execute/{message_id}")]
pub async fn execute(
    svc: web::Data<Services>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<MessageId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    let prepared = svc
        .call(move |app| async move { app.prepare_approval(&auth.0, id).await })
        .await?;
    answer(&svc, &req, prepared).await
}

/// Rejects a query waiting for approval (editor or above).
#[utoipa::path(post, path = "/api/v1/chat/reject/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, description = "message id")),
    responses((status = 200, body = ChatResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not pending approval", body = ErrorBody)))]
#[post("/chat/reject/{message_id}")]
pub async fn reject(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<MessageId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.reject_message(&auth.0, id).await })
            .await?,
    ))
}

/// `POST /chat/edit/{message_id}` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The replacement SQL (validated by the guard).
    pub sql: String,
}

/// Replaces the SQL of a generated or pending query (editor or above) after the guard
/// accepts it; then, per the connection's mode, runs it (auto_execute, SSE or JSON like
/// `POST /chat`), leaves it pending approval (review_first) or stores it (generate_only).
#[utoipa::path(post, path = "/api/v1/chat/edit/{message_id}", tag = "chat", security(("bearer" = [])),
    params(("message_id" = String, Path, description = "message id")), request_body = EditRequest,
    responses((status = 200, body = ChatResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, description = "guard_rejected", body = ErrorBody)))]
#[post("/chat/edit/{message_id}")]
pub async fn edit(
    svc: web::Data<Services>,
    auth: Auth,
    req: HttpRequest,
    id: web::Path<MessageId>,
    body: Json<EditRequest>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    let next = svc
        .call(move |app| async move { app.prepare_edit(&auth.0, id, &body.0.sql).await })
        .await?;
    match next {
        Ok(prepared) => answer(&svc, &req, prepared).await,
        Err(response) => Ok(final_answer(&req, response)),
    }
}

/// Queries waiting for approval on connections where the caller is editor or above.
#[utoipa::path(get, path = "/api/v1/chat/pending", tag = "chat", security(("bearer" = [])),
    params(SessionFilter, ListParams),
    responses((status = 200, body = Paginated<MessageView>), (status = 403, body = ErrorBody)))]
#[get("/chat/pending")]
pub async fn pending(
    svc: web::Data<Services>,
    auth: Auth,
    filter: web::Query<SessionFilter>,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.pending_approvals(&auth.0, &filter, &params).await })
            .await?,
    ))
}
