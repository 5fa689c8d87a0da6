//! Liveness and readiness.

use actix_web::{HttpResponse, get, web};
use querent_app::Readiness;
use serde::Serialize;

use crate::Services;

/// Liveness body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves requests.
    pub status: &'static str,
    /// Server version.
    pub version: &'static str,
}

/// Liveness: the process is up and serving.
#[utoipa::path(get, path = "/health", tag = "system", responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the store answers and its pool has room.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses((status = 200, body = Readiness), (status = 503, body = crate::error::ErrorBody)))]
#[get("/ready")]
pub async fn ready(svc: web::Data<Services>) -> HttpResponse {
    match svc
        .call(move |app| async move { app.readiness().await })
        .await
    {
        Ok(r) => HttpResponse::Ok().json(r),
        Err(e) => crate::error::error_response(querent_domain::ErrorCode::Unavailable, e.0.detail),
    }
}
