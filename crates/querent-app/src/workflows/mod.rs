//! Workflows (`/workflows`): steps run in order — run a saved query, ask a question,
//! check a condition, call a webhook — by hand (`POST /workflows/{id}/run`) or on a cron
//! schedule by the scheduler inside every server instance.
//!
//! - **Roles and teams.** Viewers list and read workflows and their runs; editors create,
//!   change, delete and run them. A workflow belongs to one team: the team of the saved
//!   queries and connections its steps name (they must all be that team's), or `team_id`.
//!   Another team's workflow is `not_found`; another team's query or connection named in a
//!   step is refused as unknown (422), never revealed.
//! - **Who a run acts as.** Every run, manual or scheduled, acts as the workflow's creator
//!   with their rights *at run time*: a creator since disabled, deleted, revoked (API
//!   clients) or no longer an editor of the team fails the run with a message saying so.
//! - **Schedules** ([`cron`]): 5- or 6-field cron in an IANA time zone; skipped DST times
//!   are skipped, repeated ones fire once.
//! - **Exactly once per slot** ([`scheduler`]): each instance ticks every second, and a due
//!   slot is *claimed* in the store (compare-and-set of `next_run_at` plus the run's insert,
//!   one transaction, and a unique (workflow, slot) index behind it), so with several
//!   instances on one PostgreSQL store each slot runs once, on whichever instance claims it.
//! - **Missed runs.** Slots that passed while no instance ran are **coalesced into one run**
//!   when an instance next sees the workflow: the run is for the oldest missed slot, records
//!   how many later slots it stands for in `missed_slots`, and the next slot is the first
//!   one after *now* — a server down for a day runs an hourly workflow once, not 24 times.
//! - **Leases.** A run is held by the instance running it for [`WorkflowSettings::lease`],
//!   renewed while it runs; a run whose instance stopped is failed ("the instance running
//!   it stopped") by any instance's scheduler once its lease expired.
//! - **Timeout.** A run ends as failed after [`WorkflowSettings::run_timeout`] (5 minutes);
//!   the step running then is failed and the rest skipped.
//! - **Webhooks** ([`runner`]): the previous data step's summary (columns, row count, first
//!   20 rows, truncated) as JSON, within 10 s per attempt, 3 attempts with backoff (1 s,
//!   2 s) on 5xx, 429, timeouts and connection errors; other 4xx fail at once. The URL
//!   passes the provider URL policy when saved and again before every attempt.

pub mod cron;
mod runner;
mod scheduler;

use std::sync::Arc;
use std::time::Duration;

use querent_domain::workspace::{
    CompareOp, ConditionSubject, Schedule, StepResult, Workflow, WorkflowRun, WorkflowStep,
};
use querent_domain::{
    ConnectionId, RunTrigger, SavedQueryId, TeamId, TeamRole, UnixMillis, WorkflowId,
    WorkflowRunId, WorkflowRunStatus, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::queries::double_option;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

pub use scheduler::WorkflowSettings;

/// Longest name.
const MAX_NAME_CHARS: usize = 200;
/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// Most steps per workflow.
const MAX_STEPS: usize = 20;
/// Longest question of an `ask` step.
const MAX_QUESTION_CHARS: usize = 2_000;
/// Longest webhook URL.
const MAX_URL_CHARS: usize = 2_000;

/// `POST /workflows`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWorkflow {
    /// A name people recognise (1–200 characters).
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether the scheduler runs it (default true).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When it runs on its own; `null` or absent: only by hand.
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Its steps, run in order (1–20).
    pub steps: Vec<WorkflowStep>,
    /// The owning team, when its steps name no query or connection (else their team,
    /// which this must then be).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub team_id: Option<TeamId>,
}

fn yes() -> bool {
    true
}

/// `PATCH /workflows/{id}`: the fields given change; `schedule` and `description` may be
/// `null` to clear them.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkflow {
    /// A new name.
    #[serde(default)]
    pub name: Option<String>,
    /// A new description (`null` clears it).
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Option<Option<String>>,
    /// Turns the schedule on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// A new schedule (`null`: only by hand).
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Schedule>))]
    pub schedule: Option<Option<Schedule>>,
    /// New steps (replacing the old ones).
    #[serde(default)]
    pub steps: Option<Vec<WorkflowStep>>,
}

