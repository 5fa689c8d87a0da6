//! `/api/v1/users` (server administrators).

use actix_web::{HttpResponse, delete, get, patch, post, web};
use querent_app::users::*;
use querent_app::{ListParams, Paginated};
use querent_domain::UserId;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Lists users.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])), params(ListParams),
    responses((status = 200, body = Paginated<UserView>), (status = 403, body = ErrorBody)))]
#[get("/users")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_users(&auth.0, &q).await })
            .await?,
    ))
}

/// Creates a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/users")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_user(&auth.0, body.0).await })
            .await?,
    ))
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
#[get("/users/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_user(&auth.0, *id).await })
            .await?,
    ))
}

/// Changes a user.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])), request_body = UpdateUserRequest,
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/users/{id}")]
pub async fn update(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<UserId>,
    body: Json<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.update_user(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// Deletes a user.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 204, description = "deleted"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[delete("/users/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<UserId>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.delete_user(&auth.0, *id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
