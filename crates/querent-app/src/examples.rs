//! Verified examples (`/examples`) and chat feedback (`POST /chat/feedback/{id}`).
//!
//! An example is a question and SQL that answers it, for one connection; its SQL passes
//! the guard when written. The most similar examples of a connection go into the
//! provider's prompt as few-shot examples. Feedback closes the loop: a thumbs-up stores
//! the answered pair as an example and caches it, a correction stores the corrected SQL
//! (validated) as the example and evicts the cached answer, a thumbs-down evicts it.

use querent_cache::{cosine, lexical_embedding, normalize};
use querent_domain::learning::{Example, ExampleSource};
use querent_domain::semantic::FewShot;
use querent_domain::{
    Connection, ConnectionId, ExampleId, MessageId, MessageStatus, TeamRole, millis_to_rfc3339,
    now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// Longest question an example may have.
const MAX_QUESTION_CHARS: usize = 2000;
/// Longest SQL an example may have.
const MAX_SQL_CHARS: usize = 100_000;
/// Examples of a connection considered for few-shot prompts (the newest).
const FEW_SHOT_CANDIDATES: i64 = 500;
/// Few-shot examples per prompt.
pub const FEW_SHOTS: usize = 3;
/// Least lexical similarity for an example to be shown.
const FEW_SHOT_MIN_SIMILARITY: f32 = 0.2;

/// `POST /examples`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateExample {
    /// The connection it is about.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The question.
    pub question: String,
    /// SQL answering it (validated by the guard).
    pub sql: String,
}

/// `PATCH /examples/{id}`.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateExample {
    /// A new question.
    pub question: Option<String>,
    /// New SQL (validated by the guard).
    pub sql: Option<String>,
}

/// `GET /examples` filters.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ExampleFilter {
    /// Only this connection's examples.
    #[cfg_attr(feature = "openapi", param(value_type = Option<String>))]
    pub connection_id: Option<ConnectionId>,
}

/// An example as returned.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExampleView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ExampleId,
    /// The connection.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// The question.
    pub question: String,
    /// The SQL.
    pub sql: String,
    /// `manual`, `feedback_up` or `feedback_correction`.
    pub source: ExampleSource,
    /// The chat message it came from.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub message_id: Option<MessageId>,
    /// Who wrote or confirmed it.
    pub verified_by: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

impl From<Example> for ExampleView {
    fn from(e: Example) -> Self {
        Self {
            id: e.id,
            connection_id: e.connection_id,
            question: e.question,
            sql: e.sql,
            source: e.source,
            message_id: e.message_id,
            verified_by: e.verified_by,
            created_at: millis_to_rfc3339(e.created_at),
            updated_at: millis_to_rfc3339(e.updated_at),
        }
    }
}

/// A rating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    /// The answer was right.
    Up,
    /// The answer was wrong.
    Down,
}

/// `POST /chat/feedback/{message_id}`.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// `up` or `down`.
    pub rating: Rating,
    /// SQL that answers the question correctly (validated by the guard); it becomes the
    /// verified example.
    pub corrected_sql: Option<String>,
}

/// What feedback changed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackResult {
    /// The message.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message_id: MessageId,
    /// The rating recorded.
    pub rating: Rating,
    /// The verified example stored or updated, if any.
    pub example: Option<ExampleView>,
    /// Whether the answer was stored in the semantic cache.
    pub cached: bool,
    /// Cache entries removed for the question.
    pub cache_entries_removed: u64,
}

pub(crate) fn check_text(field: &str, value: &str, max: usize) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::validation(format!(
            "{field}: must not be empty"
        )));
    }
    if v.chars().count() > max {
        return Err(ServiceError::validation(format!(
            "{field}: at most {max} characters"
        )));
    }
    Ok(v.to_owned())
}

