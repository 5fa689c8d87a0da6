//! Saved queries (`/queries`): SQL a team keeps, saved from a chat answer or written by
//! hand, and run again on demand — by people, dashboard widgets and workflow steps.
//!
//! - Saving needs the editor role in the connection's team; the SQL must pass the guard
//!   then (so nothing unrunnable is kept), and passes it again on **every** run under the
//!   connection's current policy and limits: a run is never stale and never unmasked.
//! - Viewers list, read and run them (running a saved query reads data, as chat does).
//! - Each run is recorded (who, when, rows, time, error); the newest [`KEEP_RUNS`] are kept,
//!   and on request a bounded snapshot of the result (the first rows, as in chat history),
//!   the newest [`KEEP_SNAPSHOTS`] of them.

use querent_domain::chat::ResultSet;
use querent_domain::ports::StoreError;
use querent_domain::workspace::{QueryRun, SavedQuery, SavedQueryFilter};
use querent_domain::{
    ConnectionId, MessageId, QueryRunId, SavedQueryId, TeamRole, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ResultView, history_copy};
use crate::error::NotFoundAs;
use crate::examples::check_text;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// Runs kept per saved query.
pub const KEEP_RUNS: u32 = 100;
/// Result snapshots kept per saved query.
pub const KEEP_SNAPSHOTS: u32 = 5;
/// Longest name.
const MAX_NAME_CHARS: usize = 200;
/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Longest question.
const MAX_QUESTION_CHARS: usize = 4_000;
/// Longest SQL.
const MAX_SQL_CHARS: usize = 100_000;
/// Most tags per query.
const MAX_TAGS: usize = 20;
/// Longest tag.
const MAX_TAG_CHARS: usize = 50;

