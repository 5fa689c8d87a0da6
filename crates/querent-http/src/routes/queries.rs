//! `/api/v1/queries`: saved queries, their runs and exports.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, patch, post};
use querent_app::export::ExportParams;
use querent_app::queries::*;
use querent_app::{ListParams, Paginated};
use querent_domain::SavedQueryId;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json, JsonOrEmpty};
use crate::reply::{Created, Download, FileBytes, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(run)
        .service(runs)
        .service(export);
}

/// Saves a query (editor or above): a chat answer by `message_id`, or `connection_id` +
/// `sql` (+ `question`). The SQL must pass the guard.
#[utoipa::path(tag = "queries", request_body = CreateSavedQuery,
    responses((status = 201, body = SavedQueryView),
        (status = 404, description = "no such connection or message", body = ErrorBody),
        (status = 403, description = "the privacy policy excludes what it reads", body = ErrorBody),
        (status = 422, description = "invalid, or refused by the guard", body = ErrorBody)))]
#[post("/queries")]
pub async fn create(
    caller: Caller,
    body: Json<CreateSavedQuery>,
) -> ApiResult<Created<SavedQueryView>> {
    caller
        .reply(|app, actor| async move { app.create_saved_query(&actor, &body.0).await })
        .await
}

/// The saved queries of the caller's teams, filtered by connection, tag or text.
#[utoipa::path(tag = "queries", params(SavedQueryParams, ListParams),
    responses((status = 200, body = Paginated<SavedQueryView>)))]
#[get("/queries")]
pub async fn list(
    caller: Caller,
    filter: Query<SavedQueryParams>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<SavedQueryView>>> {
    caller
        .reply(|app, actor| async move { app.list_saved_queries(&actor, &params, &filter).await })
        .await
}

/// One saved query.
#[utoipa::path(tag = "queries", responses((status = 200, body = SavedQueryView),
    (status = 404, description = "no such saved query", body = ErrorBody)))]
#[get("/queries/{id}")]
pub async fn get(caller: Caller, id: Path<SavedQueryId>) -> ApiResult<Json<SavedQueryView>> {
    caller
        .reply(|app, actor| async move { app.get_saved_query(&actor, *id).await })
        .await
}

/// Changes a saved query (editor or above); new SQL must pass the guard.
#[utoipa::path(tag = "queries", request_body = UpdateSavedQuery,
    responses((status = 200, body = SavedQueryView),
        (status = 404, description = "no such saved query", body = ErrorBody),
        (status = 422, description = "invalid, or refused by the guard", body = ErrorBody)))]
#[patch("/queries/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<SavedQueryId>,
    body: Json<UpdateSavedQuery>,
) -> ApiResult<Json<SavedQueryView>> {
    caller
        .reply(|app, actor| async move { app.update_saved_query(&actor, *id, &body.0).await })
        .await
}

/// Deletes a saved query and its runs (editor or above).
#[utoipa::path(tag = "queries", responses((status = 204, description = "deleted"),
    (status = 404, description = "no such saved query", body = ErrorBody)))]
#[delete("/queries/{id}")]
pub async fn remove(caller: Caller, id: Path<SavedQueryId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_saved_query(&actor, *id).await })
        .await
}

/// Runs a saved query now, through the guard and the connection's limits (viewer or
/// above); the run is recorded. The body is optional.
#[utoipa::path(tag = "queries", request_body = RunSavedQuery,
    responses((status = 200, body = QueryRunResult),
        (status = 403, description = "the connection is generate_only, or the current privacy policy excludes what it reads", body = ErrorBody),
        (status = 404, description = "no such saved query", body = ErrorBody),
        (status = 422, description = "refused by the guard, or the database rejected it", body = ErrorBody),
        (status = 504, description = "it ran longer than the statement timeout", body = ErrorBody),
        (status = 502, description = "the database could not be reached", body = ErrorBody)))]
#[post("/queries/{id}/run")]
pub async fn run(
    caller: Caller,
    id: Path<SavedQueryId>,
    body: JsonOrEmpty<RunSavedQuery>,
) -> ApiResult<Json<QueryRunResult>> {
    caller
        .reply(|app, actor| async move { app.run_saved_query_now(&actor, *id, &body.0).await })
        .await
}

/// `GET /queries/{id}/runs` parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// Runs to return, newest first (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The newest runs of a saved query, newest first: who, when, rows, time, error.
#[utoipa::path(tag = "queries", params(RunsParams),
    responses((status = 200, body = Vec<QueryRunView>),
        (status = 404, description = "no such saved query", body = ErrorBody)))]
#[get("/queries/{id}/runs")]
pub async fn runs(
    caller: Caller,
    id: Path<SavedQueryId>,
    params: Query<RunsParams>,
) -> ApiResult<Json<Vec<QueryRunView>>> {
    caller
        .reply(|app, actor| async move { app.list_query_runs(&actor, *id, params.limit).await })
        .await
}

/// Downloads a saved query's result as CSV (streamed), JSON or XLSX: run again now through
/// the guard (default), or its newest snapshot with `source=snapshot`. Masked columns stay
/// masked.
#[utoipa::path(tag = "queries", params(ExportParams),
    responses((status = 200, description = "the file (Content-Disposition: attachment)",
            content((String = "text/csv"), (Vec<serde_json::Value> = "application/json"),
                (FileBytes = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, description = "the connection is generate_only, or the policy excludes what it reads", body = ErrorBody),
        (status = 404, description = "no such saved query, or no snapshot", body = ErrorBody),
        (status = 422, description = "refused by the guard, or too large for XLSX", body = ErrorBody)))]
#[get("/queries/{id}/export")]
pub async fn export(
    caller: Caller,
    id: Path<SavedQueryId>,
    params: Query<ExportParams>,
) -> ApiResult<Download> {
    caller
        .reply(|app, actor| async move { app.export_saved_query(&actor, *id, &params).await })
        .await
}
