//! Integer aliases of connections (`connection_aliases`): the `dw_id` of the Connecty
//! compatibility layer. The database numbers them (SQLite `AUTOINCREMENT`, a PostgreSQL
//! identity column), so an alias is never reused, and the row dies with its connection.

use crate::statements::KeptDsl;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use querent_domain::ConnectionId;
use querent_domain::aliases::ConnectionAliasStore;

use crate::schema::{connection_aliases, connections};
use crate::{DbError, Store, StoreResult};

fn parse(rows: Vec<(i64, String)>) -> Result<Vec<(ConnectionId, i64)>, DbError> {
    rows.into_iter()
        .map(|(dw_id, id)| {
            id.parse::<ConnectionId>()
                .map(|c| (c, dw_id))
                .map_err(|_| DbError::corrupt(format!("connection alias: connection id `{id}`")))
        })
        .collect()
}

#[async_trait::async_trait]
impl ConnectionAliasStore for Store {
    async fn connection_aliases(
        &self,
        connections: &[ConnectionId],
    ) -> StoreResult<Vec<(ConnectionId, i64)>> {
        if connections.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = connections.iter().map(ToString::to_string).collect();
        with_write!(self, c => {
            // Owned by this run of the unit of work (it may run twice, `with_conn!`).
            let ids = ids.clone();
            let load = |ids: Vec<String>| {
                connection_aliases::table
                    .filter(connection_aliases::connection_id.eq_any(ids))
                    .select((connection_aliases::dw_id, connection_aliases::connection_id))
            };
            let found: Vec<(i64, String)> = load(ids.clone()).load(c).await?;
            if found.len() == ids.len() {
                return parse(found);
            }
            // Give the missing ones theirs, oldest connection first; a concurrent writer
            // giving the same one wins without harm (the UNIQUE connection_id).
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !found.iter().any(|(_, f)| f == *id))
                .cloned()
                .collect();
            let known: Vec<String> = connections::table
                .filter(connections::id.eq_any(missing))
                .order((connections::created_at.asc(), connections::id.asc()))
                .select(connections::id)
                .load(c)
                .await?;
            for id in known {
                diesel::insert_into(connection_aliases::table)
                    .values(connection_aliases::connection_id.eq(id))
                    .on_conflict(connection_aliases::connection_id)
                    .do_nothing()
                    .execute(c)
                    .await?;
            }
            parse(load(ids).load(c).await?)
        })
    }

    async fn connection_by_alias(&self, dw_id: i64) -> StoreResult<Option<ConnectionId>> {
        with_conn!(self, c => {
            let id: Option<String> = connection_aliases::table
                .filter(connection_aliases::dw_id.eq(dw_id))
                .select(connection_aliases::connection_id)
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            id.map(|id| {
                id.parse::<ConnectionId>()
                    .map_err(|_| DbError::corrupt(format!("connection alias {dw_id}: `{id}`")))
            })
            .transpose()
        })
    }
}
