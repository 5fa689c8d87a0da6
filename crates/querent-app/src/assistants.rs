//! Assistants (`/api/v1/assistants`): saved profiles for asking one database — a
//! connection, a provider and model, instructions added to the prompt, and default options
//! including an execution mode — and `POST /assistants/{id}/ask`, answered exactly like
//! `POST /chat` with that profile.
//!
//! Rules:
//! - An assistant belongs to its connection's team: viewers list, read and ask it, editors
//!   create, change and delete it; another team's assistant is `not_found`.
//! - Its provider (an id or name of one of the team's providers, or `offline`) must resolve
//!   when it is saved; without one the team's default answers, as in chat. Its `model`
//!   replaces the provider's model for its answers (ignored by the offline translator,
//!   which has none).
//! - Its instructions (at most [`MAX_INSTRUCTIONS_CHARS`] characters) reach the provider as
//!   a delimited section of the prompt (`GenerateRequest::instructions`); they refine the
//!   answer but grant nothing: the guard checks the SQL whatever they say, and the offline
//!   translator ignores them. An assistant with instructions does not use the semantic
//!   cache (a cached answer was written without them).
//! - Its execution mode may only be stricter than its connection's (`review_first` on an
//!   `auto_execute` connection, `generate_only` on either); a looser one is refused when
//!   saved, and if the connection is made stricter later, the connection's mode wins.

use std::sync::Arc;

use async_trait::async_trait;
use querent_domain::HasErrorCode as _;
use querent_domain::chat::ChatOptions;
use querent_domain::ports::StoreError;
use querent_domain::query::{GenerateRequest, Generated, ProviderError, SqlProvider, TextReply};
use querent_domain::workspace::{Assistant, AssistantOptions};
use querent_domain::{
    AssistantId, Connection, ConnectionId, ExecutionMode, ProviderKind, SessionId, TeamRole,
    millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::chat::{ChatRequest, PreparedChat};
use crate::error::NotFoundAs;
use crate::providers::Resolved;
use crate::teams::validate_resource_name;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// Longest instructions accepted, in characters.
pub const MAX_INSTRUCTIONS_CHARS: usize = 4_000;
/// Longest description accepted, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1_000;
/// Longest model id accepted, in characters.
const MAX_MODEL_CHARS: usize = 200;

/// `POST /assistants` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistantRequest {
    /// Name (1–100 printable characters).
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The connection it asks (editor or above in its team).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// A provider of the team (id or name) or `offline`; the team's default when absent.
    #[serde(default)]
    pub provider: Option<String>,
    /// A model replacing the provider's (not for the offline translator).
    #[serde(default)]
    pub model: Option<String>,
    /// Instructions added to the prompt (at most 4,000 characters).
    #[serde(default)]
    pub instructions: Option<String>,
    /// Default options.
    #[serde(default)]
    pub options: AssistantOptions,
}

/// `PATCH /assistants/{id}` body: only the fields given change; an empty string clears
/// `description`, `provider`, `model` or `instructions`.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistantUpdate {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New provider.
    pub provider: Option<String>,
    /// New model.
    pub model: Option<String>,
    /// New instructions.
    pub instructions: Option<String>,
    /// New options (replace the old ones whole).
    pub options: Option<AssistantOptions>,
}

/// An assistant on the wire.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssistantView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: AssistantId,
    /// Owning team (the connection's).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: querent_domain::TeamId,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// The connection it asks.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// Its provider (`null`: the team's default).
    pub provider: Option<String>,
    /// Its model (`null`: the provider's).
    pub model: Option<String>,
    /// Instructions added to the prompt.
    pub instructions: Option<String>,
    /// Default options.
    pub options: AssistantOptions,
    /// Who created it.
    pub created_by: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<Assistant> for AssistantView {
    fn from(a: Assistant) -> Self {
        Self {
            id: a.id,
            team_id: a.team_id,
            name: a.name,
            description: a.description,
            connection_id: a.connection_id,
            provider: a.provider,
            model: a.model,
            instructions: a.instructions,
            options: a.options,
            created_by: a.created_by,
            created_at: millis_to_rfc3339(a.created_at),
            updated_at: millis_to_rfc3339(a.updated_at),
        }
    }
}

/// `POST /assistants/{id}/ask` body.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssistantAsk {
    /// The question in plain language.
    pub message: String,
    /// Continue this session (one of this assistant's connection); `null` starts one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub session_id: Option<SessionId>,
}

/// A provider whose requests carry an assistant's instructions.
struct Instructed {
    inner: Arc<dyn SqlProvider>,
    instructions: String,
}

#[async_trait]
impl SqlProvider for Instructed {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn generate(&self, request: &GenerateRequest) -> Result<Generated, ProviderError> {
        let mut request = request.clone();
        request.instructions = Some(self.instructions.clone());
        self.inner.generate(&request).await
    }

    async fn complete_text(
        &self,
        system: &str,
        user: &str,
    ) -> Result<Option<TextReply>, ProviderError> {
        self.inner.complete_text(system, user).await
    }
}

