//! Asynchronous questions (`/api/v1/questions`): a question is accepted at once (`PENDING`)
//! and answered in the background by a bounded pool of workers, through the same chat
//! pipeline as `POST /chat` (provider, guard, execution mode, read-only execution, caps);
//! its results — the rows, the SQL, column statistics computed in one streaming pass over
//! every row delivered, and a short summary — are kept in the store for later collection.
//!
//! **Workers.** [`App::spawn_question_workers`] starts `n` workers per instance. Each takes
//! one question at a time with [`WorkspaceStore::claim_questions`] (a compare-and-set on its
//! state, so two instances never take the same one), holds a lease of [`LEASE`] renewed
//! every [`LEASE`]/3 while it works, and writes the outcome with
//! [`WorkspaceStore::finish_question`], which lands only while it still holds the lease. A
//! `POST` wakes one idle worker at once; workers also look for work every [`POLL_EVERY`]
//! (questions posted to other instances).
//!
//! **Restarts.** A question survives a restart. Pending questions are simply taken by the
//! next worker. A question that was `IN_PROGRESS` when its instance stopped is **run
//! again** — it is read-only, so running it twice is safe — up to [`MAX_ATTEMPTS`] takes in
//! all; a question whose instance stopped that many times is `FAILED` with the code
//! `interrupted`. Such a question is taken again once its lease has expired: every instance
//! looks for expired leases at start and every [`RECOVER_EVERY`], so the questions of a
//! stopped instance are taken over within about [`LEASE`] + [`RECOVER_EVERY`], whether it
//! comes back or not (one rule for the embedded store and a shared PostgreSQL one).
//!
//! **Back-pressure.** `POST` answers 429 `rate_limited` (with `Retry-After`) while more than
//! [`MAX_OPEN_QUESTIONS`] questions are pending or in progress across all instances.
//!
//! **Outcomes.** The asker's rights are those they have when the question is answered (the
//! actor is rebuilt from `asked_by`: a removed member's questions fail with `not_found`).
//! The answer is a chat message of a session of the asker (it shows in their history). An
//! executed or cached answer is `COMPLETED` with its rows (up to the connection's row cap),
//! SQL, statistics and summary. On a `generate_only` connection the question is
//! `COMPLETED` with the SQL and a summary saying it was not run, and no data frame (`[]`).
//! On a `review_first` connection it is `FAILED` with `forbidden`: the SQL waits for an
//! editor's approval as a chat message, which the error names. Any other failure is `FAILED`
//! with the pipeline's code (`cannot_translate`, `guard_rejected`, `query_error`, …).

use std::sync::Arc;
use std::time::Duration;

use querent_domain::chat::{ChatOptions, ResultSet};
use querent_domain::query::ColumnMeta;
use querent_domain::workspace::{AsyncQuestion, QuestionResults};
use querent_domain::{
    AssistantId, ConnectionId, ErrorCode, MessageStatus, QuestionId, QuestionState, TeamRole,
    UnixMillis, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ChatError, ChatRequest, ChatResponse, Events, MAX_QUESTION_CHARS};
use crate::error::NotFoundAs;
use crate::{Actor, App, ServiceError, ServiceResult};

/// How long a worker holds a question without renewing its lease.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often idle workers look for questions (besides being woken by a `POST`).
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often each instance requeues (or fails) questions whose lease expired.
pub const RECOVER_EVERY: Duration = Duration::from_secs(15);
/// Takes of one question at most: a question whose instance stopped this many times while
/// answering it is failed rather than run again.
pub const MAX_ATTEMPTS: u32 = 2;
/// Open (pending and in-progress) questions across all instances beyond which `POST` is
/// refused with 429.
pub const MAX_OPEN_QUESTIONS: u64 = 1_000;
/// Workers per instance.
pub const DEFAULT_WORKERS: usize = 4;
/// Rows of the data frame returned by default.
pub const DEFAULT_FRAME_ROWS: usize = 1_000;
/// What a question failed by a stopped instance says.
pub const INTERRUPTED_REASON: &str =
    "the instance answering it stopped (twice); ask the question again";

/// The workers' shared state (one per [`App`]).
#[derive(Debug, Default)]
pub(crate) struct QuestionPool {
    /// Woken by `POST` so an idle worker starts at once.
    wake: tokio::sync::Notify,
}

