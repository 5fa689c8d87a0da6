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
