//! Running one workflow run: its steps in order, as the workflow's creator, under a lease
//! renewed while it runs and a whole-run timeout, with progress written after each step.

use std::future::Future;
use std::time::Instant;

use querent_domain::chat::ResultSet;
use querent_domain::ports::{Page, StoreError};
use querent_domain::query::Row;
use querent_domain::webhook::DeliveryError;
use querent_domain::workspace::{
    CompareOp, ConditionSubject, StepResult, Workflow, WorkflowRun, WorkflowStep,
};
use querent_domain::{
    ErrorCode, MessageStatus, SavedQueryId, TeamRole, WorkflowId, WorkflowRunId, WorkflowRunStatus,
    now_millis,
};
use serde_json::{Value, json};

use super::millis;
use super::scheduler::WorkflowSettings;
use crate::chat::{ChatRequest, Events, ResultView};
use crate::queries::RunOptions;
use crate::{Actor, App};

/// Rows of the result a webhook receives.
const WEBHOOK_ROWS: usize = 20;
/// Earlier runs searched for the fingerprint an `on: changed` condition compares with.
const CHANGED_LOOKBACK: i64 = 20;
/// How a condition's fingerprint is written into its output summary.
const FINGERPRINT_TAG: &str = "[fingerprint ";

/// The result of a data step, as later steps see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct StepData {
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    pub row_count: u64,
    pub truncated: bool,
}

impl From<ResultSet> for StepData {
    fn from(r: ResultSet) -> Self {
        Self {
            columns: r.columns.into_iter().map(|c| c.name).collect(),
            rows: r.rows,
            row_count: r.row_count,
            truncated: r.truncated,
        }
    }
}

impl From<ResultView> for StepData {
    fn from(r: ResultView) -> Self {
        Self {
            columns: r.columns,
            rows: r.rows,
            row_count: r.row_count,
            truncated: r.truncated,
        }
    }
}

impl StepData {
    fn summary(&self) -> String {
        let rows = if self.row_count == 1 { "row" } else { "rows" };
        if self.truncated {
            format!("{} {rows} (truncated)", self.row_count)
        } else {
            format!("{} {rows}", self.row_count)
        }
    }

    /// What a webhook receives.
    fn webhook_summary(&self) -> Value {
        json!({
            "columns": self.columns,
            "row_count": self.row_count,
            "first_rows": self.rows.iter().take(WEBHOOK_ROWS).collect::<Vec<_>>(),
            "truncated": self.truncated,
        })
    }
}

/// How a step ended.
enum StepOutcome {
    /// It produced data for the next steps.
    Data(StepData),
    /// It succeeded and the run goes on.
    Done(String),
    /// A false condition: the run ends, succeeded.
    Stop(String),
    /// It failed: the run ends, failed.
    Failed(String),
}

fn step_kind(step: &WorkflowStep) -> &'static str {
    match step {
        WorkflowStep::RunQuery { .. } => "run_query",
        WorkflowStep::Ask { .. } => "ask",
        WorkflowStep::Condition { .. } => "condition",
        WorkflowStep::Webhook { .. } => "webhook",
    }
}

fn step_result(
    step: &WorkflowStep,
    status: &str,
    summary: Option<String>,
    error: Option<String>,
    ms: u64,
) -> StepResult {
    StepResult {
        kind: step_kind(step).to_owned(),
        status: status.to_owned(),
        output_summary: summary,
        error,
        duration_ms: ms,
    }
}

fn op_text(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Eq => "=",
        CompareOp::Ne => "!=",
    }
}

fn compare<T: PartialOrd>(a: &T, op: CompareOp, b: &T) -> bool {
    match op {
        CompareOp::Gt => a > b,
        CompareOp::Ge => a >= b,
        CompareOp::Lt => a < b,
        CompareOp::Le => a <= b,
        CompareOp::Eq => a == b,
        CompareOp::Ne => a != b,
    }
}

/// A cell as a number: JSON numbers, and text that reads as one (databases return
/// decimals as text).
fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Compares a cell with a condition's value: numbers numerically, strings as strings
/// (a number cell by its text), booleans with = and !=; a null (or missing) cell never
/// matches.
pub(crate) fn cell_matches(cell: Option<&Value>, op: CompareOp, target: &Value) -> bool {
    let Some(cell) = cell.filter(|c| !c.is_null()) else {
        return false;
    };
    match target {
        Value::Number(n) => match (as_number(cell), n.as_f64()) {
            (Some(a), Some(b)) => compare(&a, op, &b),
            _ => false,
        },
        Value::String(s) => {
            let text = match cell {
                Value::String(c) => c.clone(),
                Value::Number(_) | Value::Bool(_) => cell.to_string(),
                _ => return false,
            };
            compare(&text.as_str(), op, &s.as_str())
        }
        Value::Bool(b) => match (cell, op) {
            (Value::Bool(c), CompareOp::Eq) => c == b,
            (Value::Bool(c), CompareOp::Ne) => c != b,
            _ => false,
        },
        _ => false,
    }
}

