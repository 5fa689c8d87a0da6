//! Assistants (`assistants`): a saved profile for asking one connection; the options are
//! a JSON document.

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use querent_domain::ports::{Page, StoreResult};
use querent_domain::workspace::Assistant;
use querent_domain::{AssistantId, TeamId};

use super::team_ids;
use crate::models::{json, parse, to_json};
use crate::schema::assistants;
use crate::{DbError, Store, StoreError};

#[derive(Queryable, Insertable)]
#[diesel(table_name = assistants)]
struct AssistantRow {
    id: String,
    team_id: String,
    name: String,
    description: Option<String>,
    connection_id: String,
    provider: Option<String>,
    model: Option<String>,
    instructions: Option<String>,
    options: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl AssistantRow {
    fn from_domain(a: &Assistant) -> Self {
        Self {
            id: a.id.to_string(),
            team_id: a.team_id.to_string(),
            name: a.name.clone(),
            description: a.description.clone(),
            connection_id: a.connection_id.to_string(),
            provider: a.provider.clone(),
            model: a.model.clone(),
            instructions: a.instructions.clone(),
            options: to_json(&a.options),
            created_by: a.created_by.clone(),
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }

    fn into_domain(self) -> Result<Assistant, DbError> {
        Ok(Assistant {
            id: parse("assistant id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            name: self.name,
            description: self.description,
            connection_id: parse("connection id", &self.connection_id)?,
            provider: self.provider,
            model: self.model,
            instructions: self.instructions,
            options: json("assistant options", &self.options)?,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(super) async fn insert(store: &Store, assistant: &Assistant) -> StoreResult<()> {
    let row = AssistantRow::from_domain(assistant);
    with_write!(store, c => {
        diesel::insert_into(assistants::table).values(&row).execute(c).await?;
        Ok(())
    })
}

pub(super) async fn get(store: &Store, id: AssistantId) -> StoreResult<Assistant> {
    with_conn!(store, c => {
        let row: AssistantRow = assistants::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn update(store: &Store, assistant: &Assistant) -> StoreResult<()> {
    let row = AssistantRow::from_domain(assistant);
    with_write!(store, c => {
        let n = diesel::update(assistants::table.find(&row.id))
            .set((
                assistants::name.eq(&row.name),
                assistants::description.eq(&row.description),
                assistants::connection_id.eq(&row.connection_id),
                assistants::provider.eq(&row.provider),
                assistants::model.eq(&row.model),
                assistants::instructions.eq(&row.instructions),
                assistants::options.eq(&row.options),
                assistants::updated_at.eq(row.updated_at),
            ))
            .execute(c)
            .await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn delete(store: &Store, id: AssistantId) -> StoreResult<()> {
    with_write!(store, c => {
        // Questions asked of it stay, without it (ON DELETE SET NULL).
        let n = diesel::delete(assistants::table.find(id.to_string())).execute(c).await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn list(
    store: &Store,
    teams: &[TeamId],
    page: &Page,
) -> StoreResult<Vec<Assistant>> {
    let ids = team_ids(teams);
    with_conn!(store, c => {
        let mut q = assistants::table
            .filter(assistants::team_id.eq_any(ids.clone()))
            .order(assistants::id.asc())
            .limit(page.limit)
            .into_boxed();
        if let Some(after) = &page.after {
            q = q.filter(assistants::id.gt(after.clone()));
        }
        let rows: Vec<AssistantRow> = q.load(c).await?;
        Ok(rows.into_iter().map(AssistantRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}
