//! `/api/v1/teams` and memberships.

use actix_web::{HttpResponse, delete, get, post, web};
use querent_app::teams::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{TeamId, UserId};

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// The caller's teams (server admins: all).
#[utoipa::path(get, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Paginated<TeamView>)))]
#[get("/teams")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_teams(&auth.0, &q).await })
            .await?,
    ))
}

/// Creates a team (server admin); the creator owns it.
#[utoipa::path(post, path = "/api/v1/teams", tag = "teams", security(("bearer" = [])), request_body = CreateTeamRequest,
    responses((status = 201, body = TeamView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/teams")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<CreateTeamRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_team(&auth.0, body.0).await })
            .await?,
    ))
}

/// A team with its members.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "team id")),
    responses((status = 200, body = TeamDetail), (status = 404, body = ErrorBody)))]
#[get("/teams/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<TeamId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_team(&auth.0, *id).await })
            .await?,
    ))
}

/// Deletes a team and everything it owns.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "team id")),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/teams/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<TeamId>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.delete_team(&auth.0, *id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a member or changes their role.
#[utoipa::path(post, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams", security(("bearer" = [])),
    request_body = MemberRequest,
    params(("id" = String, Path, description = "team id"), ("user_id" = String, Path, description = "user id")),
    responses((status = 200, body = MemberView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/teams/{id}/members/{user_id}")]
pub async fn set_member(
    svc: web::Data<Services>,
    auth: Auth,
    path: web::Path<(TeamId, UserId)>,
    body: Json<MemberRequest>,
) -> ApiResult<HttpResponse> {
    let (team, user) = path.into_inner();
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.set_member(&auth.0, team, user, body.0).await })
            .await?,
    ))
}

/// Removes a member.
#[utoipa::path(delete, path = "/api/v1/teams/{id}/members/{user_id}", tag = "teams", security(("bearer" = [])),
    params(("id" = String, Path, description = "team id"), ("user_id" = String, Path, description = "user id")),
    responses((status = 204, description = "removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/teams/{id}/members/{user_id}")]
pub async fn remove_member(
    svc: web::Data<Services>,
    auth: Auth,
    path: web::Path<(TeamId, UserId)>,
) -> ApiResult<HttpResponse> {
    let (team, user) = path.into_inner();
    svc.call(move |app| async move { app.remove_member(&auth.0, team, user).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
