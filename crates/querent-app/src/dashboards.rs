//! Dashboards (`/dashboards`): widgets on a grid, each showing a saved query's current
//! data as a metric, table or chart.
//!
//! Reading a dashboard returns its configuration **and each widget's data**. Widgets are
//! computed concurrently (at most [`WIDGET_CONCURRENCY`] at a time per request) and each
//! is served from a short-lived, in-process result cache for `refresh_seconds`, so ten
//! viewers opening one dashboard run each query once. Concurrent readers of a widget whose
//! result is being computed wait for that one computation (single flight). A widget that
//! fails carries its own `{code, detail}` while the others load.
//!
//! The cache is keyed by the saved query, its last change, and the connection's last
//! change and privacy policy, so editing either, or masking a column, is seen at once.
//! Access is checked on every read (team membership, before the cache is consulted), and
//! every run goes through the guard: the cache only ever holds results the current policy
//! produced. Failures are shared with the readers waiting for them but not kept.
//!
//! Roles: viewers read dashboards with their data; editors create, change and delete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use querent_domain::chat::ResultSet;
use querent_domain::workspace::{Dashboard, Widget, WidgetPosition};
use querent_domain::{
    DashboardId, SavedQueryId, TeamId, TeamRole, WidgetKind, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ChatError, ResultView};
use crate::error::NotFoundAs;
use crate::examples::check_text;
use crate::queries::{RunOptions, double_option};
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// Widgets computed at once for one dashboard read.
pub const WIDGET_CONCURRENCY: usize = 4;
/// Most widgets per dashboard.
const MAX_WIDGETS: usize = 50;
/// Default result cache lifetime.
const DEFAULT_REFRESH_SECONDS: u32 = 60;
/// Longest result cache lifetime.
const MAX_REFRESH_SECONDS: u32 = 86_400;
/// Rows a widget shows at most (the connection's cap when lower).
const WIDGET_ROWS: u32 = 1_000;
/// Cached widget results kept at most (the oldest go first).
const CACHE_CAPACITY: usize = 2_000;

/// A widget as a client writes it (`id` is generated when absent).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetInput {
    /// Id, unique within the dashboard.
    #[serde(default)]
    pub id: Option<String>,
    /// `metric`, `table`, `bar`, `line`, `area` or `pie`.
    #[serde(rename = "type")]
    pub kind: WidgetKind,
    /// The saved query whose result it shows (of the dashboard's team).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub query_id: SavedQueryId,
    /// A title (the query's name when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// Where it sits on the grid (6 × 4 below the widgets before it when absent).
    #[serde(default)]
    pub position: Option<WidgetPosition>,
    /// Display options, kept as given.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: Option<serde_json::Value>,
}

/// `POST /dashboards`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDashboard {
    /// Name.
    pub name: String,
    /// What it shows.
    #[serde(default)]
    pub description: Option<String>,
    /// Its widgets.
    #[serde(default)]
    pub widgets: Vec<WidgetInput>,
    /// How long a widget's result may be served from the cache (seconds, default 60;
    /// 0 runs every widget on every read).
    #[serde(default)]
    pub refresh_seconds: Option<u32>,
    /// The team (the widgets' queries' team, or your first team, when absent).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub team_id: Option<TeamId>,
}

/// A widget's new place (`PATCH` `layout`).
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WidgetPlacement {
    /// The widget.
    pub id: String,
    /// Where it goes.
    pub position: WidgetPosition,
}

/// `PATCH /dashboards/{id}`: the fields given change. `widgets` replaces every widget;
/// `layout` only moves the widgets it names.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateDashboard {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new description (`null` clears it).
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// New widgets (replacing all of them).
    #[serde(default)]
    pub widgets: Option<Vec<WidgetInput>>,
    /// New positions for some widgets.
    #[serde(default)]
    pub layout: Option<Vec<WidgetPlacement>>,
    /// A new cache lifetime, in seconds.
    #[serde(default)]
    pub refresh_seconds: Option<u32>,
}

