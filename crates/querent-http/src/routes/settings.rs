//! `/api/v1/settings` and `/api/v1/audit`.

use actix_web::{HttpResponse, get, patch, web};
use querent_app::audit::AuditView;
use querent_app::settings::{Settings, SettingsPatch};
use serde::Deserialize;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// The effective settings.
#[utoipa::path(get, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])),
    responses((status = 200, body = Settings)))]
#[get("/settings")]
pub async fn get(svc: web::Data<Services>, auth: Auth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_settings(&auth.0).await })
            .await?,
    ))
}

/// Changes settings (server admin).
#[utoipa::path(patch, path = "/api/v1/settings", tag = "settings", security(("bearer" = [])), request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[patch("/settings")]
pub async fn update(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<SettingsPatch>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.patch_settings(&auth.0, body.0).await })
            .await?,
    ))
}

/// Audit query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// How many entries (1–500, default 100).
    pub limit: Option<i64>,
}

/// The newest audit entries (server admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "settings", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>), (status = 403, body = ErrorBody)))]
#[get("/audit")]
pub async fn audit(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.recent_audit(&auth.0, q.limit).await })
            .await?,
    ))
}