impl App {
    /// Validates SQL of at most `max_chars` for a connection with the guard; a refusal is
    /// the guard's error, prefixed with `field`. Returns the SQL as written (trimmed).
    pub(crate) async fn guard_example_sql(
        &self,
        actor: &Actor,
        conn: &Connection,
        field: &str,
        sql: &str,
        max_chars: usize,
    ) -> ServiceResult<String> {
        let sql = check_text(field, sql, max_chars)?;
        let schema = self.schema_for(actor, conn).await?;
        let max_rows = u64::from(conn.limits.max_rows.min(self.config().server_max_rows));
        self.engine()
            .check(conn.target.dialect, &sql, &schema, &conn.privacy, max_rows)
            .map_err(|r| {
                let mut detail = format!("{field}: {}", r.message);
                if !r.suggestions.is_empty() && !detail.contains("did you mean") {
                    detail.push_str(&format!(" (did you mean {}?)", r.suggestions.join(", ")));
                }
                ServiceError::new(r.code, detail)
            })?;
        Ok(sql)
    }

    async fn load_example(
        &self,
        actor: &Actor,
        id: ExampleId,
        min: TeamRole,
    ) -> ServiceResult<Example> {
        let e = self.store().get_example(id).await.or_not_found("example")?;
        self.require_team_role(actor, e.team_id, min, "example")
            .await?;
        Ok(e)
    }