/// `GET /dashboards/{id}` options.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct DashboardParams {
    /// `false` returns the configuration only (default `true`).
    pub data: Option<bool>,
    /// `true` ignores the result cache and runs every widget now.
    pub refresh: Option<bool>,
}

/// A widget with its current data.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetView {
    /// Id.
    pub id: String,
    /// How it shows its result.
    #[serde(rename = "type")]
    pub kind: WidgetKind,
    /// The saved query.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub query_id: SavedQueryId,
    /// Title.
    pub title: Option<String>,
    /// Where it sits.
    pub position: WidgetPosition,
    /// Display options.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
    /// Its current result (absent when data was not asked for or it failed).
    pub data: Option<ResultView>,
    /// Its data drawn as its `type` asks: a Vega-Lite v5 spec with the columns used
    /// (absent without data, or when the data cannot be drawn so: see `chart_note`).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub chart: Option<serde_json::Value>,
    /// Why the data cannot be drawn as asked (a pie of a text-only result, …).
    pub chart_note: Option<String>,
    /// Why it has no data.
    pub error: Option<ChatError>,
    /// When its result was computed (RFC 3339).
    pub refreshed_at: Option<String>,
    /// Whether the result came from the cache.
    pub cached: bool,
}

/// A dashboard as returned.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: DashboardId,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// Result cache lifetime, in seconds.
    pub refresh_seconds: u32,
    /// Its widgets (with data on `GET /dashboards/{id}`).
    pub widgets: Vec<WidgetView>,
    /// Who created it.
    pub created_by: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

fn widget_view(w: Widget) -> WidgetView {
    WidgetView {
        id: w.id,
        kind: w.kind,
        query_id: w.query_id,
        title: w.title,
        position: w.position,
        options: w.options,
        data: None,
        chart: None,
        chart_note: None,
        error: None,
        refreshed_at: None,
        cached: false,
    }
}

impl From<Dashboard> for DashboardView {
    fn from(d: Dashboard) -> Self {
        Self {
            id: d.id,
            team_id: d.team_id,
            name: d.name,
            description: d.description,
            refresh_seconds: d.refresh_seconds,
            widgets: d.widgets.into_iter().map(widget_view).collect(),
            created_by: d.created_by,
            created_at: millis_to_rfc3339(d.created_at),
            updated_at: millis_to_rfc3339(d.updated_at),
        }
    }
}

/// What a widget computation produced, shared by every reader waiting for it.
type WidgetOutcome = Result<(ResultSet, i64), ChatError>;

#[derive(Clone, PartialEq, Eq, Hash)]
struct WidgetKey {
    query: SavedQueryId,
    query_version: i64,
    connection_version: i64,
    policy: u64,
}

struct Slot {
    started: Instant,
    cell: Arc<tokio::sync::OnceCell<Arc<WidgetOutcome>>>,
}

/// The in-process widget result cache (see the module doc).
#[derive(Default)]
pub(crate) struct WidgetCache {
    slots: Mutex<HashMap<WidgetKey, Slot>>,
}

impl WidgetCache {
    /// The slot to read for `key`: the live one, or a fresh one when it is older than
    /// `ttl`, failed, or `fresh` is asked. Returns the cell and whether it already held a
    /// result.
    fn slot(
        &self,
        key: &WidgetKey,
        ttl: Duration,
        fresh: bool,
    ) -> (Arc<tokio::sync::OnceCell<Arc<WidgetOutcome>>>, bool) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slots.get(key) {
            let ready = s.cell.get();
            let usable = match ready {
                None => true, // being computed: wait for it
                Some(outcome) => !fresh && outcome.is_ok() && s.started.elapsed() < ttl,
            };
            if usable {
                return (s.cell.clone(), ready.is_some());
            }
        }
        if slots.len() >= CACHE_CAPACITY {
            let oldest = slots
                .iter()
                .filter(|(_, s)| s.cell.get().is_some())
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                slots.remove(&k);
            }
        }
        let cell = Arc::new(tokio::sync::OnceCell::new());
        slots.insert(
            key.clone(),
            Slot {
                started: Instant::now(),
                cell: cell.clone(),
            },
        );
        (cell, false)
    }

    /// Drops every cached result of a query.
    fn forget(&self, query: SavedQueryId) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.retain(|k, _| k.query != query);
    }
}

