//! The analytics workspace's tables (the [`WorkspaceStore`] port): saved queries, their
//! tags and runs (`queries.rs`), dashboards (`dashboards.rs`), workflows and their runs
//! (`workflows.rs`), asynchronous questions (`questions.rs`) and assistants
//! (`assistants.rs`). Each submodule holds a table's row struct and its queries; the port's
//! impl below only routes to them.
//!
//! The writes that decide who does something are compare-and-sets that hold on both
//! backends and across instances sharing one PostgreSQL store: a workflow slot is claimed
//! by moving `next_run_at` from the slot only while it still is the slot (PostgreSQL
//! re-checks the condition after a concurrent updater commits; SQLite has one writer), a
//! question is taken by moving it from `PENDING` only while it still is, and a leased row
//! is written only while its `lease_owner` still holds it.

use querent_domain::ports::{Page, StoreResult};
use querent_domain::workspace::{
    Assistant, AsyncQuestion, Dashboard, QueryRun, SavedQuery, SavedQueryFilter, Workflow,
    WorkflowRun, WorkspaceStore,
};
use querent_domain::{
    AssistantId, DashboardId, QuestionId, SavedQueryId, TeamId, UnixMillis, WorkflowId,
    WorkflowRunId,
};

use crate::{DbError, Store};

mod assistants;
mod dashboards;
mod queries;
mod questions;
mod workflows;

