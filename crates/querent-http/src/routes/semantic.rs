//! `/api/v1/connections/{id}/semantic-model`: a connection's semantic model — read, save
//! (validated, versioned, optimistic), delete, draft from the schema, drift against the
//! live schema, and the saved versions.

use actix_web::{HttpResponse, delete, get, post, put, web};
use querent_app::Paginated;
use querent_app::semantic::{GenerateQuery, SemanticModelQuery, SemanticModelRequest};
use querent_domain::ConnectionId;
use querent_domain::semantic::{DriftReport, SemanticModel, SemanticModelVersion};

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json};

/// The connection's semantic model: the latest version, or `?version=`.
#[utoipa::path(get, path = "/api/v1/connections/{id}/semantic-model", tag = "semantic", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id"), SemanticModelQuery),
    responses((status = 200, body = SemanticModel),
        (status = 404, description = "no such connection, no model yet, or no such version", body = ErrorBody)))]
#[get("/connections/{id}/semantic-model")]
pub async fn get(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    q: web::Query<SemanticModelQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.get_semantic_model(&auth.0, *id, q.version).await })
            .await?,
    ))
}

/// Saves an edited model as the next version (editor or above). Every table and column it
/// names must exist in the connection's schema snapshot and not be excluded; joins and
/// metric expressions must pass the guard. `version` in the body is the version the edit
/// is based on: if someone saved since, the answer is 409.
#[utoipa::path(put, path = "/api/v1/connections/{id}/semantic-model", tag = "semantic", security(("bearer" = [])),
    request_body = SemanticModelRequest, params(("id" = String, Path, description = "connection id")),
    responses((status = 200, description = "the saved version", body = SemanticModel), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "the model changed since `version`", body = ErrorBody),
        (status = 422, description = "a reference, join or metric is invalid; `detail` names it and its location", body = ErrorBody)))]
#[put("/connections/{id}/semantic-model")]
pub async fn save(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    body: Json<SemanticModelRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.put_semantic_model(&auth.0, *id, body.0).await })
            .await?,
    ))
}

/// Deletes every version of the connection's model (editor or above).
#[utoipa::path(delete, path = "/api/v1/connections/{id}/semantic-model", tag = "semantic", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/connections/{id}/semantic-model")]
pub async fn remove(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.delete_semantic_model(&auth.0, *id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Drafts a model from the schema snapshot and sampled values (display names,
/// descriptions from comments, synonyms, join paths, value lists), then — with the team's
/// default LLM provider or `?provider=NAME` — has the model describe the tables and columns
/// (descriptions and synonyms only; `?provider=offline` for rules only). Returned only,
/// unless `?save=true` (editor or above) saves it as the next version.
#[utoipa::path(post, path = "/api/v1/connections/{id}/semantic-model/generate", tag = "semantic", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id"), GenerateQuery),
    responses((status = 200, description = "the draft (saved when `save=true`)", body = SemanticModel),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 502, description = "connection_error, or provider_error from a named provider", body = ErrorBody)))]
#[post("/connections/{id}/semantic-model/generate")]
pub async fn generate(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
    q: web::Query<GenerateQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.generate_semantic_model(&auth.0, *id, &q).await })
            .await?,
    ))
}

/// Reads the live schema again (storing it, like a refresh: editor or above) and reports
/// how it differs from the latest model.
#[utoipa::path(get, path = "/api/v1/connections/{id}/semantic-model/drift", tag = "semantic", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = DriftReport), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, description = "connection_error", body = ErrorBody)))]
#[get("/connections/{id}/semantic-model/drift")]
pub async fn drift(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.semantic_model_drift(&auth.0, *id).await })
            .await?,
    ))
}

/// The saved versions of the connection's model, newest first (one page).
#[utoipa::path(get, path = "/api/v1/connections/{id}/semantic-model/versions", tag = "semantic", security(("bearer" = [])),
    params(("id" = String, Path, description = "connection id")),
    responses((status = 200, body = Paginated<SemanticModelVersion>), (status = 404, body = ErrorBody)))]
#[get("/connections/{id}/semantic-model/versions")]
pub async fn versions(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<ConnectionId>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.semantic_model_versions(&auth.0, *id).await })
            .await?,
    ))
}
