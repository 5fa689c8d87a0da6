//! Connections shared by several teams (design §2 `connection_teams`), users managed by a
//! team's API clients, and the lookup of an API client by its secret alone.
//!
//! A connection belongs to one team (its `team_id`, the *owning* team) and may be shared
//! with other teams: their members use it (chat, schema, queries) with their role in their
//! own team, while only the owning team manages it. A *managed* user is an account created
//! by an API client for its team (no password login): the team's admin-scoped clients may
//! issue tokens for it.

use async_trait::async_trait;

use crate::ports::StoreResult;
use crate::{ApiClient, ConnectionId, TeamId, UserId};

/// The `connection_teams` and `managed_users` tables, and API clients by secret hash.
#[async_trait]
pub trait ConnectionShareStore: Send + Sync + 'static {
    /// The teams a connection is shared with (not its owning team), oldest share first.
    async fn connection_teams(&self, connection: ConnectionId) -> StoreResult<Vec<TeamId>>;
    /// Replaces the teams a connection is shared with, in one transaction; `now` stamps the
    /// new shares (kept ones keep their time).
    async fn set_connection_teams(
        &self,
        connection: ConnectionId,
        teams: &[TeamId],
        now: i64,
    ) -> StoreResult<()>;
    /// Records that `user` is managed by the API clients of `team`.
    async fn insert_managed_user(&self, user: UserId, team: TeamId, now: i64) -> StoreResult<()>;
    /// The team whose API clients manage `user`, if any.
    async fn managed_user_team(&self, user: UserId) -> StoreResult<Option<TeamId>>;
    /// The API client whose secret has this SHA-256 hash (hex), with that hash.
    async fn api_client_by_secret_hash(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(ApiClient, String)>>;
}