/// A count or size the domain keeps unsigned, as the BIGINT column stores it.
fn to_i64(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

/// A stored BIGINT read back as the domain's unsigned type; a value out of range is corrupt.
fn from_i64<T: TryFrom<i64>>(what: &str, n: i64) -> Result<T, DbError> {
    T::try_from(n).map_err(|_| DbError::corrupt(format!("{what}: {n}")))
}

/// Team ids as the stored text.
fn team_ids(teams: &[TeamId]) -> Vec<String> {
    teams.iter().map(ToString::to_string).collect()
}

#[async_trait::async_trait]
impl WorkspaceStore for Store {
    async fn insert_saved_query(&self, query: &SavedQuery) -> StoreResult<()> {
        queries::insert(self, query).await
    }

    async fn get_saved_query(&self, id: SavedQueryId) -> StoreResult<SavedQuery> {
        queries::get(self, id).await
    }

    async fn update_saved_query(&self, query: &SavedQuery) -> StoreResult<()> {
        queries::update(self, query).await
    }

    async fn delete_saved_query(&self, id: SavedQueryId) -> StoreResult<()> {
        queries::delete(self, id).await
    }

    async fn list_saved_queries(
        &self,
        teams: &[TeamId],
        filter: &SavedQueryFilter,
        page: &Page,
    ) -> StoreResult<Vec<SavedQuery>> {
        queries::list(self, teams, filter, page).await
    }

    async fn insert_query_run(
        &self,
        run: &QueryRun,
        keep: u32,
        keep_snapshots: u32,
    ) -> StoreResult<()> {
        queries::insert_run(self, run, keep, keep_snapshots).await
    }

    async fn list_query_runs(&self, query: SavedQueryId, limit: i64) -> StoreResult<Vec<QueryRun>> {
        queries::list_runs(self, query, limit).await
    }

    async fn latest_query_snapshot(&self, query: SavedQueryId) -> StoreResult<Option<QueryRun>> {
        queries::latest_snapshot(self, query).await
    }

    async fn insert_dashboard(&self, dashboard: &Dashboard) -> StoreResult<()> {
        dashboards::insert(self, dashboard).await
    }

    async fn get_dashboard(&self, id: DashboardId) -> StoreResult<Dashboard> {
        dashboards::get(self, id).await
    }

    async fn update_dashboard(&self, dashboard: &Dashboard) -> StoreResult<()> {
        dashboards::update(self, dashboard).await
    }

    async fn delete_dashboard(&self, id: DashboardId) -> StoreResult<()> {
        dashboards::delete(self, id).await
    }

    async fn list_dashboards(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Dashboard>> {
        dashboards::list(self, teams, page).await
    }

    async fn insert_workflow(&self, workflow: &Workflow) -> StoreResult<()> {
        workflows::insert(self, workflow).await
    }

    async fn get_workflow(&self, id: WorkflowId) -> StoreResult<Workflow> {
        workflows::get(self, id).await
    }

    async fn update_workflow(&self, workflow: &Workflow) -> StoreResult<()> {
        workflows::update(self, workflow).await
    }

    async fn delete_workflow(&self, id: WorkflowId) -> StoreResult<()> {
        workflows::delete(self, id).await
    }

    async fn list_workflows(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Workflow>> {
        workflows::list(self, teams, page).await
    }

    async fn due_workflows(&self, now: UnixMillis, limit: i64) -> StoreResult<Vec<Workflow>> {
        workflows::due(self, now, limit).await
    }

    async fn claim_workflow_slot(
        &self,
        id: WorkflowId,
        slot: UnixMillis,
        next: Option<UnixMillis>,
        run: &WorkflowRun,
    ) -> StoreResult<bool> {
        workflows::claim_slot(self, id, slot, next, run).await
    }

    async fn insert_workflow_run(&self, run: &WorkflowRun) -> StoreResult<()> {
        workflows::insert_run(self, run).await
    }

    async fn update_workflow_run(&self, run: &WorkflowRun) -> StoreResult<bool> {
        workflows::update_run(self, run).await
    }

    async fn get_workflow_run(&self, id: WorkflowRunId) -> StoreResult<WorkflowRun> {
        workflows::get_run(self, id).await
    }

    async fn list_workflow_runs(
        &self,
        workflow: WorkflowId,
        page: &Page,
    ) -> StoreResult<Vec<WorkflowRun>> {
        workflows::list_runs(self, workflow, page).await
    }

    async fn fail_abandoned_workflow_runs(
        &self,
        now: UnixMillis,
        reason: &str,
    ) -> StoreResult<u64> {
        workflows::fail_abandoned(self, now, reason).await
    }

    async fn insert_question(&self, question: &AsyncQuestion) -> StoreResult<()> {
        questions::insert(self, question).await
    }

    async fn get_question(&self, id: QuestionId) -> StoreResult<AsyncQuestion> {
        questions::get(self, id).await
    }

    async fn claim_questions(
        &self,
        owner: &str,
        now: UnixMillis,
        lease_until: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<AsyncQuestion>> {
        questions::claim(self, owner, now, lease_until, limit).await
    }

    async fn renew_question_lease(
        &self,
        id: QuestionId,
        owner: &str,
        lease_until: UnixMillis,
    ) -> StoreResult<bool> {
        questions::renew_lease(self, id, owner, lease_until).await
    }

    async fn finish_question(&self, question: &AsyncQuestion, owner: &str) -> StoreResult<bool> {
        questions::finish(self, question, owner).await
    }

    async fn recover_questions(
        &self,
        now: UnixMillis,
        max_attempts: u32,
        reason: &str,
    ) -> StoreResult<(u64, u64)> {
        questions::recover(self, now, max_attempts, reason).await
    }

    async fn count_open_questions(&self) -> StoreResult<(u64, u64)> {
        questions::count_open(self).await
    }

    async fn insert_assistant(&self, assistant: &Assistant) -> StoreResult<()> {
        assistants::insert(self, assistant).await
    }

    async fn get_assistant(&self, id: AssistantId) -> StoreResult<Assistant> {
        assistants::get(self, id).await
    }

    async fn update_assistant(&self, assistant: &Assistant) -> StoreResult<()> {
        assistants::update(self, assistant).await
    }

    async fn delete_assistant(&self, id: AssistantId) -> StoreResult<()> {
        assistants::delete(self, id).await
    }

    async fn list_assistants(&self, teams: &[TeamId], page: &Page) -> StoreResult<Vec<Assistant>> {
        assistants::list(self, teams, page).await
    }
}
