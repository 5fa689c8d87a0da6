//! Connections shared by several teams (`connection_teams`), users managed by a team's API
//! clients (`managed_users`) and API clients found by their secret's hash.

use crate::statements::KeptDsl;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection as _, RunQueryDsl};
use querent_domain::sharing::ConnectionShareStore;
use querent_domain::{ApiClient, ConnectionId, TeamId, UserId};

use crate::models::{ApiClientRow, parse};
use crate::schema::{api_clients, connections};
use crate::{DbError, Store, StoreResult};

diesel::table! {
    /// The teams a connection is shared with, besides its owning team.
    connection_teams (connection_id, team_id) {
        /// The connection.
        connection_id -> Text,
        /// A team it is shared with.
        team_id -> Text,
        /// When it was shared.
        added_at -> BigInt,
    }
}

diesel::table! {
    /// Users managed by a team's API clients.
    managed_users (user_id) {
        /// The user.
        user_id -> Text,
        /// The managing team.
        team_id -> Text,
        /// When it was created.
        created_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(connection_teams, connections);

#[async_trait::async_trait]
impl ConnectionShareStore for Store {
    async fn connection_teams(&self, connection: ConnectionId) -> StoreResult<Vec<TeamId>> {
        with_conn!(self, c => {
            let rows: Vec<String> = connection_teams::table
                .filter(connection_teams::connection_id.eq(connection.to_string()))
                .order((connection_teams::added_at.asc(), connection_teams::team_id.asc()))
                .select(connection_teams::team_id)
                .load(c)
                .await?;
            rows.iter().map(|t| parse("team id", t)).collect()
        })
    }

    async fn set_connection_teams(
        &self,
        connection: ConnectionId,
        teams: &[TeamId],
        now: i64,
    ) -> StoreResult<()> {
        let conn_id = connection.to_string();
        let wanted: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        with_write!(self, c => {
            let conn_id = conn_id.clone();
            let wanted = wanted.clone();
            c.transaction::<_, DbError, _>(async |c| {
                diesel::delete(
                    connection_teams::table
                        .filter(connection_teams::connection_id.eq(&conn_id))
                        .filter(connection_teams::team_id.ne_all(&wanted)),
                )
                .execute(c)
                .await?;
                let have: Vec<String> = connection_teams::table
                    .filter(connection_teams::connection_id.eq(&conn_id))
                    .select(connection_teams::team_id)
                    .load(c)
                    .await?;
                for team in wanted.iter().filter(|t| !have.contains(t)) {
                    diesel::insert_into(connection_teams::table)
                        .values((
                            connection_teams::connection_id.eq(&conn_id),
                            connection_teams::team_id.eq(team),
                            connection_teams::added_at.eq(now),
                        ))
                        .execute(c)
                        .await?;
                }
                Ok(())
            })
            .await
        })
    }

    async fn insert_managed_user(&self, user: UserId, team: TeamId, now: i64) -> StoreResult<()> {
        with_write!(self, c => {
            diesel::insert_into(managed_users::table)
                .values((
                    managed_users::user_id.eq(user.to_string()),
                    managed_users::team_id.eq(team.to_string()),
                    managed_users::created_at.eq(now),
                ))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    async fn managed_user_team(&self, user: UserId) -> StoreResult<Option<TeamId>> {
        with_conn!(self, c => {
            let team: Option<String> = managed_users::table
                .find(user.to_string())
                .select(managed_users::team_id)
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            team.map(|t| parse("team id", &t)).transpose()
        })
    }

    async fn api_client_by_secret_hash(
        &self,
        hash: &str,
    ) -> StoreResult<Option<(ApiClient, String)>> {
        with_conn!(self, c => {
            let row: Option<ApiClientRow> = api_clients::table
                .filter(api_clients::secret_hash.eq(hash))
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            row.map(ApiClientRow::into_domain).transpose()
        })
    }
}
