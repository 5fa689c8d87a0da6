//! SQL providers per team (design §6): OpenAI-compatible and Anthropic endpoints with
//! write-only API keys (encrypted by the vault), a default per team, connection tests,
//! model lists, the choice of provider for a chat, and token/cost usage.

use querent_domain::HasErrorCode as _;
use std::sync::Arc;
use std::time::Instant;

use querent_domain::ports::StoreError;
use querent_domain::providers::{ProviderConfig, ProviderOptions};
use querent_domain::query::SqlProvider;
use querent_domain::{
    ErrorCode, ProviderId, ProviderKind, Secret, TeamId, TeamRole, UnixMillis, millis_to_rfc3339,
    now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::teams::validate_resource_name;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// `POST /providers` body.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderRequest {
    /// Name, unique in the team (what a chat's `provider` field names).
    pub name: String,
    /// openai | anthropic | offline.
    pub kind: ProviderKind,
    /// The API root, e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1`,
    /// `https://api.anthropic.com/v1` (not for offline).
    #[serde(default)]
    pub base_url: Option<String>,
    /// Model id (not for offline).
    #[serde(default)]
    pub model: Option<String>,
    /// API key; write-only (Ollama and local servers need none).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub api_key: Option<Secret<String>>,
    /// Tunables.
    #[serde(default)]
    pub options: ProviderOptions,
    /// Make it the team's default.
    #[serde(default)]
    pub is_default: bool,
    /// The team (default: the caller's first team).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub team_id: Option<TeamId>,
}

/// `PATCH /providers/{id}` body: only the fields given change.
#[derive(Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderUpdate {
    /// New name.
    pub name: Option<String>,
    /// New API root.
    pub base_url: Option<String>,
    /// New model.
    pub model: Option<String>,
    /// New API key (write-only).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub api_key: Option<Secret<String>>,
    /// Remove the stored key.
    pub clear_api_key: Option<bool>,
    /// Replace the tunables.
    pub options: Option<ProviderOptions>,
    /// Make it (or stop it being) the team's default.
    pub is_default: Option<bool>,
}

/// A provider on the wire (never the key).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: ProviderId,
    /// Owning team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ProviderKind,
    /// API root.
    pub base_url: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Whether an API key is stored.
    pub has_api_key: bool,
    /// Tunables.
    pub options: ProviderOptions,
    /// Whether it is the team's default.
    pub is_default: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

impl From<ProviderConfig> for ProviderView {
    fn from(p: ProviderConfig) -> Self {
        Self {
            id: p.id,
            team_id: p.team_id,
            name: p.name,
            kind: p.kind,
            base_url: p.base_url,
            model: p.model,
            has_api_key: p.encrypted_api_key.is_some(),
            options: p.options,
            is_default: p.is_default,
            created_at: millis_to_rfc3339(p.created_at),
            updated_at: millis_to_rfc3339(p.updated_at),
        }
    }
}

/// `POST /providers/{id}/test` result.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderTestResult {
    /// Whether the provider answered.
    pub ok: bool,
    /// Its reply (shortened).
    pub reply: Option<String>,
    /// Round trip in milliseconds.
    pub latency_ms: u64,
    /// Why it failed.
    pub error: Option<String>,
}

/// `GET /providers/{id}/models` result.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelList {
    /// Model ids.
    pub models: Vec<String>,
}

/// `GET /usage` query.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct UsageQuery {
    /// The team (default: the caller's first team).
    pub team_id: Option<TeamId>,
    /// Start (RFC 3339 or `YYYY-MM-DD`), inclusive; default 30 days ago.
    pub from: Option<String>,
    /// End (RFC 3339 or `YYYY-MM-DD`), exclusive; default now.
    pub to: Option<String>,
}

/// Token and cost totals.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageTotals {
    /// Which provider (`offline`, `openai:gpt-4o-mini`, `user` for hand edits…); empty for
    /// the totals.
    pub provider: String,
    /// Messages answered.
    pub messages: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Estimated cost in US dollars (providers with prices configured).
    pub cost_usd: f64,
}

