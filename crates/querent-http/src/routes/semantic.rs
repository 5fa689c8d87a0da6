//! `/api/v1/connections/{id}/semantic-model`: a connection's semantic model — read, save
//! (validated, versioned, optimistic), delete, draft from the schema, drift against the
//! live schema, and the saved versions.

use actix_web::web::{Path, Query};
use actix_web::{delete, get, post, put};
use querent_app::Paginated;
use querent_app::semantic::{GenerateQuery, SemanticModelQuery, SemanticModelRequest};
use querent_domain::ConnectionId;
use querent_domain::semantic::{DriftReport, SemanticModel, SemanticModelVersion};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json};
use crate::reply::NoContent;

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(get)
        .service(save)
        .service(remove)
        .service(generate)
        .service(drift)
        .service(versions);
}

/// The connection's semantic model: the latest version, or `?version=`.
#[utoipa::path(tag = "semantic", params(SemanticModelQuery),
    responses((status = 200, body = SemanticModel),
        (status = 404, description = "no such connection, no model yet, or no such version", body = ErrorBody)))]
#[get("/connections/{id}/semantic-model")]
pub async fn get(
    caller: Caller,
    id: Path<ConnectionId>,
    q: Query<SemanticModelQuery>,
) -> ApiResult<Json<SemanticModel>> {
    caller
        .reply(|app, actor| async move { app.get_semantic_model(&actor, *id, q.version).await })
        .await
}

/// Saves an edited model as the next version (editor or above). Every table and column it
/// names must exist in the connection's schema snapshot and not be excluded; joins and
/// metric expressions must pass the guard. `version` in the body is the version the edit
/// is based on: if someone saved since, the answer is 409.
#[utoipa::path(tag = "semantic", request_body = SemanticModelRequest,
    responses((status = 200, description = "the saved version", body = SemanticModel),
        (status = 409, description = "the model changed since `version`", body = ErrorBody),
        (status = 422, description = "a reference, join or metric is invalid; `detail` names it and its location", body = ErrorBody)))]
#[put("/connections/{id}/semantic-model")]
pub async fn save(
    caller: Caller,
    id: Path<ConnectionId>,
    body: Json<SemanticModelRequest>,
) -> ApiResult<Json<SemanticModel>> {
    caller
        .reply(|app, actor| async move { app.put_semantic_model(&actor, *id, body.0).await })
        .await
}

/// Deletes every version of the connection's model (editor or above).
#[utoipa::path(tag = "semantic", responses((status = 204, description = "deleted")))]
#[delete("/connections/{id}/semantic-model")]
pub async fn remove(caller: Caller, id: Path<ConnectionId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_semantic_model(&actor, *id).await })
        .await
}

/// Drafts a model from the schema snapshot and sampled values (display names,
/// descriptions from comments, synonyms, join paths, value lists), then — with the team's
/// default LLM provider or `?provider=NAME` — has the model describe the tables and columns
/// (descriptions and synonyms only; `?provider=offline` for rules only). Returned only,
/// unless `?save=true` (editor or above) saves it as the next version.
#[utoipa::path(tag = "semantic", params(GenerateQuery),
    responses((status = 200, description = "the draft (saved when `save=true`)", body = SemanticModel),
        (status = 502, description = "connection_error, or provider_error from a named provider", body = ErrorBody)))]
#[post("/connections/{id}/semantic-model/generate")]
pub async fn generate(
    caller: Caller,
    id: Path<ConnectionId>,
    q: Query<GenerateQuery>,
) -> ApiResult<Json<SemanticModel>> {
    caller
        .reply(|app, actor| async move { app.generate_semantic_model(&actor, *id, &q).await })
        .await
}

/// Reads the live schema again (storing it, like a refresh: editor or above) and reports
/// how it differs from the latest model.
#[utoipa::path(tag = "semantic",
    responses((status = 200, body = DriftReport), (status = 502, description = "connection_error", body = ErrorBody)))]
#[get("/connections/{id}/semantic-model/drift")]
pub async fn drift(caller: Caller, id: Path<ConnectionId>) -> ApiResult<Json<DriftReport>> {
    caller
        .reply(|app, actor| async move { app.semantic_model_drift(&actor, *id).await })
        .await
}

/// The saved versions of the connection's model, newest first (one page).
#[utoipa::path(tag = "semantic", responses((status = 200, body = Paginated<SemanticModelVersion>)))]
#[get("/connections/{id}/semantic-model/versions")]
pub async fn versions(
    caller: Caller,
    id: Path<ConnectionId>,
) -> ApiResult<Json<Paginated<SemanticModelVersion>>> {
    caller
        .reply(|app, actor| async move { app.semantic_model_versions(&actor, *id).await })
        .await
}
