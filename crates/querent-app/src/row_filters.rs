//! Row filters (`GET/PUT /connections/{id}/row-filters`): per table, a predicate and whom
//! it applies to (a team, a role, or everyone but owners and admins). They are stored with
//! the connection; when a connection is loaded for someone (`App::connection_access`) the
//! filters that apply to them go into its policy, and the guard applies them inside the
//! derived table that replaces every reference to the table — on every path that runs SQL
//! (chat, `/sql/run`, saved queries, dashboards, exports, workflows, the compatibility
//! layers), and as part of the semantic cache's scope and the widget cache's key.

use querent_domain::{
    ConnectionId, PrivacyPolicy, RowFilter, RowFilterAudience, RowFilterRule, TeamRole,
};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, ServiceError, ServiceResult};

/// A connection's row filters.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RowFilters {
    /// Each filter, its table, predicate and audience. Several filters on one table all
    /// apply (their predicates are combined with AND).
    pub filters: Vec<RowFilterRule>,
}

/// The most filters a connection may have.
const MAX_FILTERS: usize = 200;
/// The longest predicate, in bytes.
const MAX_PREDICATE_BYTES: usize = 4096;

/// Whether `table` is a plain `name` or `schema.name` (letters, digits, `_`, `$`).
fn plain_table_name(table: &str) -> bool {
    let part = |p: &str| {
        let mut chars = p.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    match table.split_once('.') {
        Some((schema, name)) => part(schema) && part(name),
        None => part(table),
    }
}

impl App {
    /// The connection's row filters (owning team's admins and owners).
    pub async fn row_filters(&self, actor: &Actor, id: ConnectionId) -> ServiceResult<RowFilters> {
        let conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        Ok(RowFilters {
            filters: conn.row_filters,
        })
    }

    /// Replaces the connection's row filters (owning team's admins and owners). Each
    /// predicate is checked by the guard against its table (its columns, allowed functions,
    /// no subquery, no other table); a team audience must be a team that uses the
    /// connection.
    pub async fn set_row_filters(
        &self,
        actor: &Actor,
        id: ConnectionId,
        req: RowFilters,
    ) -> ServiceResult<RowFilters> {
        let mut conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        if req.filters.len() > MAX_FILTERS {
            return Err(ServiceError::validation(format!(
                "filters: at most {MAX_FILTERS}"
            )));
        }
        let mut teams = vec![conn.team_id];
        teams.extend(self.store().connection_teams(conn.id).await?);
        let schema = self.schema_for(actor, &conn).await?;
        for (i, f) in req.filters.iter().enumerate() {
            if !plain_table_name(&f.table) {
                return Err(ServiceError::validation(format!(
                    "filters[{i}].table: a table name (`name` or `schema.name`)"
                )));
            }
            if f.predicate.trim().is_empty() || f.predicate.len() > MAX_PREDICATE_BYTES {
                return Err(ServiceError::validation(format!(
                    "filters[{i}].predicate: 1 to {MAX_PREDICATE_BYTES} bytes"
                )));
            }
            if let RowFilterAudience::Team { team_id } = &f.applies_to
                && !teams.contains(team_id)
            {
                return Err(ServiceError::validation(format!(
                    "filters[{i}].applies_to.team_id: not a team that uses this connection"
                )));
            }
            // The guard substitutes the table with a derived table holding the filter,
            // which parses and checks the predicate against that table alone.
            let policy = PrivacyPolicy {
                row_filters: vec![RowFilter {
                    table: f.table.clone(),
                    predicate: f.predicate.clone(),
                }],
                ..conn.privacy.clone()
            };
            let sql = format!("SELECT * FROM {}", f.table);
            self.engine()
                .check(conn.target.dialect, &sql, &schema, &policy, 1)
                .map_err(|r| ServiceError::validation(format!("filters[{i}]: {}", r.message)))?;
        }
        conn.row_filters = req.filters;
        let view = self
            .save_connection(actor, conn, "connection.row_filters")
            .await?;
        Ok(RowFilters {
            filters: self.store().get_connection(view.id).await?.row_filters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_plain() {
        assert!(plain_table_name("orders"));
        assert!(plain_table_name("sales.orders"));
        assert!(plain_table_name("_t$1"));
        for bad in ["", "1t", "a.b.c", "t; DROP", "t--", "\"t\"", "a."] {
            assert!(!plain_table_name(bad), "{bad}");
        }
    }
}