/// `GET /usage` result.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// The team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Start (RFC 3339).
    pub from: String,
    /// End (RFC 3339).
    pub to: String,
    /// Totals.
    pub total: UsageTotals,
    /// Per provider.
    pub by_provider: Vec<UsageTotals>,
}

/// The provider a chat uses, and its configuration when it is a configured one.
#[derive(Clone)]
pub(crate) struct Resolved {
    pub(crate) provider: Arc<dyn SqlProvider>,
    pub(crate) config: Option<ProviderConfig>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("provider", &self.provider.name())
            .finish()
    }
}

fn clean_opt(field: &str, v: Option<String>) -> ServiceResult<Option<String>> {
    match v.map(|s| s.trim().to_owned()) {
        Some(s) if s.is_empty() => Ok(None),
        Some(s) if s.chars().count() > 500 || s.chars().any(char::is_control) => Err(
            ServiceError::validation(format!("{field}: at most 500 printable characters")),
        ),
        other => Ok(other),
    }
}

fn parse_time(field: &str, s: &str) -> ServiceResult<UnixMillis> {
    querent_domain::parse_time(s).ok_or_else(|| {
        ServiceError::validation(format!(
            "{field}: expected an RFC 3339 time or a YYYY-MM-DD date, got `{s}`"
        ))
    })
}

