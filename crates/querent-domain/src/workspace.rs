//! The analytics workspace: saved queries and their runs, dashboards of widgets, scheduled
//! workflows and their runs, asynchronous questions, and assistants — the entities a team
//! keeps, and [`WorkspaceStore`], the port through which querent-app stores them.
//!
//! Every entity belongs to one team (`team_id`): querent-app loads each through its
//! access checks, so a caller of another team sees `not_found`. Who did something is an
//! actor string (`user:<id>` or `client:<id>`), as in the audit log.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::chat::ResultSet;
use crate::ports::{Page, StoreResult};
use crate::{
    AssistantId, ConnectionId, DashboardId, ErrorCode, ExecutionMode, MessageId, QueryRunId,
    QuestionId, QuestionState, RunTrigger, SavedQueryId, TeamId, UnixMillis, WidgetKind,
    WorkflowId, WorkflowRunId, WorkflowRunStatus,
};

/// A query a team kept: the SQL (validated by the guard when saved, and again on every run)
/// and, when it came from a chat answer, the question it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedQuery {
    /// Id.
    pub id: SavedQueryId,
    /// Owning team (the connection's).
    pub team_id: TeamId,
    /// The connection it runs on.
    pub connection_id: ConnectionId,
    /// A name people recognise.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The question it answers, if it has one.
    pub question: Option<String>,
    /// The SQL as written (the guard's rewriting happens on each run).
    pub sql: String,
    /// Free labels for finding it again (lower-case, unique, sorted).
    pub tags: Vec<String>,
    /// The provider that wrote the SQL (`offline`, a configured provider's name) or `user`.
    pub provider: Option<String>,
    /// The chat message it was saved from.
    pub message_id: Option<MessageId>,
    /// Who saved it.
    pub created_by: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

/// Filters of a saved-query listing (all optional, combined with AND).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedQueryFilter {
    /// Only queries of this connection.
    pub connection_id: Option<ConnectionId>,
    /// Only queries carrying this tag.
    pub tag: Option<String>,
    /// Only queries whose name, description, question or SQL contains this text
    /// (case-insensitive).
    pub text: Option<String>,
}

/// One run of a saved query: who ran it, when, and how it went; optionally a bounded
/// snapshot of the result (masked values stay masked).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueryRun {
    /// Id.
    pub id: QueryRunId,
    /// The query.
    pub query_id: SavedQueryId,
    /// Who ran it (`user:<id>`, `client:<id>`, `workflow:<id>`, `dashboard:<id>`).
    pub run_by: String,
    /// When it started.
    pub started_at: UnixMillis,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
    /// Rows returned, when it ran.
    pub row_count: Option<u64>,
    /// Whether a limit cut the result short.
    pub truncated: bool,
    /// Why it failed.
    pub error_code: Option<ErrorCode>,
    /// The failure, for people.
    pub error_detail: Option<String>,
    /// The result, when a snapshot was kept.
    pub snapshot: Option<ResultSet>,
}

/// Where a widget sits on the dashboard's grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetPosition {
    /// Column of the left edge.
    pub x: u32,
    /// Row of the top edge.
    pub y: u32,
    /// Width in grid columns.
    pub w: u32,
    /// Height in grid rows.
    pub h: u32,
}

/// One widget of a dashboard: a saved query's result shown as a metric, table or chart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Widget {
    /// Id, unique within the dashboard (given by the client or generated).
    pub id: String,
    /// How it shows the result.
    #[serde(rename = "type")]
    pub kind: WidgetKind,
    /// The saved query whose result it shows.
    pub query_id: SavedQueryId,
    /// A title (the query's name when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// Where it sits.
    #[serde(default)]
    pub position: WidgetPosition,
    /// Display options, kept as given (colours, axis labels, …).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
}

/// A dashboard: widgets on a grid, each showing a saved query's current data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Id.
    pub id: DashboardId,
    /// Owning team.
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// Its widgets.
    pub widgets: Vec<Widget>,
    /// How long a widget's result may be served from the result cache, in seconds.
    pub refresh_seconds: u32,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

/// When a workflow runs on its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// A cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with
    /// seconds first.
    pub cron: String,
    /// The IANA time zone the expression is read in (`UTC` when absent).
    #[serde(default = "utc")]
    pub timezone: String,
}

fn utc() -> String {
    "UTC".to_owned()
}

