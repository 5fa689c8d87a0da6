//! `/api/v1/providers` (LLM endpoints per team, write-only keys) and `/api/v1/usage`.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, patch, post};
use querent_app::providers::*;
use querent_app::{ListParams, Paginated};
use querent_domain::ProviderId;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(update)
        .service(remove)
        .service(test)
        .service(models)
        .service(usage);
}

/// Registers a provider (team admin). The base URL is checked against the outbound policy:
/// link-local and cloud metadata addresses are refused, private ranges unless allowed by the
/// server's configuration; loopback (Ollama on this machine) is allowed.
#[utoipa::path(tag = "providers", request_body = ProviderRequest,
    responses((status = 201, body = ProviderView), (status = 409, body = ErrorBody)))]
#[post("/providers")]
pub async fn create(
    caller: Caller,
    body: Json<ProviderRequest>,
) -> ApiResult<Created<ProviderView>> {
    caller
        .reply(|app, actor| async move { app.create_provider(&actor, body.0).await })
        .await
}

/// The providers of the caller's teams.
#[utoipa::path(tag = "providers", params(ListParams), responses((status = 200, body = Paginated<ProviderView>)))]
#[get("/providers")]
pub async fn list(
    caller: Caller,
    q: Query<ListParams>,
) -> ApiResult<Json<Paginated<ProviderView>>> {
    caller
        .reply(|app, actor| async move { app.list_providers(&actor, &q).await })
        .await
}

/// One provider.
#[utoipa::path(tag = "providers", responses((status = 200, body = ProviderView)))]
#[get("/providers/{id}")]
pub async fn get(caller: Caller, id: Path<ProviderId>) -> ApiResult<Json<ProviderView>> {
    caller
        .reply(|app, actor| async move { app.get_provider(&actor, *id).await })
        .await
}

/// Changes a provider (team admin); only the fields given change.
#[utoipa::path(tag = "providers", request_body = ProviderUpdate, responses((status = 200, body = ProviderView)))]
#[patch("/providers/{id}")]
pub async fn update(
    caller: Caller,
    id: Path<ProviderId>,
    body: Json<ProviderUpdate>,
) -> ApiResult<Json<ProviderView>> {
    caller
        .reply(|app, actor| async move { app.update_provider(&actor, *id, body.0).await })
        .await
}

/// Deletes a provider (team admin).
#[utoipa::path(tag = "providers", responses((status = 204, description = "deleted")))]
#[delete("/providers/{id}")]
pub async fn remove(caller: Caller, id: Path<ProviderId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_provider(&actor, *id).await })
        .await
}

/// Makes a tiny real call to the provider (editor or above).
#[utoipa::path(tag = "providers", responses((status = 200, body = ProviderTestResult)))]
#[post("/providers/{id}/test")]
pub async fn test(caller: Caller, id: Path<ProviderId>) -> ApiResult<Json<ProviderTestResult>> {
    caller
        .reply(|app, actor| async move { app.test_provider(&actor, *id).await })
        .await
}

/// The models the provider offers (its models endpoint; editor or above).
#[utoipa::path(tag = "providers",
    responses((status = 200, body = ModelList), (status = 502, description = "provider_error", body = ErrorBody)))]
#[get("/providers/{id}/models")]
pub async fn models(caller: Caller, id: Path<ProviderId>) -> ApiResult<Json<ModelList>> {
    caller
        .reply(|app, actor| async move { app.provider_models(&actor, *id).await })
        .await
}

/// Tokens and estimated cost of a team's questions in a period (default: the last 30
/// days), in total and per provider.
#[utoipa::path(tag = "providers", params(UsageQuery), responses((status = 200, body = Usage)))]
#[get("/usage")]
pub async fn usage(caller: Caller, q: Query<UsageQuery>) -> ApiResult<Json<Usage>> {
    caller
        .reply(|app, actor| async move { app.usage(&actor, &q).await })
        .await
}
