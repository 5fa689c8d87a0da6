//! Team isolation and roles, in one place. Every service that touches a team-owned
//! resource goes through these functions; none checks membership on its own.
//!
//! Rules:
//! - A user acts in a team with their membership role; an API client only in its own team,
//!   with the role its scopes grant (`query:read` → viewer, `query:write` → editor,
//!   `admin` → admin).
//! - Someone who is not a member gets `not_found` for the team's resources — the same
//!   answer as for a resource that does not exist, so ids of other teams leak nothing.
//! - A member whose role is too low gets `forbidden`.
//! - Server admins manage users and teams (membership), but see a team's resources only
//!   as members: administering the server does not grant reading a team's data.

use querent_domain::{Connection, ConnectionId, TeamId, TeamRole};

use crate::error::NotFoundAs;
use crate::{Actor, App, Principal, ServiceError, ServiceResult};

impl App {
    /// The caller's role in a team, `None` when not a member.
    pub async fn team_role(&self, actor: &Actor, team: TeamId) -> ServiceResult<Option<TeamRole>> {
        match &actor.principal {
            Principal::User { id, .. } => Ok(self.store().membership(team, *id).await?),
            Principal::Client {
                team_id, scopes, ..
            } => Ok(if *team_id == team {
                Actor::client_role(scopes)
            } else {
                None
            }),
        }
    }

    /// Requires at least `min` in `team`; `what` names the resource for the 404 message.
    pub async fn require_team_role(
        &self,
        actor: &Actor,
        team: TeamId,
        min: TeamRole,
        what: &str,
    ) -> ServiceResult<TeamRole> {
        match self.team_role(actor, team).await? {
            None => Err(ServiceError::not_found(what)),
            Some(role) if role.at_least(min) => Ok(role),
            Some(role) => Err(ServiceError::forbidden(format!(
                "this requires the {min} role in the team; you are {role}"
            ))),
        }
    }

    /// The team a create-style request acts in — `team_id` when given, else the caller's
    /// oldest membership — checked for at least `min`.
    pub async fn acting_team(
        &self,
        actor: &Actor,
        team_id: Option<TeamId>,
        min: TeamRole,
    ) -> ServiceResult<TeamId> {
        let team = match team_id {
            Some(t) => t,
            None => self
                .visible_teams(actor)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    ServiceError::validation("team_id: you belong to no team; give a team_id")
                })?,
        };
        self.require_team_role(actor, team, min, "team").await?;
        Ok(team)
    }

    /// The teams whose resources the caller can see.
    pub async fn visible_teams(&self, actor: &Actor) -> ServiceResult<Vec<TeamId>> {
        match &actor.principal {
            Principal::User { id, .. } => Ok(self
                .store()
                .memberships_of(*id)
                .await?
                .into_iter()
                .map(|m| m.team_id)
                .collect()),
            Principal::Client { team_id, .. } => Ok(vec![*team_id]),
        }
    }

    /// Requires a server administrator.
    pub fn require_admin(&self, actor: &Actor) -> ServiceResult<()> {
        if actor.is_admin() {
            Ok(())
        } else {
            Err(ServiceError::forbidden(
                "this requires a server administrator",
            ))
        }
    }

    /// Loads a connection the caller may use with at least `min`: a member of its owning
    /// team, or of a team it is shared with (design §2 `connection_teams`), with their role
    /// in that team; `not_found` for everyone else.
    pub async fn load_connection(
        &self,
        actor: &Actor,
        id: ConnectionId,
        min: TeamRole,
    ) -> ServiceResult<Connection> {
        Ok(self.connection_access(actor, id, min).await?.0)
    }

    /// [`App::load_connection`], also naming the team through which the caller uses it
    /// (the owning team when they qualify there, else the oldest sharing team where they
    /// do): what they create with it (chat sessions) belongs to that team.
    pub async fn connection_access(
        &self,
        actor: &Actor,
        id: ConnectionId,
        min: TeamRole,
    ) -> ServiceResult<(Connection, TeamId)> {
        let mut conn = self
            .store()
            .get_connection(id)
            .await
            .or_not_found("connection")?;
        let mut seen = self.team_role(actor, conn.team_id).await?;
        if let Some(role) = seen.filter(|r| r.at_least(min)) {
            let team = conn.team_id;
            with_row_filters_for(&mut conn, team, role);
            return Ok((conn, team));
        }
        for team in self.store().connection_teams(conn.id).await? {
            match self.team_role(actor, team).await? {
                Some(role) if role.at_least(min) => {
                    with_row_filters_for(&mut conn, team, role);
                    return Ok((conn, team));
                }
                Some(role) => seen = Some(role),
                None => {}
            }
        }
        match seen {
            None => Err(ServiceError::not_found("connection")),
            Some(role) => Err(ServiceError::forbidden(format!(
                "this requires the {min} role in the team; you are {role}"
            ))),
        }
    }

    /// Loads a connection to change it (settings, privacy, mode, semantic model, sharing,
    /// deletion): only its owning team's members with at least `min` may. A member of a
    /// team it is merely shared with gets `forbidden`; anyone else `not_found`.
    pub async fn load_connection_to_manage(
        &self,
        actor: &Actor,
        id: ConnectionId,
        min: TeamRole,
    ) -> ServiceResult<Connection> {
        let conn = self
            .store()
            .get_connection(id)
            .await
            .or_not_found("connection")?;
        if self.team_role(actor, conn.team_id).await?.is_none() {
            // Visible through a share: may use it, not manage it.
            self.load_connection(actor, id, TeamRole::Viewer).await?;
            return Err(ServiceError::forbidden(
                "this connection is shared with your team; only its owning team manages it",
            ));
        }
        self.require_team_role(actor, conn.team_id, min, "connection")
            .await?;
        Ok(conn)
    }
}

/// Puts the connection's row filters that apply to someone using it through `team` with
/// `role` into its policy (`PrivacyPolicy::row_filters`), where the guard applies them on
/// every statement run with that policy.
fn with_row_filters_for(conn: &mut querent_domain::Connection, team: TeamId, role: TeamRole) {
    conn.privacy.row_filters = conn
        .row_filters
        .iter()
        .filter(|r| r.applies_to.includes(team, role))
        .map(|r| querent_domain::RowFilter {
            table: r.table.clone(),
            predicate: r.predicate.clone(),
        })
        .collect();
}
