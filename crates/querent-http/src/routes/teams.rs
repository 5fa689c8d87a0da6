//! `/api/v1/teams` and memberships.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, post};
use querent_app::teams::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{TeamId, UserId};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(remove)
        .service(set_member)
        .service(remove_member);
}

/// The caller's teams (server admins: all).
#[utoipa::path(tag = "teams", params(ListParams), responses((status = 200, body = Paginated<TeamView>)))]
#[get("/teams")]
pub async fn list(caller: Caller, q: Query<ListParams>) -> ApiResult<Json<Paginated<TeamView>>> {
    caller
        .reply(|app, actor| async move { app.list_teams(&actor, &q).await })
        .await
}

/// Creates a team (server admin); the creator owns it.
#[utoipa::path(tag = "teams", request_body = CreateTeamRequest,
    responses((status = 201, body = TeamView), (status = 409, body = ErrorBody)))]
#[post("/teams")]
pub async fn create(caller: Caller, body: Json<CreateTeamRequest>) -> ApiResult<Created<TeamView>> {
    caller
        .reply(|app, actor| async move { app.create_team(&actor, body.0).await })
        .await
}

/// A team with its members.
#[utoipa::path(tag = "teams", responses((status = 200, body = TeamDetail)))]
#[get("/teams/{id}")]
pub async fn get(caller: Caller, id: Path<TeamId>) -> ApiResult<Json<TeamDetail>> {
    caller
        .reply(|app, actor| async move { app.get_team(&actor, *id).await })
        .await
}

/// Deletes a team and everything it owns.
#[utoipa::path(tag = "teams", responses((status = 204, description = "deleted")))]
#[delete("/teams/{id}")]
pub async fn remove(caller: Caller, id: Path<TeamId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_team(&actor, *id).await })
        .await
}

/// Adds a member or changes their role.
#[utoipa::path(tag = "teams", request_body = MemberRequest,
    responses((status = 200, body = MemberView), (status = 409, body = ErrorBody)))]
#[post("/teams/{id}/members/{user_id}")]
pub async fn set_member(
    caller: Caller,
    path: Path<(TeamId, UserId)>,
    body: Json<MemberRequest>,
) -> ApiResult<Json<MemberView>> {
    let (team, user) = path.into_inner();
    caller
        .reply(|app, actor| async move { app.set_member(&actor, team, user, body.0).await })
        .await
}

/// Removes a member.
#[utoipa::path(tag = "teams", responses((status = 204, description = "removed"), (status = 409, body = ErrorBody)))]
#[delete("/teams/{id}/members/{user_id}")]
pub async fn remove_member(caller: Caller, path: Path<(TeamId, UserId)>) -> ApiResult<NoContent> {
    let (team, user) = path.into_inner();
    caller
        .reply(|app, actor| async move { app.remove_member(&actor, team, user).await })
        .await
}
