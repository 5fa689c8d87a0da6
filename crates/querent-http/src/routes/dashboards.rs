//! `/api/v1/dashboards`: widgets on a grid, read with their current data.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, patch, post};
use querent_app::dashboards::*;
use querent_app::{ListParams, Paginated};
use querent_domain::DashboardId;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove);
}

/// Creates a dashboard (editor or above); every widget's query must be of its team.
#[utoipa::path(tag = "dashboards", request_body = CreateDashboard,
    responses((status = 201, body = DashboardView),
        (status = 422, description = "invalid widgets or fields", body = ErrorBody)))]
#[post("/dashboards")]
pub async fn create(
    caller: Caller,
    body: Json<CreateDashboard>,
) -> ApiResult<Created<DashboardView>> {
    caller
        .reply(|app, actor| async move { app.create_dashboard(&actor, &body.0).await })
        .await
}

/// The dashboards of the caller's teams (configurations, without data).
#[utoipa::path(tag = "dashboards", params(ListParams),
    responses((status = 200, body = Paginated<DashboardView>)))]
#[get("/dashboards")]
pub async fn list(
    caller: Caller,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<DashboardView>>> {
    caller
        .reply(|app, actor| async move { app.list_dashboards(&actor, &params).await })
        .await
}

/// A dashboard with each widget's current data (computed concurrently, served from a
/// result cache for `refresh_seconds`); a failing widget carries its own `error`.
#[utoipa::path(tag = "dashboards", params(DashboardParams),
    responses((status = 200, body = DashboardView),
        (status = 404, description = "no such dashboard", body = ErrorBody)))]
#[get("/dashboards/{id}")]
pub async fn get(
    caller: Caller,
    id: Path<DashboardId>,
    params: Query<DashboardParams>,
) -> ApiResult<Json<DashboardView>> {
    caller
        .reply(|app, actor| async move { app.get_dashboard(&actor, *id, &params).await })
        .await
}

/// Changes a dashboard (editor or above): name, description, cache lifetime, every
/// widget (`widgets`) or only their places (`layout`).
#[utoipa::path(tag = "dashboards", request_body = UpdateDashboard,
    responses((status = 200, body = DashboardView),
        (status = 404, description = "no such dashboard", body = ErrorBody),
        (status = 422, description = "invalid widgets or fields", body = ErrorBody)))]
#[patch("/dashboards/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<DashboardId>,
    body: Json<UpdateDashboard>,
) -> ApiResult<Json<DashboardView>> {
    caller
        .reply(|app, actor| async move { app.update_dashboard(&actor, *id, &body.0).await })
        .await
}

/// Deletes a dashboard (editor or above).
#[utoipa::path(tag = "dashboards", responses((status = 204, description = "deleted"),
    (status = 404, description = "no such dashboard", body = ErrorBody)))]
#[delete("/dashboards/{id}")]
pub async fn remove(caller: Caller, id: Path<DashboardId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_dashboard(&actor, *id).await })
        .await
}
