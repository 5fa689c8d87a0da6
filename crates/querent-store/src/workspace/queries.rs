//! Saved queries (`saved_queries`), their tags (`saved_query_tags`, one row per tag, so a
//! tag filter matches exactly whatever the tag contains) and their runs (`query_runs`,
//! pruned to the newest few on every insert).

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{
    EscapeExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, TextExpressionMethods,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use querent_domain::ports::{Page, StoreResult};
use querent_domain::workspace::{QueryRun, SavedQuery, SavedQueryFilter};
use querent_domain::{SavedQueryId, TeamId};

use super::{from_i64, team_ids, to_i64};
use crate::models::{json, parse, to_json};
use crate::schema::{query_runs, saved_queries, saved_query_tags};
use crate::{DbError, Store, StoreError};

/// Separates the fields of `search_text`, so a search cannot match across two fields
/// (unless it contains this control character itself).
const FIELD_SEPARATOR: &str = "\u{1f}";

#[derive(Queryable, Insertable)]
#[diesel(table_name = saved_queries)]
struct SavedQueryRow {
    id: String,
    team_id: String,
    connection_id: String,
    name: String,
    description: Option<String>,
    question: Option<String>,
    sql_text: String,
    tags: String,
    provider: Option<String>,
    message_id: Option<String>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    search_text: String,
}

#[derive(Insertable)]
#[diesel(table_name = saved_query_tags)]
struct TagRow {
    query_id: String,
    tag: String,
}

/// What the text filter searches: the fields lower-cased here rather than by the database,
/// so both backends match the same rows whatever their collation.
fn search_text(q: &SavedQuery) -> String {
    [
        q.name.as_str(),
        q.description.as_deref().unwrap_or(""),
        q.question.as_deref().unwrap_or(""),
        q.sql.as_str(),
    ]
    .join(FIELD_SEPARATOR)
    .to_lowercase()
}

/// A LIKE pattern (escape character `\`) for "contains `text`", wildcards in it escaped.
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

impl SavedQueryRow {
    fn from_domain(q: &SavedQuery) -> Self {
        Self {
            id: q.id.to_string(),
            team_id: q.team_id.to_string(),
            connection_id: q.connection_id.to_string(),
            name: q.name.clone(),
            description: q.description.clone(),
            question: q.question.clone(),
            sql_text: q.sql.clone(),
            tags: to_json(&q.tags),
            provider: q.provider.clone(),
            message_id: q.message_id.map(|m| m.to_string()),
            created_by: q.created_by.clone(),
            created_at: q.created_at,
            updated_at: q.updated_at,
            search_text: search_text(q),
        }
    }

    fn into_domain(self) -> Result<SavedQuery, DbError> {
        Ok(SavedQuery {
            id: parse("saved query id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            connection_id: parse("connection id", &self.connection_id)?,
            name: self.name,
            description: self.description,
            question: self.question,
            sql: self.sql_text,
            tags: json("saved query tags", &self.tags)?,
            provider: self.provider,
            message_id: self
                .message_id
                .as_deref()
                .map(|m| parse("message id", m))
                .transpose()?,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    /// One row per distinct tag.
    fn tag_rows(&self, tags: &[String]) -> Vec<TagRow> {
        let mut distinct: Vec<&String> = tags.iter().collect();
        distinct.sort();
        distinct.dedup();
        distinct
            .into_iter()
            .map(|t| TagRow {
                query_id: self.id.clone(),
                tag: t.clone(),
            })
            .collect()
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = query_runs)]
struct QueryRunRow {
    id: String,
    query_id: String,
    run_by: String,
    started_at: i64,
    duration_ms: i64,
    row_count: Option<i64>,
    truncated: bool,
    error_code: Option<String>,
    error_detail: Option<String>,
    snapshot: Option<String>,
}

impl QueryRunRow {
    fn from_domain(r: &QueryRun) -> Self {
        Self {
            id: r.id.to_string(),
            query_id: r.query_id.to_string(),
            run_by: r.run_by.clone(),
            started_at: r.started_at,
            duration_ms: r.duration_ms,
            row_count: r.row_count.map(to_i64),
            truncated: r.truncated,
            error_code: r.error_code.map(|c| c.as_str().to_owned()),
            error_detail: r.error_detail.clone(),
            snapshot: r.snapshot.as_ref().map(to_json),
        }
    }

    fn into_domain(self) -> Result<QueryRun, DbError> {
        Ok(QueryRun {
            id: parse("query run id", &self.id)?,
            query_id: parse("saved query id", &self.query_id)?,
            run_by: self.run_by,
            started_at: self.started_at,
            duration_ms: self.duration_ms,
            row_count: self
                .row_count
                .map(|n| from_i64("query run row count", n))
                .transpose()?,
            truncated: self.truncated,
            error_code: self
                .error_code
                .as_deref()
                .map(|c| parse("error code", c))
                .transpose()?,
            error_detail: self.error_detail,
            snapshot: self
                .snapshot
                .as_deref()
                .map(|s| json("query run snapshot", s))
                .transpose()?,
        })
    }
}

pub(super) async fn insert(store: &Store, query: &SavedQuery) -> StoreResult<()> {
    let row = SavedQueryRow::from_domain(query);
    let tags = row.tag_rows(&query.tags);
    with_write!(store, c => {
        c.transaction::<_, DbError, _>(async |c| {
            diesel::insert_into(saved_queries::table).values(&row).execute(c).await?;
            // One row at a time: a multi-row insert is not available on SQLite here.
            for tag in &tags {
                diesel::insert_into(saved_query_tags::table).values(tag).execute(c).await?;
            }
            Ok(())
        })
        .await
    })
}

pub(super) async fn get(store: &Store, id: SavedQueryId) -> StoreResult<SavedQuery> {
    with_conn!(store, c => {
        let row: SavedQueryRow = saved_queries::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn update(store: &Store, query: &SavedQuery) -> StoreResult<()> {
    let row = SavedQueryRow::from_domain(query);
    let tags = row.tag_rows(&query.tags);
    with_write!(store, c => {
        c.transaction::<_, DbError, _>(async |c| {
            let n = diesel::update(saved_queries::table.find(&row.id))
                .set((
                    saved_queries::connection_id.eq(&row.connection_id),
                    saved_queries::name.eq(&row.name),
                    saved_queries::description.eq(&row.description),
                    saved_queries::question.eq(&row.question),
                    saved_queries::sql_text.eq(&row.sql_text),
                    saved_queries::tags.eq(&row.tags),
                    saved_queries::provider.eq(&row.provider),
                    saved_queries::message_id.eq(&row.message_id),
                    saved_queries::updated_at.eq(row.updated_at),
                    saved_queries::search_text.eq(&row.search_text),
                ))
                .execute(c)
                .await?;
            if n == 0 {
                return Err(StoreError::NotFound.into());
            }
            diesel::delete(saved_query_tags::table.filter(saved_query_tags::query_id.eq(&row.id)))
                .execute(c)
                .await?;
            // One row at a time: a multi-row insert is not available on SQLite here.
            for tag in &tags {
                diesel::insert_into(saved_query_tags::table).values(tag).execute(c).await?;
            }
            Ok(())
        })
        .await
    })
}

pub(super) async fn delete(store: &Store, id: SavedQueryId) -> StoreResult<()> {
    with_write!(store, c => {
        // Its tags and runs go with it (ON DELETE CASCADE).
        let n = diesel::delete(saved_queries::table.find(id.to_string())).execute(c).await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn list(
    store: &Store,
    teams: &[TeamId],
    filter: &SavedQueryFilter,
    page: &Page,
) -> StoreResult<Vec<SavedQuery>> {
    let ids = team_ids(teams);
    let connection = filter.connection_id.map(|c| c.to_string());
    let pattern = filter.text.as_deref().map(contains_pattern);
    with_conn!(store, c => {
        let mut q = saved_queries::table
            .filter(saved_queries::team_id.eq_any(ids.clone()))
            .order(saved_queries::id.asc())
            .limit(page.limit)
            .into_boxed();
        if let Some(conn) = &connection {
            q = q.filter(saved_queries::connection_id.eq(conn.clone()));
        }
        if let Some(tag) = &filter.tag {
            q = q.filter(
                saved_queries::id.eq_any(
                    saved_query_tags::table
                        .filter(saved_query_tags::tag.eq(tag.clone()))
                        .select(saved_query_tags::query_id),
                ),
            );
        }
        if let Some(p) = &pattern {
            q = q.filter(saved_queries::search_text.like(p.clone()).escape('\\'));
        }
        if let Some(after) = &page.after {
            q = q.filter(saved_queries::id.gt(after.clone()));
        }
        let rows: Vec<SavedQueryRow> = q.load(c).await?;
        Ok(rows.into_iter().map(SavedQueryRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}

pub(super) async fn insert_run(
    store: &Store,
    run: &QueryRun,
    keep: u32,
    keep_snapshots: u32,
) -> StoreResult<()> {
    let row = QueryRunRow::from_domain(run);
    let (keep, keep_snapshots) = (i64::from(keep), i64::from(keep_snapshots));
    with_write!(store, c => {
        c.transaction::<_, DbError, _>(async |c| {
            // The insert first: on SQLite the transaction holds the write lock from here on.
            diesel::insert_into(query_runs::table).values(&row).execute(c).await?;
            let old: Vec<String> = query_runs::table
                .filter(query_runs::query_id.eq(&row.query_id))
                .order((query_runs::started_at.desc(), query_runs::id.desc()))
                .offset(keep)
                .select(query_runs::id)
                .load(c)
                .await?;
            if !old.is_empty() {
                diesel::delete(query_runs::table.filter(query_runs::id.eq_any(old)))
                    .execute(c)
                    .await?;
            }
            let stale: Vec<String> = query_runs::table
                .filter(query_runs::query_id.eq(&row.query_id))
                .filter(query_runs::snapshot.is_not_null())
                .order((query_runs::started_at.desc(), query_runs::id.desc()))
                .offset(keep_snapshots)
                .select(query_runs::id)
                .load(c)
                .await?;
            if !stale.is_empty() {
                diesel::update(query_runs::table.filter(query_runs::id.eq_any(stale)))
                    .set(query_runs::snapshot.eq(None::<String>))
                    .execute(c)
                    .await?;
            }
            Ok(())
        })
        .await
    })
}

pub(super) async fn list_runs(
    store: &Store,
    query: SavedQueryId,
    limit: i64,
) -> StoreResult<Vec<QueryRun>> {
    with_conn!(store, c => {
        let rows: Vec<QueryRunRow> = query_runs::table
            .filter(query_runs::query_id.eq(query.to_string()))
            .order((query_runs::started_at.desc(), query_runs::id.desc()))
            .limit(limit)
            .load(c)
            .await?;
        Ok(rows.into_iter().map(QueryRunRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}

pub(super) async fn latest_snapshot(
    store: &Store,
    query: SavedQueryId,
) -> StoreResult<Option<QueryRun>> {
    with_conn!(store, c => {
        let row: Option<QueryRunRow> = query_runs::table
            .filter(query_runs::query_id.eq(query.to_string()))
            .filter(query_runs::snapshot.is_not_null())
            .order((query_runs::started_at.desc(), query_runs::id.desc()))
            .limit_one()
            .get_result(c)
            .await
            .optional()?;
        Ok(row.map(QueryRunRow::into_domain).transpose()?)
    })
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_in_the_searched_text_are_escaped() {
        assert_eq!(contains_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(contains_pattern(""), "%%");
    }
}