fn strictness(mode: ExecutionMode) -> u8 {
    match mode {
        ExecutionMode::AutoExecute => 0,
        ExecutionMode::ReviewFirst => 1,
        ExecutionMode::GenerateOnly => 2,
    }
}

/// Trimmed text, `None` when empty; refused past `max` characters.
fn optional_text(field: &str, value: Option<String>, max: usize) -> ServiceResult<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.chars().count() > max {
        return Err(ServiceError::validation(format!(
            "{field}: at most {max} characters"
        )));
    }
    Ok((!v.is_empty()).then(|| v.to_owned()))
}

impl App {
    /// An assistant the caller may use with at least `min`; `not_found` for other teams'.
    pub(crate) async fn load_assistant(
        &self,
        actor: &Actor,
        id: AssistantId,
        min: TeamRole,
    ) -> ServiceResult<Assistant> {
        let a = self
            .store()
            .get_assistant(id)
            .await
            .or_not_found("assistant")?;
        self.require_team_role(actor, a.team_id, min, "assistant")
            .await?;
        Ok(a)
    }

    /// Checks what an assistant says against its connection and team.
    async fn check_assistant(&self, a: &Assistant, conn: &Connection) -> ServiceResult<()> {
        if let Some(p) = &a.provider {
            self.resolve_provider(conn.team_id, Some(p)).await?;
        }
        if let Some(model) = &a.model
            && model.chars().any(char::is_control)
        {
            return Err(ServiceError::validation(
                "model: must be printable characters",
            ));
        }
        if a.options.max_rows == Some(0) {
            return Err(ServiceError::validation(
                "options.max_rows: must be at least 1",
            ));
        }
        if let Some(mode) = a.options.execution_mode
            && strictness(mode) < strictness(conn.execution_mode)
        {
            return Err(ServiceError::validation(format!(
                "options.execution_mode: the connection is {}; an assistant may only be \
                 stricter (review_first or generate_only), never looser",
                conn.execution_mode
            )));
        }
        Ok(())
    }

    /// Creates an assistant (editor or above in the connection's team).
    pub async fn create_assistant(
        &self,
        actor: &Actor,
        req: AssistantRequest,
    ) -> ServiceResult<AssistantView> {
        let conn = self
            .load_connection(actor, req.connection_id, TeamRole::Editor)
            .await?;
        let now = now_millis();
        let a = Assistant {
            id: AssistantId::new(),
            team_id: conn.team_id,
            name: validate_resource_name("name", &req.name)?,
            description: optional_text("description", req.description, MAX_DESCRIPTION_CHARS)?,
            connection_id: conn.id,
            provider: optional_text("provider", req.provider, 200)?,
            model: optional_text("model", req.model, MAX_MODEL_CHARS)?,
            instructions: optional_text("instructions", req.instructions, MAX_INSTRUCTIONS_CHARS)?,
            options: req.options,
            created_by: actor.audit_name(),
            created_at: now,
            updated_at: now,
        };
        self.check_assistant(&a, &conn).await?;
        self.store()
            .insert_assistant(&a)
            .await
            .or_conflict(|| format!("name: the team already has an assistant `{}`", a.name))?;
        self.audit_by(
            actor,
            "assistant.create",
            format!("assistant:{}", a.id),
            None,
        )
        .await;
        Ok(a.into())
    }

