//! `/api/v1/chat`: questions answered as server-sent events (or JSON with
//! `Accept: application/json`), approvals, rejections and edits of generated SQL, and the
//! list of queries waiting for approval.

use std::convert::Infallible;

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Bytes, Path, Query};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post};
use querent_app::chat::{ChatError, ChatEvent, ChatRequest, ChatResponse, PreparedChat};
use querent_app::sessions::{MessageView, SessionFilter};
use querent_app::{ListParams, Paginated};
use querent_domain::query::ColumnMeta;
use querent_domain::{Dialect, MessageId, MessageStatus};
use serde::Deserialize;

use crate::Services;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, Credentials, Json};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(ask)
        .service(pending)
        .service(execute)
        .service(reject)
        .service(edit);
}

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

/// How often an idle stream sends an SSE comment. Besides keeping proxies from closing
/// the stream, the write is how a client that went away is noticed while a query runs:
/// the failed write drops the stream, which cancels the pipeline and the query.
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// A chat answer: server-sent events, or the final ChatResponse as JSON.
pub enum ChatReply {
    /// The pipeline's events as `text/event-stream`.
    Events(tokio::sync::mpsc::Receiver<ChatEvent>),
    /// The JSON variant: 200 with the response, or the error's status with the response
    /// plus `detail` and `code` (so it is both a ChatResponse and a standard error body).
    Json(Box<ChatResponse>),
}

impl ChatReply {
    /// Runs a prepared chat as SSE or JSON, as the request asks (also for
    /// `POST /assistants/{id}/ask`).
    pub(crate) async fn run(
        svc: &Services,
        req: &HttpRequest,
        prepared: PreparedChat,
    ) -> ApiResult<Self> {
        Ok(if wants_json(req) {
            ChatReply::Json(Box::new(svc.run_chat(prepared).await?))
        } else {
            ChatReply::Events(svc.stream_chat(prepared))
        })
    }

    /// A final response (nothing to run) as SSE (`done` only) or JSON.
    fn done(req: &HttpRequest, response: ChatResponse) -> Self {
        if wants_json(req) {
            ChatReply::Json(Box::new(response))
        } else {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            let _ = tx.try_send(ChatEvent::Done(Box::new(response)));
            ChatReply::Events(rx)
        }
    }
}

impl Responder for ChatReply {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse {
        match self {
            ChatReply::Events(rx) => {
                // Counted as an open stream until the body is dropped (done or client gone).
                let open = req
                    .app_data::<actix_web::web::Data<Services>>()
                    .map(|s| s.app.metrics().stream_opened());
                sse(rx, open)
            }
            ChatReply::Json(response) => json_response(&response),
        }
    }
}

fn sse(
    rx: tokio::sync::mpsc::Receiver<ChatEvent>,
    open: Option<querent_app::metrics::StreamGuard>,
) -> HttpResponse {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The events already waiting go out as one chunk (one write to the socket).
    let frames = |first: ChatEvent, rx: &mut tokio::sync::mpsc::Receiver<ChatEvent>| {
        let mut out = String::new();
        let mut next = Some(first);
        while let Some(e) = next {
            out.push_str("event: ");
            out.push_str(e.name());
            out.push_str("\ndata: ");
            out.push_str(&e.data().to_string());
            out.push_str("\n\n");
            next = rx.try_recv().ok();
        }
        Bytes::from(out)
    };
    let stream = futures_util::stream::unfold(
        (rx, tick, open),
        move |(mut rx, mut tick, open)| async move {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(e) => {
                        let chunk = frames(e, &mut rx);
                        Some((Ok::<_, Infallible>(chunk), (rx, tick, open)))
                    }
                    None => None,
                },
                _ = tick.tick() => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, tick, open))),
            }
        },
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}

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

/// `status` event: a stage begins.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StageEvent {
    /// `linking`, `cache`, `generating`, `validating` or `executing`.
    stage: String,
}

/// `sql` event: the SQL (when `show_query`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SqlEvent {
    /// The SQL.
    query: String,
    /// Its dialect.
    dialect: Dialect,
}

/// `rows` event: a batch of at most 500 rows; the first batch carries the columns.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct RowsEvent {
    /// Columns (first batch only).
    columns: Option<Vec<ColumnMeta>>,
    /// Rows, each a list of JSON values in column order.
    rows: Vec<Vec<serde_json::Value>>,
}

/// `explanation` event (when `explain_results`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ExplanationEvent {
    /// A plain-English explanation.
    text: String,
}