fn policy_hash(conn: &querent_domain::Connection) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(&conn.privacy)
        .unwrap_or_default()
        .hash(&mut h);
    // Not serialised with the policy: the row filters in force for the caller.
    conn.privacy.row_filters.hash(&mut h);
    conn.execution_mode.as_str().hash(&mut h);
    conn.limits.max_rows.hash(&mut h);
    h.finish()
}

fn refresh_of(v: Option<u32>) -> ServiceResult<u32> {
    match v {
        None => Ok(DEFAULT_REFRESH_SECONDS),
        Some(s) if s > MAX_REFRESH_SECONDS => Err(ServiceError::validation(format!(
            "refresh_seconds: at most {MAX_REFRESH_SECONDS}"
        ))),
        Some(s) => Ok(s),
    }
}

impl App {
    /// Drops the cached widget results of a saved query (it changed or went away).
    pub(crate) fn forget_widget_results(&self, query: SavedQueryId) {
        self.widget_cache().forget(query);
    }

    async fn load_dashboard(
        &self,
        actor: &Actor,
        id: DashboardId,
        min: TeamRole,
    ) -> ServiceResult<Dashboard> {
        let d = self
            .store()
            .get_dashboard(id)
            .await
            .or_not_found("dashboard")?;
        self.require_team_role(actor, d.team_id, min, "dashboard")
            .await?;
        Ok(d)
    }