/// Evaluates a `row_count` or `value` condition on the previous data: (holds, summary).
pub(crate) fn evaluate(
    on: ConditionSubject,
    column: Option<&str>,
    op: CompareOp,
    value: &Value,
    data: &StepData,
) -> Result<(bool, String), String> {
    match on {
        ConditionSubject::RowCount => {
            let holds = cell_matches(Some(&json!(data.row_count)), op, value);
            Ok((
                holds,
                format!(
                    "row_count {} {value} is {holds} (row_count is {})",
                    op_text(op),
                    data.row_count
                ),
            ))
        }
        ConditionSubject::Value => {
            let index = match column {
                Some(c) => data
                    .columns
                    .iter()
                    .position(|n| n == c)
                    .or_else(|| data.columns.iter().position(|n| n.eq_ignore_ascii_case(c)))
                    .ok_or_else(|| {
                        format!(
                            "the previous step's result has no column `{c}` (it has {})",
                            data.columns.join(", ")
                        )
                    })?,
                None if data.columns.is_empty() => {
                    return Err("the previous step's result has no columns".to_owned());
                }
                None => 0,
            };
            let name = &data.columns[index];
            let cell = data.rows.first().and_then(|r| r.get(index));
            let holds = cell_matches(cell, op, value);
            let shown = cell.map_or_else(|| "no row".to_owned(), Value::to_string);
            Ok((
                holds,
                format!(
                    "{name} {} {value} is {holds} ({name} is {shown})",
                    op_text(op)
                ),
            ))
        }
        ConditionSubject::Changed => Err("on: changed is evaluated with the last run".to_owned()),
    }
}

/// The fingerprint written in a condition's summary, if any.
pub(crate) fn fingerprint_in(summary: &str) -> Option<&str> {
    let start = summary.find(FINGERPRINT_TAG)? + FINGERPRINT_TAG.len();
    let rest = &summary[start..];
    rest.find(']').map(|end| &rest[..end])
}

impl App {
    /// Runs a claimed or manual run to its end and returns it as last written. Never
    /// fails: what goes wrong is recorded on the run.
    pub(crate) async fn execute_run(
        &self,
        w: Workflow,
        mut run: WorkflowRun,
        settings: &WorkflowSettings,
    ) -> WorkflowRun {
        let _working = self.in_flight();
        let mut renew =
            tokio::time::interval((settings.lease / 3).max(std::time::Duration::from_millis(100)));
        renew.tick().await;
        let permits = self.workflow_state().permits.clone();
        let Some(Ok(_permit)) = self
            .leased(&mut run, &mut renew, settings, permits.acquire_owned())
            .await
        else {
            return run;
        };
        let deadline = tokio::time::Instant::now() + settings.run_timeout;
        run.status = WorkflowRunStatus::Running;
        run.started_at = Some(now_millis());
        run.lease_expires_at = Some(now_millis() + millis(settings.lease));
        if !self.write_run(&run).await {
            return run;
        }
        let actor = match self.run_actor(&w).await {
            Ok(a) => a,
            Err(why) => {
                run.steps = w
                    .steps
                    .iter()
                    .map(|s| step_result(s, "skipped", None, None, 0))
                    .collect();
                return self.finish_run(run, Some(why)).await;
            }
        };
        let run_id = run.id;
        let mut data: Option<StepData> = None;
        let mut error: Option<String> = None;
        let mut ended = false;
        for (i, step) in w.steps.iter().enumerate() {
            if ended {
                run.steps.push(step_result(step, "skipped", None, None, 0));
                continue;
            }
            let clock = Instant::now();
            let work = tokio::time::timeout_at(
                deadline,
                self.run_step(&w, run_id, i, step, &actor, data.as_ref(), settings),
            );
            let Some(outcome) = self.leased(&mut run, &mut renew, settings, work).await else {
                return run;
            };
            let ms = u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (status, summary, failure) = match outcome {
                Err(_) => {
                    let why = format!(
                        "the run timed out after {} s",
                        settings.run_timeout.as_secs()
                    );
                    ("failed", None, Some(why))
                }
                Ok(StepOutcome::Data(d)) => {
                    let s = d.summary();
                    data = Some(d);
                    ("succeeded", Some(s), None)
                }
                Ok(StepOutcome::Done(s)) => ("succeeded", Some(s), None),
                Ok(StepOutcome::Stop(s)) => {
                    ended = true;
                    ("succeeded", Some(s), None)
                }
                Ok(StepOutcome::Failed(e)) => ("failed", None, Some(e)),
            };
            if let Some(f) = &failure {
                ended = true;
                error = Some(format!("steps[{i}] ({}) failed: {f}", step_kind(step)));
            }
            run.steps
                .push(step_result(step, status, summary, failure, ms));
            if i + 1 < w.steps.len() && !self.write_run(&run).await {
                return run;
            }
        }
        self.finish_run(run, error).await
    }