/// What a condition step compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConditionSubject {
    /// The previous step's row count.
    RowCount,
    /// A value of the previous step's first row (`column`, or the first column).
    Value,
    /// Whether the previous step's result differs from the last run's.
    Changed,
}

/// A comparison operator of a condition step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CompareOp {
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// Equal.
    #[serde(rename = "=")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
}

/// One step of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WorkflowStep {
    /// Runs a saved query (through the guard, within the connection's limits).
    RunQuery {
        /// The query.
        query_id: SavedQueryId,
    },
    /// Asks a question of a connection, as chat does (the team's default provider).
    Ask {
        /// The connection.
        connection_id: ConnectionId,
        /// The question.
        question: String,
    },
    /// Compares the previous step's result; a false condition ends the run as succeeded
    /// and skips the rest.
    Condition {
        /// What is compared.
        on: ConditionSubject,
        /// The column, for `value`.
        #[serde(default)]
        column: Option<String>,
        /// The operator (not used by `changed`).
        #[serde(default)]
        op: Option<CompareOp>,
        /// What it is compared with (not used by `changed`).
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
        value: Option<serde_json::Value>,
    },
    /// POSTs the previous step's result summary to a URL (checked by the provider URL
    /// policy), retried with backoff.
    Webhook {
        /// Where to.
        url: String,
    },
}

/// A workflow: steps run in order, by hand or on a schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Id.
    pub id: WorkflowId,
    /// Owning team.
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// When it runs on its own (`None`: only by hand).
    pub schedule: Option<Schedule>,
    /// Its steps.
    pub steps: Vec<WorkflowStep>,
    /// The next scheduled slot (`None` when disabled or unscheduled). The scheduler
    /// claims a slot by moving this forward (compare-and-set), so each slot runs once
    /// whichever instance sees it first.
    pub next_run_at: Option<UnixMillis>,
    /// Who created it: scheduled runs act with this actor's current rights.
    pub created_by: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

/// How one step of a run went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepResult {
    /// The step's type (`run_query`, `ask`, `condition`, `webhook`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `succeeded`, `failed` or `skipped`.
    pub status: String,
    /// What it produced, in one line ("42 rows", "condition row_count > 0 is false", …).
    pub output_summary: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: u64,
}

/// One run of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRun {
    /// Id.
    pub id: WorkflowRunId,
    /// The workflow.
    pub workflow_id: WorkflowId,
    /// Owning team (the workflow's).
    pub team_id: TeamId,
    /// Where it stands.
    pub status: WorkflowRunStatus,
    /// What started it.
    pub trigger: RunTrigger,
    /// The scheduled slot it runs for (scheduled runs only): unique per workflow.
    pub scheduled_for: Option<UnixMillis>,
    /// Slots missed while no instance was running, coalesced into this run.
    pub missed_slots: u32,
    /// When it started running.
    pub started_at: Option<UnixMillis>,
    /// When it ended.
    pub finished_at: Option<UnixMillis>,
    /// Its steps so far.
    pub steps: Vec<StepResult>,
    /// Why it failed (a step's error, a timeout, a lost lease).
    pub error: Option<String>,
    /// The instance running it.
    pub lease_owner: Option<String>,
    /// Until when that instance holds it; a running run past this is failed.
    pub lease_expires_at: Option<UnixMillis>,
    /// Creation (claim) time.
    pub created_at: UnixMillis,
}

/// The results of an answered asynchronous question, kept whole for later collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuestionResults {
    /// The SQL that ran (guard output).
    pub sql: String,
    /// The result: columns and rows (up to the row cap; masked values masked).
    pub result: ResultSet,
    /// Column statistics of the whole result, keyed by column name (seed 004's
    /// `dataframe_stats` shape, computed by querent-results).
    pub stats: serde_json::Value,
    /// A short summary in plain English.
    pub summary: String,
}

/// A question asked now and answered in the background.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AsyncQuestion {
    /// Id.
    pub id: QuestionId,
    /// Owning team (the connection's).
    pub team_id: TeamId,
    /// The connection.
    pub connection_id: ConnectionId,
    /// The question.
    pub question: String,
    /// A provider (id or name) to use instead of the team default.
    pub provider: Option<String>,
    /// An assistant whose profile applies.
    pub assistant_id: Option<AssistantId>,
    /// Where it stands.
    pub state: QuestionState,
    /// Who asked.
    pub asked_by: String,
    /// Times a worker took it (a question whose worker stopped is taken again, up to a
    /// bound, then failed).
    pub attempts: u32,
    /// The instance working on it.
    pub lease_owner: Option<String>,
    /// Until when that instance holds it.
    pub lease_expires_at: Option<UnixMillis>,
    /// The answer, once completed.
    pub results: Option<QuestionResults>,
    /// Why it failed.
    pub error_code: Option<ErrorCode>,
    /// The failure, for people.
    pub error_detail: Option<String>,
    /// When it was asked.
    pub created_at: UnixMillis,
    /// When a worker started it.
    pub started_at: Option<UnixMillis>,
    /// When it ended.
    pub finished_at: Option<UnixMillis>,
}

