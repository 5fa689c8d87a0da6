//! Workflows (`workflows`: schedule and steps as JSON) and their runs (`workflow_runs`).
//!
//! A scheduled slot runs once across every instance: [`claim_slot`] moves the workflow's
//! `next_run_at` from the slot to the next one and inserts the run in one transaction, only
//! while `next_run_at` still is the slot, and the unique `(workflow_id, scheduled_for)`
//! backs it up. A run is then written only by the instance holding its lease
//! ([`update_run`]); one whose lease ran out is failed by [`fail_abandoned`], after which
//! its old holder's writes are refused.

use crate::statements::KeptDsl;
use diesel::prelude::{Insertable, Queryable};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use querent_domain::ports::{Page, StoreResult};
use querent_domain::workspace::{Workflow, WorkflowRun};
use querent_domain::{TeamId, UnixMillis, WorkflowId, WorkflowRunId, WorkflowRunStatus};

use super::{from_i64, team_ids};
use crate::models::{json, parse, to_json};
use crate::schema::{workflow_runs, workflows};
use crate::{DbError, Store, StoreError};

/// The states in which a run is still someone's to write.
fn open() -> [&'static str; 2] {
    [
        WorkflowRunStatus::Queued.as_str(),
        WorkflowRunStatus::Running.as_str(),
    ]
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = workflows)]
struct WorkflowRow {
    id: String,
    team_id: String,
    name: String,
    description: Option<String>,
    enabled: bool,
    schedule: Option<String>,
    steps: String,
    next_run_at: Option<i64>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl WorkflowRow {
    fn from_domain(w: &Workflow) -> Self {
        Self {
            id: w.id.to_string(),
            team_id: w.team_id.to_string(),
            name: w.name.clone(),
            description: w.description.clone(),
            enabled: w.enabled,
            schedule: w.schedule.as_ref().map(to_json),
            steps: to_json(&w.steps),
            next_run_at: w.next_run_at,
            created_by: w.created_by.clone(),
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }

    fn into_domain(self) -> Result<Workflow, DbError> {
        Ok(Workflow {
            id: parse("workflow id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            name: self.name,
            description: self.description,
            enabled: self.enabled,
            schedule: self
                .schedule
                .as_deref()
                .map(|s| json("workflow schedule", s))
                .transpose()?,
            steps: json("workflow steps", &self.steps)?,
            next_run_at: self.next_run_at,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

fn workflows_into(rows: Vec<WorkflowRow>) -> Result<Vec<Workflow>, DbError> {
    rows.into_iter().map(WorkflowRow::into_domain).collect()
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = workflow_runs)]
struct RunRow {
    id: String,
    workflow_id: String,
    team_id: String,
    status: String,
    run_trigger: String,
    scheduled_for: Option<i64>,
    missed_slots: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    steps: String,
    error: Option<String>,
    lease_owner: Option<String>,
    lease_expires_at: Option<i64>,
    created_at: i64,
}

impl RunRow {
    fn from_domain(r: &WorkflowRun) -> Self {
        Self {
            id: r.id.to_string(),
            workflow_id: r.workflow_id.to_string(),
            team_id: r.team_id.to_string(),
            status: r.status.as_str().to_owned(),
            run_trigger: r.trigger.as_str().to_owned(),
            scheduled_for: r.scheduled_for,
            missed_slots: i64::from(r.missed_slots),
            started_at: r.started_at,
            finished_at: r.finished_at,
            steps: to_json(&r.steps),
            error: r.error.clone(),
            lease_owner: r.lease_owner.clone(),
            lease_expires_at: r.lease_expires_at,
            created_at: r.created_at,
        }
    }

    fn into_domain(self) -> Result<WorkflowRun, DbError> {
        Ok(WorkflowRun {
            id: parse("workflow run id", &self.id)?,
            workflow_id: parse("workflow id", &self.workflow_id)?,
            team_id: parse("team id", &self.team_id)?,
            status: parse("workflow run status", &self.status)?,
            trigger: parse("workflow run trigger", &self.run_trigger)?,
            scheduled_for: self.scheduled_for,
            missed_slots: from_i64("workflow run missed slots", self.missed_slots)?,
            started_at: self.started_at,
            finished_at: self.finished_at,
            steps: json("workflow run steps", &self.steps)?,
            error: self.error,
            lease_owner: self.lease_owner,
            lease_expires_at: self.lease_expires_at,
            created_at: self.created_at,
        })
    }
}

pub(super) async fn insert(store: &Store, workflow: &Workflow) -> StoreResult<()> {
    let row = WorkflowRow::from_domain(workflow);
    with_write!(store, c => {
        diesel::insert_into(workflows::table).values(&row).execute(c).await?;
        Ok(())
    })
}

pub(super) async fn get(store: &Store, id: WorkflowId) -> StoreResult<Workflow> {
    with_conn!(store, c => {
        let row: WorkflowRow = workflows::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn update(store: &Store, workflow: &Workflow) -> StoreResult<()> {
    let row = WorkflowRow::from_domain(workflow);
    with_write!(store, c => {
        let n = diesel::update(workflows::table.find(&row.id))
            .set((
                workflows::name.eq(&row.name),
                workflows::description.eq(&row.description),
                workflows::enabled.eq(row.enabled),
                workflows::schedule.eq(&row.schedule),
                workflows::steps.eq(&row.steps),
                workflows::next_run_at.eq(row.next_run_at),
                workflows::updated_at.eq(row.updated_at),
            ))
            .execute(c)
            .await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn delete(store: &Store, id: WorkflowId) -> StoreResult<()> {
    with_write!(store, c => {
        // Its runs go with it (ON DELETE CASCADE).
        let n = diesel::delete(workflows::table.find(id.to_string())).execute(c).await?;
        if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
    })
}

pub(super) async fn list(
    store: &Store,
    teams: &[TeamId],
    page: &Page,
) -> StoreResult<Vec<Workflow>> {
    let ids = team_ids(teams);
    with_conn!(store, c => {
        let mut q = workflows::table
            .filter(workflows::team_id.eq_any(ids.clone()))
            .order(workflows::id.asc())
            .limit(page.limit)
            .into_boxed();
        if let Some(after) = &page.after {
            q = q.filter(workflows::id.gt(after.clone()));
        }
        let rows: Vec<WorkflowRow> = q.load(c).await?;
        Ok(workflows_into(rows)?)
    })
}

pub(super) async fn due(store: &Store, now: UnixMillis, limit: i64) -> StoreResult<Vec<Workflow>> {
    with_conn!(store, c => {
        let rows: Vec<WorkflowRow> = workflows::table
            .filter(workflows::enabled.eq(true))
            .filter(workflows::next_run_at.le(now))
            .order((workflows::next_run_at.asc(), workflows::id.asc()))
            .limit(limit)
            .load(c)
            .await?;
        Ok(workflows_into(rows)?)
    })
}

pub(super) async fn claim_slot(
    store: &Store,
    id: WorkflowId,
    slot: UnixMillis,
    next: Option<UnixMillis>,
    run: &WorkflowRun,
) -> StoreResult<bool> {
    let wid = id.to_string();
    let mut row = RunRow::from_domain(run);
    // The run is the slot's, whatever the caller filled in: the unique (workflow, slot)
    // then backs the compare-and-set up.
    row.workflow_id.clone_from(&wid);
    row.scheduled_for = Some(slot);
    with_write!(store, c => {
        let claimed = c
            .transaction::<_, DbError, _>(async |c| {
                // The compare-and-set first, so that on SQLite the transaction holds the
                // write lock from its first statement; on PostgreSQL a concurrent claimer
                // waits on the row lock, then re-checks `next_run_at = slot` against the
                // committed value and updates nothing.
                let n = diesel::update(
                    workflows::table
                        .find(&wid)
                        .filter(workflows::next_run_at.eq(slot))
                        .filter(workflows::enabled.eq(true)),
                )
                .set(workflows::next_run_at.eq(next))
                .execute(c)
                .await?;
                if n == 0 {
                    return Ok(false);
                }
                diesel::insert_into(workflow_runs::table).values(&row).execute(c).await?;
                Ok(true)
            })
            .await;
        match claimed {
            // The slot already has its run: the transaction rolled back, nothing written.
            Err(DbError(StoreError::Conflict(_))) => Ok(false),
            other => other,
        }
    })
}

pub(super) async fn insert_run(store: &Store, run: &WorkflowRun) -> StoreResult<()> {
    let row = RunRow::from_domain(run);
    with_write!(store, c => {
        diesel::insert_into(workflow_runs::table).values(&row).execute(c).await?;
        Ok(())
    })
}

pub(super) async fn update_run(store: &Store, run: &WorkflowRun) -> StoreResult<bool> {
    let row = RunRow::from_domain(run);
    with_write!(store, c => {
        let mut q = diesel::update(workflow_runs::table)
            .filter(workflow_runs::id.eq(row.id.clone()))
            .filter(workflow_runs::status.eq_any(open()))
            .into_boxed();
        q = match &row.lease_owner {
            Some(owner) => q.filter(workflow_runs::lease_owner.eq(owner.clone())),
            None => q.filter(workflow_runs::lease_owner.is_null()),
        };
        let n = q
            .set((
                workflow_runs::status.eq(&row.status),
                workflow_runs::steps.eq(&row.steps),
                workflow_runs::started_at.eq(row.started_at),
                workflow_runs::finished_at.eq(row.finished_at),
                workflow_runs::error.eq(&row.error),
                workflow_runs::lease_expires_at.eq(row.lease_expires_at),
            ))
            .execute(c)
            .await?;
        if n > 0 {
            return Ok(true);
        }
        let exists: i64 = workflow_runs::table
            .filter(workflow_runs::id.eq(row.id.clone()))
            .count()
            .get_result(c)
            .await?;
        if exists == 0 { Err(StoreError::NotFound.into()) } else { Ok(false) }
    })
}

pub(super) async fn get_run(store: &Store, id: WorkflowRunId) -> StoreResult<WorkflowRun> {
    with_conn!(store, c => {
        let row: RunRow = workflow_runs::table.find(id.to_string()).limit_one().get_result(c).await?;
        Ok(row.into_domain()?)
    })
}

pub(super) async fn list_runs(
    store: &Store,
    workflow: WorkflowId,
    page: &Page,
) -> StoreResult<Vec<WorkflowRun>> {
    with_conn!(store, c => {
        let mut q = workflow_runs::table
            .filter(workflow_runs::workflow_id.eq(workflow.to_string()))
            .order(workflow_runs::id.desc())
            .limit(page.limit)
            .into_boxed();
        if let Some(after) = &page.after {
            q = q.filter(workflow_runs::id.lt(after.clone()));
        }
        let rows: Vec<RunRow> = q.load(c).await?;
        Ok(rows.into_iter().map(RunRow::into_domain).collect::<Result<Vec<_>, _>>()?)
    })
}

pub(super) async fn fail_abandoned(
    store: &Store,
    now: UnixMillis,
    reason: &str,
) -> StoreResult<u64> {
    let reason = reason.to_owned();
    with_write!(store, c => {
        let n = diesel::update(
            workflow_runs::table
                .filter(workflow_runs::status.eq_any(open()))
                .filter(workflow_runs::lease_expires_at.lt(now)),
        )
        .set((
            workflow_runs::status.eq(WorkflowRunStatus::Failed.as_str()),
            workflow_runs::finished_at.eq(now),
            workflow_runs::error.eq(reason.clone()),
        ))
        .execute(c)
        .await?;
        Ok(n as u64)
    })
}