/// `POST /questions` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AskQuestion {
    /// The connection to ask about.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The question in plain language.
    pub question: String,
    /// The provider: an id or name of one of the team's providers, or `offline`; the
    /// team's default when absent (or the assistant's, with `assistant_id`).
    #[serde(default)]
    pub provider: Option<String>,
    /// Ask it of this assistant (of the same connection): its provider, model,
    /// instructions and options apply.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assistant_id: Option<AssistantId>,
}

/// `202` answer of `POST /questions`.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionAccepted {
    /// The question's id, for `GET /questions/{id}`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub question_id: QuestionId,
}

/// `GET /questions/{id}` query.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ResultsQuery {
    /// Comma-separated parts of the results to return: `dataframe`, `statistics`,
    /// `sqlquery`, `summary` (default `dataframe`).
    pub include: Option<String>,
    /// Rows of the data frame at most (default 1000; never more than were kept).
    pub max_rows: Option<usize>,
}

/// A question and, once completed, the parts of its results that were asked for.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub question_id: QuestionId,
    /// `PENDING`, `IN_PROGRESS`, `COMPLETED` or `FAILED`.
    pub state: QuestionState,
    /// The question.
    pub question: String,
    /// The connection.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The assistant it was asked of.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub assistant_id: Option<AssistantId>,
    /// When it was asked (RFC 3339).
    pub created_at: String,
    /// When a worker (last) started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    /// Why it failed (`FAILED` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ChatError>,
    /// The parts asked for with `include` (`COMPLETED` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<QuestionResultsView>,
}

/// The results of a completed question, with only the parts asked for.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuestionResultsView {
    /// A short summary of the answer in plain English (`summary`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_summary: Option<String>,
    /// The SQL that ran (`sqlquery`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql_query: Option<String>,
    /// The rows (`dataframe`): the column names first, then up to `max_rows` rows of values
    /// in column order (masked values as masked). `[]` when the SQL was not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<Vec<serde_json::Value>>>))]
    pub dataframe: Option<Vec<Vec<serde_json::Value>>>,
    /// Statistics of every row delivered (not only those returned), keyed by column name
    /// (`statistics`): `general` {count, nulls_count} and one of `numeric`, `string`,
    /// `temporal` or `boolean` by the column's type.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub dataframe_stats: Option<serde_json::Value>,
}

/// Aborts a task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Which parts of the results to return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Include {
    dataframe: bool,
    statistics: bool,
    sqlquery: bool,
    summary: bool,
}

impl Include {
    fn parse(include: Option<&str>) -> ServiceResult<Self> {
        let mut parts = Include::default();
        let text = include.map(str::trim).filter(|s| !s.is_empty());
        let Some(text) = text else {
            parts.dataframe = true;
            return Ok(parts);
        };
        for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match part.to_ascii_lowercase().as_str() {
                "dataframe" => parts.dataframe = true,
                "statistics" => parts.statistics = true,
                "sqlquery" => parts.sqlquery = true,
                "summary" => parts.summary = true,
                other => {
                    return Err(ServiceError::validation(format!(
                        "include: unknown part `{other}`; use dataframe, statistics, sqlquery \
                         and/or summary, separated by commas"
                    )));
                }
            }
        }
        Ok(parts)
    }
}

