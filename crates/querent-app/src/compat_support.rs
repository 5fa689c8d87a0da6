//! Services the compatibility layers need that the native API does not offer as such
//! (seed 000, Basejump): an API client found by its secret alone, users managed by a team's
//! API clients (created without a password, with tokens issued by the client), a
//! non-rotating refresh-token exchange for those users, teams created by a managed admin,
//! and a chat started for a team before its first question. Every rule stays here; the
//! layers only translate.
//!
//! A *managed* user is created by an admin of a team (an admin-scoped API client, or a
//! user) and recorded as managed by that team (`managed_users`). It gets a random password
//! nobody knows, so it cannot log in; the team's admins may issue its tokens. It is never a
//! server administrator.

use querent_domain::chat::ChatSession;
use querent_domain::{
    ConnectionId, ErrorCode, Role, SessionId, Team, TeamId, TeamRole, User, UserId, now_millis,
};

use crate::auth::TokenPair;
use crate::chat::{ChatRequest, PreparedChat};
use crate::error::NotFoundAs;
use crate::teams::{TeamView, validate_resource_name};
use crate::users::{UserView, validate_username};
use crate::{Actor, App, ListParams, Principal, Secret, ServiceError, ServiceResult, jwt, secrets};

/// A chat started for a team.
#[derive(Clone, Debug)]
pub struct StartedChat {
    /// The chat (a native session).
    pub session_id: SessionId,
    /// The team it belongs to.
    pub team_id: TeamId,
    /// The connection it asks about.
    pub connection_id: ConnectionId,
}

impl App {
    /// The API client a secret alone identifies: the client secret, or the client's API key
    /// (`qk_<id>_<secret>`). Found by the secret's SHA-256 (what is stored), compared in
    /// constant time; a revoked or unknown client is `invalid_credentials`.
    pub async fn client_by_secret(
        &self,
        presented: &Secret<String>,
        ip: Option<String>,
    ) -> ServiceResult<Actor> {
        let refused = || ServiceError::new(ErrorCode::InvalidCredentials, "invalid client secret");
        let text = presented.expose().trim();
        // An API key names its client: the id must match the client its secret belongs to.
        let (named, secret) = match text.strip_prefix("qk_") {
            Some(rest) => match rest.split_at_checked(32) {
                Some((hex, s)) if s.starts_with('_') => {
                    let id = uuid::Uuid::try_parse(hex).map_err(|_| refused())?;
                    (Some(id), &s[1..])
                }
                _ => return Err(refused()),
            },
            None => (None, text),
        };
        if secret.is_empty() {
            return Err(refused());
        }
        let hash = self.crypto().sha256_hex(secret.as_bytes());
        let Some((client, stored)) = self.store().api_client_by_secret_hash(&hash).await? else {
            return Err(refused());
        };
        if client.revoked
            || !secrets::hashes_equal(&hash, &stored)
            || named.is_some_and(|id| id.to_string() != client.id.to_string())
        {
            return Err(refused());
        }
        Ok(Actor::new(
            Principal::Client {
                id: client.id,
                team_id: client.team_id,
                scopes: client.scopes,
            },
            ip,
        ))
    }

    /// Creates a user managed by the caller's team (team admin: an admin-scoped API client
    /// or a user), a member of that team with `role`. It has no usable password.
    pub async fn create_managed_user(
        &self,
        actor: &Actor,
        username: &str,
        role: TeamRole,
    ) -> ServiceResult<UserView> {
        let team = self.acting_team(actor, None, TeamRole::Admin).await?;
        if role == TeamRole::Owner {
            return Err(ServiceError::validation(
                "role: a managed user cannot own a team",
            ));
        }
        validate_username(username)?;
        if self
            .store()
            .find_user_by_username(username)
            .await?
            .is_some()
        {
            return Err(ServiceError::conflict(format!(
                "username: `{username}` is already taken"
            )));
        }
        // Nobody ever learns this password: the account is reached only through tokens its
        // team's admins issue.
        let unusable = secrets::random_token(self.crypto(), "unusable_")?;
        let hash = secrets::hash_password(&unusable).await?;
        let now = now_millis();
        let user = User {
            id: UserId::new(),
            username: username.to_owned(),
            email: None,
            role: Role::Member,
            disabled: false,
            token_epoch: 0,
            created_at: now,
        };
        self.store()
            .insert_user(&user, &hash)
            .await
            .or_conflict(|| "username: is already taken".into())?;
        self.store().insert_managed_user(user.id, team, now).await?;
        self.store().upsert_member(team, user.id, role).await?;
        self.audit_by(
            actor,
            "user.create_managed",
            format!("user:{}", user.id),
            Some(format!("team:{team} role={role}")),
        )
        .await;
        Ok(user.into())
    }