    /// The assistants of the caller's teams.
    pub async fn list_assistants(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<AssistantView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let rows = self.store().list_assistants(&teams, &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |a| a.id.to_string(),
            AssistantView::from,
        ))
    }

    /// One assistant.
    pub async fn get_assistant(
        &self,
        actor: &Actor,
        id: AssistantId,
    ) -> ServiceResult<AssistantView> {
        Ok(self
            .load_assistant(actor, id, TeamRole::Viewer)
            .await?
            .into())
    }

    /// Changes an assistant (editor or above); only the fields given change.
    pub async fn update_assistant(
        &self,
        actor: &Actor,
        id: AssistantId,
        req: AssistantUpdate,
    ) -> ServiceResult<AssistantView> {
        let mut a = self.load_assistant(actor, id, TeamRole::Viewer).await?;
        let conn = self
            .load_connection(actor, a.connection_id, TeamRole::Editor)
            .await?;
        if let Some(n) = req.name {
            a.name = validate_resource_name("name", &n)?;
        }
        if req.description.is_some() {
            a.description = optional_text("description", req.description, MAX_DESCRIPTION_CHARS)?;
        }
        if req.provider.is_some() {
            a.provider = optional_text("provider", req.provider, 200)?;
        }
        if req.model.is_some() {
            a.model = optional_text("model", req.model, MAX_MODEL_CHARS)?;
        }
        if req.instructions.is_some() {
            a.instructions =
                optional_text("instructions", req.instructions, MAX_INSTRUCTIONS_CHARS)?;
        }
        if let Some(o) = req.options {
            a.options = o;
        }
        a.updated_at = now_millis();
        self.check_assistant(&a, &conn).await?;
        self.store()
            .update_assistant(&a)
            .await
            .or_conflict(|| format!("name: the team already has an assistant `{}`", a.name))?;
        self.audit_by(actor, "assistant.update", format!("assistant:{id}"), None)
            .await;
        Ok(a.into())
    }

    /// Deletes an assistant (editor or above). Questions asked of it keep their answers.
    pub async fn delete_assistant(&self, actor: &Actor, id: AssistantId) -> ServiceResult<()> {
        let a = self.load_assistant(actor, id, TeamRole::Viewer).await?;
        self.require_team_role(actor, a.team_id, TeamRole::Editor, "assistant")
            .await?;
        match self.store().delete_assistant(id).await {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
        self.audit_by(actor, "assistant.delete", format!("assistant:{id}"), None)
            .await;
        Ok(())
    }

    /// Step 1 of `POST /assistants/{id}/ask`: as [`App::prepare_chat`], with the
    /// assistant's profile; run it with [`App::run_chat`].
    pub async fn prepare_assistant_ask(
        &self,
        actor: &Actor,
        id: AssistantId,
        req: AssistantAsk,
    ) -> ServiceResult<PreparedChat> {
        let a = self.load_assistant(actor, id, TeamRole::Viewer).await?;
        self.assistant_chat(actor, &a, req.message, req.session_id, None, false)
            .await
    }

    /// [`App::prepare_assistant_ask`] with `model` in place of the assistant's model for
    /// this answer only (as the assistant's own model applies: not to the offline
    /// translator). `None` or an empty model keeps the assistant's.
    pub async fn prepare_assistant_ask_with_model(
        &self,
        actor: &Actor,
        id: AssistantId,
        req: AssistantAsk,
        model: Option<String>,
    ) -> ServiceResult<PreparedChat> {
        let mut a = self.load_assistant(actor, id, TeamRole::Viewer).await?;
        if let Some(model) = optional_text("model", model, MAX_MODEL_CHARS)? {
            if model.chars().any(char::is_control) {
                return Err(ServiceError::validation(
                    "model: must be printable characters",
                ));
            }
            a.model = Some(model);
        }
        self.assistant_chat(actor, &a, req.message, req.session_id, None, false)
            .await
    }

    /// A chat on the assistant's connection with its profile: its options (the result's
    /// row cap, when it sets none, is the connection's for `full_result`, chat's default
    /// otherwise), its provider (or `provider`) with its model and instructions, and its
    /// execution mode when stricter than the connection's.
    pub(crate) async fn assistant_chat(
        &self,
        actor: &Actor,
        a: &Assistant,
        message: String,
        session_id: Option<SessionId>,
        provider: Option<String>,
        full_result: bool,
    ) -> ServiceResult<PreparedChat> {
        let conn = self
            .load_connection(actor, a.connection_id, TeamRole::Viewer)
            .await?;
        let defaults = ChatOptions::default();
        let options = ChatOptions {
            show_query: a.options.show_query.unwrap_or(defaults.show_query),
            max_rows: a.options.max_rows.unwrap_or(if full_result {
                conn.limits.max_rows.max(1)
            } else {
                defaults.max_rows
            }),
            explain_results: a
                .options
                .explain_results
                .unwrap_or(defaults.explain_results),
            use_cache: a.instructions.is_none(),
            ..defaults
        };
        let provider = provider.or_else(|| a.provider.clone());
        let req = ChatRequest {
            connection_id: a.connection_id,
            session_id,
            message,
            provider: provider.clone(),
            options,
        };
        let prepared = self.prepare_chat(actor, req).await?;
        let resolved = self.assistant_provider(a, conn.team_id, provider).await?;
        let mode = a.options.execution_mode.unwrap_or(conn.execution_mode);
        Ok(prepared.with_profile(resolved, mode))
    }

    /// The provider an assistant answers with: resolved as chat does, its model in place of
    /// the provider's, its instructions on every request.
    async fn assistant_provider(
        &self,
        a: &Assistant,
        team: querent_domain::TeamId,
        provider: Option<String>,
    ) -> ServiceResult<Resolved> {
        let mut resolved = self.resolve_provider(team, provider.as_deref()).await?;
        if let (Some(model), Some(config)) = (&a.model, &resolved.config)
            && config.kind != ProviderKind::Offline
            && config.model.as_deref() != Some(model.as_str())
        {
            let mut config = config.clone();
            config.model = Some(model.clone());
            let key = config
                .encrypted_api_key
                .as_deref()
                .map(|c| self.crypto().decrypt(c))
                .transpose()?;
            resolved.provider = self
                .inner
                .ports
                .providers
                .build(&config, key)
                .map_err(|e| ServiceError::new(e.code(), e.to_string()))?;
            resolved.config = Some(config);
        }
        if let Some(instructions) = &a.instructions {
            resolved.provider = Arc::new(Instructed {
                inner: resolved.provider,
                instructions: instructions.clone(),
            });
        }
        Ok(resolved)
    }
}
