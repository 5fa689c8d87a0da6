//! API clients: machine credentials owned by a team. The secret is shown once at creation
//! and stored only as a SHA-256 hash; `POST /auth/token` exchanges id + secret for an
//! access token whose rights are the client's scopes, in its team only.
//!
//! The creation answer also carries an `api_key`: one opaque string,
//! `qk_<client id as 32 hex digits>_<secret>`, that both names and authenticates the client,
//! accepted directly as `Authorization: Bearer <api_key>` (see
//! [`App::authenticate`](crate::App::authenticate)): no token exchange, the client's scopes
//! apply, and revoking the client ends it. It is the secret in another form, so it too is
//! shown once and never stored.

use querent_domain::{
    ApiClient, ApiClientId, Scope, TeamId, TeamRole, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::teams::validate_resource_name;
use crate::{Actor, App, ServiceError, ServiceResult, secrets};

/// New API client.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiClientRequest {
    /// Display name.
    pub name: String,
    /// Owning team (default: the caller's first team).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub team_id: Option<TeamId>,
    /// Scopes: `query:read`, `query:write`, `admin`.
    pub scopes: Vec<Scope>,
}

/// An API client on the wire (no secret).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiClientView {
    /// The public client id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub client_id: ApiClientId,
    /// Name.
    pub name: String,
    /// Team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Scopes.
    pub scopes: Vec<Scope>,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<ApiClient> for ApiClientView {
    fn from(c: ApiClient) -> Self {
        Self {
            client_id: c.id,
            name: c.name,
            team_id: c.team_id,
            scopes: c.scopes,
            revoked: c.revoked,
            created_at: millis_to_rfc3339(c.created_at),
        }
    }
}

/// A newly created client, with its secret — the only time the secret is shown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiClientCreated {
    /// The client.
    #[serde(flatten)]
    pub client: ApiClientView,
    /// The secret: store it now, it cannot be shown again.
    pub client_secret: String,
    /// The client id and secret as one bearer credential (`qk_…`), accepted as
    /// `Authorization: Bearer <api_key>` wherever an access token is; shown once, like the
    /// secret.
    pub api_key: String,
}

/// The prefix of an API key.
pub const API_KEY_PREFIX: &str = "qk_";

/// Builds the API key of a client from its id and secret.
pub fn api_key(id: ApiClientId, secret: &str) -> String {
    format!("{API_KEY_PREFIX}{}_{secret}", id.as_uuid().simple())
}

/// Splits an API key into its client id and secret; `None` if it is not one.
pub fn parse_api_key(key: &str) -> Option<(ApiClientId, &str)> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (hex, secret) = rest.split_at_checked(32)?;
    let secret = secret.strip_prefix('_')?;
    if secret.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = uuid::Uuid::try_parse(hex).ok()?;
    Some((ApiClientId(id), secret))
}

impl App {
    /// Creates an API client (team admin or owner).
    pub async fn create_api_client(
        &self,
        actor: &Actor,
        req: CreateApiClientRequest,
    ) -> ServiceResult<ApiClientCreated> {
        let team = self
            .acting_team(actor, req.team_id, TeamRole::Admin)
            .await?;
        let name = validate_resource_name("name", &req.name)?;
        if req.scopes.is_empty() {
            return Err(ServiceError::validation("scopes: give at least one scope"));
        }
        let mut scopes = req.scopes;
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        let secret = secrets::random_token(self.crypto(), "qcs_")?;
        let client = ApiClient {
            id: ApiClientId::new(),
            name,
            team_id: team,
            scopes,
            revoked: false,
            created_by: actor.user_id(),
            created_at: now_millis(),
        };
        self.store()
            .insert_api_client(
                &client,
                &self.crypto().sha256_hex(secret.expose().as_bytes()),
            )
            .await?;
        self.audit_by(
            actor,
            "api_client.create",
            format!("client:{}", client.id),
            Some(format!("team:{team}")),
        )
        .await;
        let api_key = api_key(client.id, secret.expose());
        Ok(ApiClientCreated {
            client: client.into(),
            client_secret: secret.into_inner(),
            api_key,
        })
    }

    /// The API clients of the teams the caller administers.
    pub async fn list_api_clients(&self, actor: &Actor) -> ServiceResult<Vec<ApiClientView>> {
        let mut teams = Vec::new();
        for t in self.visible_teams(actor).await? {
            if self
                .team_role(actor, t)
                .await?
                .is_some_and(|r| r.at_least(TeamRole::Admin))
            {
                teams.push(t);
            }
        }
        Ok(self
            .store()
            .list_api_clients(&teams)
            .await?
            .into_iter()
            .map(ApiClientView::from)
            .collect())
    }

    /// Revokes an API client (team admin or owner).
    pub async fn revoke_api_client(&self, actor: &Actor, id: ApiClientId) -> ServiceResult<()> {
        let (client, _) = self
            .store()
            .get_api_client(id)
            .await
            .or_not_found("API client")?;
        self.require_team_role(actor, client.team_id, TeamRole::Admin, "API client")
            .await?;
        self.store().revoke_api_client(id).await?;
        self.audit_by(actor, "api_client.revoke", format!("client:{id}"), None)
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_round_trip() {
        let id = ApiClientId::new();
        let key = api_key(id, "qcs_a_b-c");
        assert!(key.starts_with("qk_"));
        assert_eq!(parse_api_key(&key), Some((id, "qcs_a_b-c")));
        assert_eq!(parse_api_key("qk_nothex"), None);
        assert_eq!(
            parse_api_key(&format!("qk_{}_", id.as_uuid().simple())),
            None
        );
        assert_eq!(parse_api_key("eyJhbGciOi.x.y"), None);
    }
}