/// `POST /queries`: either `message_id` (keeps that chat answer's question, SQL,
/// connection and provider) or `connection_id` + `sql` (+ `question`).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateSavedQuery {
    /// A name people recognise.
    pub name: String,
    /// A chat message whose answer to keep.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub message_id: Option<MessageId>,
    /// The connection (with `sql`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub connection_id: Option<ConnectionId>,
    /// The SQL (with `connection_id`); validated by the guard.
    #[serde(default)]
    pub sql: Option<String>,
    /// The question it answers.
    #[serde(default)]
    pub question: Option<String>,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Labels for finding it again.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PATCH /queries/{id}`: the fields given change; `description` and `question` may be
/// set to `null` to clear them.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateSavedQuery {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// New SQL (validated by the guard).
    #[serde(default)]
    pub sql: Option<String>,
    /// A new question (`null` clears it).
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub question: Option<Option<String>>,
    /// A new description (`null` clears it).
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// New tags (replacing the old ones).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) mod double_option {
    use serde::{Deserialize, Deserializer};

    /// Deserializes a present field, `null` included.
    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// `GET /queries` filters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SavedQueryParams {
    /// Only this connection's queries.
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    pub connection_id: Option<ConnectionId>,
    /// Only queries with this tag.
    pub tag: Option<String>,
    /// Only queries whose name, description, question or SQL contains this text
    /// (case-insensitive).
    pub q: Option<String>,
}

/// A saved query as returned.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SavedQueryView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: SavedQueryId,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: querent_domain::TeamId,
    /// The connection it runs on.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The question it answers.
    pub question: Option<String>,
    /// The SQL.
    pub sql: String,
    /// Labels.
    pub tags: Vec<String>,
    /// Who wrote the SQL: a provider's name, `offline`, or `user`.
    pub provider: Option<String>,
    /// The chat message it was saved from.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub message_id: Option<MessageId>,
    /// Who saved it.
    pub created_by: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<SavedQuery> for SavedQueryView {
    fn from(q: SavedQuery) -> Self {
        Self {
            id: q.id,
            team_id: q.team_id,
            connection_id: q.connection_id,
            name: q.name,
            description: q.description,
            question: q.question,
            sql: q.sql,
            tags: q.tags,
            provider: q.provider,
            message_id: q.message_id,
            created_by: q.created_by,
            created_at: millis_to_rfc3339(q.created_at),
            updated_at: millis_to_rfc3339(q.updated_at),
        }
    }
}

/// `POST /queries/{id}/run` body (all optional).
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunSavedQuery {
    /// Rows to return at most (bounded by the connection's and the server's caps; the
    /// connection's cap when absent).
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Keep a snapshot of the result (its first rows) with the run.
    #[serde(default)]
    pub snapshot: bool,
    /// Add column statistics of the result and a short summary.
    #[serde(default)]
    pub statistics: bool,
}

/// How a run is made (for services that run saved queries: dashboards, workflows).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Row cap requested (bounded by the caps).
    pub max_rows: Option<u32>,
    /// Keep a snapshot with the run record.
    pub keep_snapshot: bool,
    /// Who the run is recorded for, when not the actor (`workflow:<id>`,
    /// `dashboard:<id>`).
    pub run_by: Option<String>,
}

/// A run as recorded.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryRunView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: QueryRunId,
    /// The query.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub query_id: SavedQueryId,
    /// Who ran it (`user:<id>`, `client:<id>`, `workflow:<id>`, `dashboard:<id>`).
    pub run_by: String,
    /// When (RFC 3339).
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// Rows returned (when it ran).
    pub row_count: Option<u64>,
    /// Whether a limit cut the result short.
    pub truncated: bool,
    /// Why it failed, as `{code, detail}`.
    pub error: Option<crate::chat::ChatError>,
    /// Whether a snapshot of the result was kept.
    pub has_snapshot: bool,
}

impl From<QueryRun> for QueryRunView {
    fn from(r: QueryRun) -> Self {
        Self {
            id: r.id,
            query_id: r.query_id,
            run_by: r.run_by,
            started_at: millis_to_rfc3339(r.started_at),
            duration_ms: r.duration_ms,
            row_count: r.row_count,
            truncated: r.truncated,
            error: r.error_code.map(|code| crate::chat::ChatError {
                code,
                detail: r.error_detail.unwrap_or_default(),
            }),
            has_snapshot: r.snapshot.is_some(),
        }
    }
}

/// The result of running a saved query now.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueryRunResult {
    /// The run's record id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub run_id: QueryRunId,
    /// The query.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub query_id: SavedQueryId,
    /// When it ran (RFC 3339).
    pub started_at: String,
    /// The rows (every row delivered, up to the row cap).
    pub result: ResultView,
    /// The chart that suits the result's shape (`kind` metric, line, bar or table, a
    /// Vega-Lite v5 `spec`, the `x` and `y` columns).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub chart: serde_json::Value,
    /// Column statistics keyed by column name (with `statistics: true`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub statistics: Option<serde_json::Value>,
    /// A short summary of the result in plain English (with `statistics: true`).
    pub summary: Option<String>,
}

/// Normalises tags: trimmed, lower-case, unique, sorted.
fn tags_of(tags: &[String]) -> ServiceResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(ServiceError::validation(format!(
            "tags: at most {MAX_TAGS}"
        )));
    }
    let mut out = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim().to_lowercase();
        if t.is_empty() || t.chars().count() > MAX_TAG_CHARS {
            return Err(ServiceError::validation(format!(
                "tags[{i}]: must be 1 to {MAX_TAG_CHARS} characters"
            )));
        }
        out.push(t);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// An optional text field: trimmed, `None` when blank, bounded.
fn optional_text(field: &str, v: Option<&str>, max: usize) -> ServiceResult<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > max => Err(ServiceError::validation(format!(
            "{field}: at most {max} characters"
        ))),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

impl App {
    /// A saved query the caller may use with at least `min` (404 for other teams').
    pub(crate) async fn load_saved_query(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        min: TeamRole,
    ) -> ServiceResult<SavedQuery> {
        let q = self
            .store()
            .get_saved_query(id)
            .await
            .or_not_found("saved query")?;
        self.require_team_role(actor, q.team_id, min, "saved query")
            .await?;
        Ok(q)
    }

    /// `POST /queries` (editor or above).
    pub async fn create_saved_query(
        &self,
        actor: &Actor,
        req: &CreateSavedQuery,
    ) -> ServiceResult<SavedQueryView> {
        let name = check_text("name", &req.name, MAX_NAME_CHARS)?;
        let description = optional_text(
            "description",
            req.description.as_deref(),
            MAX_DESCRIPTION_CHARS,
        )?;
        let tags = tags_of(&req.tags)?;
        let (conn, sql, question, provider, message_id) =
            match (req.message_id, req.connection_id) {
                (Some(_), Some(_)) | (Some(_), None) if req.sql.is_some() => {
                    return Err(ServiceError::validation(
                        "give either message_id, or connection_id and sql — not both",
                    ));
                }
                (Some(message_id), _) => {
                    let (_, message, conn) = self
                        .message_for(actor, message_id, TeamRole::Editor)
                        .await?;
                    let sql = message.sql.clone().ok_or_else(|| {
                        ServiceError::validation("message_id: this answer has no SQL to save")
                    })?;
                    let question = match req.question.as_deref() {
                        Some(q) => optional_text("question", Some(q), MAX_QUESTION_CHARS)?,
                        None => Some(message.question.clone()),
                    };
                    (
                        conn,
                        sql,
                        question,
                        message.provider.clone(),
                        Some(message_id),
                    )
                }
                (None, Some(connection_id)) => {
                    let conn = self
                        .load_connection(actor, connection_id, TeamRole::Editor)
                        .await?;
                    let sql = req.sql.as_deref().ok_or_else(|| {
                        ServiceError::validation("sql: required with connection_id")
                    })?;
                    let question =
                        optional_text("question", req.question.as_deref(), MAX_QUESTION_CHARS)?;
                    (
                        conn,
                        sql.to_owned(),
                        question,
                        Some("user".to_owned()),
                        None,
                    )
                }
                (None, None) => {
                    return Err(ServiceError::validation(
                        "give message_id (a chat answer to keep), or connection_id and sql",
                    ));
                }
            };
        let sql = self
            .guard_example_sql(actor, &conn, "sql", &sql, MAX_SQL_CHARS)
            .await?;
        let now = now_millis();
        let query = SavedQuery {
            id: SavedQueryId::new(),
            team_id: conn.team_id,
            connection_id: conn.id,
            name,
            description,
            question,
            sql,
            tags,
            provider,
            message_id,
            created_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        self.store()
            .insert_saved_query(&query)
            .await
            .map_err(|e| match e {
                StoreError::MissingReference(_) => ServiceError::not_found("connection"),
                other => other.into(),
            })?;
        self.audit_by(actor, "query.create", format!("query:{}", query.id), None)
            .await;
        Ok(query.into())
    }

    /// `GET /queries`.
    pub async fn list_saved_queries(
        &self,
        actor: &Actor,
        params: &ListParams,
        filter: &SavedQueryParams,
    ) -> ServiceResult<Paginated<SavedQueryView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let filter = SavedQueryFilter {
            connection_id: filter.connection_id,
            tag: filter
                .tag
                .as_deref()
                .map(|t| t.trim().to_lowercase())
                .filter(|t| !t.is_empty()),
            text: filter
                .q
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        };
        let rows = self
            .store()
            .list_saved_queries(&teams, &filter, &page)
            .await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |q| q.id.to_string(),
            SavedQueryView::from,
        ))
    }

    /// `GET /queries/{id}`.
    pub async fn get_saved_query(
        &self,
        actor: &Actor,
        id: SavedQueryId,
    ) -> ServiceResult<SavedQueryView> {
        Ok(self
            .load_saved_query(actor, id, TeamRole::Viewer)
            .await?
            .into())
    }

    /// `PATCH /queries/{id}` (editor or above).
    pub async fn update_saved_query(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        req: &UpdateSavedQuery,
    ) -> ServiceResult<SavedQueryView> {
        let mut q = self.load_saved_query(actor, id, TeamRole::Editor).await?;
        if let Some(name) = &req.name {
            q.name = check_text("name", name, MAX_NAME_CHARS)?;
        }
        if let Some(d) = &req.description {
            q.description = optional_text("description", d.as_deref(), MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(question) = &req.question {
            q.question = optional_text("question", question.as_deref(), MAX_QUESTION_CHARS)?;
        }
        if let Some(tags) = &req.tags {
            q.tags = tags_of(tags)?;
        }
        if let Some(sql) = &req.sql {
            let conn = self
                .load_connection(actor, q.connection_id, TeamRole::Editor)
                .await?;
            q.sql = self
                .guard_example_sql(actor, &conn, "sql", sql, MAX_SQL_CHARS)
                .await?;
            q.provider = Some("user".to_owned());
        }
        q.updated_at = now_millis();
        self.store()
            .update_saved_query(&q)
            .await
            .or_not_found("saved query")?;
        self.audit_by(actor, "query.update", format!("query:{id}"), None)
            .await;
        Ok(q.into())
    }

    /// `DELETE /queries/{id}` (editor or above). Widgets and workflow steps that use it
    /// report `not_found` from then on.
    pub async fn delete_saved_query(&self, actor: &Actor, id: SavedQueryId) -> ServiceResult<()> {
        self.load_saved_query(actor, id, TeamRole::Editor).await?;
        self.store()
            .delete_saved_query(id)
            .await
            .or_not_found("saved query")?;
        self.forget_widget_results(id);
        self.audit_by(actor, "query.delete", format!("query:{id}"), None)
            .await;
        Ok(())
    }

    /// `POST /queries/{id}/run`.
    pub async fn run_saved_query_now(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        req: &RunSavedQuery,
    ) -> ServiceResult<QueryRunResult> {
        let (q, conn) = self.saved_query_and_connection(actor, id).await?;
        let (run, result) = self
            .run_loaded_query(
                actor,
                &q,
                &conn,
                RunOptions {
                    max_rows: req.max_rows,
                    keep_snapshot: req.snapshot,
                    run_by: None,
                },
            )
            .await?;
        let chart = querent_results::suggest_chart(&result.columns, &result.rows);
        let (statistics, summary) = if req.statistics {
            let stats = querent_results::compute_stats(&result.columns, &result.rows);
            let summary = querent_results::summarize(
                q.question.as_deref(),
                &result.columns,
                &result.rows,
                &stats,
                result.row_count,
                result.truncated,
            );
            (serde_json::to_value(&stats).ok(), Some(summary))
        } else {
            (None, None)
        };
        Ok(QueryRunResult {
            run_id: run.id,
            query_id: run.query_id,
            started_at: millis_to_rfc3339(run.started_at),
            chart: serde_json::to_value(&chart).unwrap_or_default(),
            statistics,
            summary,
            result: result.into(),
        })
    }

    /// Runs a saved query now, through the guard and the connection's limits (viewer or
    /// above), and records the run — also when it fails. Returns the record and the result.
    pub async fn run_saved_query(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        opts: RunOptions,
    ) -> ServiceResult<(QueryRun, ResultSet)> {
        let (q, conn) = self.saved_query_and_connection(actor, id).await?;
        self.run_loaded_query(actor, &q, &conn, opts).await
    }

    /// A saved query and its connection, both for a viewer or above.
    pub(crate) async fn saved_query_and_connection(
        &self,
        actor: &Actor,
        id: SavedQueryId,
    ) -> ServiceResult<(SavedQuery, querent_domain::Connection)> {
        let q = self.load_saved_query(actor, id, TeamRole::Viewer).await?;
        let conn = self
            .load_connection(actor, q.connection_id, TeamRole::Viewer)
            .await?;
        Ok((q, conn))
    }

    /// [`App::run_saved_query`] for a query and connection the caller already loaded
    /// through [`App::saved_query_and_connection`].
    pub(crate) async fn run_loaded_query(
        &self,
        actor: &Actor,
        q: &SavedQuery,
        conn: &querent_domain::Connection,
        opts: RunOptions,
    ) -> ServiceResult<(QueryRun, ResultSet)> {
        let max_rows = self.row_cap(conn, opts.max_rows)?;
        let started_at = now_millis();
        let clock = std::time::Instant::now();
        let outcome = self
            .run_stored_sql_collect(actor, conn, &q.sql, max_rows)
            .await;
        let mut run = QueryRun {
            id: QueryRunId::new(),
            query_id: q.id,
            run_by: opts.run_by.unwrap_or_else(|| actor.audit_name()),
            started_at,
            duration_ms: i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX),
            row_count: None,
            truncated: false,
            error_code: None,
            error_detail: None,
            snapshot: None,
        };
        match &outcome {
            Ok(result) => {
                run.row_count = Some(result.row_count);
                run.truncated = result.truncated;
                run.snapshot = opts.keep_snapshot.then(|| history_copy(result));
            }
            Err(e) => {
                run.error_code = Some(e.code);
                run.error_detail = Some(e.detail.clone());
            }
        }
        if let Err(e) = self
            .store()
            .insert_query_run(&run, KEEP_RUNS, KEEP_SNAPSHOTS)
            .await
        {
            // The query was deleted meanwhile, or the store hiccuped: the answer stands.
            tracing::warn!(error = %e, query = %q.id, "could not record a saved query's run");
        }
        let result = outcome?;
        run.snapshot = None;
        Ok((run, result))
    }

    /// `GET /queries/{id}/runs`: the newest runs, newest first.
    pub async fn list_query_runs(
        &self,
        actor: &Actor,
        id: SavedQueryId,
        limit: Option<i64>,
    ) -> ServiceResult<Vec<QueryRunView>> {
        let limit = limit.unwrap_or(50);
        if !(1..=i64::from(KEEP_RUNS)).contains(&limit) {
            return Err(ServiceError::validation(format!(
                "limit: must be between 1 and {KEEP_RUNS}"
            )));
        }
        self.load_saved_query(actor, id, TeamRole::Viewer).await?;
        Ok(self
            .store()
            .list_query_runs(id, limit)
            .await?
            .into_iter()
            .map(QueryRunView::from)
            .collect())
    }
}