fn view_of(q: AsyncQuestion, include: Include, max_rows: usize) -> QuestionView {
    let error = match (q.state, q.error_code) {
        (QuestionState::Failed, code) => Some(ChatError {
            code: code.unwrap_or(ErrorCode::Internal),
            detail: q.error_detail.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    let results = match (q.state, q.results) {
        (QuestionState::Completed, Some(r)) => Some(QuestionResultsView {
            response_summary: include.summary.then(|| r.summary.clone()),
            sql_query: include.sqlquery.then(|| r.sql.clone()),
            dataframe: include.dataframe.then(|| dataframe(&r.result, max_rows)),
            dataframe_stats: include.statistics.then(|| r.stats.clone()),
        }),
        _ => None,
    };
    QuestionView {
        question_id: q.id,
        state: q.state,
        question: q.question,
        connection_id: q.connection_id,
        assistant_id: q.assistant_id,
        created_at: millis_to_rfc3339(q.created_at),
        started_at: q.started_at.map(millis_to_rfc3339),
        finished_at: q.finished_at.map(millis_to_rfc3339),
        error,
        results,
    }
}

/// The header row, then at most `max_rows` rows; `[]` for a result that never ran.
fn dataframe(result: &ResultSet, max_rows: usize) -> Vec<Vec<serde_json::Value>> {
    if result.columns.is_empty() {
        return Vec::new();
    }
    let header = result
        .columns
        .iter()
        .map(|c| serde_json::Value::String(c.name.clone()))
        .collect();
    std::iter::once(header)
        .chain(result.rows.iter().take(max_rows).cloned())
        .collect()
}

/// The kept result, statistics and summary of an executed answer.
fn results_of(question: &str, response: &ChatResponse, sql: String) -> QuestionResults {
    let Some(view) = &response.results else {
        return QuestionResults {
            sql,
            result: ResultSet::default(),
            stats: serde_json::json!({}),
            summary: "The query returned no result.".into(),
        };
    };
    let columns: Vec<ColumnMeta> = view
        .columns
        .iter()
        .zip(&view.column_types)
        .map(|(name, type_name)| ColumnMeta {
            name: name.clone(),
            type_name: type_name.clone(),
            masked: view.masked_columns.contains(name),
        })
        .collect();
    let mut builder = querent_results::StatsBuilder::new(&columns);
    for row in &view.rows {
        builder.push(row);
    }
    let stats = builder.finish();
    let summary = querent_results::summarize(
        Some(question),
        &columns,
        &view.rows,
        &stats,
        view.row_count,
        view.truncated,
    );
    QuestionResults {
        sql,
        result: ResultSet {
            columns,
            rows: view.rows.clone(),
            row_count: view.row_count,
            truncated: view.truncated,
            truncated_reason: view.truncated_reason,
            truncated_limit: view.truncated_limit,
            values_truncated: view.values_truncated,
            execution_time_ms: view.execution_time_ms,
            max_rows_applied: view.max_rows_applied,
        },
        stats: serde_json::to_value(&stats).unwrap_or_else(|_| serde_json::json!({})),
        summary,
    }
}

/// What a finished chat makes of the question: its results, or why it failed.
fn outcome_of(question: &str, response: &ChatResponse) -> Result<QuestionResults, ServiceError> {
    let sql = response.query.clone().unwrap_or_default();
    match response.status {
        MessageStatus::Executed | MessageStatus::Cached => Ok(results_of(question, response, sql)),
        MessageStatus::QueryOnly => Ok(QuestionResults {
            sql,
            result: ResultSet::default(),
            stats: serde_json::json!({}),
            summary: "The connection is generate_only: the SQL was written and checked but \
                      not run, so there is no data."
                .into(),
        }),
        MessageStatus::PendingApproval => Err(ServiceError::forbidden(format!(
            "the connection is review_first: the SQL waits for an editor's approval as chat \
             message {} (POST /api/v1/chat/execute/{}); this question ends here",
            response.message_id, response.message_id
        ))),
        _ => Err(match &response.error {
            Some(e) => ServiceError::new(e.code, e.detail.clone()),
            None => ServiceError::new(
                ErrorCode::Internal,
                format!("the answer ended as {}", response.status),
            ),
        }),
    }
}

impl App {
    /// Accepts a question for background answering (viewer or above on the connection).
    pub async fn ask_question(
        &self,
        actor: &Actor,
        req: AskQuestion,
    ) -> ServiceResult<QuestionAccepted> {
        let question = req.question.trim().to_owned();
        if question.is_empty() {
            return Err(ServiceError::validation("question: must not be empty"));
        }
        if question.chars().count() > MAX_QUESTION_CHARS {
            return Err(ServiceError::validation(format!(
                "question: at most {MAX_QUESTION_CHARS} characters"
            )));
        }
        let conn = self
            .load_connection(actor, req.connection_id, TeamRole::Viewer)
            .await?;
        if let Some(id) = req.assistant_id {
            let a = self.load_assistant(actor, id, TeamRole::Viewer).await?;
            if a.connection_id != conn.id {
                return Err(ServiceError::validation(
                    "assistant_id: this assistant asks another connection",
                ));
            }
        }
        // An unknown provider is the asker's mistake: say so now, not in the answer.
        if req.provider.is_some() {
            self.resolve_provider(conn.team_id, req.provider.as_deref())
                .await?;
        }
        let (pending, running) = self.store().count_open_questions().await?;
        if pending + running >= MAX_OPEN_QUESTIONS {
            let mut e = ServiceError::new(
                ErrorCode::RateLimited,
                format!(
                    "{} questions are waiting to be answered; ask again in a moment",
                    pending + running
                ),
            );
            e.retry_after = Some(5);
            return Err(e);
        }
        let q = AsyncQuestion {
            id: QuestionId::new(),
            team_id: conn.team_id,
            connection_id: conn.id,
            question,
            provider: req.provider.filter(|p| !p.trim().is_empty()),
            assistant_id: req.assistant_id,
            state: QuestionState::Pending,
            asked_by: actor.audit_name(),
            attempts: 0,
            lease_owner: None,
            lease_expires_at: None,
            results: None,
            error_code: None,
            error_detail: None,
            created_at: now_millis(),
            started_at: None,
            finished_at: None,
        };
        self.store().insert_question(&q).await?;
        self.inner.questions.wake.notify_one();
        Ok(QuestionAccepted { question_id: q.id })
    }

    /// A question of one of the caller's teams, with the parts of its results asked for.
    pub async fn question(
        &self,
        actor: &Actor,
        id: QuestionId,
        query: &ResultsQuery,
    ) -> ServiceResult<QuestionView> {
        let include = Include::parse(query.include.as_deref())?;
        let q = self
            .store()
            .get_question(id)
            .await
            .or_not_found("question")?;
        self.require_team_role(actor, q.team_id, TeamRole::Viewer, "question")
            .await?;
        Ok(view_of(
            q,
            include,
            query.max_rows.unwrap_or(DEFAULT_FRAME_ROWS),
        ))
    }

    /// Requeues (or fails, past [`MAX_ATTEMPTS`]) the questions whose worker stopped: those
    /// in progress whose lease expired.
    pub async fn recover_questions(&self) -> ServiceResult<(u64, u64)> {
        let now = now_millis();
        let (requeued, failed) = self
            .store()
            .recover_questions(now, MAX_ATTEMPTS, INTERRUPTED_REASON)
            .await?;
        if requeued + failed > 0 {
            tracing::warn!(
                requeued,
                failed,
                "questions left in progress by a stopped instance were requeued or failed"
            );
        }
        Ok((requeued, failed))
    }

    /// Starts `workers` question workers for this instance (`instance` names it in leases)
    /// and the recovery sweep, after recovering what a previous run left. Aborting the
    /// returned handle stops them all (a question being answered is then taken again
    /// after its lease ends).
    pub fn spawn_question_workers(
        &self,
        instance: String,
        workers: usize,
    ) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(e) = app.recover_questions().await {
                tracing::warn!(error = %e.detail, "could not recover interrupted questions");
            }
            let owner: Arc<str> = instance.into();
            // Dropping the set (this task aborted) aborts every worker.
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..workers.max(1) {
                set.spawn(app.clone().question_worker(owner.clone()));
            }
            let sweeper = app.clone();
            set.spawn(async move {
                loop {
                    tokio::time::sleep(RECOVER_EVERY).await;
                    if let Err(e) = sweeper.recover_questions().await {
                        tracing::warn!(error = %e.detail, "could not recover abandoned questions");
                    }
                }
            });
            while let Some(ended) = set.join_next().await {
                tracing::error!(?ended, "a question worker ended");
            }
        })
    }

    /// One worker: takes a question, answers it, looks for the next; sleeps until woken
    /// or [`POLL_EVERY`] when there is none.
    async fn question_worker(self, owner: Arc<str>) {
        loop {
            if self.is_shutting_down() {
                // Takes nothing more; the set waits for the shutdown to end the process.
                return std::future::pending().await;
            }
            let now = now_millis();
            let claimed = self
                .store()
                .claim_questions(&owner, now, now + LEASE.as_millis() as i64, 1)
                .await;
            match claimed {
                Ok(taken) if !taken.is_empty() => {
                    for q in taken {
                        self.work_on(q, &owner).await;
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not look for questions"),
            }
            tokio::select! {
                () = self.inner.questions.wake.notified() => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
                () = self.shutting_down() => {}
            }
        }
    }

    /// Answers a claimed question while keeping its lease, then records the outcome (only
    /// while the lease is still this worker's).
    async fn work_on(&self, mut q: AsyncQuestion, owner: &str) {
        let _working = self.in_flight();
        let app = self.clone();
        let asked = q.clone();
        // Its own task: a panic in the pipeline fails this question, not the worker; and
        // it is aborted with the worker (server stopping) or when the lease is lost.
        let mut answer = AbortOnDrop(tokio::spawn(
            async move { app.answer_question(&asked).await },
        ));
        let outcome = tokio::select! {
            // A shutdown wins over an answer that ended because of it.
            biased;
            () = self.shutting_down() => {
                drop(answer);
                // The lease ends now: any instance's recovery takes the question again.
                match self.store().renew_question_lease(q.id, owner, now_millis()).await {
                    Ok(_) => tracing::info!(question_id = %q.id, "shutting down: let a question go for another worker"),
                    Err(e) => tracing::warn!(error = %e, question_id = %q.id, "could not end a question's lease; it ends on its own"),
                }
                return;
            }
            joined = &mut answer.0 => match joined {
                Ok(outcome) => outcome,
                Err(e) => Err(ServiceError::internal(format!("question task failed: {e}"))),
            },
            () = self.hold_lease(q.id, owner) => {
                drop(answer);
                tracing::warn!(question_id = %q.id, "lost the lease on a question; another worker takes it");
                return;
            }
        };
        match outcome {
            Ok(results) => {
                q.state = QuestionState::Completed;
                q.results = Some(results);
            }
            Err(e) => {
                q.state = QuestionState::Failed;
                q.error_code = Some(e.code);
                q.error_detail = Some(e.detail);
            }
        }
        q.finished_at = Some(now_millis());
        match self.store().finish_question(&q, owner).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(question_id = %q.id, "the lease ended before the answer was stored")
            }
            Err(e) => tracing::error!(error = %e, question_id = %q.id, "could not store an answer"),
        }
    }

    /// Renews the lease every [`LEASE`]/3; returns when it was lost.
    async fn hold_lease(&self, id: QuestionId, owner: &str) {
        loop {
            tokio::time::sleep(LEASE / 3).await;
            let until: UnixMillis = now_millis() + LEASE.as_millis() as i64;
            match self.store().renew_question_lease(id, owner, until).await {
                Ok(true) => {}
                Ok(false) => return,
                // A store hiccup: keep working; the next renewal may succeed, and the final
                // write is conditional on the lease anyway.
                Err(e) => tracing::warn!(error = %e, question_id = %id, "could not renew a lease"),
            }
        }
    }

    /// Answers a question through the chat pipeline as its asker, with their current rights.
    async fn answer_question(&self, q: &AsyncQuestion) -> ServiceResult<QuestionResults> {
        let actor = self.actor_for(&q.asked_by).await?;
        let assistant = match q.assistant_id {
            Some(id) => match self.store().get_assistant(id).await {
                Ok(a) => Some(a),
                // Deleted since: the question is answered without its profile.
                Err(querent_domain::ports::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        let prepared = match assistant {
            Some(a) => {
                self.assistant_chat(
                    &actor,
                    &a,
                    q.question.clone(),
                    None,
                    q.provider.clone(),
                    true,
                )
                .await?
            }
            None => {
                let conn = self
                    .load_connection(&actor, q.connection_id, TeamRole::Viewer)
                    .await?;
                let req = ChatRequest {
                    connection_id: q.connection_id,
                    session_id: None,
                    message: q.question.clone(),
                    provider: q.provider.clone(),
                    options: ChatOptions {
                        max_rows: conn.limits.max_rows.max(1),
                        show_query: true,
                        explain_results: false,
                        use_cache: true,
                        statistics: false,
                    },
                };
                self.prepare_chat(&actor, req).await?
            }
        };
        let response = self.run_chat(prepared, Events::none()).await;
        outcome_of(&q.question, &response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_defaults_to_the_dataframe_and_refuses_unknown_parts() {
        assert_eq!(
            Include::parse(None).unwrap(),
            Include {
                dataframe: true,
                ..Include::default()
            }
        );
        let all = Include::parse(Some("dataframe, Statistics,sqlquery,summary,")).unwrap();
        assert!(all.dataframe && all.statistics && all.sqlquery && all.summary);
        let some = Include::parse(Some("summary")).unwrap();
        assert!(some.summary && !some.dataframe);
        let e = Include::parse(Some("dataframe,charts")).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationError);
        assert!(e.detail.contains("charts"), "{}", e.detail);
    }

    #[test]
    fn the_dataframe_is_the_header_then_rows() {
        let result = ResultSet {
            columns: vec![
                ColumnMeta {
                    name: "a".into(),
                    type_name: "integer".into(),
                    masked: false,
                },
                ColumnMeta {
                    name: "b".into(),
                    type_name: "text".into(),
                    masked: true,
                },
            ],
            rows: (0..5)
                .map(|i| vec![serde_json::json!(i), serde_json::json!("***")])
                .collect(),
            row_count: 5,
            ..ResultSet::default()
        };
        let frame = dataframe(&result, 2);
        assert_eq!(
            frame,
            vec![
                vec![serde_json::json!("a"), serde_json::json!("b")],
                vec![serde_json::json!(0), serde_json::json!("***")],
                vec![serde_json::json!(1), serde_json::json!("***")],
            ]
        );
        assert!(dataframe(&ResultSet::default(), 10).is_empty());
    }
}
