//! Who is calling: the authenticated principal of a request, built only by
//! [`crate::App::authenticate`] from a verified access token.

use querent_domain::{ApiClientId, Role, Scope, TeamId, TeamRole, UserId};

/// The authenticated principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// A person who logged in.
    User {
        /// Their id.
        id: UserId,
        /// Their username.
        username: String,
        /// Server-wide role.
        role: Role,
    },
    /// An API client acting for its team.
    Client {
        /// Its id.
        id: ApiClientId,
        /// The team it belongs to; it can act in no other.
        team_id: TeamId,
        /// Granted scopes.
        scopes: Vec<Scope>,
    },
}

/// A caller: principal plus request context used for audit and throttling.
#[derive(Clone, Debug)]
pub struct Actor {
    pub(crate) principal: Principal,
    pub(crate) ip: Option<String>,
}

impl Actor {
    pub(crate) fn new(principal: Principal, ip: Option<String>) -> Self {
        Self { principal, ip }
    }

    /// Who.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// The client address, when known.
    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// The user id, for user principals.
    pub fn user_id(&self) -> Option<UserId> {
        match &self.principal {
            Principal::User { id, .. } => Some(*id),
            Principal::Client { .. } => None,
        }
    }

    /// Whether this is a server administrator.
    pub fn is_admin(&self) -> bool {
        matches!(
            self.principal,
            Principal::User {
                role: Role::Admin,
                ..
            }
        )
    }

    /// The audit spelling of the actor: `user:<id>` or `client:<id>`.
    pub fn audit_name(&self) -> String {
        match &self.principal {
            Principal::User { id, .. } => format!("user:{id}"),
            Principal::Client { id, .. } => format!("client:{id}"),
        }
    }

    /// For API clients: the strongest team role its scopes grant.
    pub(crate) fn client_role(scopes: &[Scope]) -> Option<TeamRole> {
        scopes
            .iter()
            .map(|s| s.as_team_role())
            .max_by_key(|r| match r {
                TeamRole::Owner => 4,
                TeamRole::Admin => 3,
                TeamRole::Editor => 2,
                TeamRole::Viewer => 1,
            })
    }
}

impl crate::App {
    /// The actor an audit name (`user:<id>`, `client:<id>`) stands for, with the rights it
    /// has *now*: for work done later on someone's behalf (asynchronous questions,
    /// scheduled runs). A deleted or disabled user, or a deleted or revoked client, is
    /// refused (`forbidden`); the team checks then apply as for any request.
    pub(crate) async fn actor_for(&self, audit_name: &str) -> crate::ServiceResult<Actor> {
        use querent_domain::ports::StoreError;

        use crate::ServiceError;

        let gone = |what: &str| {
            ServiceError::forbidden(format!("{what} on whose behalf this runs no longer exists"))
        };
        if let Some(id) = audit_name.strip_prefix("user:") {
            let id: UserId = id
                .parse()
                .map_err(|_| ServiceError::internal(format!("malformed actor `{audit_name}`")))?;
            let user = match self.store().get_user(id).await {
                Ok((user, _)) => user,
                Err(StoreError::NotFound) => return Err(gone("the user")),
                Err(e) => return Err(e.into()),
            };
            if user.disabled {
                return Err(ServiceError::forbidden(
                    "the account on whose behalf this runs is disabled",
                ));
            }
            Ok(Actor::new(
                Principal::User {
                    id: user.id,
                    username: user.username,
                    role: user.role,
                },
                None,
            ))
        } else if let Some(id) = audit_name.strip_prefix("client:") {
            let id: ApiClientId = id
                .parse()
                .map_err(|_| ServiceError::internal(format!("malformed actor `{audit_name}`")))?;
            let client = match self.store().get_api_client(id).await {
                Ok((client, _)) => client,
                Err(StoreError::NotFound) => return Err(gone("the API client")),
                Err(e) => return Err(e.into()),
            };
            if client.revoked {
                return Err(ServiceError::forbidden(
                    "the API client on whose behalf this runs was revoked",
                ));
            }
            Ok(Actor::new(
                Principal::Client {
                    id: client.id,
                    team_id: client.team_id,
                    scopes: client.scopes,
                },
                None,
            ))
        } else {
            Err(ServiceError::internal(format!(
                "malformed actor `{audit_name}`"
            )))
        }
    }
}
