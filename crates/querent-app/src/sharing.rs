//! Connections shared by several teams (design §2 `connection_teams`). A connection
//! belongs to its owning team; its owning team's admins may share it with other teams,
//! whose members then use it (chat, schema, saved queries…) with their role in their own
//! team, what they create staying in their team. Only the owning team manages it (settings,
//! privacy, mode, semantic model, sharing, deletion: [`App::load_connection_to_manage`]).

use querent_domain::{ConnectionId, TeamId, TeamRole, now_millis};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::{Actor, App, ServiceError, ServiceResult};

/// A team a connection is shared with.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedTeam {
    /// The team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Its name.
    pub name: String,
}

/// The teams a connection is shared with, besides its owning team.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectionTeams {
    /// The connection.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub connection_id: ConnectionId,
    /// Its owning team (the one that manages it).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub owner_team_id: TeamId,
    /// The teams it is shared with, oldest share first.
    pub shared_with_teams: Vec<SharedTeam>,
}

/// `PUT /connections/{id}/teams`: the complete list of teams to share with.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShareRequest {
    /// Teams to share with (not the owning team); `[]` unshares it from every team.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub team_ids: Vec<TeamId>,
}

/// At most this many teams share one connection.
const MAX_SHARES: usize = 100;

impl App {
    /// The teams a connection is shared with (owning team's admins).
    pub async fn connection_teams(
        &self,
        actor: &Actor,
        id: ConnectionId,
    ) -> ServiceResult<ConnectionTeams> {
        let conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        self.connection_teams_view(id, conn.team_id).await
    }

    async fn connection_teams_view(
        &self,
        id: ConnectionId,
        owner: TeamId,
    ) -> ServiceResult<ConnectionTeams> {
        let mut shared = Vec::new();
        for team_id in self.store().connection_teams(id).await? {
            let team = self.store().get_team(team_id).await?;
            shared.push(SharedTeam {
                team_id,
                name: team.name,
            });
        }
        Ok(ConnectionTeams {
            connection_id: id,
            owner_team_id: owner,
            shared_with_teams: shared,
        })
    }

    /// Replaces the teams a connection is shared with (owning team's admins). Each team
    /// must exist and the caller must belong to it (or be a server administrator): nobody
    /// pushes data into a team they cannot see.
    pub async fn set_connection_teams(
        &self,
        actor: &Actor,
        id: ConnectionId,
        req: ShareRequest,
    ) -> ServiceResult<ConnectionTeams> {
        let conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        let mut teams = req.team_ids;
        teams.sort_by_key(|t| t.to_string());
        teams.dedup();
        if teams.len() > MAX_SHARES {
            return Err(ServiceError::validation(format!(
                "team_ids: at most {MAX_SHARES} teams"
            )));
        }
        if teams.contains(&conn.team_id) {
            return Err(ServiceError::validation(
                "team_ids: the owning team always has the connection; list only other teams",
            ));
        }
        for team in &teams {
            self.store().get_team(*team).await.or_not_found("team")?;
            if !actor.is_admin() && self.team_role(actor, *team).await?.is_none() {
                return Err(ServiceError::not_found("team"));
            }
        }
        self.store()
            .set_connection_teams(id, &teams, now_millis())
            .await?;
        let detail = teams
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(",");
        self.audit_by(
            actor,
            "connection.share",
            format!("connection:{id}"),
            Some(format!("teams={detail}")),
        )
        .await;
        self.connection_teams_view(id, conn.team_id).await
    }

    /// Adds teams to those a connection is shared with, keeping the others (owning team's
    /// admins; the same checks as [`App::set_connection_teams`]). The owning team in the
    /// list is accepted and ignored.
    pub async fn add_connection_teams(
        &self,
        actor: &Actor,
        id: ConnectionId,
        teams: Vec<TeamId>,
    ) -> ServiceResult<ConnectionTeams> {
        let conn = self
            .load_connection_to_manage(actor, id, TeamRole::Admin)
            .await?;
        let mut all = self.store().connection_teams(id).await?;
        all.extend(teams.into_iter().filter(|t| *t != conn.team_id));
        self.set_connection_teams(actor, id, ShareRequest { team_ids: all })
            .await
    }
}
