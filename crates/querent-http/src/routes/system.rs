//! Liveness and readiness.

use actix_web::get;
use actix_web::web::Data;
use querent_app::{Readiness, ServiceError};
use querent_domain::ErrorCode;
use serde::Serialize;

use crate::Services;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(health).service(ready);
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
