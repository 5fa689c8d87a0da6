//! CodeMie's assistant API (seed 002), at `/compat/codemie/v1`: calling an assistant,
//! `POST /assistants/{assistant_id}/model` {text, stream?, llmModel?}, answered by a native
//! assistant (querent-app's [`querent_app::assistants`]) through the chat pipeline.
//!
//! The answer is `{generated, timeElapsed, tokensUsed, thoughts, taskId}`; `thoughts` are
//! the pipeline's steps in CodeMie's thought shape (schema linking, the semantic cache, the
//! SQL, its execution, a failure). With `stream: true` the answer is server-sent events: a
//! chunk `{thought, generated_chunk, last: false}` per step, then the final object with
//! `last: true`. `llmModel` replaces the assistant's model for this answer (not for the
//! offline translator, which has none). Authentication is the native bearer token.
//!
//! Errors are `{"detail": "..."}` with the seed's statuses: 400 for a bad request (the
//! native 4xx validation and conflict codes, and pipeline refusals such as
//! `guard_rejected`), 401, 403, 404, 500 for the rest (429 stays 429, with `Retry-After`).
//! A question the translator cannot turn into SQL is answered (200), not refused: the
//! assistant says so in `generated`.

use std::convert::Infallible;
use std::time::Instant;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{self, Bytes, Path};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};
use querent_app::ServiceError;
use querent_app::assistants::AssistantAsk;
use querent_app::chat::{ChatEvent, ChatResponse};
use querent_domain::{AssistantId, ErrorCode, MessageStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::{Caller, Json};

/// An error in CodeMie's format: `{"detail": "..."}` with one of the seed's statuses.
#[derive(Debug)]
pub struct CodemieError(pub ServiceError);

impl std::fmt::Display for CodemieError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ApiError> for CodemieError {
    fn from(e: ApiError) -> Self {
        CodemieError(e.0)
    }
}

/// The seed's status for a native code: 400, 401, 403, 404 or 500 (and 429).
fn status_of(code: ErrorCode) -> StatusCode {
    match code.http_status() {
        401 => StatusCode::UNAUTHORIZED,
        403 => StatusCode::FORBIDDEN,
        404 => StatusCode::NOT_FOUND,
        429 => StatusCode::TOO_MANY_REQUESTS,
        s if (400..500).contains(&s) => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ResponseError for CodemieError {
    fn status_code(&self) -> StatusCode {
        status_of(self.0.code)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(secs) = self.0.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(json!({ "detail": self.0.detail }))
    }
}

fn error(code: ErrorCode, detail: impl Into<String>) -> actix_web::Error {
    CodemieError(ServiceError::new(code, detail)).into()
}

/// The authenticated caller (native bearer token), refusals in CodeMie's format.
struct Authed(Caller);

impl FromRequest for Authed {
    type Error = CodemieError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, CodemieError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Caller::from_request(req, payload);
        Box::pin(async move { fut.await.map(Authed).map_err(CodemieError::from) })
    }
}

/// A JSON body (read as the native API reads it), refusals in CodeMie's format.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = CodemieError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self, CodemieError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Json::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|j| Body(j.0)).map_err(CodemieError::from) })
    }
}

/// Registers this layer's routes on its scope, with its error format for malformed
/// paths and bodies, wrong methods and unknown paths.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PathConfig::default().error_handler(|err, _| {
        error(
            ErrorCode::ValidationError,
            format!("path: {err}; assistant ids are UUIDs"),
        )
    }))
    .service(
        web::resource("/assistants/{assistant_id}/model")
            .route(web::post().to(call_assistant))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(error(ErrorCode::MethodNotAllowed, "method not allowed"))
            })),
    )
    .default_service(web::to(|| async {
        Err::<HttpResponse, _>(error(ErrorCode::NotFound, "no such endpoint"))
    }));
}

/// `POST /assistants/{assistant_id}/model` body. Other fields CodeMie's clients send
/// (conversation ids, history, files…) are accepted and ignored.
#[derive(Deserialize)]
struct ModelRequest {
    text: String,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default, rename = "llmModel")]
    llm_model: Option<String>,
}

