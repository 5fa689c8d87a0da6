//! Invitations to join a team. A team's admins and owners invite an e-mail address with a
//! role (only an owner may invite an owner); the answer carries a one-time token — Querent
//! sends no mail, so the inviter passes it on. Whoever holds the token accepts it with the
//! username and password they choose: that creates their user account (with the invited
//! address) and their membership in one transaction, and the token is spent. Invitations
//! expire after [`INVITATION_TTL_MS`]; pending ones can be listed, re-roled and revoked.
//! Only the token's SHA-256 is stored.

use querent_domain::invitations::Invitation;
use querent_domain::{
    InvitationId, Role, Secret, TeamId, TeamRole, User, UserId, millis_to_rfc3339, now_millis,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::secrets::{self, check_password_policy};
use crate::users::{UserView, validate_email, validate_username};
use crate::{Actor, App, ServiceError, ServiceResult};

/// How long an invitation can be accepted: 7 days.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// A new invitation.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// The invitee's e-mail address.
    pub email: String,
    /// The role they get: owner, admin, editor or viewer.
    pub role: TeamRole,
}

/// An invitation on the wire (no token).
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationView {
    /// Id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: InvitationId,
    /// The team.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// The invitee's address (lower case).
    pub email: String,
    /// The role they get.
    pub role: TeamRole,
    /// `pending`, `expired` or `accepted`.
    pub status: String,
    /// Who invited (`user:<id>` or `client:<id>`).
    pub invited_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Until when it can be accepted (RFC 3339).
    pub expires_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        let status = if i.accepted_at.is_some() {
            "accepted"
        } else if i.expires_at <= now_millis() {
            "expired"
        } else {
            "pending"
        };
        Self {
            id: i.id,
            team_id: i.team_id,
            email: i.email,
            role: i.role,
            status: status.to_owned(),
            invited_by: i.invited_by,
            created_at: millis_to_rfc3339(i.created_at),
            expires_at: millis_to_rfc3339(i.expires_at),
        }
    }
}

/// A new invitation with its token — the only time the token is shown.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationCreated {
    /// The invitation.
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// The one-time token the invitee accepts with (`POST /invitations/accept`); pass it on
    /// now, it cannot be shown again.
    pub token: String,
}

/// Accepting an invitation.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    /// The invitation's token.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub token: Secret<String>,
    /// The username to create (3–64 characters: letters, digits, `._-@`).
    pub username: String,
    /// The password to set (at least 8 characters).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
    pub password: Secret<String>,
}

/// An accepted invitation: the new user and their membership.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationAccepted {
    /// The new user.
    pub user: UserView,
    /// The team they joined.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub team_id: TeamId,
    /// Their role in it.
    pub role: TeamRole,
}

impl App {
    /// Checks the caller manages `team`'s membership (server admin, or team admin+) and may
    /// hand out `role` (only owners grant ownership).
    async fn require_inviter(
        &self,
        actor: &Actor,
        team: TeamId,
        role: TeamRole,
    ) -> ServiceResult<()> {
        let mine = if actor.is_admin() {
            self.store().get_team(team).await.or_not_found("team")?;
            TeamRole::Owner
        } else {
            self.require_team_role(actor, team, TeamRole::Admin, "team")
                .await?
        };
        if role == TeamRole::Owner && mine != TeamRole::Owner {
            return Err(ServiceError::forbidden("only an owner can grant ownership"));
        }
        Ok(())
    }

    /// A pending invitation of `team`, or `not_found`.
    async fn team_invitation(&self, team: TeamId, id: InvitationId) -> ServiceResult<Invitation> {
        let inv = self
            .store()
            .get_invitation(id)
            .await
            .or_not_found("invitation")?;
        if inv.team_id != team || inv.accepted_at.is_some() {
            return Err(ServiceError::not_found("invitation"));
        }
        Ok(inv)
    }

    /// Invites an address to a team (team admin or owner; owners only by an owner).
    pub async fn invite_member(
        &self,
        actor: &Actor,
        team: TeamId,
        req: InviteRequest,
    ) -> ServiceResult<InvitationCreated> {
        self.require_inviter(actor, team, req.role).await?;
        let email = validate_email(&req.email)?.to_lowercase();
        // An expired invitation of the same address gives way to the new one.
        for old in self.store().pending_invitations(team).await? {
            if old.email == email {
                if old.expires_at > now_millis() {
                    return Err(ServiceError::conflict(format!(
                        "email: `{email}` already has a pending invitation"
                    )));
                }
                let _ = self.store().delete_invitation(old.id).await;
            }
        }
        let token = secrets::random_token(self.crypto(), "qinv_")?;
        let now = now_millis();
        let inv = Invitation {
            id: InvitationId::new(),
            team_id: team,
            email,
            role: req.role,
            invited_by: actor.audit_name(),
            created_at: now,
            expires_at: now + INVITATION_TTL_MS,
            accepted_at: None,
        };
        self.store()
            .insert_invitation(&inv, &self.crypto().sha256_hex(token.expose().as_bytes()))
            .await
            .or_conflict(|| "email: already has a pending invitation".into())?;
        self.audit_by(
            actor,
            "team.invite",
            format!("team:{team}"),
            Some(format!("invitation:{} role={}", inv.id, inv.role)),
        )
        .await;
        Ok(InvitationCreated {
            invitation: inv.into(),
            token: token.into_inner(),
        })
    }