/// Defaults an assistant applies to the questions asked of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssistantOptions {
    /// Execution mode for its answers (the connection's when absent; never looser than
    /// the connection's: `generate_only` and `review_first` connections stay so).
    #[serde(default)]
    pub execution_mode: Option<ExecutionMode>,
    /// Rows to return at most (still bounded by the connection's and server's caps).
    #[serde(default)]
    pub max_rows: Option<u32>,
    /// Explain results by default.
    #[serde(default)]
    pub explain_results: Option<bool>,
    /// Show the SQL by default.
    #[serde(default)]
    pub show_query: Option<bool>,
}

/// An assistant: a saved profile for asking one database.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assistant {
    /// Id.
    pub id: AssistantId,
    /// Owning team (the connection's).
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The connection it asks.
    pub connection_id: ConnectionId,
    /// A provider (id or name); the team default when absent.
    pub provider: Option<String>,
    /// A model overriding the provider's default.
    pub model: Option<String>,
    /// Instructions added to the prompt.
    pub instructions: Option<String>,
    /// Default options.
    pub options: AssistantOptions,
    /// Who created it.
    pub created_by: String,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
}

/// The workspace tables (`saved_queries`, `query_runs`, `dashboards`, `workflows`,
/// `workflow_runs`, `async_questions`, `assistants`). Listing methods take the caller's
/// teams; single-row methods return [`crate::ports::StoreError::NotFound`] for an unknown
/// id. Every method is one short unit of work.
#[async_trait]
pub trait WorkspaceStore: Send + Sync + 'static {
    // ---- saved queries ----
    /// Inserts a saved query.
    async fn insert_saved_query(&self, query: &SavedQuery) -> StoreResult<()>;
    /// A saved query.
    async fn get_saved_query(&self, id: SavedQueryId) -> StoreResult<SavedQuery>;
    /// Replaces every field but id, team and created_*.
    async fn update_saved_query(&self, query: &SavedQuery) -> StoreResult<()>;
    /// Deletes a saved query and its runs.
    async fn delete_saved_query(&self, id: SavedQueryId) -> StoreResult<()>;
    /// A page of the saved queries of some teams, by id, filtered.
    async fn list_saved_queries(
        &self,
        teams: &[TeamId],
        filter: &SavedQueryFilter,
        page: &Page,
    ) -> StoreResult<Vec<SavedQuery>>;
    /// Records a run, then keeps only the newest `keep` runs of its query (and only the
    /// newest `keep_snapshots` snapshots).
    async fn insert_query_run(
        &self,
        run: &QueryRun,
        keep: u32,
        keep_snapshots: u32,
    ) -> StoreResult<()>;
    /// The newest runs of a query, newest first.
    async fn list_query_runs(&self, query: SavedQueryId, limit: i64) -> StoreResult<Vec<QueryRun>>;
    /// The newest run of a query that kept a snapshot.
    async fn latest_query_snapshot(&self, query: SavedQueryId) -> StoreResult<Option<QueryRun>>;

    // ---- dashboards ----
    /// Inserts a dashboard.
    async fn insert_dashboard(&self, dashboard: &Dashboard) -> StoreResult<()>;
    /// A dashboard.
    async fn get_dashboard(&self, id: DashboardId) -> StoreResult<Dashboard>;
    /// Replaces name, description, widgets, refresh_seconds and updated_at.
    async fn update_dashboard(&self, dashboard: &Dashboard) -> StoreResult<()>;
    /// Deletes a dashboard.
    async fn delete_dashboard(&self, id: DashboardId) -> StoreResult<()>;
    /// A page of the dashboards of some teams, by id.
    async fn list_dashboards(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Dashboard>>;

    // ---- workflows ----
    /// Inserts a workflow.
    async fn insert_workflow(&self, workflow: &Workflow) -> StoreResult<()>;
    /// A workflow.
    async fn get_workflow(&self, id: WorkflowId) -> StoreResult<Workflow>;
    /// Replaces every field but id, team and created_* (including `next_run_at`).
    async fn update_workflow(&self, workflow: &Workflow) -> StoreResult<()>;
    /// Deletes a workflow and its runs.
    async fn delete_workflow(&self, id: WorkflowId) -> StoreResult<()>;
    /// A page of the workflows of some teams, by id.
    async fn list_workflows(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Workflow>>;
    /// Enabled workflows whose `next_run_at` is at or before `now`, oldest slot first.
    async fn due_workflows(&self, now: UnixMillis, limit: i64) -> StoreResult<Vec<Workflow>>;
    /// Claims the slot `slot` of a workflow: in one transaction, moves `next_run_at` from
    /// `slot` to `next` only if it still is `slot`, and inserts `run` (whose
    /// `scheduled_for` is `slot`). `false` when another instance claimed it first (or the
    /// workflow changed): nothing is written then. At most one run per (workflow, slot).
    async fn claim_workflow_slot(
        &self,
        id: WorkflowId,
        slot: UnixMillis,
        next: Option<UnixMillis>,
        run: &WorkflowRun,
    ) -> StoreResult<bool>;
    /// Inserts a run (manual runs).
    async fn insert_workflow_run(&self, run: &WorkflowRun) -> StoreResult<()>;
    /// Writes a run's status, steps, times, error and lease — only while `lease_owner`
    /// still holds it (`false` otherwise: the run was failed as abandoned meanwhile).
    async fn update_workflow_run(&self, run: &WorkflowRun) -> StoreResult<bool>;
    /// A run.
    async fn get_workflow_run(&self, id: WorkflowRunId) -> StoreResult<WorkflowRun>;
    /// A page of a workflow's runs, newest first (`page.after`: ids older than it).
    async fn list_workflow_runs(
        &self,
        workflow: WorkflowId,
        page: &Page,
    ) -> StoreResult<Vec<WorkflowRun>>;
    /// Marks queued or running runs whose lease expired before `now` as failed with
    /// `reason`; returns how many.
    async fn fail_abandoned_workflow_runs(&self, now: UnixMillis, reason: &str)
    -> StoreResult<u64>;

    // ---- asynchronous questions ----
    /// Inserts a question (state `PENDING`).
    async fn insert_question(&self, question: &AsyncQuestion) -> StoreResult<()>;
    /// A question.
    async fn get_question(&self, id: QuestionId) -> StoreResult<AsyncQuestion>;
    /// Takes up to `limit` pending questions, oldest first, for `owner` until
    /// `lease_until`: each becomes `IN_PROGRESS` with `attempts` + 1 and `started_at` =
    /// `now`, by a compare-and-set on its state, so no two instances take the same one.
    async fn claim_questions(
        &self,
        owner: &str,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<AsyncQuestion>>;
    /// Extends `owner`'s lease on a question; `false` when it no longer holds it.
    async fn renew_question_lease(
        &self,
        id: QuestionId,
        owner: &str,
        lease_until: UnixMillis,
    ) -> StoreResult<bool>;
    /// Writes the final state, results, error and `finished_at` — only while `owner`
    /// holds the lease (`false` otherwise).
    async fn finish_question(&self, question: &AsyncQuestion, owner: &str) -> StoreResult<bool>;
    /// Questions `IN_PROGRESS` whose lease expired before `now`: back to `PENDING` when
    /// they were taken fewer than `max_attempts` times, else `FAILED` with `reason`.
    /// Returns (requeued, failed).
    async fn recover_questions(
        &self,
        now: UnixMillis,
        max_attempts: u32,
        reason: &str,
    ) -> StoreResult<(u64, u64)>;
    /// Pending and in-progress questions (for back-pressure and `/ready`).
    async fn count_open_questions(&self) -> StoreResult<(u64, u64)>;

    // ---- assistants ----
    /// Inserts an assistant.
    async fn insert_assistant(&self, assistant: &Assistant) -> StoreResult<()>;
    /// An assistant.
    async fn get_assistant(&self, id: AssistantId) -> StoreResult<Assistant>;
    /// Replaces every field but id, team and created_*.
    async fn update_assistant(&self, assistant: &Assistant) -> StoreResult<()>;
    /// Deletes an assistant.
    async fn delete_assistant(&self, id: AssistantId) -> StoreResult<()>;
    /// A page of the assistants of some teams, by id.
    async fn list_assistants(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Assistant>>;
}
