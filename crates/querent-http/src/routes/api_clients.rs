//! `/api/v1/api-clients`: machine credentials per team.

use actix_web::web::Path;
use actix_web::{delete, get, post};
use querent_app::api_clients::*;
use querent_domain::ApiClientId;

use crate::error::ApiResult;
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create).service(list).service(revoke);
}

/// Creates an API client; the secret is in this response only.
#[utoipa::path(tag = "api-clients", request_body = CreateApiClientRequest,
    responses((status = 201, body = ApiClientCreated)))]
#[post("/api-clients")]
pub async fn create(
    caller: Caller,
    body: Json<CreateApiClientRequest>,
) -> ApiResult<Created<ApiClientCreated>> {
    caller
        .reply(|app, actor| async move { app.create_api_client(&actor, body.0).await })
        .await
}

/// The API clients of the teams the caller administers.
#[utoipa::path(tag = "api-clients", responses((status = 200, body = Vec<ApiClientView>)))]
#[get("/api-clients")]
pub async fn list(caller: Caller) -> ApiResult<Json<Vec<ApiClientView>>> {
    caller
        .reply(|app, actor| async move { app.list_api_clients(&actor).await })
        .await
}

/// Revokes an API client.
#[utoipa::path(tag = "api-clients", responses((status = 204, description = "revoked")))]
#[delete("/api-clients/{id}")]
pub async fn revoke(caller: Caller, id: Path<ApiClientId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.revoke_api_client(&actor, *id).await })
        .await
}
