//! First-boot setup, login, tokens, logout, password change, API-client token exchange,
//! and turning a bearer token back into an [`Actor`].
//!
//! Access tokens are short-lived HS256 JWTs ([`crate::jwt`]). Refresh tokens are random
//! 256-bit values stored as SHA-256 hashes in families: each use rotates the token (the old
//! one is marked used, a new one issued in the same family), and presenting a used or
//! revoked token again is treated as theft: the whole family is revoked and the caller gets
//! `token_reused`. Logins are throttled per account and per client address with counters
//! kept in the store, so the limit holds across several server instances.

use querent_domain::ports::RefreshToken;
use querent_domain::{
    ApiClientId, ErrorCode, RefreshTokenId, Role, Secret, Team, TeamId, TeamRole, TokenFamilyId,
    User, UserId, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::secrets::{self, check_password_policy, hashes_equal};
use crate::users::{UserView, validate_email, validate_username};
use crate::{Actor, App, Principal, ServiceError, ServiceResult, jwt};

/// Whether first-boot setup is still needed.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    /// `true` while no user exists: `POST /auth/setup` will create the first admin.
    pub needs_setup: bool,
}

/// First-boot setup request.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// Admin username (3–64 characters: letters, digits, `._-@`).
    pub username: String,
    /// Admin password (at least 8 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret<String>,
    /// Optional e-mail address.
    pub email: Option<String>,
}

/// Tokens issued by setup, login, refresh and password change.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    /// Bearer token for `Authorization: Bearer …`.
    pub access_token: String,
    /// Single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
}

/// Result of first-boot setup.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetupResponse {
    /// The admin created.
    pub user: UserView,
    /// The team created for them (they own it).
    pub team: crate::teams::TeamView,
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Access token lifetime in seconds.
    pub expires_in: i64,
}

/// Login request.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username.
    pub username: String,
    /// Password.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret<String>,
}

/// A refresh token (for refresh and logout).
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub refresh_token: Secret<String>,
}

/// Password change.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The current password.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub current_password: Secret<String>,
    /// The new password (at least 8 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub new_password: Secret<String>,
}

/// Client-credentials exchange.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientTokenRequest {
    /// The `client_id` returned when the client was created.
    pub client_id: String,
    /// The secret returned once when the client was created.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub client_secret: Secret<String>,
    /// Optional; only `client_credentials` is supported.
    pub grant_type: Option<String>,
}

/// An access token for an API client (no refresh token: clients exchange credentials again).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientToken {
    /// Bearer token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Lifetime in seconds.
    pub expires_in: i64,
    /// Granted scopes, space separated.
    pub scope: String,
}

/// One team membership of the caller.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MembershipView {
    /// Team id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Team name.
    pub team_name: String,
    /// Role in that team.
    pub role: TeamRole,
}

/// Who the caller is.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeView {
    /// `user` or `client`.
    pub kind: &'static str,
    /// For users: the account.
    pub user: Option<UserView>,
    /// For API clients: the client id.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub client_id: Option<ApiClientId>,
    /// Scopes (API clients).
    pub scopes: Vec<String>,
    /// Team memberships (for a client: its team with the role its scopes grant).
    pub teams: Vec<MembershipView>,
}

const BEARER: &str = "bearer";

impl App {
    fn access_ttl_secs(&self) -> i64 {
        self.config().access_token_ttl.as_secs() as i64
    }

    /// Whether first-boot setup is still needed.
    pub async fn setup_status(&self) -> ServiceResult<SetupStatus> {
        Ok(SetupStatus {
            needs_setup: self.store().count_users().await? == 0,
        })
    }

