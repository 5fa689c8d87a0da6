//! `/api/v1/settings` and `/api/v1/audit`.

use actix_web::web::Query;
use actix_web::{get, patch};
use querent_app::audit::AuditView;
use querent_app::settings::{Settings, SettingsPatch};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Caller, Json};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(get).service(update).service(audit);
}

/// The effective settings.
#[utoipa::path(tag = "settings", responses((status = 200, body = Settings)))]
#[get("/settings")]
pub async fn get(caller: Caller) -> ApiResult<Json<Settings>> {
    caller
        .reply(|app, actor| async move { app.get_settings(&actor).await })
        .await
}

/// Changes settings (server admin).
#[utoipa::path(tag = "settings", request_body = SettingsPatch, responses((status = 200, body = Settings)))]
#[patch("/settings")]
pub async fn update(caller: Caller, body: Json<SettingsPatch>) -> ApiResult<Json<Settings>> {
    caller
        .reply(|app, actor| async move { app.patch_settings(&actor, body.0).await })
        .await
}

/// Audit query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many entries (1–500, default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The newest audit entries (server admin).
#[utoipa::path(tag = "settings", params(AuditQuery), responses((status = 200, body = Vec<AuditView>)))]
#[get("/audit")]
pub async fn audit(caller: Caller, q: Query<AuditQuery>) -> ApiResult<Json<Vec<AuditView>>> {
    caller
        .reply(|app, actor| async move { app.recent_audit(&actor, q.limit).await })
        .await
}
