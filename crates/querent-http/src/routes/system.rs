//! Liveness and readiness.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use querent_app::{Readiness, ServiceError};
use querent_domain::ErrorCode;
use serde::Serialize;

use crate::Services;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(health).service(ready).service(metrics);
}

/// Liveness body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    pub status: &'static str,
    /// Server version.
    pub version: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(tag = "system", security(()), responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the store answers and its pool has room.
#[utoipa::path(tag = "system", security(()),
    responses((status = 200, body = Readiness), (status = 503, description = "unavailable", body = ErrorBody)))]
#[get("/ready")]
pub async fn ready(svc: Data<Services>) -> ApiResult<Json<Readiness>> {
    svc.call(|app| async move { app.readiness().await })
        .await
        .map(Json)
        .map_err(|e| ApiError(ServiceError::new(ErrorCode::Unavailable, e.0.detail)))
}

/// Prometheus metrics in the text format (0.0.4): HTTP requests and latencies by route,
/// chat stage latencies, cache lookups, provider calls, tokens and cost, guard refusals,
/// open streams, workflow runs and pool figures. Open unless the server has a
/// `metrics_token`, which is then asked for as a bearer token.
#[utoipa::path(tag = "system", security(()),
    responses(
        (status = 200, description = "Every series in the Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "the configured metrics token was not presented", body = ErrorBody)))]
#[get("/metrics")]
pub async fn metrics(svc: Data<Services>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let text = svc
        .call(move |app| async move { app.metrics_text(bearer.as_deref()).await })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, querent_app::metrics::CONTENT_TYPE))
        .body(text))
}