/// One thought, in the seed's shape.
fn thought(author: &str, message: String, metadata: Value, in_progress: bool) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "parent_id": null,
        "metadata": metadata,
        "in_progress": in_progress,
        "input_text": "",
        "message": message,
        "author_type": "Tool",
        "author_name": author,
        "output_format": "text",
        "children": [],
    })
}

/// What a pipeline stage is called in a thought.
fn stage_author(stage: &str) -> &'static str {
    match stage {
        "linking" => "Schema linking",
        "cache" => "Semantic cache",
        "generating" => "SQL generation",
        "validating" => "SQL validation",
        "executing" => "Execution",
        _ => "Querent",
    }
}

/// The thoughts of a finished answer: the stages it went through, with what each gave.
fn thoughts_of(stages: &[&'static str], r: &ChatResponse) -> Vec<Value> {
    let mut out = Vec::new();
    for stage in stages {
        match *stage {
            "linking" => out.push(thought(
                stage_author(stage),
                "Matched the question to the tables of the assistant's database.".into(),
                json!({}),
                false,
            )),
            "cache" if r.cache_hit => out.push(thought(
                stage_author(stage),
                "A verified answer to this question was found in the semantic cache.".into(),
                json!({}),
                false,
            )),
            _ => {}
        }
    }
    if let Some(sql) = &r.query {
        out.push(thought(
            "SQL",
            sql.clone(),
            json!({ "dialect": r.query_dialect }),
            false,
        ));
    }
    if let Some(results) = &r.results {
        let mut message = format!(
            "The query returned {} row{} ({}).",
            results.row_count,
            if results.row_count == 1 { "" } else { "s" },
            results.columns.join(", ")
        );
        if results.truncated {
            message.push_str(" The result was cut short by a limit.");
        }
        out.push(thought(
            stage_author("executing"),
            message,
            json!({ "row_count": results.row_count, "columns": results.columns }),
            false,
        ));
    }
    if let Some(e) = &r.error {
        out.push(thought(
            "Error",
            e.detail.clone(),
            json!({ "code": e.code }),
            false,
        ));
    }
    out
}

/// Rows shown in `generated`, at most.
const TABLE_ROWS: usize = 20;

fn cell(v: &Value) -> String {
    let text = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    text.replace('|', "\\|").replace('\n', " ")
}

/// The answer's text: the explanation (when the assistant explains), then the rows as a
/// Markdown table; or what happened instead of a result.
fn generated_of(r: &ChatResponse) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(e) = &r.explanation {
        parts.push(e.clone());
    }
    match (&r.status, &r.results, &r.error) {
        (_, Some(results), _) => {
            let mut table = format!("| {} |\n", results.columns.join(" | "));
            table.push_str(&format!("|{}\n", " --- |".repeat(results.columns.len())));
            for row in results.rows.iter().take(TABLE_ROWS) {
                let cells: Vec<String> = row.iter().map(cell).collect();
                table.push_str(&format!("| {} |\n", cells.join(" | ")));
            }
            let shown = results.rows.len().min(TABLE_ROWS);
            table.push_str(&format!(
                "\n{} row{}{}.",
                results.row_count,
                if results.row_count == 1 { "" } else { "s" },
                if (shown as u64) < results.row_count {
                    format!(", the first {shown} shown")
                } else {
                    String::new()
                }
            ));
            parts.push(table);
        }
        (MessageStatus::QueryOnly, _, _) => parts.push(format!(
            "```sql\n{}\n```\nThe connection is generate_only: the SQL was written and checked but not run.",
            r.query.clone().unwrap_or_default()
        )),
        (MessageStatus::PendingApproval, _, _) => parts.push(format!(
            "```sql\n{}\n```\nThe SQL waits for an editor's approval (message {}).",
            r.query.clone().unwrap_or_default(),
            r.message_id
        )),
        (_, None, Some(e)) => parts.push(e.detail.clone()),
        _ => {}
    }
    parts.join("\n\n")
}