/// A workflow as returned.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: WorkflowId,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// Whether the scheduler runs it.
    pub enabled: bool,
    /// When it runs on its own (`null`: only by hand).
    pub schedule: Option<Schedule>,
    /// Its steps.
    pub steps: Vec<WorkflowStep>,
    /// The next scheduled run (RFC 3339), when enabled and scheduled.
    pub next_run_at: Option<String>,
    /// Who created it (runs act as them).
    pub created_by: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<Workflow> for WorkflowView {
    fn from(w: Workflow) -> Self {
        Self {
            id: w.id,
            team_id: w.team_id,
            name: w.name,
            description: w.description,
            enabled: w.enabled,
            schedule: w.schedule,
            steps: w.steps,
            next_run_at: w.next_run_at.map(millis_to_rfc3339),
            created_by: w.created_by,
            created_at: millis_to_rfc3339(w.created_at),
            updated_at: millis_to_rfc3339(w.updated_at),
        }
    }
}

/// A run as returned.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkflowRunView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: WorkflowRunId,
    /// The workflow.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub workflow_id: WorkflowId,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: WorkflowRunStatus,
    /// `schedule` or `manual`.
    pub trigger: RunTrigger,
    /// The slot it ran for (scheduled runs; RFC 3339).
    pub scheduled_for: Option<String>,
    /// Later slots missed while no instance ran, coalesced into this run.
    pub missed_slots: u32,
    /// When it started running (RFC 3339).
    pub started_at: Option<String>,
    /// When it ended (RFC 3339).
    pub finished_at: Option<String>,
    /// Each step: `{type, status: succeeded | failed | skipped, output_summary, error,
    /// duration_ms}`.
    pub steps: Vec<StepResult>,
    /// Why it failed.
    pub error: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<WorkflowRun> for WorkflowRunView {
    fn from(r: WorkflowRun) -> Self {
        Self {
            id: r.id,
            workflow_id: r.workflow_id,
            status: r.status,
            trigger: r.trigger,
            scheduled_for: r.scheduled_for.map(millis_to_rfc3339),
            missed_slots: r.missed_slots,
            started_at: r.started_at.map(millis_to_rfc3339),
            finished_at: r.finished_at.map(millis_to_rfc3339),
            steps: r.steps,
            error: r.error,
            created_at: millis_to_rfc3339(r.created_at),
        }
    }
}

/// `POST /workflows/{id}/run` parameters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RunParams {
    /// Wait for the run to end and return it finished (200) instead of at once (202).
    #[serde(default)]
    pub wait: Option<bool>,
}

/// A run started by hand: finished when the caller waited for it.
#[derive(Clone, Debug)]
pub struct StartedRun {
    /// The run.
    pub run: WorkflowRunView,
    /// Whether it has ended (`?wait=true`).
    pub finished: bool,
}

/// Per-instance workflow state: this instance's id (the lease owner of its runs), the
/// settings, and the permits bounding concurrent runs.
pub(crate) struct WorkflowState {
    instance_id: String,
    settings: WorkflowSettings,
    permits: Arc<tokio::sync::Semaphore>,
}

impl Default for WorkflowState {
    fn default() -> Self {
        let settings = WorkflowSettings::default();
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "querent".to_owned());
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            instance_id: format!("{host}-{}-{}", std::process::id(), &id[..8]),
            permits: Arc::new(tokio::sync::Semaphore::new(settings.max_concurrent_runs)),
            settings,
        }
    }
}

