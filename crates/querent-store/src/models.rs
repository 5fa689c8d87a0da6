//! Row structs and their conversion to and from domain entities. A row that cannot be
//! converted (an unknown enum spelling, broken JSON) is reported as `StoreError::Corrupt`
//! rather than silently defaulted.

use diesel::prelude::{Insertable, Queryable};
use querent_domain::{
    ApiClient, AuditEntry, Connection, ConnectionLimits, ConnectionTarget, Team, TeamMember, User,
};

use querent_domain::chat::{ChatMessage, ChatSession};
use querent_domain::ports::RefreshToken;
use querent_domain::providers::ProviderConfig;

use crate::DbError;
use crate::schema::*;

pub(crate) fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, DbError> {
    s.parse()
        .map_err(|_| DbError::corrupt(format!("{what}: `{s}`")))
}

pub(crate) fn json<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T, DbError> {
    serde_json::from_str(s).map_err(|e| DbError::corrupt(format!("{what}: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Serialising plain data structs (Vec<String>, PrivacyPolicy) cannot fail.
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

#[derive(Queryable, Insertable, Clone)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub disabled: bool,
    pub token_epoch: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl UserRow {
    pub(crate) fn into_domain(self) -> Result<(User, String), DbError> {
        Ok((
            User {
                id: parse("user id", &self.id)?,
                username: self.username,
                email: self.email,
                role: parse("role", &self.role)?,
                disabled: self.disabled,
                token_epoch: self.token_epoch,
                created_at: self.created_at,
            },
            self.password_hash,
        ))
    }

    pub(crate) fn from_domain(u: &User, password_hash: &str) -> Self {
        Self {
            id: u.id.to_string(),
            username: u.username.clone(),
            email: u.email.clone(),
            password_hash: password_hash.to_owned(),
            role: u.role.to_string(),
            disabled: u.disabled,
            token_epoch: u.token_epoch,
            created_at: u.created_at,
            updated_at: u.created_at,
        }
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = teams)]
pub(crate) struct TeamRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl TeamRow {
    pub(crate) fn into_domain(self) -> Result<Team, DbError> {
        Ok(Team {
            id: parse("team id", &self.id)?,
            name: self.name,
            created_at: self.created_at,
        })
    }
    pub(crate) fn from_domain(t: &Team) -> Self {
        Self {
            id: t.id.to_string(),
            name: t.name.clone(),
            created_at: t.created_at,
        }
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = team_members)]
pub(crate) struct MemberRow {
    pub team_id: String,
    pub user_id: String,
    pub role: String,
    pub created_at: i64,
}

impl MemberRow {
    pub(crate) fn into_domain(self) -> Result<TeamMember, DbError> {
        Ok(TeamMember {
            team_id: parse("team id", &self.team_id)?,
            user_id: parse("user id", &self.user_id)?,
            role: parse("team role", &self.role)?,
        })
    }
}

#[derive(Queryable, Insertable, Clone)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub revoked: bool,
    pub created_at: i64,
}

impl RefreshTokenRow {
    pub(crate) fn into_domain(self) -> Result<RefreshToken, DbError> {
        Ok(RefreshToken {
            id: parse("refresh token id", &self.id)?,
            family_id: parse("token family id", &self.family_id)?,
            user_id: parse("user id", &self.user_id)?,
            token_hash: self.token_hash,
            expires_at: self.expires_at,
            used_at: self.used_at,
            revoked: self.revoked,
            created_at: self.created_at,
        })
    }

    pub(crate) fn from_domain(t: &RefreshToken) -> Self {
        Self {
            id: t.id.to_string(),
            family_id: t.family_id.to_string(),
            user_id: t.user_id.to_string(),
            token_hash: t.token_hash.clone(),
            expires_at: t.expires_at,
            used_at: t.used_at,
            revoked: t.revoked,
            created_at: t.created_at,
        }
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = api_clients)]
pub(crate) struct ApiClientRow {
    pub id: String,
    pub name: String,
    pub team_id: String,
    pub secret_hash: String,
    pub scopes: String,
    pub revoked: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
}

impl ApiClientRow {
    pub(crate) fn into_domain(self) -> Result<(ApiClient, String), DbError> {
        let scopes: Vec<String> = json("scopes", &self.scopes)?;
        Ok((
            ApiClient {
                id: parse("client id", &self.id)?,
                name: self.name,
                team_id: parse("team id", &self.team_id)?,
                scopes: scopes
                    .iter()
                    .map(|s| parse("scope", s))
                    .collect::<Result<_, _>>()?,
                revoked: self.revoked,
                created_by: self
                    .created_by
                    .as_deref()
                    .map(|s| parse("user id", s))
                    .transpose()?,
                created_at: self.created_at,
            },
            self.secret_hash,
        ))
    }
    pub(crate) fn from_domain(c: &ApiClient, secret_hash: &str) -> Self {
        let scopes: Vec<&str> = c.scopes.iter().map(|s| s.as_str()).collect();
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
            team_id: c.team_id.to_string(),
            secret_hash: secret_hash.to_owned(),
            scopes: to_json(&scopes),
            revoked: c.revoked,
            created_by: c.created_by.map(|u| u.to_string()),
            created_at: c.created_at,
        }
    }
}

#[derive(Queryable, Insertable, diesel::AsChangeset)]
#[diesel(table_name = connections, treat_none_as_null = true)]
pub(crate) struct ConnectionRow {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub dialect: String,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub database_name: Option<String>,
    pub username: Option<String>,
    pub path: Option<String>,
    pub ssl_mode: String,
    pub encrypted_secret: Option<String>,
    pub schemas: String,
    pub description: Option<String>,
    pub execution_mode: String,
    pub privacy: String,
    pub statement_timeout_ms: i32,
    pub max_rows: i32,
    pub sample_values: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub ca_certificate: Option<String>,
    pub row_filters: String,
}

impl ConnectionRow {
    pub(crate) fn into_domain(self) -> Result<Connection, DbError> {
        Ok(Connection {
            id: parse("connection id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            name: self.name,
            target: ConnectionTarget {
                dialect: parse("dialect", &self.dialect)?,
                host: self.host,
                port: self
                    .port
                    .map(|p| u16::try_from(p).map_err(|_| DbError::corrupt(format!("port {p}"))))
                    .transpose()?,
                database: self.database_name,
                username: self.username,
                path: self.path,
                ssl_mode: parse("ssl mode", &self.ssl_mode)?,
                ca_certificate: self.ca_certificate,
            },
            encrypted_secret: self.encrypted_secret,
            schemas: json("schemas", &self.schemas)?,
            description: self.description,
            execution_mode: parse("execution mode", &self.execution_mode)?,
            privacy: json("privacy", &self.privacy)?,
            limits: ConnectionLimits {
                statement_timeout_ms: u32::try_from(self.statement_timeout_ms).unwrap_or(0),
                max_rows: u32::try_from(self.max_rows).unwrap_or(0),
            },
            sample_values: self.sample_values,
            row_filters: json("row filters", &self.row_filters)?,
            created_by: self
                .created_by
                .as_deref()
                .map(|s| parse("user id", s))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }

    pub(crate) fn from_domain(c: &Connection) -> Self {
        Self {
            id: c.id.to_string(),
            team_id: c.team_id.to_string(),
            name: c.name.clone(),
            dialect: c.target.dialect.to_string(),
            host: c.target.host.clone(),
            port: c.target.port.map(i32::from),
            database_name: c.target.database.clone(),
            username: c.target.username.clone(),
            path: c.target.path.clone(),
            ssl_mode: c.target.ssl_mode.to_string(),
            encrypted_secret: c.encrypted_secret.clone(),
            schemas: to_json(&c.schemas),
            description: c.description.clone(),
            execution_mode: c.execution_mode.to_string(),
            privacy: to_json(&c.privacy),
            statement_timeout_ms: i32::try_from(c.limits.statement_timeout_ms).unwrap_or(i32::MAX),
            max_rows: i32::try_from(c.limits.max_rows).unwrap_or(i32::MAX),
            sample_values: c.sample_values,
            created_by: c.created_by.map(|u| u.to_string()),
            created_at: c.created_at,
            updated_at: c.updated_at,
            ca_certificate: c.target.ca_certificate.clone(),
            row_filters: to_json(&c.row_filters),
        }
    }
}

#[derive(Queryable, Insertable)]
#[diesel(table_name = audit_log)]
pub(crate) struct AuditRow {
    pub id: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub at: i64,
}

impl AuditRow {
    pub(crate) fn into_domain(self) -> AuditEntry {
        AuditEntry {
            actor: self.actor,
            action: self.action,
            target: self.target,
            detail: self.detail,
            ip: self.ip,
            at: self.at,
        }
    }
}

#[derive(Queryable, Insertable, Clone)]
#[diesel(table_name = chat_sessions)]
pub(crate) struct SessionRow {
    pub id: String,
    pub team_id: String,
    pub connection_id: String,
    pub owner: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl SessionRow {
    pub(crate) fn from_domain(s: &ChatSession) -> Self {
        Self {
            id: s.id.to_string(),
            team_id: s.team_id.to_string(),
            connection_id: s.connection_id.to_string(),
            owner: s.owner.clone(),
            title: s.title.clone(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }

    pub(crate) fn into_domain(self) -> Result<ChatSession, DbError> {
        Ok(ChatSession {
            id: parse("session id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            connection_id: parse("connection id", &self.connection_id)?,
            owner: self.owner,
            title: self.title,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Insertable, diesel::AsChangeset, Clone)]
#[diesel(table_name = messages, treat_none_as_null = true)]
pub(crate) struct MessageRow {
    pub id: String,
    pub session_id: String,
    pub question: String,
    pub sql_text: Option<String>,
    pub dialect: String,
    pub status: String,
    pub explanation: Option<String>,
    pub results: Option<String>,
    pub error_code: Option<String>,
    pub error_detail: Option<String>,
    pub provider: Option<String>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub latency_ms: Option<i64>,
    pub options: String,
    pub asked_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub attempts: String,
    pub cost_usd: Option<f64>,
    pub cache_entry_id: Option<String>,
    pub run_id: Option<String>,
}

impl MessageRow {
    pub(crate) fn from_domain(m: &ChatMessage) -> Self {
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            question: m.question.clone(),
            sql_text: m.sql.clone(),
            dialect: m.dialect.as_str().to_owned(),
            status: m.status.as_str().to_owned(),
            explanation: m.explanation.clone(),
            results: m.results.as_ref().map(to_json),
            error_code: m.error_code.map(|c| c.as_str().to_owned()),
            error_detail: m.error_detail.clone(),
            provider: m.provider.clone(),
            prompt_tokens: m.prompt_tokens,
            completion_tokens: m.completion_tokens,
            latency_ms: m.latency_ms,
            options: to_json(&m.options),
            asked_by: m.asked_by.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            attempts: to_json(&m.attempts),
            cost_usd: m.cost_usd,
            cache_entry_id: m.cache_entry_id.map(|c| c.to_string()),
            run_id: m.run_id.map(|r| r.to_string()),
        }
    }

    pub(crate) fn into_domain(self) -> Result<ChatMessage, DbError> {
        Ok(ChatMessage {
            id: parse("message id", &self.id)?,
            session_id: parse("session id", &self.session_id)?,
            question: self.question,
            sql: self.sql_text,
            dialect: parse("dialect", &self.dialect)?,
            status: parse("message status", &self.status)?,
            explanation: self.explanation,
            results: self
                .results
                .as_deref()
                .map(|r| json("message results", r))
                .transpose()?,
            error_code: self
                .error_code
                .as_deref()
                .map(|c| parse("error code", c))
                .transpose()?,
            error_detail: self.error_detail,
            provider: self.provider,
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            latency_ms: self.latency_ms,
            options: json("message options", &self.options)?,
            attempts: json("message attempts", &self.attempts)?,
            cost_usd: self.cost_usd,
            cache_entry_id: self
                .cache_entry_id
                .as_deref()
                .map(|c| parse("cache entry id", c))
                .transpose()?,
            run_id: self
                .run_id
                .as_deref()
                .map(|r| parse("run id", r))
                .transpose()?,
            asked_by: self.asked_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Insertable, diesel::AsChangeset, Clone)]
#[diesel(table_name = provider_configs, treat_none_as_null = true)]
pub(crate) struct ProviderRow {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub kind: String,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub encrypted_api_key: Option<String>,
    pub options: String,
    pub is_default: bool,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ProviderRow {
    pub(crate) fn from_domain(p: &ProviderConfig) -> Self {
        Self {
            id: p.id.to_string(),
            team_id: p.team_id.to_string(),
            name: p.name.clone(),
            kind: p.kind.as_str().to_owned(),
            base_url: p.base_url.clone(),
            model: p.model.clone(),
            encrypted_api_key: p.encrypted_api_key.clone(),
            options: to_json(&p.options),
            is_default: p.is_default,
            created_by: p.created_by.map(|u| u.to_string()),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    pub(crate) fn into_domain(self) -> Result<ProviderConfig, DbError> {
        Ok(ProviderConfig {
            id: parse("provider id", &self.id)?,
            team_id: parse("team id", &self.team_id)?,
            name: self.name,
            kind: parse("provider kind", &self.kind)?,
            base_url: self.base_url,
            model: self.model,
            encrypted_api_key: self.encrypted_api_key,
            options: json("provider options", &self.options)?,
            is_default: self.is_default,
            created_by: self
                .created_by
                .as_deref()
                .map(|u| parse("user id", u))
                .transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}