    /// `POST /examples` (editor or above).
    pub async fn create_example(
        &self,
        actor: &Actor,
        req: &CreateExample,
    ) -> ServiceResult<ExampleView> {
        let conn = self
            .load_connection(actor, req.connection_id, TeamRole::Editor)
            .await?;
        let question = check_text("question", &req.question, MAX_QUESTION_CHARS)?;
        let sql = self
            .guard_example_sql(actor, &conn, "sql", &req.sql, MAX_SQL_CHARS)
            .await?;
        let now = now_millis();
        let example = Example {
            id: ExampleId::new(),
            team_id: conn.team_id,
            connection_id: conn.id,
            question,
            sql,
            source: ExampleSource::Manual,
            message_id: None,
            verified_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        self.store()
            .insert_example(&example)
            .await
            .map_err(|e| match e {
                querent_domain::ports::StoreError::MissingReference(_) => {
                    ServiceError::not_found("connection")
                }
                other => other.into(),
            })?;
        // A verified example outranks what the cache remembered for its question.
        self.evict_for_example(example.connection_id, &example.question)
            .await;
        self.audit_by(
            actor,
            "example.create",
            format!("example:{}", example.id),
            None,
        )
        .await;
        Ok(example.into())
    }

    /// `GET /examples`.
    pub async fn list_examples(
        &self,
        actor: &Actor,
        filter: &ExampleFilter,
        params: &ListParams,
    ) -> ServiceResult<Paginated<ExampleView>> {
        let page = params.page()?;
        let teams = match filter.connection_id {
            Some(id) => vec![
                self.load_connection(actor, id, TeamRole::Viewer)
                    .await?
                    .team_id,
            ],
            None => self.visible_teams(actor).await?,
        };
        let rows = self
            .store()
            .list_examples(&teams, filter.connection_id, &page)
            .await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |e| e.id.to_string(),
            ExampleView::from,
        ))
    }

    /// `GET /examples/{id}`.
    pub async fn get_example(&self, actor: &Actor, id: ExampleId) -> ServiceResult<ExampleView> {
        Ok(self.load_example(actor, id, TeamRole::Viewer).await?.into())
    }

    /// `PATCH /examples/{id}` (editor or above).
    pub async fn update_example(
        &self,
        actor: &Actor,
        id: ExampleId,
        req: &UpdateExample,
    ) -> ServiceResult<ExampleView> {
        let mut e = self.load_example(actor, id, TeamRole::Editor).await?;
        let before = e.question.clone();
        if req.question.is_none() && req.sql.is_none() {
            return Err(ServiceError::validation(
                "nothing to change: give question and/or sql",
            ));
        }
        if let Some(q) = &req.question {
            e.question = check_text("question", q, MAX_QUESTION_CHARS)?;
        }
        if let Some(sql) = &req.sql {
            let conn = self
                .load_connection(actor, e.connection_id, TeamRole::Editor)
                .await?;
            e.sql = self
                .guard_example_sql(actor, &conn, "sql", sql, MAX_SQL_CHARS)
                .await?;
        }
        e.verified_by = actor.audit_name();
        e.updated_at = now_millis();
        self.store()
            .update_example(&e)
            .await
            .or_not_found("example")?;
        for q in [&before, &e.question] {
            self.evict_for_example(e.connection_id, q).await;
        }
        self.audit_by(actor, "example.update", format!("example:{id}"), None)
            .await;
        Ok(e.into())
    }

    /// `DELETE /examples/{id}` (editor or above).
    pub async fn delete_example(&self, actor: &Actor, id: ExampleId) -> ServiceResult<()> {
        self.load_example(actor, id, TeamRole::Editor).await?;
        self.store()
            .delete_example(id)
            .await
            .or_not_found("example")?;
        self.audit_by(actor, "example.delete", format!("example:{id}"), None)
            .await;
        Ok(())
    }

    /// A verified example outranks what the cache remembered for its question; the example
    /// is already stored, so trouble here is logged, not returned.
    async fn evict_for_example(&self, connection: ConnectionId, question: &str) {
        if let Err(e) = self.cache_evict_question(connection, question, None).await {
            tracing::warn!(error = %e.detail, %connection, "could not evict the cached answer of an example's question");
        }
    }

    /// The examples most similar to `question` (lexical similarity over the connection's
    /// newest examples), most similar first. Store trouble yields none: few-shot examples
    /// help, they are never required.
    pub(crate) async fn few_shots(&self, connection: ConnectionId, question: &str) -> Vec<FewShot> {
        let examples = match self
            .store()
            .examples_of(connection, FEW_SHOT_CANDIDATES)
            .await
        {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "could not load examples");
                return Vec::new();
            }
        };
        rank_examples(question, examples, FEW_SHOTS)
    }

    /// `POST /chat/feedback/{message_id}`. Anyone who may read the message may give
    /// feedback; storing an example needs the editor role.
    pub async fn chat_feedback(
        &self,
        actor: &Actor,
        id: MessageId,
        req: &FeedbackRequest,
    ) -> ServiceResult<FeedbackResult> {
        let (session, message, conn) = self.message_for(actor, id, TeamRole::Viewer).await?;
        let editor = self
            .team_role(actor, session.team_id)
            .await?
            .is_some_and(|r| r.at_least(TeamRole::Editor));
        // Sessions are private: besides their owner, only editors (who approve and edit
        // the team's queries) may judge an answer.
        if session.owner != actor.audit_name() && !editor {
            return Err(ServiceError::not_found("message"));
        }
        let wants_example = req.rating == Rating::Up || req.corrected_sql.is_some();
        if wants_example {
            self.require_team_role(actor, session.team_id, TeamRole::Editor, "message")
                .await?;
            if !self.history_of(session.id, id).await?.is_empty() {
                return Err(ServiceError::validation(
                    "this question follows earlier turns of its session and means little on \
                     its own; add a standalone example with POST /examples instead",
                ));
            }
        }
        let mut result = FeedbackResult {
            message_id: id,
            rating: req.rating,
            example: None,
            cached: false,
            cache_entries_removed: 0,
        };
        let corrected = match &req.corrected_sql {
            Some(sql) => Some(
                self.guard_example_sql(actor, &conn, "corrected_sql", sql, MAX_SQL_CHARS)
                    .await?,
            ),
            None => None,
        };
        if req.rating == Rating::Down || corrected.is_some() {
            // A similar hit came from an entry stored under another question: evict the
            // entry that served this answer too.
            result.cache_entries_removed = self
                .cache_evict_question(conn.id, &message.question, message.cache_entry_id)
                .await?;
        }
        let existing = self.store().example_of_message(id).await?;
        let now = now_millis();
        let example_sql = match (&corrected, req.rating) {
            (Some(sql), _) => Some((sql.clone(), ExampleSource::FeedbackCorrection)),
            (None, Rating::Up) => {
                let sql = message.sql.clone().ok_or_else(|| {
                    ServiceError::validation(
                        "this message has no SQL to confirm; send corrected_sql instead",
                    )
                })?;
                let sql = self
                    .guard_example_sql(actor, &conn, "sql", &sql, MAX_SQL_CHARS)
                    .await?;
                Some((sql, ExampleSource::FeedbackUp))
            }
            (None, Rating::Down) => None,
        };
        match (example_sql, existing) {
            (Some((sql, source)), Some(mut e)) => {
                e.sql = sql;
                e.source = source;
                e.verified_by = actor.audit_name();
                e.updated_at = now;
                self.store().update_example(&e).await?;
                result.example = Some(e.into());
            }
            (Some((sql, source)), None) => {
                let e = Example {
                    id: ExampleId::new(),
                    team_id: conn.team_id,
                    connection_id: conn.id,
                    question: message.question.clone(),
                    sql,
                    source,
                    message_id: Some(id),
                    verified_by: actor.audit_name(),
                    created_at: now,
                    updated_at: now,
                };
                self.store().insert_example(&e).await?;
                result.example = Some(e.into());
            }
            (None, Some(e)) if editor => {
                // An editor's thumbs-down withdraws the example an earlier thumbs-up or
                // correction stored (a viewer's only evicts the cached answer).
                self.store()
                    .delete_example(e.id)
                    .await
                    .or_not_found("example")?;
            }
            (None, _) => {}
        }
        // A confirmed answer that ran is cached (a correction has not run yet: it is an
        // example until it answers a question).
        if req.rating == Rating::Up
            && corrected.is_none()
            && message.options.use_cache
            && matches!(
                message.status,
                MessageStatus::Executed | MessageStatus::Cached
            )
            && let Some(sql) = &message.sql
        {
            let schema = self.schema_for(actor, &conn).await?;
            let scope = self.cache_scope(&conn, &schema).await;
            result.cached = self
                .cache_answer(&scope, &message.question, sql, Some(id), None)
                .await;
        }
        self.audit_by(
            actor,
            "chat.feedback",
            format!("message:{id}"),
            Some(format!(
                "rating={:?} corrected={} session={}",
                req.rating,
                corrected.is_some(),
                session.id
            )),
        )
        .await;
        Ok(result)
    }
}

