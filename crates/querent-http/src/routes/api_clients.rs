//! `/api/v1/api-clients`: machine credentials per team.

use actix_web::{HttpResponse, delete, get, post, web};
use querent_app::api_clients::*;
use querent_domain::ApiClientId;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Creates an API client; the secret is in this response only.
#[utoipa::path(post, path = "/api/v1/api-clients", tag = "api-clients", security(("bearer" = [])),
    request_body = CreateApiClientRequest,
    responses((status = 201, body = ApiClientCreated), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/api-clients")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<CreateApiClientRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_api_client(&auth.0, body.0).await })
            .await?,
    ))
}

/// The API clients of the teams the caller administers.
#[utoipa::path(get, path = "/api/v1/api-clients", tag = "api-clients", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApiClientView>)))]
#[get("/api-clients")]
pub async fn list(svc: web::Data<Services>, auth: Auth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_api_clients(&auth.0).await })
            .await?,
    ))
}

/// Revokes an API client.
#[utoipa::path(delete, path = "/api/v1/api-clients/{id}", tag = "api-clients", security(("bearer" = [])),
    params(("id" = String, Path, description = "client id")),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)))]
#[delete("/api-clients/{id}")]
pub async fn revoke(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ApiClientId>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.revoke_api_client(&auth.0, *id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
