//! Invitations: a team asks someone, by e-mail address, to join it with a role. Accepting
//! the invitation (with the one-time token it was issued with) creates the person's user
//! account and their membership in one step; until then it is pending and can be revoked.

use async_trait::async_trait;

use crate::ports::StoreResult;
use crate::{InvitationId, TeamId, TeamRole, UnixMillis, User};

/// An invitation to join a team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Id.
    pub id: InvitationId,
    /// The team it is to.
    pub team_id: TeamId,
    /// The invitee's e-mail address (normalised to lower case).
    pub email: String,
    /// The role the invitee gets.
    pub role: TeamRole,
    /// Who invited (audit name, `user:<id>` or `client:<id>`).
    pub invited_by: String,
    /// When.
    pub created_at: UnixMillis,
    /// After this it can no longer be accepted.
    pub expires_at: UnixMillis,
    /// When it was accepted, if it was.
    pub accepted_at: Option<UnixMillis>,
}

/// The `invitations` table. Only the SHA-256 of an invitation's token is stored.
#[async_trait]
pub trait InvitationStore: Send + Sync + 'static {
    /// Inserts an invitation; `Conflict` if the team already has a pending one for the
    /// address.
    async fn insert_invitation(&self, inv: &Invitation, token_hash: &str) -> StoreResult<()>;
    /// An invitation by id.
    async fn get_invitation(&self, id: InvitationId) -> StoreResult<Invitation>;
    /// The invitation whose token hashes to `token_hash`.
    async fn invitation_by_token(&self, token_hash: &str) -> StoreResult<Invitation>;
    /// A team's invitations not yet accepted (expired ones included), oldest first.
    async fn pending_invitations(&self, team: TeamId) -> StoreResult<Vec<Invitation>>;
    /// Changes the role of a pending invitation; `NotFound` once accepted.
    async fn set_invitation_role(&self, id: InvitationId, role: TeamRole) -> StoreResult<()>;
    /// Deletes an invitation (revoking it if pending).
    async fn delete_invitation(&self, id: InvitationId) -> StoreResult<()>;
    /// Accepts a pending invitation in one transaction: marks it accepted (only while it is
    /// still pending — `NotFound` otherwise, so a token is used once), inserts `user` with
    /// `password_hash` (`Conflict` on a taken username) and makes them a member of the
    /// invitation's team with its role.
    async fn accept_invitation(
        &self,
        id: InvitationId,
        user: &User,
        password_hash: &str,
        now: UnixMillis,
    ) -> StoreResult<()>;
}
