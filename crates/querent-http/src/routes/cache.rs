//! `/api/v1/cache`: the semantic cache's figures and entries.

use actix_web::web::{Path, Query};
use actix_web::{delete, get};
use querent_app::cache::*;
use querent_app::{ListParams, Paginated};
use querent_domain::{CacheEntryId, ConnectionId};
use serde::Deserialize;

use crate::error::ApiResult;
use crate::extract::{Caller, Json};
use crate::reply::NoContent;

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(stats)
        .service(entries)
        .service(remove_entry)
        .service(clear);
}

/// `?connection_id=`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionFilter {
    /// Only this connection (default: every connection of the caller's teams).
    pub connection_id: Option<ConnectionId>,
}

/// `?connection_id=` (required).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConnectionParam {
    /// The connection whose cache to clear.
    pub connection_id: ConnectionId,
}

/// Hits (exact and similar), misses, hit ratio and size, per connection and in total.
#[utoipa::path(tag = "cache", params(ConnectionFilter), responses((status = 200, body = CacheStatsView)))]
#[get("/cache/stats")]
pub async fn stats(caller: Caller, q: Query<ConnectionFilter>) -> ApiResult<Json<CacheStatsView>> {
    caller
        .reply(|app, actor| async move { app.cache_stats(&actor, q.connection_id).await })
        .await
}

/// The cached answers (editor or above): question, SQL, scope, hits, expiry.
#[utoipa::path(tag = "cache", params(ConnectionFilter, ListParams),
    responses((status = 200, body = Paginated<CacheEntryView>)))]
#[get("/cache/entries")]
pub async fn entries(
    caller: Caller,
    q: Query<ConnectionFilter>,
    params: Query<ListParams>,
) -> ApiResult<Json<Paginated<CacheEntryView>>> {
    caller
        .reply(
            |app, actor| async move { app.cache_entries(&actor, q.connection_id, &params).await },
        )
        .await
}

/// Removes one cached answer (editor or above).
#[utoipa::path(tag = "cache", responses((status = 204, description = "removed")))]
#[delete("/cache/entries/{id}")]
pub async fn remove_entry(caller: Caller, id: Path<CacheEntryId>) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.delete_cache_entry(&actor, *id).await })
        .await
}

/// Clears a connection's cache (editor or above).
#[utoipa::path(tag = "cache", params(ConnectionParam), responses((status = 200, body = CacheCleared)))]
#[delete("/cache")]
pub async fn clear(caller: Caller, q: Query<ConnectionParam>) -> ApiResult<Json<CacheCleared>> {
    caller
        .reply(
            |app, actor| async move { app.clear_connection_cache(&actor, q.connection_id).await },
        )
        .await
}
