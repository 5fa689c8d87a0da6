//! Integer aliases of connections (`dw_id`): every connection has one, given when it is
//! created (or, for a connection that somehow has none, when it is first shown), stable for
//! its life and never reused. The native connection shows it; the Connecty compatibility
//! layer (seed 004) names connections ("data workspaces") by it. Resolving an alias goes
//! through the normal access check: another team's alias is `not_found`, exactly like an
//! alias nobody has.

use std::collections::HashMap;

use querent_domain::ports::Page;
use querent_domain::{Connection, ConnectionId, TeamRole};
use serde::Serialize;

use crate::connections::ConnectionView;
use crate::{Actor, App, ServiceError, ServiceResult};

/// A connection by its integer alias and name (Connecty's data workspace).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataWorkspace {
    /// The connection's integer alias.
    pub dw_id: i64,
    /// The connection's id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The connection's name.
    pub name: String,
}

impl App {
    /// The aliases of `connections` (given to any that has none yet).
    pub(crate) async fn dw_ids(
        &self,
        connections: &[ConnectionId],
    ) -> ServiceResult<HashMap<ConnectionId, i64>> {
        Ok(self
            .store()
            .connection_aliases(connections)
            .await?
            .into_iter()
            .collect())
    }

    /// A connection's view, with its alias.
    pub(crate) async fn connection_view(&self, c: Connection) -> ServiceResult<ConnectionView> {
        let ids = self.dw_ids(&[c.id]).await?;
        let dw_id = ids
            .get(&c.id)
            .copied()
            .ok_or_else(|| ServiceError::internal(format!("connection {} has no dw_id", c.id)))?;
        Ok(ConnectionView::new(c, dw_id))
    }

    /// The connections the caller can see (viewer or above), by alias, oldest alias first.
    pub async fn data_workspaces(&self, actor: &Actor) -> ServiceResult<Vec<DataWorkspace>> {
        let teams = self.visible_teams(actor).await?;
        let mut all: Vec<Connection> = Vec::new();
        let mut page = Page::first(500);
        loop {
            let rows = self.store().list_connections(&teams, &page).await?;
            let last = rows.last().map(|c| c.id.to_string());
            let full = rows.len() as i64 == page.limit;
            all.extend(rows);
            match last {
                Some(after) if full => page.after = Some(after),
                _ => break,
            }
        }
        let ids = self
            .dw_ids(&all.iter().map(|c| c.id).collect::<Vec<_>>())
            .await?;
        let mut out: Vec<DataWorkspace> = all
            .into_iter()
            .filter_map(|c| {
                ids.get(&c.id).map(|dw_id| DataWorkspace {
                    dw_id: *dw_id,
                    connection_id: c.id,
                    name: c.name,
                })
            })
            .collect();
        out.sort_by_key(|d| d.dw_id);
        Ok(out)
    }

    /// The connection an alias names, if the caller may use it (viewer or above);
    /// `not_found` otherwise — another team's alias looks like one nobody has.
    pub async fn connection_by_dw_id(
        &self,
        actor: &Actor,
        dw_id: i64,
    ) -> ServiceResult<ConnectionId> {
        let id = self
            .store()
            .connection_by_alias(dw_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("data workspace"))?;
        self.load_connection(actor, id, TeamRole::Viewer)
            .await
            .map_err(|e| match e.code {
                querent_domain::ErrorCode::NotFound => ServiceError::not_found("data workspace"),
                _ => e,
            })?;
        Ok(id)
    }
}