    /// The managed user `id` if the caller administers its managing team; `not_found`
    /// otherwise (users of other teams are invisible).
    async fn managed_user_for(&self, actor: &Actor, id: UserId) -> ServiceResult<(User, TeamId)> {
        let team = self
            .store()
            .managed_user_team(id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user"))?;
        let admin = self
            .team_role(actor, team)
            .await?
            .is_some_and(|r| r.at_least(TeamRole::Admin));
        if !admin && actor.user_id() != Some(id) {
            return Err(ServiceError::not_found("user"));
        }
        let (user, _) = self.store().get_user(id).await.or_not_found("user")?;
        if user.disabled {
            return Err(ServiceError::forbidden("this account is disabled"));
        }
        Ok((user, team))
    }

    /// Issues a new login (refresh-token family) for a managed user; the caller must
    /// administer its managing team, and the user must still be a member of it.
    pub async fn issue_managed_user_tokens(
        &self,
        actor: &Actor,
        id: UserId,
    ) -> ServiceResult<TokenPair> {
        let (user, team) = self.managed_user_for(actor, id).await?;
        if actor.user_id() == Some(id) {
            return Err(ServiceError::forbidden(
                "a managed user cannot issue its own tokens; its team's admin does",
            ));
        }
        if self.store().membership(team, id).await?.is_none() {
            return Err(ServiceError::not_found("user"));
        }
        let pair = self.issue_user_tokens(&user, None).await?;
        self.audit_by(
            actor,
            "auth.managed_tokens",
            format!("user:{id}"),
            Some(format!("team:{team}")),
        )
        .await;
        Ok(pair)
    }

    /// An access token from a managed user's refresh token, without rotating it (the
    /// Basejump flow presents the same refresh token for every new access token). The
    /// token must be live (not used, revoked or expired), its family not ended, and, when
    /// `user` is given, be that user's. Refresh tokens of other users keep rotating through
    /// [`App::refresh`].
    pub async fn managed_access_token(
        &self,
        refresh: &Secret<String>,
        user: Option<UserId>,
    ) -> ServiceResult<String> {
        let invalid = |m: &str| ServiceError::new(ErrorCode::InvalidToken, m);
        let hash = self.crypto().sha256_hex(refresh.expose().trim().as_bytes());
        let token = self
            .store()
            .find_refresh_token(&hash)
            .await?
            .ok_or_else(|| invalid("unknown refresh token"))?;
        if token.revoked || token.used_at.is_some() {
            return Err(invalid("this refresh token was revoked"));
        }
        if token.expires_at <= now_millis() {
            return Err(ServiceError::new(
                ErrorCode::TokenExpired,
                "refresh token expired; ask for a new one",
            ));
        }
        if user.is_some_and(|u| u != token.user_id) {
            return Err(invalid("this refresh token belongs to another user"));
        }
        if self
            .store()
            .managed_user_team(token.user_id)
            .await?
            .is_none()
        {
            return Err(invalid(
                "only managed users exchange a refresh token without rotating it",
            ));
        }
        let (u, _) = self
            .store()
            .get_user(token.user_id)
            .await
            .map_err(|_| invalid("the token's user no longer exists"))?;
        if u.disabled {
            return Err(ServiceError::forbidden("this account is disabled"));
        }
        Ok(jwt::sign_in_family(
            self.crypto(),
            format!("user:{}", u.id),
            i64::try_from(self.config().access_token_ttl.as_secs()).unwrap_or(i64::MAX),
            Some(u.token_epoch),
            Some(token.family_id),
        ))
    }

    /// Creates a team (a managed user who administers their managing team, or a server
    /// administrator); the creator becomes its owner.
    pub async fn create_team_as_manager(
        &self,
        actor: &Actor,
        name: &str,
    ) -> ServiceResult<TeamView> {
        let Some(user) = actor.user_id() else {
            return Err(ServiceError::forbidden(
                "teams are created by a user (an access token), not an API client",
            ));
        };
        if !actor.is_admin() {
            let managed_admin = match self.store().managed_user_team(user).await? {
                Some(team) => self
                    .team_role(actor, team)
                    .await?
                    .is_some_and(|r| r.at_least(TeamRole::Admin)),
                None => false,
            };
            if !managed_admin {
                return Err(ServiceError::forbidden(
                    "this requires a server administrator or a managed team admin",
                ));
            }
        }
        let team = Team {
            id: TeamId::new(),
            name: validate_resource_name("team_name", name)?,
            created_at: now_millis(),
        };
        self.store()
            .insert_team(&team, Some(user))
            .await
            .or_conflict(|| format!("team_name: a team called `{}` already exists", team.name))?;
        self.audit_by(actor, "team.create", format!("team:{}", team.id), None)
            .await;
        Ok(team.into())
    }

    /// Adds a user to a team (the team's admins). The user must be the caller or a managed
    /// user of a team the caller administers (`not_found` otherwise); a member keeps their
    /// role, a new one joins with their role in their managing team (viewer at least).
    pub async fn add_user_to_team(
        &self,
        actor: &Actor,
        user: UserId,
        team: TeamId,
    ) -> ServiceResult<TeamRole> {
        let managing = if actor.user_id() == Some(user) {
            self.store().managed_user_team(user).await?
        } else {
            Some(self.managed_user_for(actor, user).await?.1)
        };
        self.require_team_role(actor, team, TeamRole::Admin, "team")
            .await?;
        if let Some(role) = self.store().membership(team, user).await? {
            return Ok(role);
        }
        let role = match managing {
            Some(m) => match self.store().membership(m, user).await? {
                Some(TeamRole::Owner) | None => TeamRole::Viewer,
                Some(r) => r,
            },
            None => TeamRole::Viewer,
        };
        self.store().upsert_member(team, user, role).await?;
        self.audit_by(
            actor,
            "team.member_set",
            format!("team:{team}"),
            Some(format!("user:{user} role={role}")),
        )
        .await;
        Ok(role)
    }

    /// Starts a chat for a team before its first question: a session on the newest
    /// connection the team can use (owned by it or shared with it), in that team.
    pub async fn start_team_chat(&self, actor: &Actor, team: TeamId) -> ServiceResult<StartedChat> {
        self.require_team_role(actor, team, TeamRole::Viewer, "team")
            .await?;
        let page = ListParams {
            limit: Some(crate::MAX_LIMIT),
            ..Default::default()
        }
        .page()?;
        let conn = self
            .store()
            .list_connections(&[team], &page)
            .await?
            .into_iter()
            .max_by_key(|c| c.id.to_string())
            .ok_or_else(|| {
                ServiceError::validation(
                    "team: it has no database connection yet; add or share one first",
                )
            })?;
        // The caller must be able to use it (as a member of this team it always can).
        self.load_connection(actor, conn.id, TeamRole::Viewer)
            .await?;
        let now = now_millis();
        let session = ChatSession {
            id: SessionId::new(),
            team_id: team,
            connection_id: conn.id,
            owner: actor.audit_name(),
            title: "New chat".into(),
            created_at: now,
            updated_at: now,
        };
        self.store().insert_session(&session).await?;
        Ok(StartedChat {
            session_id: session.id,
            team_id: team,
            connection_id: conn.id,
        })
    }

    /// Prepares a question in one of the caller's chats (see [`App::prepare_chat`]).
    pub async fn prepare_chat_in_session(
        &self,
        actor: &Actor,
        session: SessionId,
        prompt: String,
    ) -> ServiceResult<PreparedChat> {
        let s = self.owned_session(actor, session).await?;
        self.prepare_chat(
            actor,
            ChatRequest {
                connection_id: s.connection_id,
                session_id: Some(s.id),
                message: prompt,
                provider: None,
                options: Default::default(),
            },
        )
        .await
    }
}