    /// Creates the first admin and their team; only while no user exists.
    pub async fn setup(&self, req: SetupRequest, ip: Option<&str>) -> ServiceResult<SetupResponse> {
        validate_username(&req.username)?;
        check_password_policy("password", req.password.expose())?;
        let email = req.email.as_deref().map(validate_email).transpose()?;
        if self.store().count_users().await? > 0 {
            return Err(ServiceError::new(
                ErrorCode::AlreadyInitialized,
                "the server is already set up; log in instead",
            ));
        }
        let hash = secrets::hash_password(&req.password).await?;
        let user = User {
            id: UserId::new(),
            username: req.username.clone(),
            email,
            role: Role::Admin,
            disabled: false,
            token_epoch: 0,
            created_at: now_millis(),
        };
        let team = Team {
            id: TeamId::new(),
            name: "Default".into(),
            created_at: now_millis(),
        };
        self.store().create_first_admin(&user, &hash, &team).await?;
        self.audit(
            &format!("user:{}", user.id),
            ip,
            "auth.setup",
            Some(format!("user:{}", user.id)),
            None,
        )
        .await;
        if let Err(e) = self
            .register_demo(team.id, &format!("user:{}", user.id))
            .await
        {
            // The admin exists now; a demo that cannot be registered must not undo setup.
            tracing::warn!(error = %e, "could not register the demo database");
        }
        let tokens = self.issue_user_tokens(&user, None).await?;
        Ok(SetupResponse {
            user: UserView::from(user),
            team: crate::teams::TeamView::from(team),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: BEARER,
            expires_in: tokens.expires_in,
        })
    }

    async fn check_throttle(&self, account: &str, ip: &str) -> ServiceResult<()> {
        let cfg = self.config();
        let window_ms = cfg.login_window.as_millis() as i64;
        let (by_account, by_ip) = self
            .store()
            .count_login_failures(account, ip, now_millis() - window_ms)
            .await?;
        if by_account >= cfg.login_max_failures_per_account
            || by_ip >= cfg.login_max_failures_per_ip
        {
            let mut e = ServiceError::new(
                ErrorCode::RateLimited,
                "too many failed attempts; try again later",
            );
            e.retry_after = Some(cfg.login_window.as_secs());
            return Err(e);
        }
        Ok(())
    }

    async fn login_failed(&self, account: &str, ip: &str, what: &str) -> ServiceError {
        if let Err(e) = self.store().record_login_failure(account, ip).await {
            tracing::error!(error = %e, "could not record a failed login");
        }
        self.audit("anonymous", Some(ip), what, Some(account.to_owned()), None)
            .await;
        ServiceError::new(
            ErrorCode::InvalidCredentials,
            "invalid username or password",
        )
    }

