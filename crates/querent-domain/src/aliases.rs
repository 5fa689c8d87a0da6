//! Integer aliases of connections: the `dw_id` ("data workspace" id) by which the Connecty
//! compatibility layer (seed 004) names a connection, also shown on the native connection.
//! One per connection, given when it is created, stable for its life and never reused.

use async_trait::async_trait;

use crate::ConnectionId;
use crate::ports::StoreResult;

/// The `connection_aliases` table: `dw_id` ↔ connection.
#[async_trait]
pub trait ConnectionAliasStore: Send + Sync + 'static {
    /// The aliases of `connections`, in no particular order, giving one to each connection
    /// that has none yet (connections created before aliases existed are backfilled by
    /// the migration; this covers any other path). Unknown connections are left out.
    async fn connection_aliases(
        &self,
        connections: &[ConnectionId],
    ) -> StoreResult<Vec<(ConnectionId, i64)>>;
    /// The connection an alias names, if any.
    async fn connection_by_alias(&self, dw_id: i64) -> StoreResult<Option<ConnectionId>>;
}