/// One server-sent event of a chat stream: its `event:` name and its `data:` JSON, written
/// here as `{"event", "data"}`. The stream always ends with `done`, whose data is the
/// complete ChatResponse; `error` precedes it on failure. Idle streams carry SSE comments.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum ChatStreamEvent {
    /// A stage begins.
    Status(StageEvent),
    /// The SQL.
    Sql(SqlEvent),
    /// A batch of rows.
    Rows(RowsEvent),
    /// The explanation.
    Explanation(ExplanationEvent),
    /// Something failed; `done` follows.
    Error(ChatError),
    /// The complete answer.
    Done(Box<ChatResponse>),
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
#[utoipa::path(tag = "chat", request_body = ChatRequest,
    responses(
        (status = 200, description = "server-sent events (see ChatStreamEvent), or the ChatResponse with Accept: application/json",
            content((ChatResponse = "application/json"), (ChatStreamEvent = "text/event-stream"))),
        (status = 404, description = "no such connection or session", body = ErrorBody),
        (status = 422, description = "invalid request, cannot_translate, guard_rejected or query_error (JSON variant)", body = ErrorBody),
        (status = 403, description = "policy_violation (JSON variant)", body = ErrorBody),
        (status = 502, description = "connection_error or provider_error (JSON variant)", body = ErrorBody),
        (status = 504, description = "query_timeout (JSON variant)", body = ErrorBody)))]
#[post("/chat")]
pub async fn ask(
    credentials: Credentials,
    req: HttpRequest,
    body: Result<Json<ChatRequest>, ApiError>,
) -> ApiResult<ChatReply> {
    // Authentication, the stored question and (JSON) the answer in one task: see
    // `Services::chat`. A malformed body is reported once the caller is known, as it
    // would be after the `Caller` extractor.
    let svc = credentials.services().clone();
    svc.chat(credentials, wants_json(&req), |app, actor| async move {
        let body = body.map_err(|e| e.0)?;
        app.prepare_chat(&actor, body.0).await
    })
    .await
}

/// Approves a query waiting for approval and runs it (editor or above); SSE or JSON like
/// `POST /chat`.
#[utoipa::path(tag = "chat",
    responses((status = 200, description = "as for POST /chat",
            content((ChatResponse = "application/json"), (ChatStreamEvent = "text/event-stream"))),
        (status = 409, description = "not pending approval", body = ErrorBody)))]
#[post("/chat/execute/{message_id}")]
pub async fn execute(
    caller: Caller,
    req: HttpRequest,
    id: Path<MessageId>,
) -> ApiResult<ChatReply> {
    let svc = caller.services().clone();
    let prepared = caller
        .call(|app, actor| async move { app.prepare_approval(&actor, *id).await })
        .await?;
    ChatReply::run(&svc, &req, prepared).await
}

/// Rejects a query waiting for approval (editor or above).
#[utoipa::path(tag = "chat",
    responses((status = 200, body = ChatResponse), (status = 409, description = "not pending approval", body = ErrorBody)))]
#[post("/chat/reject/{message_id}")]
pub async fn reject(caller: Caller, id: Path<MessageId>) -> ApiResult<Json<ChatResponse>> {
    caller
        .reply(|app, actor| async move { app.reject_message(&actor, *id).await })
        .await
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
#[utoipa::path(tag = "chat", request_body = EditRequest,
    responses((status = 200, description = "as for POST /chat",
            content((ChatResponse = "application/json"), (ChatStreamEvent = "text/event-stream"))),
        (status = 409, body = ErrorBody), (status = 422, description = "guard_rejected", body = ErrorBody)))]
#[post("/chat/edit/{message_id}")]
pub async fn edit(
    caller: Caller,
    req: HttpRequest,
    id: Path<MessageId>,
    body: Json<EditRequest>,
) -> ApiResult<ChatReply> {
    let svc = caller.services().clone();
    let next = caller
        .call(|app, actor| async move { app.prepare_edit(&actor, *id, &body.0.sql).await })
        .await?;
    match next {
        Ok(prepared) => ChatReply::run(&svc, &req, prepared).await,
        Err(response) => Ok(ChatReply::done(&req, response)),
    }
}

/// Queries waiting for approval on connections where the caller is editor or above.
#[utoipa::path(tag = "chat", params(SessionFilter, ListParams), responses((status = 200, body = Paginated<MessageView>)))]
#[get("/chat/pending")]
pub async fn pending(
    caller: Caller,
    filter: Query<SessionFilter>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<MessageView>>> {
    caller
        .reply(|app, actor| async move { app.pending_approvals(&actor, &filter, &params).await })
        .await
}