    /// Username + password login.
    pub async fn login(&self, req: LoginRequest, ip: Option<&str>) -> ServiceResult<TokenPair> {
        if req.username.trim().is_empty() {
            return Err(ServiceError::validation("username: must not be empty"));
        }
        let ip = ip.unwrap_or("unknown");
        let account = req.username.to_lowercase();
        self.check_throttle(&account, ip).await?;
        let found = self.store().find_user_by_username(&req.username).await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), Some(h)),
            None => (None, None),
        };
        if !secrets::verify_password(&req.password, hash).await {
            return Err(self.login_failed(&account, ip, "auth.login_failed").await);
        }
        let Some(user) = user else {
            return Err(self.login_failed(&account, ip, "auth.login_failed").await);
        };
        if user.disabled {
            return Err(ServiceError::forbidden("this account is disabled"));
        }
        let window_ms = self.config().login_window.as_millis() as i64;
        self.store()
            .clear_login_failures(&account, now_millis() - window_ms)
            .await?;
        self.audit(
            &format!("user:{}", user.id),
            Some(ip),
            "auth.login",
            None,
            None,
        )
        .await;
        self.issue_user_tokens(&user, None).await
    }

    pub(crate) async fn issue_user_tokens(
        &self,
        user: &User,
        family: Option<TokenFamilyId>,
    ) -> ServiceResult<TokenPair> {
        let (refresh, row) = self.new_refresh_token(user.id, family)?;
        self.store().insert_refresh_token(&row).await?;
        Ok(self.token_pair(user, refresh, row.family_id))
    }

    fn new_refresh_token(
        &self,
        user: UserId,
        family: Option<TokenFamilyId>,
    ) -> ServiceResult<(Secret<String>, RefreshToken)> {
        let token = secrets::random_token(self.crypto(), "qrt_")?;
        let now = now_millis();
        let row = RefreshToken {
            id: RefreshTokenId::new(),
            family_id: family.unwrap_or_default(),
            user_id: user,
            token_hash: self.crypto().sha256_hex(token.expose().as_bytes()),
            expires_at: now + self.config().refresh_token_ttl.as_millis() as i64,
            used_at: None,
            revoked: false,
            created_at: now,
        };
        Ok((token, row))
    }

    /// The access token names the refresh-token family: revoking the family (logout,
    /// reuse) refuses the access tokens issued from it too (see [`App::authenticate`]).
    fn token_pair(&self, user: &User, refresh: Secret<String>, family: TokenFamilyId) -> TokenPair {
        TokenPair {
            access_token: jwt::sign_in_family(
                self.crypto(),
                format!("user:{}", user.id),
                self.access_ttl_secs(),
                Some(user.token_epoch),
                Some(family),
            ),
            refresh_token: refresh.into_inner(),
            token_type: BEARER,
            expires_in: self.access_ttl_secs(),
        }
    }

    /// Exchanges a refresh token for a new pair (rotation with reuse detection).
    pub async fn refresh(&self, req: RefreshRequest, ip: Option<&str>) -> ServiceResult<TokenPair> {
        let hash = self
            .crypto()
            .sha256_hex(req.refresh_token.expose().as_bytes());
        let Some(old) = self.store().find_refresh_token(&hash).await? else {
            return Err(ServiceError::new(
                ErrorCode::InvalidToken,
                "unknown refresh token",
            ));
        };
        if old.revoked || old.used_at.is_some() {
            return Err(self.token_reused(&old, ip).await);
        }
        if old.expires_at <= now_millis() {
            return Err(ServiceError::new(
                ErrorCode::TokenExpired,
                "refresh token expired; log in again",
            ));
        }
        let (user, _) = self
            .store()
            .get_user(old.user_id)
            .await
            .or_not_found("user")?;
        if user.disabled {
            self.store().revoke_token_family(old.family_id).await?;
            return Err(ServiceError::forbidden("this account is disabled"));
        }
        let (refresh, new) = self.new_refresh_token(user.id, Some(old.family_id))?;
        // The store refuses, in the rotating statement itself, a token that was used or
        // revoked since we read it *and* any token of a family with a revoked token: a
        // logout racing this refresh can never leave it a live token.
        if !self.store().rotate_refresh_token(old.id, &new).await? {
            // Someone else used it between our read and our write, or the login was ended:
            // treated as reuse.
            return Err(self.token_reused(&old, ip).await);
        }
        Ok(self.token_pair(&user, refresh, new.family_id))
    }

    async fn token_reused(&self, token: &RefreshToken, ip: Option<&str>) -> ServiceError {
        if let Err(e) = self.store().revoke_token_family(token.family_id).await {
            tracing::error!(error = %e, "could not revoke a token family after reuse");
        }
        tracing::warn!(user = %token.user_id, family = %token.family_id, "refresh token reuse: family revoked");
        self.audit(
            &format!("user:{}", token.user_id),
            ip,
            "auth.token_reused",
            Some(format!("family:{}", token.family_id)),
            None,
        )
        .await;
        ServiceError::new(
            ErrorCode::TokenReused,
            "this refresh token was already used; all sessions from that login were revoked",
        )
    }

    /// Ends the login the refresh token belongs to (its whole family). Idempotent.
    pub async fn logout(&self, req: RefreshRequest) -> ServiceResult<()> {
        let hash = self
            .crypto()
            .sha256_hex(req.refresh_token.expose().as_bytes());
        if let Some(t) = self.store().find_refresh_token(&hash).await? {
            self.store().revoke_token_family(t.family_id).await?;
        }
        Ok(())
    }

    /// Ends every session of the caller: refresh tokens revoked, access tokens refused.
    pub async fn logout_all(&self, actor: &Actor) -> ServiceResult<()> {
        let id = actor
            .user_id()
            .ok_or_else(|| ServiceError::forbidden("API clients have no sessions"))?;
        self.store().revoke_all_sessions(id).await?;
        self.audit_by(actor, "auth.logout_all", format!("user:{id}"), None)
            .await;
        Ok(())
    }

    /// Changes the caller's password; every other session ends, and a fresh pair is
    /// returned for this one.
    pub async fn change_password(
        &self,
        actor: &Actor,
        req: ChangePasswordRequest,
    ) -> ServiceResult<TokenPair> {
        let id = actor
            .user_id()
            .ok_or_else(|| ServiceError::forbidden("API clients have no password"))?;
        check_password_policy("new_password", req.new_password.expose())?;
        let (_, hash) = self.store().get_user(id).await.or_not_found("user")?;
        if !secrets::verify_password(&req.current_password, Some(hash)).await {
            return Err(ServiceError::new(
                ErrorCode::InvalidCredentials,
                "current_password: is not correct",
            ));
        }
        let new_hash = secrets::hash_password(&req.new_password).await?;
        self.store().set_password(id, &new_hash).await?;
        self.audit_by(actor, "auth.change_password", format!("user:{id}"), None)
            .await;
        let (user, _) = self.store().get_user(id).await?;
        self.issue_user_tokens(&user, None).await
    }

    /// Who the caller is, with their teams.
    pub async fn me(&self, actor: &Actor) -> ServiceResult<MeView> {
        match &actor.principal {
            Principal::User { id, .. } => {
                let (user, _) = self.store().get_user(*id).await.or_not_found("user")?;
                let mut teams = Vec::new();
                for m in self.store().memberships_of(*id).await? {
                    let team = self.store().get_team(m.team_id).await?;
                    teams.push(MembershipView {
                        team_id: team.id,
                        team_name: team.name,
                        role: m.role,
                    });
                }
                Ok(MeView {
                    kind: "user",
                    user: Some(UserView::from(user)),
                    client_id: None,
                    scopes: vec![],
                    teams,
                })
            }
            Principal::Client {
                id,
                team_id,
                scopes,
            } => {
                let team = self.store().get_team(*team_id).await?;
                Ok(MeView {
                    kind: "client",
                    user: None,
                    client_id: Some(*id),
                    scopes: scopes.iter().map(|s| s.to_string()).collect(),
                    teams: Actor::client_role(scopes)
                        .map(|role| MembershipView {
                            team_id: team.id,
                            team_name: team.name,
                            role,
                        })
                        .into_iter()
                        .collect(),
                })
            }
        }
    }

    /// Exchanges API-client credentials for an access token.
    pub async fn client_token(
        &self,
        req: ClientTokenRequest,
        ip: Option<&str>,
    ) -> ServiceResult<ClientToken> {
        if let Some(g) = req
            .grant_type
            .as_deref()
            .filter(|g| *g != "client_credentials")
        {
            return Err(ServiceError::validation(format!(
                "grant_type: `{g}` is not supported; use client_credentials"
            )));
        }
        let ip = ip.unwrap_or("unknown");
        let account = format!("client:{}", req.client_id.to_lowercase());
        self.check_throttle(&account, ip).await?;
        let found = match req.client_id.parse::<ApiClientId>() {
            Ok(id) => match self.store().get_api_client(id).await {
                Ok(c) => Some(c),
                Err(querent_domain::ports::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            Err(_) => None,
        };
        let presented = self
            .crypto()
            .sha256_hex(req.client_secret.expose().as_bytes());
        let client = match found {
            Some((c, hash)) if !c.revoked && hashes_equal(&presented, &hash) => c,
            _ => {
                let _ = self.login_failed(&account, ip, "auth.client_failed").await;
                return Err(ServiceError::new(
                    ErrorCode::InvalidCredentials,
                    "invalid client_id or client_secret",
                ));
            }
        };
        self.audit(
            &format!("client:{}", client.id),
            Some(ip),
            "auth.client_token",
            None,
            None,
        )
        .await;
        Ok(ClientToken {
            access_token: jwt::sign(
                self.crypto(),
                format!("client:{}", client.id),
                self.access_ttl_secs(),
                None,
            ),
            token_type: BEARER,
            expires_in: self.access_ttl_secs(),
            scope: client
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        })
    }

    /// Verifies a bearer token and loads the principal (checking that the user still exists,
    /// is enabled and has not revoked the token; that the client is not revoked).
    ///
    /// A user's token is refused once its refresh-token family is revoked (logout of that
    /// login, or reuse of a rotated refresh token): the family is looked up in the store
    /// with the user, in the same unit of work as the user lookup every request already
    /// makes, so revocation takes effect at once on every instance — no cache, no delay.
    ///
    /// An API key (`qk_…`, see [`crate::api_clients`]) is accepted too: its secret is
    /// checked against the client's stored hash in constant time, and the caller is the
    /// client with its scopes; a revoked or unknown client is `invalid_token`.
    pub async fn authenticate(&self, bearer: &str, ip: Option<String>) -> ServiceResult<Actor> {
        let invalid = |m: &str| ServiceError::new(ErrorCode::InvalidToken, m);
        if bearer.starts_with(crate::api_clients::API_KEY_PREFIX) {
            return self.authenticate_api_key(bearer, ip).await;
        }
        let claims = jwt::verify(self.crypto(), bearer)?;
        if let Some(id) = claims.sub.strip_prefix("user:") {
            let id: UserId = id.parse().map_err(|_| invalid("malformed token subject"))?;
            let (user, family_revoked) = match self.store().user_for_token(id, claims.fam).await {
                Ok(u) => u,
                Err(querent_domain::ports::StoreError::NotFound) => {
                    return Err(invalid("the token's user no longer exists"));
                }
                Err(e) => return Err(e.into()),
            };
            if user.disabled {
                return Err(ServiceError::forbidden("this account is disabled"));
            }
            if claims.ep != Some(user.token_epoch) {
                return Err(invalid("this token was revoked; log in again"));
            }
            if family_revoked {
                return Err(invalid(
                    "this token's login was ended (logout, or reuse of a refresh token); log in again",
                ));
            }
            Ok(Actor::new(
                Principal::User {
                    id: user.id,
                    username: user.username,
                    role: user.role,
                },
                ip,
            ))
        } else if let Some(id) = claims.sub.strip_prefix("client:") {
            let id: ApiClientId = id.parse().map_err(|_| invalid("malformed token subject"))?;
            let (client, _) = match self.store().get_api_client(id).await {
                Ok(c) => c,
                Err(querent_domain::ports::StoreError::NotFound) => {
                    return Err(invalid("the token's client no longer exists"));
                }
                Err(e) => return Err(e.into()),
            };
            if client.revoked {
                return Err(invalid("this API client was revoked"));
            }
            Ok(Actor::new(
                Principal::Client {
                    id: client.id,
                    team_id: client.team_id,
                    scopes: client.scopes,
                },
                ip,
            ))
        } else {
            Err(invalid("malformed token subject"))
        }
    }
}

impl App {
    /// The client an API key names, if the key's secret is the client's and it is not
    /// revoked.
    async fn authenticate_api_key(&self, key: &str, ip: Option<String>) -> ServiceResult<Actor> {
        let refused = || ServiceError::new(ErrorCode::InvalidToken, "invalid or revoked API key");
        let (id, secret) = crate::api_clients::parse_api_key(key).ok_or_else(refused)?;
        let presented = self.crypto().sha256_hex(secret.as_bytes());
        let (client, hash) = match self.store().get_api_client(id).await {
            Ok(c) => c,
            Err(querent_domain::ports::StoreError::NotFound) => return Err(refused()),
            Err(e) => return Err(e.into()),
        };
        if client.revoked || !hashes_equal(&presented, &hash) {
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
}

impl App {
    /// The caller for commands run on the server's own machine (`querent ask`): whoever can
    /// read the data directory already holds every secret, so the terminal acts as a user
    /// without a password — `username`, or the oldest enabled server administrator.
    pub async fn local_actor(&self, username: Option<&str>) -> ServiceResult<Actor> {
        let user = match username {
            Some(name) => self
                .store()
                .find_user_by_username(name)
                .await?
                .map(|(u, _)| u)
                .ok_or_else(|| ServiceError::not_found("user"))?,
            None => {
                let mut page = querent_domain::ports::Page::first(100);
                loop {
                    let users = self.store().list_users(&page).await?;
                    if let Some(u) = users
                        .iter()
                        .find(|u| u.role == querent_domain::Role::Admin && !u.disabled)
                    {
                        break u.clone();
                    }
                    match users.last() {
                        Some(last) if users.len() as i64 == page.limit => {
                            page.after = Some(last.id.to_string());
                        }
                        _ => {
                            return Err(ServiceError::new(
                                ErrorCode::Unavailable,
                                "no administrator yet: run first-boot setup (POST /api/v1/auth/setup) \
                                 or `querent admin create-user --admin`",
                            ));
                        }
                    }
                }
            }
        };
        if user.disabled {
            return Err(ServiceError::forbidden("this account is disabled"));
        }
        Ok(Actor::new(
            Principal::User {
                id: user.id,
                username: user.username,
                role: user.role,
            },
            Some("local".into()),
        ))
    }
}
