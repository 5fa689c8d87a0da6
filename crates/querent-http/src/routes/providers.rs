//! `/api/v1/providers` (LLM endpoints per team, write-only keys) and `/api/v1/usage`.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use querent_app::providers::*;
use querent_app::{ListParams, Paginated};
use querent_domain::ProviderId;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// Registers a provider (team admin). The base URL is checked against the outbound policy:
/// link-local and cloud metadata addresses are refused, private ranges unless allowed by the
/// server's configuration; loopback (Ollama on this machine) is allowed.
#[utoipa::path(post, path = "/api/v1/providers", tag = "providers", security(("bearer" = [])),
    request_body = ProviderRequest,
    responses((status = 201, body = ProviderView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[post("/providers")]
pub async fn create(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<ProviderRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.create_provider(&auth.0, body.0).await })
            .await?,
    ))
}

/// The providers of the caller's teams.
#[utoipa::path(get, path = "/api/v1/providers", tag = "providers", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = Paginated<ProviderView>)))]
#[get("/providers")]
pub async fn list(
    svc: web::Data<Services>,
    auth: Auth,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.list_providers(&auth.0, &params).await })
            .await?,
    ))
}

/// One provider.
#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "providers", security(("bearer" = [])),
    params(("id" = String, Path, description = "provider id")),
    responses((status = 200, body = ProviderView), (status = 404, body = ErrorBody)))]
#[get("/providers/{id}")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ProviderId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_provider(&auth.0, id).await })
            .await?,
    ))
}

/// Changes a provider (team admin); only the fields given change.
#[utoipa::path(patch, path = "/api/v1/providers/{id}", tag = "providers", security(("bearer" = [])),
    params(("id" = String, Path, description = "provider id")), request_body = ProviderUpdate,
    responses((status = 200, body = ProviderView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[patch("/providers/{id}")]
pub async fn update(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ProviderId>,
    body: Json<ProviderUpdate>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.update_provider(&auth.0, id, body.0).await })
            .await?,
    ))
}

/// Deletes a provider (team admin).
#[utoipa::path(delete, path = "/api/v1/providers/{id}", tag = "providers", security(("bearer" = [])),
    params(("id" = String, Path, description = "provider id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/providers/{id}")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ProviderId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    svc.call(move |app| async move { app.delete_provider(&auth.0, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a tiny real call to the provider (editor or above).
#[utoipa::path(post, path = "/api/v1/providers/{id}/test", tag = "providers", security(("bearer" = [])),
    params(("id" = String, Path, description = "provider id")),
    responses((status = 200, body = ProviderTestResult), (status = 404, body = ErrorBody)))]
#[post("/providers/{id}/test")]
pub async fn test(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ProviderId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.test_provider(&auth.0, id).await })
            .await?,
    ))
}

/// The models the provider offers (its models endpoint; editor or above).
#[utoipa::path(get, path = "/api/v1/providers/{id}/models", tag = "providers", security(("bearer" = [])),
    params(("id" = String, Path, description = "provider id")),
    responses((status = 200, body = ModelList), (status = 404, body = ErrorBody),
        (status = 502, description = "provider_error", body = ErrorBody)))]
#[get("/providers/{id}/models")]
pub async fn models(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ProviderId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.provider_models(&auth.0, id).await })
            .await?,
    ))
}

/// Tokens and estimated cost of a team's questions in a period (default: the last 30
/// days), in total and per provider.
#[utoipa::path(get, path = "/api/v1/usage", tag = "providers", security(("bearer" = [])),
    params(UsageQuery), responses((status = 200, body = Usage), (status = 422, body = ErrorBody)))]
#[get("/usage")]
pub async fn usage(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<UsageQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.usage(&auth.0, &q).await })
            .await?,
    ))
}