impl App {
    async fn check_provider(&self, p: &ProviderConfig) -> ServiceResult<()> {
        match p.kind {
            ProviderKind::Offline => {
                if p.base_url.is_some() || p.model.is_some() || p.encrypted_api_key.is_some() {
                    return Err(ServiceError::validation(
                        "kind: an offline provider takes no base_url, model or api_key",
                    ));
                }
            }
            ProviderKind::Openai | ProviderKind::Anthropic => {
                let url = p
                    .base_url
                    .as_deref()
                    .ok_or_else(|| ServiceError::validation("base_url: is required"))?;
                if p.model.is_none() {
                    return Err(ServiceError::validation("model: is required"));
                }
                self.inner
                    .ports
                    .providers
                    .check_url(url)
                    .await
                    .map_err(|e| ServiceError::validation(format!("base_url: {e}")))?;
            }
        }
        if let Some(t) = p.options.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(ServiceError::validation(
                "options.temperature: must be between 0 and 2",
            ));
        }
        Ok(())
    }

    fn provider_key(&self, p: &ProviderConfig) -> ServiceResult<Option<Secret<String>>> {
        Ok(p.encrypted_api_key
            .as_deref()
            .map(|c| self.crypto().decrypt(c))
            .transpose()?)
    }

    /// Registers a provider (team admin).
    pub async fn create_provider(
        &self,
        actor: &Actor,
        req: ProviderRequest,
    ) -> ServiceResult<ProviderView> {
        let team = self
            .acting_team(actor, req.team_id, TeamRole::Admin)
            .await?;
        let now = now_millis();
        let p = ProviderConfig {
            id: ProviderId::new(),
            team_id: team,
            name: validate_resource_name("name", &req.name)?,
            kind: req.kind,
            base_url: clean_opt("base_url", req.base_url)?,
            model: clean_opt("model", req.model)?,
            encrypted_api_key: match req.api_key {
                Some(k) if !k.expose().is_empty() => Some(self.crypto().encrypt(&k)?),
                _ => None,
            },
            options: req.options,
            is_default: req.is_default,
            created_by: actor.user_id(),
            created_at: now,
            updated_at: now,
        };
        self.check_provider(&p).await?;
        self.store()
            .insert_provider(&p)
            .await
            .or_conflict(|| format!("name: the team already has a provider named `{}`", p.name))?;
        self.audit_by(actor, "provider.create", format!("provider:{}", p.id), None)
            .await;
        Ok(p.into())
    }

    /// The providers of the caller's teams.
    pub async fn list_providers(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<ProviderView>> {
        let page = params.page()?;
        let teams = self.visible_teams(actor).await?;
        let rows = self.store().list_providers(&teams, &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |p| p.id.to_string(),
            ProviderView::from,
        ))
    }

    async fn load_provider(
        &self,
        actor: &Actor,
        id: ProviderId,
        min: TeamRole,
    ) -> ServiceResult<ProviderConfig> {
        let p = self
            .store()
            .get_provider(id)
            .await
            .or_not_found("provider")?;
        self.require_team_role(actor, p.team_id, min, "provider")
            .await?;
        Ok(p)
    }

    /// One provider.
    pub async fn get_provider(&self, actor: &Actor, id: ProviderId) -> ServiceResult<ProviderView> {
        Ok(self
            .load_provider(actor, id, TeamRole::Viewer)
            .await?
            .into())
    }

    /// Changes a provider (team admin).
    pub async fn update_provider(
        &self,
        actor: &Actor,
        id: ProviderId,
        req: ProviderUpdate,
    ) -> ServiceResult<ProviderView> {
        let mut p = self.load_provider(actor, id, TeamRole::Admin).await?;
        if let Some(n) = req.name {
            p.name = validate_resource_name("name", &n)?;
        }
        if req.base_url.is_some() {
            p.base_url = clean_opt("base_url", req.base_url)?;
        }
        if req.model.is_some() {
            p.model = clean_opt("model", req.model)?;
        }
        if req.clear_api_key == Some(true) {
            p.encrypted_api_key = None;
        }
        if let Some(k) = req.api_key.filter(|k| !k.expose().is_empty()) {
            p.encrypted_api_key = Some(self.crypto().encrypt(&k)?);
        }
        if let Some(o) = req.options {
            p.options = o;
        }
        if let Some(d) = req.is_default {
            p.is_default = d;
        }
        p.updated_at = now_millis();
        self.check_provider(&p).await?;
        self.store()
            .update_provider(&p)
            .await
            .or_conflict(|| format!("name: the team already has a provider named `{}`", p.name))?;
        self.audit_by(actor, "provider.update", format!("provider:{id}"), None)
            .await;
        Ok(p.into())
    }

    /// Deletes a provider (team admin).
    pub async fn delete_provider(&self, actor: &Actor, id: ProviderId) -> ServiceResult<()> {
        self.load_provider(actor, id, TeamRole::Admin).await?;
        self.store()
            .delete_provider(id)
            .await
            .or_not_found("provider")?;
        self.audit_by(actor, "provider.delete", format!("provider:{id}"), None)
            .await;
        Ok(())
    }

    /// Makes a tiny real call (editor or above).
    pub async fn test_provider(
        &self,
        actor: &Actor,
        id: ProviderId,
    ) -> ServiceResult<ProviderTestResult> {
        let p = self.load_provider(actor, id, TeamRole::Editor).await?;
        self.check_provider(&p).await?;
        let key = self.provider_key(&p)?;
        let started = Instant::now();
        let r = self.inner.ports.providers.test(&p, key).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        self.audit_by(
            actor,
            "provider.test",
            format!("provider:{id}"),
            Some(format!("ok={}", r.is_ok())),
        )
        .await;
        Ok(match r {
            Ok(reply) => ProviderTestResult {
                ok: true,
                reply: Some(reply.chars().take(200).collect()),
                latency_ms,
                error: None,
            },
            Err(e) => ProviderTestResult {
                ok: false,
                reply: None,
                latency_ms,
                error: Some(e.to_string()),
            },
        })
    }

    /// The models a provider offers (editor or above).
    pub async fn provider_models(&self, actor: &Actor, id: ProviderId) -> ServiceResult<ModelList> {
        let p = self.load_provider(actor, id, TeamRole::Editor).await?;
        self.check_provider(&p).await?;
        let key = self.provider_key(&p)?;
        let models = self
            .inner
            .ports
            .providers
            .list_models(&p, key)
            .await
            .map_err(|e| ServiceError::new(e.code(), e.to_string()))?;
        Ok(ModelList { models })
    }

    /// A provider of `team` given by its id or its name. An id of another team's provider
    /// finds nothing, exactly like an unknown one (team isolation); a value that parses as an
    /// id but is none is still tried as a name.
    async fn find_team_provider(
        &self,
        team: TeamId,
        id_or_name: &str,
    ) -> ServiceResult<Option<ProviderConfig>> {
        if let Ok(id) = id_or_name.parse::<ProviderId>() {
            match self.store().get_provider(id).await {
                Ok(p) if p.team_id == team => return Ok(Some(p)),
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.store().find_provider(team, id_or_name).await?)
    }

    /// The provider for a chat in `team`: the one given by id or name (a configured
    /// provider, or the built-in `offline`), else the team's default, else the built-in
    /// offline translator.
    pub(crate) async fn resolve_provider(
        &self,
        team: TeamId,
        id_or_name: Option<&str>,
    ) -> ServiceResult<Resolved> {
        let builtin = || Resolved {
            provider: Arc::clone(&self.inner.ports.provider),
            config: None,
        };
        let config = match id_or_name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => match self.find_team_provider(team, n).await? {
                Some(p) => Some(p),
                None if n.eq_ignore_ascii_case(self.inner.ports.provider.name()) => None,
                None => {
                    return Err(ServiceError::validation(format!(
                        "provider: the team has no provider `{n}` (give the id or the name of one \
                         that GET /api/v1/providers lists, or `offline`)"
                    )));
                }
            },
            None => self.store().default_provider(team).await?,
        };
        let Some(config) = config else {
            return Ok(builtin());
        };
        if config.kind != ProviderKind::Offline
            && let Some(url) = &config.base_url
        {
            self.inner
                .ports
                .providers
                .check_url(url)
                .await
                .map_err(|e| {
                    ServiceError::new(
                        ErrorCode::ProviderError,
                        format!("provider `{}`: {e}", config.name),
                    )
                })?;
        }
        let key = self.provider_key(&config)?;
        let provider = self
            .inner
            .ports
            .providers
            .build(&config, key)
            .map_err(|e| ServiceError::new(e.code(), e.to_string()))?;
        Ok(Resolved {
            provider,
            config: Some(config),
        })
    }

    /// Tokens and estimated cost of a team's messages in a period.
    pub async fn usage(&self, actor: &Actor, q: &UsageQuery) -> ServiceResult<Usage> {
        let team = self.acting_team(actor, q.team_id, TeamRole::Viewer).await?;
        let now = now_millis();
        let to =
            q.to.as_deref()
                .map(|s| parse_time("to", s))
                .transpose()?
                .unwrap_or(now);
        let from = q
            .from
            .as_deref()
            .map(|s| parse_time("from", s))
            .transpose()?
            .unwrap_or(to - 30 * 24 * 3600 * 1000);
        if from > to {
            return Err(ServiceError::validation("from: must not be after `to`"));
        }
        let rows = self.store().usage_rows(team, from, to).await?;
        let mut by: std::collections::BTreeMap<String, UsageTotals> = Default::default();
        let mut total = UsageTotals::default();
        for (provider, prompt, completion, cost) in rows {
            let name = provider.unwrap_or_else(|| "none".into());
            let entry = by.entry(name.clone()).or_insert_with(|| UsageTotals {
                provider: name,
                ..Default::default()
            });
            for t in [entry, &mut total] {
                t.messages += 1;
                t.prompt_tokens += prompt.max(0) as u64;
                t.completion_tokens += completion.max(0) as u64;
                t.cost_usd += cost.unwrap_or(0.0);
            }
        }
        Ok(Usage {
            team_id: team,
            from: millis_to_rfc3339(from),
            to: millis_to_rfc3339(to),
            total,
            by_provider: by.into_values().collect(),
        })
    }
}
