//! The scheduler: every tick, fail the runs whose instance stopped, then claim the due slots
//! of scheduled workflows and run them. Safe with any number of instances on one store:
//! a slot is claimed by a compare-and-set in the store, so exactly one instance runs it.

use std::time::Duration;

use querent_domain::workspace::{Workflow, WorkflowRun};
use querent_domain::{RunTrigger, UnixMillis, WorkflowRunId, WorkflowRunStatus, now_millis};

use super::{check_schedule, millis};
use crate::App;

/// Most due workflows looked at per tick.
const DUE_PER_TICK: i64 = 50;
/// Most missed slots counted when coalescing (a longer outage still makes one run).
const MAX_COUNTED_MISSED: u32 = 10_000;
/// The reason recorded on a run whose lease expired.
pub(crate) const ABANDONED: &str = "the instance running it stopped";

/// How an instance schedules and runs workflows.
#[derive(Clone, Debug)]
pub struct WorkflowSettings {
    /// How often the scheduler looks for due slots (on average: each wait is jittered by
    /// ±50%).
    pub tick: Duration,
    /// How long a run is held by its instance without renewal; renewed every third of it.
    pub lease: Duration,
    /// The longest a run may take.
    pub run_timeout: Duration,
    /// The longest one webhook attempt may take.
    pub webhook_timeout: Duration,
    /// Webhook attempts (the first plus retries).
    pub webhook_attempts: u32,
    /// The delay before the first retry; doubled before each later one.
    pub webhook_backoff: Duration,
    /// Runs executing at once on this instance (more wait their turn, queued).
    pub max_concurrent_runs: usize,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            run_timeout: Duration::from_secs(300),
            webhook_timeout: Duration::from_secs(10),
            webhook_attempts: 3,
            webhook_backoff: Duration::from_secs(1),
            max_concurrent_runs: 4,
        }
    }
}

/// Where the next run of a due slot goes: the first slot after `max(slot, now)`, and how
/// many slots in `(slot, now]` the run stands for (missed while no instance ran).
pub(crate) fn plan_slot(
    slot: UnixMillis,
    now: UnixMillis,
    mut next_after: impl FnMut(UnixMillis) -> Option<UnixMillis>,
) -> (Option<UnixMillis>, u32) {
    let mut missed = 0u32;
    let mut t = slot;
    loop {
        match next_after(t) {
            Some(n) if n <= now && missed < MAX_COUNTED_MISSED => {
                missed += 1;
                t = n;
            }
            Some(n) if n <= now => return (next_after(now), missed),
            other => return (other, missed),
        }
    }
}

/// `tick` scaled by a random factor in [0.5, 1.5): instances sharing a store spread their
/// store reads out instead of ticking in lockstep, and which instance claims a slot varies.
fn jittered(tick: Duration) -> Duration {
    let r = uuid::Uuid::new_v4().as_u128() as u16;
    tick.mul_f64(0.5 + f64::from(r) / 65_536.0)
}

impl App {
    /// Starts this instance's scheduler with the default settings (a tick every second).
    /// Abort the handle to stop it; runs already started finish on their own.
    pub fn spawn_scheduler(&self) -> tokio::task::JoinHandle<()> {
        self.spawn_scheduler_with(self.workflow_state().settings.clone())
    }

    /// Starts the scheduler with other settings (tests shorten them).
    pub fn spawn_scheduler_with(&self, settings: WorkflowSettings) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                app.scheduler_tick(&settings).await;
                tokio::time::sleep(jittered(settings.tick)).await;
            }
        })
    }

    /// One pass: expire abandoned runs, then claim and start each due slot.
    pub(crate) async fn scheduler_tick(&self, settings: &WorkflowSettings) {
        if self.is_shutting_down() {
            return;
        }
        let now = now_millis();
        match self
            .store()
            .fail_abandoned_workflow_runs(now, ABANDONED)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::warn!(runs = n, "workflow runs whose instance stopped were failed"),
            Err(e) => tracing::warn!(error = %e, "could not fail abandoned workflow runs"),
        }
        let due = match self.store().due_workflows(now, DUE_PER_TICK).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "could not read due workflows");
                return;
            }
        };
        for w in due {
            self.claim_and_start(w, now, settings).await;
        }
    }

    async fn claim_and_start(&self, w: Workflow, now: UnixMillis, settings: &WorkflowSettings) {
        let Some(slot) = w.next_run_at else { return };
        let (next, missed) = match w.schedule.as_ref().map(check_schedule) {
            Some(Ok((_, expr, tz))) => plan_slot(slot, now, |t| expr.next_after(t, &tz)),
            // A schedule that no longer reads (it was valid when saved): stop scheduling.
            Some(Err(e)) => {
                tracing::warn!(workflow = %w.id, error = %e.detail, "unreadable schedule; not scheduling it");
                (None, 0)
            }
            None => (None, 0),
        };
        let run = WorkflowRun {
            id: WorkflowRunId::new(),
            workflow_id: w.id,
            team_id: w.team_id,
            status: WorkflowRunStatus::Queued,
            trigger: RunTrigger::Schedule,
            scheduled_for: Some(slot),
            missed_slots: missed,
            started_at: None,
            finished_at: None,
            steps: Vec::new(),
            error: None,
            lease_owner: Some(self.instance_id().to_owned()),
            lease_expires_at: Some(now + millis(settings.lease)),
            created_at: now,
        };
        match self
            .store()
            .claim_workflow_slot(w.id, slot, next, &run)
            .await
        {
            Ok(true) => {
                let app = self.clone();
                let settings = settings.clone();
                tokio::spawn(async move { app.execute_run(w, run, &settings).await });
            }
            Ok(false) => self.heal_claimed_slot(&w, slot, next).await,
            Err(e) => {
                tracing::warn!(workflow = %w.id, error = %e, "could not claim a workflow slot")
            }
        }
    }

    /// A lost claim is normally another instance's win. But when the workflow still points
    /// at `slot`, the slot already has its run and something (an edit racing a claim)
    /// wrote the old slot back: move it forward so the workflow does not stall.
    async fn heal_claimed_slot(&self, w: &Workflow, slot: UnixMillis, next: Option<UnixMillis>) {
        let Ok(mut current) = self.store().get_workflow(w.id).await else {
            return;
        };
        if current.next_run_at != Some(slot) || !current.enabled {
            return;
        }
        tracing::warn!(workflow = %w.id, slot, "a slot that already ran was scheduled again; moving on");
        current.next_run_at = next;
        if let Err(e) = self.store().update_workflow(&current).await {
            tracing::warn!(workflow = %w.id, error = %e, "could not move a workflow past a slot that ran");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_slots_are_coalesced() {
        let every_10 = |t: UnixMillis| Some((t / 10 + 1) * 10);
        // On time: nothing missed, the next slot follows.
        assert_eq!(plan_slot(100, 101, every_10), (Some(110), 0));
        // Down from 100 to 135: 110, 120, 130 missed; next is 140.
        assert_eq!(plan_slot(100, 135, every_10), (Some(140), 3));
        // Exactly on a slot: it is counted as missed, the next is after now.
        assert_eq!(plan_slot(100, 130, every_10), (Some(140), 3));
        // A schedule that ends.
        assert_eq!(
            plan_slot(100, 500, |t| (t < 120).then_some(t + 10)),
            (None, 2)
        );
        // Counting is bounded; the next slot is still after now.
        let (next, missed) = plan_slot(0, 10_000_000, |t| Some(t + 1));
        assert_eq!((next, missed), (Some(10_000_001), MAX_COUNTED_MISSED));
    }
}
