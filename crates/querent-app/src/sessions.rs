//! Chat sessions and their history: a caller lists and reads their own sessions; editors
//! list the queries waiting for their approval.

use querent_domain::chat::{ChatMessage, ChatOptions, ChatSession};
use querent_domain::{
    ConnectionId, Dialect, MessageId, MessageStatus, SessionId, TeamRole, millis_to_rfc3339,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ChatError, ResultView};
use crate::{Actor, App, ListParams, Paginated, ServiceResult};

/// A session as listed.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Id.
    pub id: SessionId,
    /// The connection asked about.
    pub connection_id: ConnectionId,
    /// The first question, shortened.
    pub title: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Time of the latest message (RFC 3339).
    pub updated_at: String,
}

impl From<ChatSession> for SessionView {
    fn from(s: ChatSession) -> Self {
        Self {
            id: s.id,
            connection_id: s.connection_id,
            title: s.title,
            created_at: millis_to_rfc3339(s.created_at),
            updated_at: millis_to_rfc3339(s.updated_at),
        }
    }
}

/// One message of a session's history.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageView {
    /// Id.
    pub id: MessageId,
    /// The session.
    pub session_id: SessionId,
    /// What was asked.
    pub question: String,
    /// The SQL (generated or edited).
    pub sql: Option<String>,
    /// Its dialect.
    pub dialect: Dialect,
    /// running | executed | cached | pending_approval | query_only | rejected | error.
    pub status: MessageStatus,
    /// The explanation, when one was asked for.
    pub explanation: Option<String>,
    /// The stored result: its first rows (`preview` is true when more were delivered;
    /// masked values stay masked).
    pub results: Option<ResultView>,
    /// Why it failed.
    pub error: Option<ChatError>,
    /// Who wrote the SQL: the provider's name, or `user` after an edit.
    pub provider: Option<String>,
    /// Prompt tokens used.
    pub prompt_tokens: i64,
    /// Completion tokens used.
    pub completion_tokens: i64,
    /// Time from question to answer, in milliseconds.
    pub latency_ms: Option<i64>,
    /// Every provider call made for it (first try and self-corrections).
    pub attempts: Vec<querent_domain::chat::Attempt>,
    /// Estimated cost of the provider calls in US dollars, when prices are configured.
    pub cost_usd: Option<f64>,
    /// Options it was asked with.
    pub options: ChatOptions,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<ChatMessage> for MessageView {
    fn from(m: ChatMessage) -> Self {
        Self {
            id: m.id,
            session_id: m.session_id,
            question: m.question,
            sql: m.sql,
            dialect: m.dialect,
            status: m.status,
            explanation: m.explanation,
            results: m.results.map(ResultView::from),
            error: m.error_code.map(|code| ChatError {
                code,
                detail: m.error_detail.unwrap_or_default(),
            }),
            provider: m.provider,
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            latency_ms: m.latency_ms,
            attempts: m.attempts,
            cost_usd: m.cost_usd,
            options: m.options,
            created_at: millis_to_rfc3339(m.created_at),
        }
    }
}

/// A session with its messages in order.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionDetail {
    /// The session.
    #[serde(flatten)]
    pub session: SessionView,
    /// Its messages, oldest first.
    pub messages: Vec<MessageView>,
}

/// Filters of `GET /sessions` and `GET /chat/pending`.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SessionFilter {
    /// Only this connection.
    pub connection_id: Option<ConnectionId>,
}

impl App {
    /// The caller's sessions, oldest first.
    pub async fn list_sessions(
        &self,
        actor: &Actor,
        filter: &SessionFilter,
        params: &ListParams,
    ) -> ServiceResult<Paginated<SessionView>> {
        let page = params.page()?;
        let rows = self
            .store()
            .list_sessions(&actor.audit_name(), filter.connection_id, &page)
            .await?;
        let teams = self.visible_teams(actor).await?;
        let rows = rows
            .into_iter()
            .filter(|s| teams.contains(&s.team_id))
            .collect();
        Ok(Paginated::from_rows(
            rows,
            &page,
            |s| s.id.to_string(),
            SessionView::from,
        ))
    }

    /// One of the caller's sessions with its messages.
    pub async fn get_session(&self, actor: &Actor, id: SessionId) -> ServiceResult<SessionDetail> {
        let session = self.owned_session(actor, id).await?;
        let messages = self.store().list_messages(id).await?;
        Ok(SessionDetail {
            session: session.into(),
            messages: messages.into_iter().map(MessageView::from).collect(),
        })
    }

    /// Deletes one of the caller's sessions and its messages.
    pub async fn delete_session(&self, actor: &Actor, id: SessionId) -> ServiceResult<()> {
        self.owned_session(actor, id).await?;
        self.store().delete_session(id).await?;
        self.audit_by(actor, "session.delete", format!("session:{id}"), None)
            .await;
        Ok(())
    }

    /// Queries waiting for approval on connections where the caller is editor or above.
    pub async fn pending_approvals(
        &self,
        actor: &Actor,
        filter: &SessionFilter,
        params: &ListParams,
    ) -> ServiceResult<Paginated<MessageView>> {
        let page = params.page()?;
        if let Some(id) = filter.connection_id {
            self.load_connection(actor, id, TeamRole::Editor).await?;
        }
        let mut teams = Vec::new();
        for team in self.visible_teams(actor).await? {
            if self
                .team_role(actor, team)
                .await?
                .is_some_and(|r| r.at_least(TeamRole::Editor))
            {
                teams.push(team);
            }
        }
        let rows = self
            .store()
            .messages_with_status(
                &teams,
                filter.connection_id,
                MessageStatus::PendingApproval,
                &page,
            )
            .await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |(_, m)| m.id.to_string(),
            |(_, m)| MessageView::from(m),
        ))
    }
}