    /// A team's invitations not yet accepted (any member: who is invited is no secret in
    /// the team; server admins too).
    pub async fn list_invitations(
        &self,
        actor: &Actor,
        team: TeamId,
    ) -> ServiceResult<Vec<InvitationView>> {
        if actor.is_admin() {
            self.store().get_team(team).await.or_not_found("team")?;
        } else {
            self.require_team_role(actor, team, TeamRole::Viewer, "team")
                .await?;
        }
        Ok(self
            .store()
            .pending_invitations(team)
            .await?
            .into_iter()
            .map(InvitationView::from)
            .collect())
    }

    /// Changes the role a pending invitation grants (team admin or owner).
    pub async fn set_invitation_role(
        &self,
        actor: &Actor,
        team: TeamId,
        id: InvitationId,
        role: TeamRole,
    ) -> ServiceResult<InvitationView> {
        let inv = self.team_invitation(team, id).await?;
        let touches_owner = role == TeamRole::Owner || inv.role == TeamRole::Owner;
        let needed = if touches_owner { TeamRole::Owner } else { role };
        self.require_inviter(actor, team, needed).await?;
        self.store()
            .set_invitation_role(id, role)
            .await
            .or_not_found("invitation")?;
        self.audit_by(
            actor,
            "team.invitation_role",
            format!("team:{team}"),
            Some(format!("invitation:{id} role={role}")),
        )
        .await;
        Ok(Invitation { role, ..inv }.into())
    }

    /// Revokes a pending invitation (team admin or owner).
    pub async fn revoke_invitation(
        &self,
        actor: &Actor,
        team: TeamId,
        id: InvitationId,
    ) -> ServiceResult<()> {
        let inv = self.team_invitation(team, id).await?;
        self.require_inviter(actor, team, inv.role).await?;
        self.store()
            .delete_invitation(id)
            .await
            .or_not_found("invitation")?;
        self.audit_by(
            actor,
            "team.invitation_revoke",
            format!("team:{team}"),
            Some(format!("invitation:{id}")),
        )
        .await;
        Ok(())
    }

    /// Accepts an invitation with its token (no caller): creates the user with the invited
    /// address and the chosen username and password, and the membership. An unknown,
    /// spent, revoked or expired token is `not_found`.
    pub async fn accept_invitation(
        &self,
        req: AcceptInvitation,
        ip: Option<&str>,
    ) -> ServiceResult<InvitationAccepted> {
        validate_username(&req.username)?;
        check_password_policy("password", req.password.expose())?;
        let hash = self.crypto().sha256_hex(req.token.expose().as_bytes());
        let inv = match self.store().invitation_by_token(&hash).await {
            Ok(i) if i.accepted_at.is_none() && i.expires_at > now_millis() => i,
            Ok(_) | Err(querent_domain::ports::StoreError::NotFound) => {
                return Err(ServiceError::not_found(
                    "invitation (the token is unknown, used, revoked or expired)",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        if self
            .store()
            .find_user_by_username(&req.username)
            .await?
            .is_some()
        {
            return Err(ServiceError::conflict(format!(
                "username: `{}` is already taken",
                req.username
            )));
        }
        let password_hash = secrets::hash_password(&req.password).await?;
        let now = now_millis();
        let user = User {
            id: UserId::new(),
            username: req.username,
            email: Some(inv.email.clone()),
            role: Role::Member,
            disabled: false,
            token_epoch: 0,
            created_at: now,
        };
        let accepted = self
            .store()
            .accept_invitation(inv.id, &user, &password_hash, now)
            .await;
        if matches!(accepted, Err(querent_domain::ports::StoreError::NotFound)) {
            return Err(ServiceError::not_found(
                "invitation (the token was used meanwhile)",
            ));
        }
        accepted.or_conflict(|| "username: is already taken".into())?;
        self.audit(
            &format!("user:{}", user.id),
            ip,
            "team.invitation_accept",
            Some(format!("team:{}", inv.team_id)),
            Some(format!("invitation:{} role={}", inv.id, inv.role)),
        )
        .await;
        Ok(InvitationAccepted {
            user: user.into(),
            team_id: inv.team_id,
            role: inv.role,
        })
    }
}