fn check_name(name: &str) -> ServiceResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS {
        return Err(ServiceError::validation(format!(
            "name: must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    Ok(n.to_owned())
}

fn check_description(d: Option<&str>) -> ServiceResult<Option<String>> {
    match d.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) if s.chars().count() > MAX_DESCRIPTION_CHARS => Err(ServiceError::validation(
            format!("description: at most {MAX_DESCRIPTION_CHARS} characters"),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// Checks a schedule; returns it normalised with its parsed expression and zone.
fn check_schedule(s: &Schedule) -> ServiceResult<(Schedule, cron::Cron, jiff::tz::TimeZone)> {
    let expr = cron::Cron::parse(&s.cron)
        .map_err(|e| ServiceError::validation(format!("schedule.cron: `{}` {e}", s.cron.trim())))?;
    let tz = cron::time_zone(&s.timezone)
        .map_err(|e| ServiceError::validation(format!("schedule.timezone: {e}")))?;
    Ok((
        Schedule {
            cron: s.cron.trim().to_owned(),
            timezone: s.timezone.trim().to_owned(),
        },
        expr,
        tz,
    ))
}

/// The next slot of an enabled, scheduled workflow after `after`.
pub(crate) fn next_slot(
    schedule: Option<&Schedule>,
    enabled: bool,
    after: UnixMillis,
) -> ServiceResult<Option<UnixMillis>> {
    match schedule {
        Some(s) if enabled => {
            let (_, expr, tz) = check_schedule(s)?;
            Ok(expr.next_after(after, &tz))
        }
        _ => Ok(None),
    }
}

/// The shape rules of the steps (no store access): count, texts, condition fields, and a
/// data step before each condition.
fn check_step_shapes(steps: &[WorkflowStep]) -> ServiceResult<()> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(ServiceError::validation(format!(
            "steps: a workflow has 1 to {MAX_STEPS} steps"
        )));
    }
    let mut has_data = false;
    for (i, step) in steps.iter().enumerate() {
        let bad = |why: &str| Err(ServiceError::validation(format!("steps[{i}]: {why}")));
        match step {
            WorkflowStep::RunQuery { .. } => has_data = true,
            WorkflowStep::Ask { question, .. } => {
                let n = question.trim().chars().count();
                if n == 0 || n > MAX_QUESTION_CHARS {
                    return bad(&format!(
                        "question: must be 1 to {MAX_QUESTION_CHARS} characters"
                    ));
                }
                has_data = true;
            }
            WorkflowStep::Condition {
                on,
                column,
                op,
                value,
            } => {
                if !has_data {
                    return bad("a condition needs a run_query or ask step before it");
                }
                match on {
                    ConditionSubject::Changed => {
                        if op.is_some() || value.is_some() || column.is_some() {
                            return bad("op, value and column are not used with on: changed");
                        }
                    }
                    ConditionSubject::RowCount => {
                        if op.is_none() {
                            return bad("op: required with on: row_count");
                        }
                        if column.is_some() {
                            return bad("column: only used with on: value");
                        }
                        if !value.as_ref().is_some_and(serde_json::Value::is_number) {
                            return bad("value: a number is required with on: row_count");
                        }
                    }
                    ConditionSubject::Value => {
                        if op.is_none() {
                            return bad("op: required with on: value");
                        }
                        match value {
                            Some(serde_json::Value::Number(_))
                            | Some(serde_json::Value::String(_))
                            | Some(serde_json::Value::Bool(_)) => {}
                            _ => {
                                return bad(
                                    "value: a number, string or boolean is required with on: value",
                                );
                            }
                        }
                        if let (Some(serde_json::Value::Bool(_)), Some(o)) = (value, op)
                            && !matches!(o, CompareOp::Eq | CompareOp::Ne)
                        {
                            return bad("op: a boolean is compared with = or != only");
                        }
                        if column.as_deref().is_some_and(|c| c.trim().is_empty()) {
                            return bad("column: must not be empty (omit it for the first column)");
                        }
                    }
                }
            }
            WorkflowStep::Webhook { url } => {
                if url.trim().is_empty() || url.chars().count() > MAX_URL_CHARS {
                    return bad(&format!("url: must be 1 to {MAX_URL_CHARS} characters"));
                }
            }
        }
    }
    Ok(())
}

impl App {
    /// This instance's id: the lease owner of the runs it executes.
    pub fn instance_id(&self) -> &str {
        &self.inner.workflows.instance_id
    }

    pub(crate) fn workflow_state(&self) -> &WorkflowState {
        &self.inner.workflows
    }

    /// A workflow the caller may use with at least `min` (404 for other teams').
    async fn load_workflow(
        &self,
        actor: &Actor,
        id: WorkflowId,
        min: TeamRole,
    ) -> ServiceResult<Workflow> {
        let w = self
            .store()
            .get_workflow(id)
            .await
            .or_not_found("workflow")?;
        self.require_team_role(actor, w.team_id, min, "workflow")
            .await?;
        Ok(w)
    }

    /// Checks the steps: shapes, then that each named query and connection exists in one
    /// of the caller's teams and that they all belong to one team; webhook URLs against
    /// the outbound policy. Returns the team they name, if any.
    async fn check_steps(
        &self,
        actor: &Actor,
        steps: &[WorkflowStep],
    ) -> ServiceResult<Option<TeamId>> {
        check_step_shapes(steps)?;
        let mut team: Option<TeamId> = None;
        for (i, step) in steps.iter().enumerate() {
            let owner = match step {
                WorkflowStep::RunQuery { query_id } => {
                    Some(self.step_query_team(actor, i, *query_id).await?)
                }
                WorkflowStep::Ask { connection_id, .. } => {
                    Some(self.step_connection_team(actor, i, *connection_id).await?)
                }
                WorkflowStep::Webhook { url } => {
                    self.inner
                        .ports
                        .webhooks
                        .check_url(url)
                        .await
                        .map_err(|e| ServiceError::validation(format!("steps[{i}].url: {e}")))?;
                    None
                }
                WorkflowStep::Condition { .. } => None,
            };
            match (owner, team) {
                (Some(o), Some(t)) if o != t => {
                    return Err(ServiceError::validation(format!(
                        "steps[{i}]: belongs to another team than the workflow's earlier steps; \
                         a workflow's queries and connections are all one team's"
                    )));
                }
                (Some(o), None) => team = Some(o),
                _ => {}
            }
        }
        Ok(team)
    }

    async fn step_query_team(
        &self,
        actor: &Actor,
        i: usize,
        id: SavedQueryId,
    ) -> ServiceResult<TeamId> {
        let unknown = || {
            ServiceError::validation(format!(
                "steps[{i}].query_id: no saved query {id} in your teams"
            ))
        };
        let q = self
            .store()
            .get_saved_query(id)
            .await
            .or_not_found("saved query")
            .map_err(|e| {
                if e.code == querent_domain::ErrorCode::NotFound {
                    unknown()
                } else {
                    e
                }
            })?;
        match self.team_role(actor, q.team_id).await? {
            Some(_) => Ok(q.team_id),
            None => Err(unknown()),
        }
    }

    async fn step_connection_team(
        &self,
        actor: &Actor,
        i: usize,
        id: ConnectionId,
    ) -> ServiceResult<TeamId> {
        let unknown = || {
            ServiceError::validation(format!(
                "steps[{i}].connection_id: no connection {id} in your teams"
            ))
        };
        let c = self
            .store()
            .get_connection(id)
            .await
            .or_not_found("connection")
            .map_err(|e| {
                if e.code == querent_domain::ErrorCode::NotFound {
                    unknown()
                } else {
                    e
                }
            })?;
        match self.team_role(actor, c.team_id).await? {
            Some(_) => Ok(c.team_id),
            None => Err(unknown()),
        }
    }

    /// `POST /workflows` (editor or above in its team).
    pub async fn create_workflow(
        &self,
        actor: &Actor,
        req: &CreateWorkflow,
    ) -> ServiceResult<WorkflowView> {
        let name = check_name(&req.name)?;
        let description = check_description(req.description.as_deref())?;
        let schedule = match &req.schedule {
            Some(s) => Some(check_schedule(s)?.0),
            None => None,
        };
        let named = self.check_steps(actor, &req.steps).await?;
        let team = match (req.team_id, named) {
            (Some(t), Some(n)) if t != n => {
                return Err(ServiceError::validation(
                    "team_id: the workflow's steps name another team's queries or connections",
                ));
            }
            (t, n) => t.or(n),
        };
        let team = self.acting_team(actor, team, TeamRole::Editor).await?;
        let now = now_millis();
        let workflow = Workflow {
            id: WorkflowId::new(),
            team_id: team,
            name,
            description,
            enabled: req.enabled,
            next_run_at: next_slot(schedule.as_ref(), req.enabled, now)?,
            schedule,
            steps: req.steps.clone(),
            created_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_workflow(&workflow).await?;
        self.audit_by(
            actor,
            "workflow.create",
            format!("workflow:{}", workflow.id),
            None,
        )
        .await;
        Ok(workflow.into())
    }

    /// `GET /workflows`: the workflows of the caller's teams.
    pub async fn list_workflows(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<WorkflowView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let rows = self.store().list_workflows(&teams, &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |w| w.id.to_string(),
            WorkflowView::from,
        ))
    }

    /// `GET /workflows/{id}`.
    pub async fn get_workflow(&self, actor: &Actor, id: WorkflowId) -> ServiceResult<WorkflowView> {
        Ok(self
            .load_workflow(actor, id, TeamRole::Viewer)
            .await?
            .into())
    }

    /// `PATCH /workflows/{id}` (editor or above). A changed schedule, or turning it on,
    /// starts from now: the next slot is the first one after the change.
    pub async fn update_workflow(
        &self,
        actor: &Actor,
        id: WorkflowId,
        req: &UpdateWorkflow,
    ) -> ServiceResult<WorkflowView> {
        let mut w = self.load_workflow(actor, id, TeamRole::Editor).await?;
        if req.name.is_none()
            && req.description.is_none()
            && req.enabled.is_none()
            && req.schedule.is_none()
            && req.steps.is_none()
        {
            return Err(ServiceError::validation(
                "nothing to change: give name, description, enabled, schedule and/or steps",
            ));
        }
        if let Some(n) = &req.name {
            w.name = check_name(n)?;
        }
        if let Some(d) = &req.description {
            w.description = check_description(d.as_deref())?;
        }
        if let Some(steps) = &req.steps {
            if let Some(team) = self.check_steps(actor, steps).await?
                && team != w.team_id
            {
                return Err(ServiceError::validation(
                    "steps: they name another team's queries or connections than the workflow's team",
                ));
            }
            w.steps = steps.clone();
        }
        let mut reschedule = false;
        if let Some(s) = &req.schedule {
            w.schedule = match s {
                Some(s) => Some(check_schedule(s)?.0),
                None => None,
            };
            reschedule = true;
        }
        if let Some(e) = req.enabled {
            reschedule |= e != w.enabled;
            w.enabled = e;
        }
        let now = now_millis();
        if reschedule {
            w.next_run_at = next_slot(w.schedule.as_ref(), w.enabled, now)?;
        }
        w.updated_at = now;
        self.store()
            .update_workflow(&w)
            .await
            .or_not_found("workflow")?;
        self.audit_by(actor, "workflow.update", format!("workflow:{id}"), None)
            .await;
        Ok(w.into())
    }

    /// `DELETE /workflows/{id}` (editor or above); its runs go with it.
    pub async fn delete_workflow(&self, actor: &Actor, id: WorkflowId) -> ServiceResult<()> {
        self.load_workflow(actor, id, TeamRole::Editor).await?;
        self.store()
            .delete_workflow(id)
            .await
            .or_not_found("workflow")?;
        self.audit_by(actor, "workflow.delete", format!("workflow:{id}"), None)
            .await;
        Ok(())
    }

    /// `GET /workflows/{id}/runs`: newest first.
    pub async fn list_workflow_runs(
        &self,
        actor: &Actor,
        id: WorkflowId,
        params: &ListParams,
    ) -> ServiceResult<Paginated<WorkflowRunView>> {
        self.load_workflow(actor, id, TeamRole::Viewer).await?;
        let page = params.page()?;
        let rows = self.store().list_workflow_runs(id, &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |r| r.id.to_string(),
            WorkflowRunView::from,
        ))
    }

    /// `GET /workflows/{id}/runs/{run_id}`.
    pub async fn get_workflow_run(
        &self,
        actor: &Actor,
        id: WorkflowId,
        run_id: WorkflowRunId,
    ) -> ServiceResult<WorkflowRunView> {
        self.load_workflow(actor, id, TeamRole::Viewer).await?;
        let run = self
            .store()
            .get_workflow_run(run_id)
            .await
            .or_not_found("workflow run")?;
        if run.workflow_id != id {
            return Err(ServiceError::not_found("workflow run"));
        }
        Ok(run.into())
    }

    /// `POST /workflows/{id}/run` (editor or above): runs it now, in the background, or to
    /// its end with `wait`. The run acts as the workflow's creator, like scheduled runs.
    pub async fn run_workflow_now(
        &self,
        actor: &Actor,
        id: WorkflowId,
        params: &RunParams,
    ) -> ServiceResult<StartedRun> {
        let w = self.load_workflow(actor, id, TeamRole::Editor).await?;
        let settings = self.workflow_state().settings.clone();
        let now = now_millis();
        let run = WorkflowRun {
            id: WorkflowRunId::new(),
            workflow_id: w.id,
            team_id: w.team_id,
            status: WorkflowRunStatus::Queued,
            trigger: RunTrigger::Manual,
            scheduled_for: None,
            missed_slots: 0,
            started_at: None,
            finished_at: None,
            steps: Vec::new(),
            error: None,
            lease_owner: Some(self.instance_id().to_owned()),
            lease_expires_at: Some(now + millis(settings.lease)),
            created_at: now,
        };
        self.store().insert_workflow_run(&run).await?;
        self.audit_by(
            actor,
            "workflow.run",
            format!("workflow:{id}"),
            Some(format!("run:{}", run.id)),
        )
        .await;
        if params.wait.unwrap_or(false) {
            let done = self.execute_run(w, run, &settings).await;
            return Ok(StartedRun {
                run: done.into(),
                finished: true,
            });
        }
        let app = self.clone();
        let queued = run.clone();
        tokio::spawn(async move { app.execute_run(w, run, &settings).await });
        Ok(StartedRun {
            run: queued.into(),
            finished: false,
        })
    }
}

/// A duration in milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn steps(v: serde_json::Value) -> Vec<WorkflowStep> {
        serde_json::from_value(v).unwrap()
    }

    fn shape_error(v: serde_json::Value) -> String {
        check_step_shapes(&steps(v)).unwrap_err().detail
    }

    #[test]
    fn step_shapes() {
        let q = "0190c0de-0000-7000-8000-000000000001";
        assert!(
            check_step_shapes(&steps(json!([
                {"type": "run_query", "query_id": q},
                {"type": "condition", "on": "row_count", "op": ">", "value": 0},
                {"type": "condition", "on": "value", "column": "n", "op": "=", "value": "x"},
                {"type": "condition", "on": "changed"},
                {"type": "webhook", "url": "http://127.0.0.1/x"}
            ])))
            .is_ok()
        );
        assert!(shape_error(json!([])).contains("1 to 20 steps"));
        assert!(
            shape_error(json!([{"type": "condition", "on": "changed"}]))
                .contains("steps[0]: a condition needs a run_query or ask step before it")
        );
        let cases = [
            (
                json!({"type": "condition", "on": "row_count", "value": 1}),
                "op: required",
            ),
            (
                json!({"type": "condition", "on": "row_count", "op": ">"}),
                "value: a number",
            ),
            (
                json!({"type": "condition", "on": "row_count", "op": ">", "value": "1"}),
                "value: a number",
            ),
            (
                json!({"type": "condition", "on": "value", "op": ">"}),
                "value: a number, string or boolean",
            ),
            (
                json!({"type": "condition", "on": "value", "op": ">", "value": true}),
                "compared with = or !=",
            ),
            (
                json!({"type": "condition", "on": "changed", "op": ">"}),
                "not used with on: changed",
            ),
            (json!({"type": "webhook", "url": " "}), "url: must be"),
        ];
        for (step, want) in cases {
            let e = shape_error(json!([{"type": "run_query", "query_id": q}, step]));
            assert!(e.starts_with("steps[1]"), "{e}");
            assert!(e.contains(want), "{step}: {e}");
        }
    }

    #[test]
    fn schedules_are_checked() {
        let bad = |cron: &str, tz: &str| {
            check_schedule(&Schedule {
                cron: cron.into(),
                timezone: tz.into(),
            })
            .map(|_| ())
            .unwrap_err()
            .detail
        };
        assert!(bad("* * *", "UTC").starts_with("schedule.cron: `* * *` has 3 fields"));
        assert!(bad("0 0 * * *", "Nowhere/City").starts_with("schedule.timezone:"));
        let next = next_slot(
            Some(&Schedule {
                cron: "*/2 * * * * *".into(),
                timezone: "UTC".into(),
            }),
            true,
            1_000,
        )
        .unwrap();
        assert_eq!(next, Some(2_000));
        assert_eq!(next_slot(None, true, 0).unwrap(), None);
    }
}
