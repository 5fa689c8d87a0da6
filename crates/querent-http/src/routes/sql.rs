//! `/api/v1/sql`: check or run hand-written SQL with the same guard and limits as
//! generated queries (editor or above).

use actix_web::post;
use querent_app::chat::ResultView;
use querent_app::sql::{RunSqlRequest, SqlValidation, ValidateSqlRequest};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(validate).service(run);
}

/// Checks a statement with the guard without running it. A refused statement is still a
/// 200 with `valid: false`, the code and the reason.
#[utoipa::path(tag = "sql", request_body = ValidateSqlRequest,
    responses((status = 200, body = SqlValidation), (status = 404, description = "no such connection", body = ErrorBody)))]
#[post("/sql/validate")]
pub async fn validate(
    caller: Caller,
    body: Json<ValidateSqlRequest>,
) -> ApiResult<Json<SqlValidation>> {
    caller
        .reply(|app, actor| async move { app.validate_sql(&actor, &body.0).await })
        .await
}

/// Validates and runs a statement in a read-only transaction under the connection's
/// timeout and row cap and the server's byte caps (settings `max_value_bytes`,
/// `max_result_bytes`); `truncated_reason` and `truncated_limit` name the limit that cut
/// the result short (refused on generate_only connections).
#[utoipa::path(tag = "sql", request_body = RunSqlRequest,
    responses((status = 200, body = ResultView), (status = 403, description = "forbidden or policy_violation", body = ErrorBody),
        (status = 404, description = "no such connection", body = ErrorBody),
        (status = 422, description = "guard_rejected or query_error", body = ErrorBody),
        (status = 502, description = "connection_error", body = ErrorBody), (status = 504, description = "query_timeout", body = ErrorBody)))]
#[post("/sql/run")]
pub async fn run(caller: Caller, body: Json<RunSqlRequest>) -> ApiResult<Json<ResultView>> {
    caller
        .reply(|app, actor| async move { app.run_sql(&actor, &body.0).await })
        .await
}
