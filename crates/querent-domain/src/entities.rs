//! Plain entities shared by the store, the services and the wire. None of them carries a
//! secret: credentials live only in encrypted form in the store and in `Secret` values
//! (querent-vault) while in use.

use serde::{Deserialize, Serialize};

use crate::{
    ApiClientId, ConnectionId, Dialect, ExecutionMode, Role, Scope, SslMode, TeamId, TeamRole,
    UnixMillis, UserId,
};

/// A user account as the services see it (never the password hash on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Unique login name.
    pub username: String,
    /// Optional e-mail address.
    pub email: Option<String>,
    /// Server-wide role.
    pub role: Role,
    /// Disabled accounts cannot log in and their tokens stop working.
    pub disabled: bool,
    /// Bumped on password change and logout-all: access tokens of older epochs are refused.
    pub token_epoch: i64,
    /// Creation time.
    pub created_at: UnixMillis,
}

/// A team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    /// Id.
    pub id: TeamId,
    /// Unique display name.
    pub name: String,
    /// Creation time.
    pub created_at: UnixMillis,
}

/// One membership of a user in a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamMember {
    /// The team.
    pub team_id: TeamId,
    /// The member.
    pub user_id: UserId,
    /// The member's role in that team.
    pub role: TeamRole,
}

/// Where a target database is and how to reach it (no secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionTarget {
    /// Dialect, which decides which fields matter.
    pub dialect: Dialect,
    /// Host name or address (postgres, mysql).
    pub host: Option<String>,
    /// TCP port (postgres, mysql).
    pub port: Option<u16>,
    /// Database name (postgres, mysql).
    pub database: Option<String>,
    /// User name (postgres, mysql).
    pub username: Option<String>,
    /// Database file (sqlite).
    pub path: Option<String>,
    /// TLS requirement.
    pub ssl_mode: SslMode,
    /// The CA certificate(s), PEM, that `verify-ca` and `verify-full` check the server's
    /// certificate against (public CAs when absent). Not a secret.
    #[serde(default)]
    pub ca_certificate: Option<String>,
}

/// Which parts of a target database the product may never show or must mask.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivacyPolicy {
    /// Tables no query may touch (`schema.table` or `table`).
    #[serde(default)]
    pub excluded_tables: Vec<String>,
    /// Columns no query may touch (`table.column`).
    #[serde(default)]
    pub excluded_columns: Vec<String>,
    /// Column name patterns (`*` wildcard) whose values are masked in every output.
    #[serde(default)]
    pub masked_column_patterns: Vec<String>,
    /// The row filters in force for the caller at hand: filled in when a connection is
    /// loaded for someone (from [`Connection::row_filters`], those that apply to them),
    /// never stored with the policy nor read from a request.
    #[serde(skip)]
    pub row_filters: Vec<RowFilter>,
}

/// A row filter as the guard applies it: only the rows of `table` for which `predicate`
/// (a boolean SQL expression over that table's columns, in the connection's dialect) holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowFilter {
    /// The table: `name` or `schema.name`.
    pub table: String,
    /// The predicate, e.g. `region = 'EU'`.
    pub predicate: String,
}

/// A connection's row filter and whom it applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RowFilterRule {
    /// The table: `name` or `schema.name`.
    pub table: String,
    /// A boolean SQL expression over the table's own columns (no subqueries, no other
    /// table), in the connection's dialect, e.g. `region = 'EU'`.
    pub predicate: String,
    /// Whom it applies to.
    pub applies_to: RowFilterAudience,
}

/// Whom a row filter applies to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RowFilterAudience {
    /// Everyone who uses the connection through this team.
    Team {
        /// The team (the owning team or one the connection is shared with).
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        team_id: TeamId,
    },
    /// Everyone with this role in the team through which they use the connection.
    Role {
        /// The role.
        role: TeamRole,
    },
    /// Everyone but the owners and admins of the team through which they use it.
    EveryoneButAdmins,
}

impl RowFilterAudience {
    /// Whether the filter applies to someone using the connection through `team` with
    /// `role` there.
    pub fn includes(&self, team: TeamId, role: TeamRole) -> bool {
        match self {
            RowFilterAudience::Team { team_id } => *team_id == team,
            RowFilterAudience::Role { role: r } => *r == role,
            RowFilterAudience::EveryoneButAdmins => {
                !matches!(role, TeamRole::Owner | TeamRole::Admin)
            }
        }
    }
}

/// Per-connection execution limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionLimits {
    /// Statement timeout applied to every query, in milliseconds.
    pub statement_timeout_ms: u32,
    /// Maximum rows a query may return.
    pub max_rows: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            statement_timeout_ms: 15_000,
            max_rows: 1_000,
        }
    }
}

/// A registered target database as stored (the secret stays encrypted here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connection {
    /// Id.
    pub id: ConnectionId,
    /// Owning team: only its members can see or use the connection.
    pub team_id: TeamId,
    /// Name, unique inside the team.
    pub name: String,
    /// Where and how to connect.
    pub target: ConnectionTarget,
    /// The password or other secret, encrypted by the vault (`None` when there is none).
    pub encrypted_secret: Option<String>,
    /// Schemas to introspect (empty: the server's default).
    pub schemas: Vec<String>,
    /// Free text describing the database, used in prompts.
    pub description: Option<String>,
    /// What chat does with validated SQL.
    pub execution_mode: ExecutionMode,
    /// Excluded and masked parts.
    pub privacy: PrivacyPolicy,
    /// Timeout and row cap.
    pub limits: ConnectionLimits,
    /// Whether introspection may sample distinct values of low-cardinality columns.
    pub sample_values: bool,
    /// Row filters and whom they apply to (`PUT /connections/{id}/row-filters`).
    pub row_filters: Vec<RowFilterRule>,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last update time.
    pub updated_at: UnixMillis,
}

/// Machine credentials owned by a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    /// Id (also the public `client_id`).
    pub id: ApiClientId,
    /// Display name.
    pub name: String,
    /// Owning team.
    pub team_id: TeamId,
    /// Granted scopes.
    pub scopes: Vec<Scope>,
    /// Revoked clients cannot obtain tokens.
    pub revoked: bool,
    /// Creator.
    pub created_by: Option<UserId>,
    /// Creation time.
    pub created_at: UnixMillis,
}

/// One audit log entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Who acted (`user:<id>`, `client:<id>`, `system`, or `anonymous`).
    pub actor: String,
    /// What was done, e.g. `connection.create`.
    pub action: String,
    /// What it was done to, e.g. `connection:<id>`.
    pub target: Option<String>,
    /// Extra detail (never a secret).
    pub detail: Option<String>,
    /// Client address when known.
    pub ip: Option<String>,
    /// When.
    pub at: UnixMillis,
}
