//! `/api/v1/cache`: the semantic cache's figures and entries.

use actix_web::{HttpResponse, delete, get, web};
use querent_app::cache::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{CacheEntryId, ConnectionId};
use serde::Deserialize;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Auth;

/// `?connection_id=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ConnectionFilter {
    /// Only this connection (default: every connection of the caller's teams).
    #[param(value_type = Option<String>)]
    pub connection_id: Option<ConnectionId>,
}

/// `?connection_id=` (required).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConnectionParam {
    /// The connection whose cache to clear.
    #[param(value_type = String)]
    pub connection_id: ConnectionId,
}

/// Hits (exact and similar), misses, hit ratio and size, per connection and in total.
#[utoipa::path(get, path = "/api/v1/cache/stats", tag = "cache", security(("bearer" = [])),
    params(ConnectionFilter), responses((status = 200, body = CacheStatsView), (status = 404, body = ErrorBody)))]
#[get("/cache/stats")]
pub async fn stats(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ConnectionFilter>,
) -> ApiResult<HttpResponse> {
    let conn = q.connection_id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.cache_stats(&auth.0, conn).await })
            .await?,
    ))
}

/// The cached answers (editor or above): question, SQL, scope, hits, expiry.
#[utoipa::path(get, path = "/api/v1/cache/entries", tag = "cache", security(("bearer" = [])),
    params(ConnectionFilter, ListParams),
    responses((status = 200, body = Paginated<CacheEntryView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/cache/entries")]
pub async fn entries(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ConnectionFilter>,
    params: web::Query<ListParams>,
) -> ApiResult<HttpResponse> {
    let conn = q.connection_id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.cache_entries(&auth.0, conn, &params).await })
            .await?,
    ))
}

/// Removes one cached answer (editor or above).
#[utoipa::path(delete, path = "/api/v1/cache/entries/{id}", tag = "cache", security(("bearer" = [])),
    params(("id" = String, Path, description = "cache entry id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[delete("/cache/entries/{id}")]
pub async fn remove_entry(
    svc: web::Data<Services>,
    auth: Auth,
    id: web::Path<CacheEntryId>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    svc.call(move |app| async move { app.delete_cache_entry(&auth.0, id).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Clears a connection's cache (editor or above).
#[utoipa::path(delete, path = "/api/v1/cache", tag = "cache", security(("bearer" = [])),
    params(ConnectionParam),
    responses((status = 200, body = CacheCleared), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[delete("/cache")]
pub async fn clear(
    svc: web::Data<Services>,
    auth: Auth,
    q: web::Query<ConnectionParam>,
) -> ApiResult<HttpResponse> {
    let conn = q.connection_id;
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.clear_connection_cache(&auth.0, conn).await })
            .await?,
    ))
}