    /// Checks widgets against the dashboard's team: every query exists there (a query of
    /// another team is reported as missing), ids are unique.
    async fn check_widgets(
        &self,
        team: TeamId,
        input: &[WidgetInput],
    ) -> ServiceResult<Vec<Widget>> {
        if input.len() > MAX_WIDGETS {
            return Err(ServiceError::validation(format!(
                "widgets: at most {MAX_WIDGETS}"
            )));
        }
        let mut out: Vec<Widget> = Vec::with_capacity(input.len());
        for (i, w) in input.iter().enumerate() {
            let id = match w.id.as_deref().map(str::trim) {
                Some("") => {
                    return Err(ServiceError::validation(format!(
                        "widgets[{i}].id: must not be empty"
                    )));
                }
                Some(id) if id.chars().count() > 64 => {
                    return Err(ServiceError::validation(format!(
                        "widgets[{i}].id: at most 64 characters"
                    )));
                }
                Some(id) => id.to_owned(),
                None => format!("w{}", i + 1),
            };
            if out.iter().any(|o| o.id == id) {
                return Err(ServiceError::validation(format!(
                    "widgets[{i}].id: `{id}` is used twice"
                )));
            }
            match self.store().get_saved_query(w.query_id).await {
                Ok(q) if q.team_id == team => {}
                Ok(_) | Err(querent_domain::ports::StoreError::NotFound) => {
                    return Err(ServiceError::validation(format!(
                        "widgets[{i}].query_id: no saved query {} in this dashboard's team",
                        w.query_id
                    )));
                }
                Err(e) => return Err(e.into()),
            }
            let p = w.position.unwrap_or(WidgetPosition {
                x: 0,
                y: out
                    .iter()
                    .map(|o| o.position.y + o.position.h)
                    .max()
                    .unwrap_or(0),
                w: 6,
                h: 4,
            });
            if p.w == 0 || p.h == 0 || p.w > 48 || p.h > 48 || p.x > 1000 || p.y > 10_000 {
                return Err(ServiceError::validation(format!(
                    "widgets[{i}].position: w and h must be 1 to 48, x at most 1000, y at most 10000"
                )));
            }
            let title = match w.title.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(t) if t.chars().count() > 200 => {
                    return Err(ServiceError::validation(format!(
                        "widgets[{i}].title: at most 200 characters"
                    )));
                }
                Some(t) => Some(t.to_owned()),
            };
            let options = w.options.clone().unwrap_or_else(|| serde_json::json!({}));
            if !options.is_object() || options.to_string().len() > 16_384 {
                return Err(ServiceError::validation(format!(
                    "widgets[{i}].options: must be an object of at most 16 KiB"
                )));
            }
            out.push(Widget {
                id,
                kind: w.kind,
                query_id: w.query_id,
                title,
                position: p,
                options,
            });
        }
        Ok(out)
    }

    /// `POST /dashboards` (editor or above).
    pub async fn create_dashboard(
        &self,
        actor: &Actor,
        req: &CreateDashboard,
    ) -> ServiceResult<DashboardView> {
        let name = check_text("name", &req.name, 200)?;
        let description = match req.description.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(check_text("description", d, 2_000)?),
        };
        let refresh_seconds = refresh_of(req.refresh_seconds)?;
        let team = match (req.team_id, req.widgets.first()) {
            (Some(t), _) => t,
            (None, Some(w)) => {
                // The first widget's query decides; one the caller cannot see is "missing".
                self.load_saved_query(actor, w.query_id, TeamRole::Viewer)
                    .await
                    .map_err(|_| {
                        ServiceError::validation(format!(
                            "widgets[0].query_id: no saved query {}",
                            w.query_id
                        ))
                    })?
                    .team_id
            }
            (None, None) => self.acting_team(actor, None, TeamRole::Editor).await?,
        };
        self.require_team_role(actor, team, TeamRole::Editor, "team")
            .await?;
        let widgets = self.check_widgets(team, &req.widgets).await?;
        let now = now_millis();
        let d = Dashboard {
            id: DashboardId::new(),
            team_id: team,
            name,
            description,
            widgets,
            refresh_seconds,
            created_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_dashboard(&d).await?;
        self.audit_by(
            actor,
            "dashboard.create",
            format!("dashboard:{}", d.id),
            None,
        )
        .await;
        Ok(d.into())
    }

    /// `GET /dashboards` (configurations, without data).
    pub async fn list_dashboards(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<DashboardView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let rows = self.store().list_dashboards(&teams, &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |d| d.id.to_string(),
            DashboardView::from,
        ))
    }

    /// `PATCH /dashboards/{id}` (editor or above).
    pub async fn update_dashboard(
        &self,
        actor: &Actor,
        id: DashboardId,
        req: &UpdateDashboard,
    ) -> ServiceResult<DashboardView> {
        let mut d = self.load_dashboard(actor, id, TeamRole::Editor).await?;
        if let Some(name) = &req.name {
            d.name = check_text("name", name, 200)?;
        }
        if let Some(desc) = &req.description {
            d.description = match desc.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(t) => Some(check_text("description", t, 2_000)?),
            };
        }
        if let Some(s) = req.refresh_seconds {
            d.refresh_seconds = refresh_of(Some(s))?;
        }
        if let Some(widgets) = &req.widgets {
            d.widgets = self.check_widgets(d.team_id, widgets).await?;
        }
        if let Some(layout) = &req.layout {
            for (i, p) in layout.iter().enumerate() {
                let Some(w) = d.widgets.iter_mut().find(|w| w.id == p.id) else {
                    return Err(ServiceError::validation(format!(
                        "layout[{i}].id: no widget `{}` on this dashboard",
                        p.id
                    )));
                };
                w.position = p.position;
            }
        }
        d.updated_at = now_millis();
        self.store()
            .update_dashboard(&d)
            .await
            .or_not_found("dashboard")?;
        self.audit_by(actor, "dashboard.update", format!("dashboard:{id}"), None)
            .await;
        Ok(d.into())
    }

    /// `DELETE /dashboards/{id}` (editor or above).
    pub async fn delete_dashboard(&self, actor: &Actor, id: DashboardId) -> ServiceResult<()> {
        self.load_dashboard(actor, id, TeamRole::Editor).await?;
        self.store()
            .delete_dashboard(id)
            .await
            .or_not_found("dashboard")?;
        self.audit_by(actor, "dashboard.delete", format!("dashboard:{id}"), None)
            .await;
        Ok(())
    }

    /// `GET /dashboards/{id}`: the configuration and, unless `data=false`, each widget's
    /// current data.
    pub async fn get_dashboard(
        &self,
        actor: &Actor,
        id: DashboardId,
        params: &DashboardParams,
    ) -> ServiceResult<DashboardView> {
        let d = self.load_dashboard(actor, id, TeamRole::Viewer).await?;
        let ttl = Duration::from_secs(u64::from(d.refresh_seconds));
        let fresh = params.refresh.unwrap_or(false);
        let with_data = params.data.unwrap_or(true);
        let widgets = d.widgets.clone();
        let mut view = DashboardView::from(d);
        if !with_data || widgets.is_empty() {
            return Ok(view);
        }
        let limit = Arc::new(tokio::sync::Semaphore::new(WIDGET_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, w) in widgets.into_iter().enumerate() {
            let app = self.clone();
            let actor = actor.clone();
            let limit = limit.clone();
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (i, app.widget_data(&actor, id, &w, ttl, fresh).await)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let Ok((i, (outcome, cached))) = done else {
                continue;
            };
            let w = &mut view.widgets[i];
            w.cached = cached;
            match outcome.as_ref() {
                Ok((result, at)) => {
                    match w.kind.as_str().parse().and_then(|kind| {
                        querent_results::chart_for_widget(kind, &result.columns, &result.rows)
                    }) {
                        Ok(chart) => w.chart = serde_json::to_value(&chart).ok(),
                        Err(e) => w.chart_note = Some(e.to_string()),
                    }
                    w.data = Some(ResultView::from(result.clone()));
                    w.refreshed_at = Some(millis_to_rfc3339(*at));
                }
                Err(e) => w.error = Some(e.clone()),
            }
        }
        for w in &mut view.widgets {
            if w.data.is_none() && w.error.is_none() {
                w.error = Some(ChatError {
                    code: querent_domain::ErrorCode::Internal,
                    detail: "the widget could not be computed".to_owned(),
                });
            }
        }
        Ok(view)
    }

    /// One widget's data: from the cache while fresh, else computed once for everyone
    /// waiting. Returns the outcome and whether it came from the cache.
    async fn widget_data(
        &self,
        actor: &Actor,
        dashboard: DashboardId,
        w: &Widget,
        ttl: Duration,
        fresh: bool,
    ) -> (Arc<WidgetOutcome>, bool) {
        let failed = |e: ServiceError| {
            Arc::new(Err(ChatError {
                code: e.code,
                detail: e.detail,
            }))
        };
        // Access first, on every read: the cache never answers someone the store would not.
        let (q, conn) = match self.saved_query_and_connection(actor, w.query_id).await {
            Ok(loaded) => loaded,
            Err(e) => return (failed(e), false),
        };
        let key = WidgetKey {
            query: q.id,
            query_version: q.updated_at,
            connection_version: conn.updated_at,
            policy: policy_hash(&conn),
        };
        let (cell, was_ready) = self.widget_cache().slot(&key, ttl, fresh);
        let outcome = cell
            .get_or_init(|| async {
                let opts = RunOptions {
                    max_rows: Some(WIDGET_ROWS),
                    keep_snapshot: false,
                    run_by: Some(format!("dashboard:{dashboard}")),
                };
                Arc::new(match self.run_loaded_query(actor, &q, &conn, opts).await {
                    Ok((run, result)) => Ok((result, run.started_at)),
                    Err(e) => Err(ChatError {
                        code: e.code,
                        detail: e.detail,
                    }),
                })
            })
            .await
            .clone();
        (outcome, was_ready)
    }
}