    /// Ends a run: succeeded without `error`, failed with it.
    async fn finish_run(&self, mut run: WorkflowRun, error: Option<String>) -> WorkflowRun {
        run.status = if error.is_some() {
            WorkflowRunStatus::Failed
        } else {
            WorkflowRunStatus::Succeeded
        };
        self.metrics()
            .workflow_run(&run.trigger.to_string(), error.is_none());
        run.error = error;
        run.finished_at = Some(now_millis());
        self.write_run(&run).await;
        run
    }

    /// Writes a run's progress; `false` when this instance no longer holds it (failed as
    /// abandoned meanwhile, or deleted with its workflow): the caller stops.
    async fn write_run(&self, run: &WorkflowRun) -> bool {
        match self.store().update_workflow_run(run).await {
            Ok(true) => true,
            Ok(false) | Err(StoreError::NotFound) => {
                tracing::warn!(run = %run.id, workflow = %run.workflow_id, "lost the lease on a workflow run; stopping it");
                false
            }
            // Store trouble: go on; the lease is renewed again soon.
            Err(e) => {
                tracing::warn!(run = %run.id, error = %e, "could not write a workflow run's progress");
                true
            }
        }
    }

    /// Awaits `work` while renewing the run's lease; `None` when the lease was lost.
    async fn leased<F: Future>(
        &self,
        run: &mut WorkflowRun,
        renew: &mut tokio::time::Interval,
        settings: &WorkflowSettings,
        work: F,
    ) -> Option<F::Output> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                // Shutting down: stop, and end the lease now, so any instance's scheduler
                // records the run as failed because its instance stopped.
                () = self.shutting_down() => {
                    run.lease_expires_at = Some(now_millis());
                    self.write_run(run).await;
                    return None;
                }
                out = &mut work => return Some(out),
                _ = renew.tick() => {
                    run.lease_expires_at = Some(now_millis() + millis(settings.lease));
                    if !self.write_run(run).await {
                        return None;
                    }
                }
            }
        }
    }

    /// The workflow's creator as an actor with their current rights, still an editor of
    /// the workflow's team; the message says why not.
    async fn run_actor(&self, w: &Workflow) -> Result<Actor, String> {
        let actor = self.actor_for(&w.created_by).await.map_err(|e| {
            format!(
                "the workflow acts as its creator ({}), who cannot run it now: {}",
                w.created_by, e.detail
            )
        })?;
        match self
            .require_team_role(&actor, w.team_id, TeamRole::Editor, "team")
            .await
        {
            Ok(_) => Ok(actor),
            Err(e) if e.code == ErrorCode::NotFound => Err(format!(
                "the workflow acts as its creator ({}), who is no longer a member of its team",
                w.created_by
            )),
            Err(e) => Err(format!(
                "the workflow acts as its creator ({}), who cannot run it now: {}",
                w.created_by, e.detail
            )),
        }
    }

    #[allow(clippy::too_many_arguments)] // one step's whole context, read top to bottom
    async fn run_step(
        &self,
        w: &Workflow,
        run_id: WorkflowRunId,
        index: usize,
        step: &WorkflowStep,
        actor: &Actor,
        data: Option<&StepData>,
        settings: &WorkflowSettings,
    ) -> StepOutcome {
        match step {
            WorkflowStep::RunQuery { query_id } => self.query_step(w.id, *query_id, actor).await,
            WorkflowStep::Ask {
                connection_id,
                question,
            } => {
                let req = json!({"connection_id": connection_id, "message": question});
                self.ask_step(req, actor).await
            }
            WorkflowStep::Condition {
                on,
                column,
                op,
                value,
            } => {
                let Some(data) = data else {
                    return StepOutcome::Failed("there is no earlier result to compare".into());
                };
                if *on == ConditionSubject::Changed {
                    return self.changed_step(w.id, index, data).await;
                }
                let (Some(op), Some(value)) = (op, value) else {
                    return StepOutcome::Failed("the condition has no op or value".into());
                };
                match evaluate(*on, column.as_deref(), *op, value, data) {
                    Ok((true, s)) => StepOutcome::Done(format!("condition {s}")),
                    Ok((false, s)) => {
                        StepOutcome::Stop(format!("condition {s}; the rest is skipped"))
                    }
                    Err(e) => StepOutcome::Failed(e),
                }
            }
            WorkflowStep::Webhook { url } => {
                let body = json!({
                    "workflow_id": w.id,
                    "workflow": w.name,
                    "run_id": run_id,
                    "step": index,
                    "result_summary": data.map(StepData::webhook_summary),
                });
                self.webhook_step(url, &body, settings).await
            }
        }
    }

    async fn query_step(
        &self,
        workflow: WorkflowId,
        id: SavedQueryId,
        actor: &Actor,
    ) -> StepOutcome {
        let opts = RunOptions {
            run_by: Some(format!("workflow:{workflow}")),
            ..Default::default()
        };
        match self.run_saved_query(actor, id, opts).await {
            Ok((_, result)) => StepOutcome::Data(result.into()),
            Err(e) if e.code == ErrorCode::NotFound => {
                StepOutcome::Failed(format!("the saved query {id} no longer exists"))
            }
            Err(e) => StepOutcome::Failed(e.detail),
        }
    }

    /// Asks through the chat pipeline, not streaming. The request is built from JSON so
    /// that fields the chat request gains later take their defaults.
    async fn ask_step(&self, req: Value, actor: &Actor) -> StepOutcome {
        let req: ChatRequest = match serde_json::from_value(req) {
            Ok(r) => r,
            Err(e) => return StepOutcome::Failed(format!("the question could not be asked: {e}")),
        };
        let prepared = match self.prepare_chat(actor, req).await {
            Ok(p) => p,
            Err(e) => return StepOutcome::Failed(e.detail),
        };
        let answer = self.run_chat(prepared, Events::none()).await;
        match (answer.status, answer.results) {
            (MessageStatus::Executed | MessageStatus::Cached, Some(results)) => {
                StepOutcome::Data(results.into())
            }
            (status, _) => StepOutcome::Failed(match answer.error {
                Some(e) => e.detail,
                None => format!(
                    "the answer was {status}, not executed (a connection that needs approval \
                     or only generates SQL cannot feed a workflow)"
                ),
            }),
        }
    }

    /// `on: changed`: the previous result's fingerprint against the one this step recorded
    /// in the workflow's last succeeded run (a first run counts as changed).
    async fn changed_step(
        &self,
        workflow: WorkflowId,
        index: usize,
        data: &StepData,
    ) -> StepOutcome {
        let bytes = serde_json::to_vec(&(&data.columns, &data.rows)).unwrap_or_default();
        let fingerprint = self.crypto().sha256_hex(&bytes);
        let fingerprint = &fingerprint[..fingerprint.len().min(32)];
        let previous = self.previous_fingerprint(workflow, index).await;
        let changed = previous.as_deref() != Some(fingerprint);
        let why = match previous {
            None => "no earlier succeeded run to compare with",
            Some(_) if changed => "the result differs from the last succeeded run's",
            Some(_) => "the result is the same as the last succeeded run's",
        };
        let summary =
            format!("condition changed is {changed}: {why} {FINGERPRINT_TAG}{fingerprint}]");
        if changed {
            StepOutcome::Done(summary)
        } else {
            StepOutcome::Stop(format!("{summary}; the rest is skipped"))
        }
    }

    async fn previous_fingerprint(&self, workflow: WorkflowId, index: usize) -> Option<String> {
        let page = Page {
            after: None,
            limit: CHANGED_LOOKBACK,
        };
        let runs = match self.store().list_workflow_runs(workflow, &page).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, %workflow, "could not read earlier runs");
                return None;
            }
        };
        runs.into_iter()
            .filter(|r| r.status == WorkflowRunStatus::Succeeded)
            .find_map(|r| {
                let s = r.steps.get(index)?.output_summary.as_deref()?;
                fingerprint_in(s).map(str::to_owned)
            })
    }

    /// POSTs with retries: retryable failures (5xx, 429, timeouts, connection errors) are
    /// tried again after the backoff, doubled each time.
    async fn webhook_step(
        &self,
        url: &str,
        body: &Value,
        settings: &WorkflowSettings,
    ) -> StepOutcome {
        let attempts = settings.webhook_attempts.max(1);
        let mut delay = settings.webhook_backoff;
        let mut last: Option<DeliveryError> = None;
        for attempt in 1..=attempts {
            match self
                .inner
                .ports
                .webhooks
                .post_json(url, body, settings.webhook_timeout)
                .await
            {
                Ok(status) => {
                    let tries = if attempt == 1 {
                        String::new()
                    } else {
                        format!(" after {attempt} attempts")
                    };
                    return StepOutcome::Done(format!("delivered (HTTP {status}){tries}"));
                }
                Err(e) => {
                    let retry = e.retryable() && attempt < attempts;
                    last = Some(e);
                    if !retry {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
            }
        }
        let tried = |n: u32| {
            if n == 1 {
                "1 attempt".to_owned()
            } else {
                format!("{n} attempts")
            }
        };
        match last {
            Some(e) if e.retryable() => {
                StepOutcome::Failed(format!("{e} ({} made)", tried(attempts)))
            }
            Some(e) => StepOutcome::Failed(e.to_string()),
            None => StepOutcome::Failed("no attempt was made".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> StepData {
        StepData {
            columns: vec!["name".into(), "total".into(), "ok".into()],
            rows: vec![vec![json!("acme"), json!("42.50"), json!(true)]],
            row_count: 1,
            truncated: false,
        }
    }

    #[test]
    fn cells_compare_by_kind() {
        use CompareOp::*;
        assert!(cell_matches(Some(&json!(5)), Gt, &json!(3)));
        assert!(cell_matches(Some(&json!("42.50")), Ge, &json!(42.5)));
        assert!(!cell_matches(Some(&json!("abc")), Gt, &json!(1)));
        assert!(cell_matches(Some(&json!("b")), Gt, &json!("a")));
        assert!(cell_matches(Some(&json!(10)), Eq, &json!("10")));
        assert!(cell_matches(Some(&json!(true)), Eq, &json!(true)));
        assert!(cell_matches(Some(&json!(false)), Ne, &json!(true)));
        // Nulls never match, whatever the operator.
        for op in [Gt, Ge, Lt, Le, Eq, Ne] {
            assert!(!cell_matches(Some(&Value::Null), op, &json!(0)));
            assert!(!cell_matches(None, op, &json!("x")));
        }
    }

    #[test]
    fn conditions_on_results() {
        let d = data();
        let (holds, s) = evaluate(
            ConditionSubject::RowCount,
            None,
            CompareOp::Gt,
            &json!(0),
            &d,
        )
        .unwrap();
        assert!(holds, "{s}");
        assert_eq!(s, "row_count > 0 is true (row_count is 1)");
        let (holds, s) = evaluate(
            ConditionSubject::Value,
            Some("total"),
            CompareOp::Lt,
            &json!(40),
            &d,
        )
        .unwrap();
        assert!(!holds, "{s}");
        assert_eq!(s, "total < 40 is false (total is \"42.50\")");
        // First column by default.
        let (holds, _) = evaluate(
            ConditionSubject::Value,
            None,
            CompareOp::Eq,
            &json!("acme"),
            &d,
        )
        .unwrap();
        assert!(holds);
        let e = evaluate(
            ConditionSubject::Value,
            Some("nope"),
            CompareOp::Eq,
            &json!(1),
            &d,
        )
        .unwrap_err();
        assert!(e.contains("no column `nope`"), "{e}");
        // No rows: the value is missing, never matching.
        let empty = StepData {
            rows: vec![],
            row_count: 0,
            ..data()
        };
        let (holds, s) = evaluate(
            ConditionSubject::Value,
            None,
            CompareOp::Ne,
            &json!("x"),
            &empty,
        )
        .unwrap();
        assert!(!holds, "{s}");
    }

    #[test]
    fn fingerprints_round_trip_through_summaries() {
        let s = "condition changed is true: x [fingerprint 0123abcd]; the rest is skipped";
        assert_eq!(fingerprint_in(s), Some("0123abcd"));
        assert_eq!(fingerprint_in("42 rows"), None);
    }

    #[test]
    fn webhook_summaries_are_bounded() {
        let d = StepData {
            columns: vec!["n".into()],
            rows: (0..50).map(|i| vec![json!(i)]).collect(),
            row_count: 50,
            truncated: true,
        };
        let s = d.webhook_summary();
        assert_eq!(s["first_rows"].as_array().unwrap().len(), 20);
        assert_eq!(s["row_count"], 50);
        assert_eq!(s["truncated"], true);
        assert_eq!(d.summary(), "50 rows (truncated)");
    }
}