/// Whether a finished answer is an error the seed's statuses report (rather than an
/// answer): every failure but a question the translator could not turn into SQL.
fn refusal(r: &ChatResponse) -> Option<ServiceError> {
    match (&r.status, &r.error) {
        (MessageStatus::Error | MessageStatus::Rejected, Some(e))
            if e.code != ErrorCode::CannotTranslate =>
        {
            Some(ServiceError::new(e.code, e.detail.clone()))
        }
        _ => None,
    }
}

/// The final object.
fn final_object(r: &ChatResponse, thoughts: Vec<Value>, started: Instant) -> Value {
    json!({
        "generated": generated_of(r),
        "timeElapsed": started.elapsed().as_secs_f64(),
        "tokensUsed": null,
        "thoughts": thoughts,
        "taskId": null,
    })
}

/// How often an idle stream sends an SSE comment (and so notices a client gone away,
/// which cancels the pipeline).
const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);

/// `POST /assistants/{assistant_id}/model`.
async fn call_assistant(
    caller: Authed,
    id: Path<AssistantId>,
    body: Body<ModelRequest>,
) -> Result<HttpResponse, CodemieError> {
    let started = Instant::now();
    let body = body.0;
    let id = id.into_inner();
    let svc = caller.0.services().clone();
    let ask = AssistantAsk {
        message: body.text,
        session_id: None,
    };
    let model = body.llm_model;
    let prepared = caller
        .0
        .call(move |app, actor| async move {
            app.prepare_assistant_ask_with_model(&actor, id, ask, model)
                .await
        })
        .await?;
    let rx = svc.stream_chat(prepared);
    if body.stream == Some(true) {
        return Ok(stream(rx, started));
    }
    let mut rx = rx;
    let mut stages = Vec::new();
    while let Some(event) = rx.recv().await {
        match event {
            ChatEvent::Status(stage) => stages.push(stage),
            ChatEvent::Done(r) => {
                if let Some(e) = refusal(&r) {
                    return Err(CodemieError(e));
                }
                let thoughts = thoughts_of(&stages, &r);
                return Ok(HttpResponse::Ok().json(final_object(&r, thoughts, started)));
            }
            _ => {}
        }
    }
    Err(CodemieError(ServiceError::internal(
        "the chat pipeline ended without an answer",
    )))
}

/// The SSE answer: a chunk per step, then the final object.
fn stream(rx: tokio::sync::mpsc::Receiver<ChatEvent>, started: Instant) -> HttpResponse {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let frame = |v: &Value| Bytes::from(format!("data: {v}\n\n"));
    let state = (rx, tick, Vec::<&'static str>::new(), false);
    let events = futures_util::stream::unfold(
        state,
        move |(mut rx, mut tick, mut stages, ended)| async move {
            if ended {
                return None;
            }
            loop {
                tokio::select! {
                    event = rx.recv() => {
                        let event = event?;
                        let chunk = match event {
                            ChatEvent::Status(stage) => {
                                stages.push(stage);
                                json!({
                                    "thought": thought(stage_author(stage), String::new(), json!({ "stage": stage }), true),
                                    "generated_chunk": "",
                                    "last": false,
                                })
                            }
                            ChatEvent::Sql { query, dialect } => json!({
                                "thought": thought("SQL", query, json!({ "dialect": dialect }), false),
                                "generated_chunk": "",
                                "last": false,
                            }),
                            ChatEvent::Explanation(text) => json!({
                                "thought": null,
                                "generated_chunk": text,
                                "last": false,
                            }),
                            ChatEvent::Done(r) => {
                                let thoughts = thoughts_of(&stages, &r);
                                let mut last = final_object(&r, thoughts, started);
                                if let Some(map) = last.as_object_mut() {
                                    map.insert("last".into(), Value::Bool(true));
                                }
                                return Some((Ok::<_, Infallible>(frame(&last)), (rx, tick, stages, true)));
                            }
                            // Rows reach the final object; errors its thoughts and text.
                            ChatEvent::Rows { .. } | ChatEvent::Error(_) => continue,
                        };
                        return Some((Ok(frame(&chunk)), (rx, tick, stages, false)));
                    }
                    _ = tick.tick() => {
                        return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (rx, tick, stages, false)));
                    }
                }
            }
        },
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(events)
}
