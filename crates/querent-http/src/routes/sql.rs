//! `/api/v1/sql`: check or run hand-written SQL with the same guard and limits as
//! generated queries (editor or above).

use actix_web::{HttpResponse, post, web};
use querent_app::sql::{RunSqlRequest, SqlValidation, ValidateSqlRequest};
use querent_domain::chat::ResultSet;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Checks a statement with the guard without running it. A refused statement is still a
/// 200 with `valid: false`, the code and the reason.
#[utoipa::path(post, path = "/api/v1/sql/validate", tag = "sql", security(("bearer" = [])), request_body = ValidateSqlRequest,
    responses((status = 200, body = SqlValidation), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/sql/validate")]
pub async fn validate(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<ValidateSqlRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.validate_sql(&auth.0, &body.0).await })
            .await?,
    ))
}

/// Validates and runs a statement in a read-only transaction under the connection's
/// timeout and row cap and the server's byte caps (settings `max_value_bytes`,
/// `max_result_bytes`); `truncated_reason` and `truncated_limit` name the limit that cut
/// the result short (refused on generate_only connections).
#[utoipa::path(post, path = "/api/v1/sql/run", tag = "sql", security(("bearer" = [])), request_body = RunSqlRequest,
    responses((status = 200, body = ResultSet), (status = 403, description = "forbidden or policy_violation", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, description = "guard_rejected or query_error", body = ErrorBody),
        (status = 502, description = "connection_error", body = ErrorBody), (status = 504, description = "query_timeout", body = ErrorBody)))]
#[post("/sql/run")]
pub async fn run(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<RunSqlRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.run_sql(&auth.0, &body.0).await })
            .await?,
    ))
}