/// The `k` examples most similar to `question`, most similar first (ties: newest first).
pub(crate) fn rank_examples(question: &str, examples: Vec<Example>, k: usize) -> Vec<FewShot> {
    let q = lexical_embedding(&normalize(question));
    let mut scored: Vec<(f32, Example)> = examples
        .into_iter()
        .map(|e| (cosine(&q, &lexical_embedding(&normalize(&e.question))), e))
        .filter(|(s, _)| *s >= FEW_SHOT_MIN_SIMILARITY)
        .collect();
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.created_at.cmp(&a.1.created_at))
    });
    scored
        .into_iter()
        .take(k)
        .map(|(_, e)| FewShot {
            question: e.question,
            sql: e.sql,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::TeamId;

    fn ex(q: &str, sql: &str, at: i64) -> Example {
        Example {
            id: ExampleId::new(),
            team_id: TeamId::new(),
            connection_id: ConnectionId::new(),
            question: q.into(),
            sql: sql.into(),
            source: ExampleSource::Manual,
            message_id: None,
            verified_by: "user:x".into(),
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn ranks_similar_examples_first_and_drops_unrelated_ones() {
        let shots = rank_examples(
            "how many orders were shipped last month",
            vec![
                ex("list employees by hire date", "A", 1),
                ex("how many orders shipped this year", "B", 2),
                ex("number of orders shipped last month", "C", 3),
            ],
            2,
        );
        let sqls: Vec<&str> = shots.iter().map(|s| s.sql.as_str()).collect();
        assert_eq!(sqls.len(), 2);
        assert!(sqls.contains(&"B") && sqls.contains(&"C"), "{sqls:?}");
        assert!(
            rank_examples(
                "quarterly revenue",
                vec![ex("list employees by hire date", "A", 1)],
                3
            )
            .is_empty()
        );
    }
}
