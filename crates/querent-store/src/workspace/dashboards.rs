//! Dashboards (`dashboards`): the widgets are one JSON document inside the row (they only
//! ever change together with their dashboard).

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use querent_domain::ports::{Page, StoreResult};
use querent_domain::workspace::Dashboard;
use querent_domain::{DashboardId, TeamId};

use super::{from_i64, team_ids};
use crate::models::{json, parse, to_json};
use crate::schema::dashboards;
use crate::{DbError, Store, StoreError};

#[derive(Queryable, Insertable)]
#[diesel(table_name = dashboards)]
struct DashboardRow {
    id: String,
    team_id: String,
    name: String,
    description: Option<String>,
    widgets: String,
    refresh_seconds: i64,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl DashboardRow {
    fn from_domain(d: &Dashboard) -> Self {
        Self {
            id: d.id.to_string(),
            team_id: d.team_id.to_string(),
            name: d.name.clone(),
            description: d.description.clone(),
            widgets: to_json(&d.widgets),
            refresh_seconds: i64::from(d.refresh_seconds),
            created_by: d.created_by.clone(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }

    fn into_domain(self) -> Result<Dashboard, DbError> {
        Ok(Dashboard {
            id: parse("dashboard id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            name: self.name,
            description: self.description,
            widgets: json("dashboard widgets", &self.widgets)?,
            refresh_seconds: from_i64("dashboard refresh seconds", self.refresh_seconds)?,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

pub(super) async fn insert(store: &Store, dashboard: &Dashboard) -> StoreResult<()> {
    let row = DashboardRow::from_domain(dashboard);
    with_write!(store, c => {
        diesel::insert_into(dashboards::table).values(&row).execute(c).await?;
        Ok(())
    })
}

pub(super) async fn get(store: &Store, id: DashboardId) -> StoreResult<Dashboard> {
    with_conn!(store, c => {
        let row: DashboardRow = dashboards::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn update(store: &Store, dashboard: &Dashboard) -> StoreResult<()> {
    let row = DashboardRow::from_domain(dashboard);
    with_write!(store, c => {
        let n = diesel::update(dashboards::table.find(&row.id))
            .set((
                dashboards::name.eq(&row.name),
                dashboards::description.eq(&row.description),
                dashboards::widgets.eq(&row.widgets),
                dashboards::refresh_seconds.eq(row.refresh_seconds),
                dashboards::updated_at.eq(row.updated_at),
            ))
            .execute(c)
            .await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn delete(store: &Store, id: DashboardId) -> StoreResult<()> {
    with_write!(store, c => {
        let n = diesel::delete(dashboards::table.find(id.to_string())).execute(c).await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn list(
    store: &Store,
    teams: &[TeamId],
    page: &Page,
) -> StoreResult<Vec<Dashboard>> {
    let ids = team_ids(teams);
    with_conn!(store, c => {
        let mut q = dashboards::table
            .filter(dashboards::team_id.eq_any(ids.clone()))
            .order(dashboards::id.asc())
            .limit(page.limit)
            .into_boxed();
        if let Some(after) = &page.after {
            q = q.filter(dashboards::id.gt(after.clone()));
        }
        let rows: Vec<DashboardRow> = q.load(c).await?;
        Ok(rows.into_iter().map(DashboardRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}
