//! `/api/v1/users` (server administrators).

use actix_web::web::{Path, Query};
use actix_web::{delete, get, patch, post};
use querent_app::users::*;
use querent_app::{ListParams, Paginated};
use querent_domain::UserId;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(list)
        .service(create)
        .service(get)
        .service(update)
        .service(remove);
}

/// Lists users.
#[utoipa::path(tag = "users", params(ListParams), responses((status = 200, body = Paginated<UserView>)))]
#[get("/users")]
pub async fn list(caller: Caller, q: Query<ListParams>) -> ApiResult<Json<Paginated<UserView>>> {
    caller
        .reply(|app, actor| async move { app.list_users(&actor, &q).await })
        .await
}

/// Creates a user.
#[utoipa::path(tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 409, description = "the username is taken", body = ErrorBody)))]
#[post("/users")]
pub async fn create(caller: Caller, body: Json<CreateUserRequest>) -> ApiResult<Created<UserView>> {
    caller
        .reply(|app, actor| async move { app.create_user(&actor, body.0).await })
        .await
}

/// One user.
#[utoipa::path(tag = "users", responses((status = 200, body = UserView)))]
#[get("/users/{id}")]
pub async fn get(caller: Caller, id: Path<UserId>) -> ApiResult<Json<UserView>> {
    caller
        .reply(|app, actor| async move { app.get_user(&actor, *id).await })
        .await
}

/// Changes a user.
#[utoipa::path(tag = "users", request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 409, body = ErrorBody)))]
#[patch("/users/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<UserId>,
    body: Json<UpdateUserRequest>,
) -> ApiResult<Json<UserView>> {
    caller
        .reply(|app, actor| async move { app.update_user(&actor, *id, body.0).await })
        .await
}

/// Deletes a user.
#[utoipa::path(tag = "users", responses((status = 204, description = "deleted"), (status = 409, body = ErrorBody)))]
#[delete("/users/{id}")]
pub async fn remove(caller: Caller, id: Path<UserId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_user(&actor, *id).await })
        .await
}
