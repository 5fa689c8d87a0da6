//! `/team/members`: the team is the caller's (an API key's own team). Members are the
//! team's memberships plus its pending invitations (`status: invited`); inviting creates a
//! native invitation whose one-time `invitation_token` the invitee accepts with at
//! `POST /api/v1/invitations/accept`. A member id is a user id or, while invited, the
//! invitation's id.

use actix_web::web::Path;
use querent_app::invitations::{InvitationView, InviteRequest};
use querent_app::teams::{MemberRequest, TeamDetail};
use querent_domain::{InvitationId, TeamId, TeamRole, UserId};
use serde::{Deserialize, Serialize};

use super::{AiError, Body, Key, Reply, created, deleted, id, ok};

/// `POST /team/members`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    email: String,
    role: TeamRole,
}

/// `PATCH /team/members/{member_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    role: TeamRole,
}

/// A member or an invitee, as the seed's clients read them.
#[derive(Serialize)]
struct MemberOut {
    id: String,
    email: Option<String>,
    name: Option<String>,
    role: TeamRole,
    /// `active` or `invited`.
    status: &'static str,
    invited_at: Option<String>,
    expires_at: Option<String>,
}

impl From<InvitationView> for MemberOut {
    fn from(i: InvitationView) -> Self {
        Self {
            id: i.id.to_string(),
            email: Some(i.email),
            name: None,
            role: i.role,
            status: "invited",
            invited_at: Some(i.created_at),
            expires_at: Some(i.expires_at),
        }
    }
}

/// The caller's team, its members and pending invitations.
async fn roster(key: &Key) -> Result<(TeamId, TeamDetail, Vec<InvitationView>), AiError> {
    Ok(key
        .0
        .clone()
        .call(move |app, actor| async move {
            let team = app.acting_team(&actor, None, TeamRole::Viewer).await?;
            let detail = app.get_team(&actor, team).await?;
            let invitations = app.list_invitations(&actor, team).await?;
            Ok((team, detail, invitations))
        })
        .await?)
}

/// `GET /team/members`.
pub async fn list(key: Key) -> Reply {
    let (_, detail, invitations) = roster(&key).await?;
    let mut out: Vec<MemberOut> = detail
        .members
        .into_iter()
        .map(|m| MemberOut {
            id: m.user_id.to_string(),
            email: m.email,
            name: Some(m.username),
            role: m.role,
            status: "active",
            invited_at: None,
            expires_at: None,
        })
        .collect();
    out.extend(invitations.into_iter().map(MemberOut::from));
    ok(out)
}

/// `POST /team/members`: an invitation, with its one-time token.
pub async fn invite(key: Key, body: Body<Invite>) -> Reply {
    let req = InviteRequest {
        email: body.0.email,
        role: body.0.role,
    };
    let created_inv = key
        .0
        .call(move |app, actor| async move {
            let team = app.acting_team(&actor, None, TeamRole::Viewer).await?;
            app.invite_member(&actor, team, req).await
        })
        .await?;
    let mut out = serde_json::to_value(MemberOut::from(created_inv.invitation))
        .map_err(|e| AiError(querent_app::ServiceError::internal(e)))?;
    out["invitation_token"] = serde_json::Value::String(created_inv.token);
    created(out)
}

/// Whether `raw` names a member (`Ok(Ok(user))`), a pending invitation (`Ok(Err(id))`),
/// or nothing (`not_found`).
fn which(
    raw: &str,
    detail: &TeamDetail,
    invitations: &[InvitationView],
) -> Result<Result<UserId, InvitationId>, AiError> {
    let missing = || AiError::not_found(format!("member `{raw}` does not exist"));
    if let Ok(u) = raw.parse::<UserId>()
        && detail.members.iter().any(|m| m.user_id == u)
    {
        return Ok(Ok(u));
    }
    let inv: InvitationId = id(raw, "member")?;
    if invitations.iter().any(|i| i.id == inv) {
        Ok(Err(inv))
    } else {
        Err(missing())
    }
}

/// `PATCH /team/members/{member_id}` `{role}`.
pub async fn set_role(key: Key, path: Path<String>, body: Body<Role>) -> Reply {
    let (team, detail, invitations) = roster(&key).await?;
    let role = body.0.role;
    match which(&path, &detail, &invitations)? {
        Ok(user) => {
            let m = key
                .0
                .call(move |app, actor| async move {
                    app.set_member(&actor, team, user, MemberRequest { role })
                        .await
                })
                .await?;
            ok(MemberOut {
                id: m.user_id.to_string(),
                email: m.email,
                name: Some(m.username),
                role: m.role,
                status: "active",
                invited_at: None,
                expires_at: None,
            })
        }
        Err(inv) => {
            let i = key
                .0
                .call(move |app, actor| async move {
                    app.set_invitation_role(&actor, team, inv, role).await
                })
                .await?;
            ok(MemberOut::from(i))
        }
    }
}

/// `DELETE /team/members/{member_id}`: removes the member, or revokes the invitation.
pub async fn remove(key: Key, path: Path<String>) -> Reply {
    let (team, detail, invitations) = roster(&key).await?;
    match which(&path, &detail, &invitations)? {
        Ok(user) => {
            key.0
                .call(move |app, actor| async move { app.remove_member(&actor, team, user).await })
                .await?;
        }
        Err(inv) => {
            key.0
                .call(
                    move |app, actor| async move { app.revoke_invitation(&actor, team, inv).await },
                )
                .await?;
        }
    }
    deleted()
}
