//! `/queries`: run a question (answered by the chat pipeline, then saved as a saved query
//! from the answer — the seed has no separate save), list, get and delete saved queries.

use actix_web::web::Path;
use querent_app::chat::{ChatRequest, ChatResponse};
use querent_app::queries::{CreateSavedQuery, SavedQueryParams, SavedQueryView};
use querent_domain::{ConnectionId, ErrorCode, MessageStatus, SavedQueryId, TeamRole};
use serde::{Deserialize, Serialize};

use super::{AiError, Body, Key, Paging, Reply, created, deleted, id, ok, page};
use querent_app::ServiceError;

/// `POST /queries`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    question: String,
    connection_id: String,
    /// `table` (default) or `json`: both answer `results` as columns and rows.
    #[serde(default)]
    format: Option<String>,
}

/// `results` of a run.
#[derive(Serialize)]
struct Results {
    columns: Vec<String>,
    rows: Vec<Vec<serde_json::Value>>,
    row_count: u64,
}

/// The answer of `POST /queries`.
#[derive(Serialize)]
struct Ran {
    query_id: SavedQueryId,
    sql: String,
    results: Option<Results>,
    execution_time_ms: u64,
    connection_id: ConnectionId,
    question: String,
    format: String,
    status: MessageStatus,
}

/// A saved query as the seed's clients read it.
#[derive(Serialize)]
pub(super) struct SavedOut {
    query_id: SavedQueryId,
    name: String,
    question: Option<String>,
    sql: String,
    connection_id: ConnectionId,
    created_at: String,
    updated_at: String,
}

impl From<SavedQueryView> for SavedOut {
    fn from(q: SavedQueryView) -> Self {
        Self {
            query_id: q.id,
            name: q.name,
            question: q.question,
            sql: q.sql,
            connection_id: q.connection_id,
            created_at: q.created_at,
            updated_at: q.updated_at,
        }
    }
}

/// A saved query's name from its question: its first 100 characters.
fn name_of(question: &str) -> String {
    let q = question.trim();
    match q.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &q[..i]),
        None => q.to_owned(),
    }
}

/// A chat answer that did not produce SQL to save, as the seed's error.
fn failure(r: &ChatResponse) -> Option<AiError> {
    if let Some(e) = &r.error {
        return Some(AiError(ServiceError::new(e.code, e.detail.clone())));
    }
    match r.status {
        MessageStatus::Rejected => Some(AiError(ServiceError::new(
            ErrorCode::QueryError,
            "the query was rejected",
        ))),
        _ if r.query.is_none() => Some(AiError(ServiceError::new(
            ErrorCode::QueryError,
            "no SQL was generated for this question",
        ))),
        _ => None,
    }
}

/// `POST /queries`: asks, then saves the answer (`query_id` is the saved query).
pub async fn run(key: Key, body: Body<RunQuery>) -> Reply {
    let req = body.0;
    let format = req.format.unwrap_or_else(|| "table".to_owned());
    if !matches!(format.as_str(), "table" | "json") {
        return Err(AiError::validation(format!(
            "format: `{format}` is not supported; use table or json"
        )));
    }
    let connection: ConnectionId = id(&req.connection_id, "connection")?;
    let chat: ChatRequest = serde_json::from_value(serde_json::json!({
        "connection_id": connection,
        "message": req.question,
    }))
    .map_err(|e| AiError::validation(format!("body: {e}")))?;
    let services = key.0.services().clone();
    let prepared = key
        .0
        .clone()
        .call(move |app, actor| async move {
            // The answer is saved, so the caller must be able to save in its team.
            app.load_connection(&actor, connection, TeamRole::Editor)
                .await?;
            app.prepare_chat(&actor, chat).await
        })
        .await?;
    let answer = services.run_chat(prepared).await?;
    if let Some(e) = failure(&answer) {
        return Err(e);
    }
    let save = CreateSavedQuery {
        name: name_of(&req.question),
        message_id: Some(answer.message_id),
        ..Default::default()
    };
    let saved = key
        .0
        .call(move |app, actor| async move { app.create_saved_query(&actor, &save).await })
        .await?;
    let execution_time_ms = answer.results.as_ref().map_or(0, |r| r.execution_time_ms);
    created(Ran {
        query_id: saved.id,
        sql: saved.sql,
        results: answer.results.map(|r| Results {
            columns: r.columns,
            rows: r.rows,
            row_count: r.row_count,
        }),
        execution_time_ms,
        connection_id: saved.connection_id,
        question: req.question,
        format,
        status: answer.status,
    })
}

/// `GET /queries?limit=&cursor=`.
pub async fn list(key: Key, paging: Paging) -> Reply {
    let p = key
        .0
        .call(move |app, actor| async move {
            app.list_saved_queries(&actor, &paging, &SavedQueryParams::default())
                .await
        })
        .await?;
    page(p, SavedOut::from)
}

/// `GET /queries/{query_id}`.
pub async fn get(key: Key, path: Path<String>) -> Reply {
    let qid: SavedQueryId = id(&path, "query")?;
    let q = key
        .0
        .call(move |app, actor| async move { app.get_saved_query(&actor, qid).await })
        .await?;
    ok(SavedOut::from(q))
}

/// `DELETE /queries/{query_id}`.
pub async fn delete(key: Key, path: Path<String>) -> Reply {
    let qid: SavedQueryId = id(&path, "query")?;
    key.0
        .call(move |app, actor| async move { app.delete_saved_query(&actor, qid).await })
        .await?;
    deleted()
}
