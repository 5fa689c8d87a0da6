//! Teams and memberships. Server admins create teams and manage any team's members; a
//! team's owners and admins manage its members; only owners grant or remove ownership, and
//! a team always keeps at least one owner.

use querent_domain::{Team, TeamId, TeamRole, UserId, millis_to_rfc3339, now_millis};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::{Actor, App, ListParams, Paginated, ServiceError, ServiceResult};

/// A team on the wire.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: TeamId,
    /// Name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        Self {
            id: t.id,
            name: t.name,
            created_at: millis_to_rfc3339(t.created_at),
        }
    }
}

/// A member on the wire.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberView {
    /// The user.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub user_id: UserId,
    /// Their username.
    pub username: String,
    /// Their e-mail address, when known.
    pub email: Option<String>,
    /// Their role in the team.
    pub role: TeamRole,
}

/// A team with its members.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamDetail {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: TeamId,
    /// Name.
    pub name: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Members.
    pub members: Vec<MemberView>,
}

/// New team.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTeamRequest {
    /// Unique name (1–100 characters).
    pub name: String,
}

/// Role for a new or existing member.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberRequest {
    /// owner, admin, editor or viewer.
    pub role: TeamRole,
}

pub(crate) fn validate_resource_name(field: &str, name: &str) -> ServiceResult<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ServiceError::validation(format!(
            "{field}: must be 1–100 printable characters"
        )));
    }
    Ok(n.to_owned())
}

impl App {
    /// The teams the caller belongs to (server admins: every team).
    pub async fn list_teams(
        &self,
        actor: &Actor,
        params: &ListParams,
    ) -> ServiceResult<Paginated<TeamView>> {
        let page = params.page()?;
        let only = if actor.is_admin() {
            None
        } else {
            Some(self.visible_teams(actor).await?)
        };
        let rows = self.store().list_teams(only.as_deref(), &page).await?;
        Ok(Paginated::from_rows(
            rows,
            &page,
            |t| t.id.to_string(),
            TeamView::from,
        ))
    }

    /// Checks the caller may manage a team's membership: server admin or team admin+.
    async fn require_team_manager(
        &self,
        actor: &Actor,
        team: TeamId,
    ) -> ServiceResult<Option<TeamRole>> {
        if actor.is_admin() {
            self.store().get_team(team).await.or_not_found("team")?;
            return Ok(Some(TeamRole::Owner));
        }
        self.require_team_role(actor, team, TeamRole::Admin, "team")
            .await
            .map(Some)
    }

    /// A team with members (members and server admins).
    pub async fn get_team(&self, actor: &Actor, id: TeamId) -> ServiceResult<TeamDetail> {
        if !actor.is_admin() {
            self.require_team_role(actor, id, TeamRole::Viewer, "team")
                .await?;
        }
        let team = self.store().get_team(id).await.or_not_found("team")?;
        let mut members = Vec::new();
        for m in self.store().members_of(id).await? {
            let (username, email) = self
                .store()
                .get_user(m.user_id)
                .await
                .map(|(u, _)| (u.username, u.email))
                .unwrap_or_default();
            members.push(MemberView {
                user_id: m.user_id,
                username,
                email,
                role: m.role,
            });
        }
        Ok(TeamDetail {
            id: team.id,
            name: team.name,
            created_at: millis_to_rfc3339(team.created_at),
            members,
        })
    }

    /// Creates a team (server admin); the creator becomes its owner.
    pub async fn create_team(
        &self,
        actor: &Actor,
        req: CreateTeamRequest,
    ) -> ServiceResult<TeamView> {
        self.require_admin(actor)?;
        let team = Team {
            id: TeamId::new(),
            name: validate_resource_name("name", &req.name)?,
            created_at: now_millis(),
        };
        self.store()
            .insert_team(&team, actor.user_id())
            .await
            .or_conflict(|| format!("name: a team called `{}` already exists", team.name))?;
        self.audit_by(actor, "team.create", format!("team:{}", team.id), None)
            .await;
        Ok(team.into())
    }

    /// Deletes a team and everything it owns (server admin or team owner).
    pub async fn delete_team(&self, actor: &Actor, id: TeamId) -> ServiceResult<()> {
        if !actor.is_admin() {
            self.require_team_role(actor, id, TeamRole::Owner, "team")
                .await?;
        }
        self.store().delete_team(id).await.or_not_found("team")?;
        self.audit_by(actor, "team.delete", format!("team:{id}"), None)
            .await;
        Ok(())
    }

    /// Adds a member or changes their role.
    pub async fn set_member(
        &self,
        actor: &Actor,
        team: TeamId,
        user: UserId,
        req: MemberRequest,
    ) -> ServiceResult<MemberView> {
        let my_role = self.require_team_manager(actor, team).await?;
        let current = self.store().membership(team, user).await?;
        let touches_owner = req.role == TeamRole::Owner || current == Some(TeamRole::Owner);
        if touches_owner && my_role != Some(TeamRole::Owner) {
            return Err(ServiceError::forbidden(
                "only an owner can grant or change ownership",
            ));
        }
        if current == Some(TeamRole::Owner)
            && req.role != TeamRole::Owner
            && self.store().count_owners(team).await? <= 1
        {
            return Err(ServiceError::conflict(
                "a team must keep at least one owner",
            ));
        }
        let (u, _) = self.store().get_user(user).await.or_not_found("user")?;
        self.store().upsert_member(team, user, req.role).await?;
        self.audit_by(
            actor,
            "team.member_set",
            format!("team:{team}"),
            Some(format!("user:{user} role={}", req.role)),
        )
        .await;
        Ok(MemberView {
            user_id: user,
            username: u.username,
            email: u.email,
            role: req.role,
        })
    }

    /// Removes a member.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        team: TeamId,
        user: UserId,
    ) -> ServiceResult<()> {
        let my_role = self.require_team_manager(actor, team).await?;
        let current = self
            .store()
            .membership(team, user)
            .await?
            .ok_or_else(|| ServiceError::not_found("member"))?;
        if current == TeamRole::Owner {
            if my_role != Some(TeamRole::Owner) {
                return Err(ServiceError::forbidden("only an owner can remove an owner"));
            }
            if self.store().count_owners(team).await? <= 1 {
                return Err(ServiceError::conflict(
                    "a team must keep at least one owner",
                ));
            }
        }
        self.store()
            .remove_member(team, user)
            .await
            .or_not_found("member")?;
        self.audit_by(
            actor,
            "team.member_remove",
            format!("team:{team}"),
            Some(format!("user:{user}")),
        )
        .await;
        Ok(())
    }
}
