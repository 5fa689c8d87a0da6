//! `/api/v1/teams/{id}/invitations` and `/api/v1/invitations/accept`: inviting an e-mail
//! address to a team, and accepting (which creates the user and the membership).

use actix_web::web::Path;
use actix_web::{delete, get, patch, post};
use querent_app::invitations::*;
use querent_app::teams::MemberRequest;
use querent_domain::{InvitationId, TeamId};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json, Public};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(invite)
        .service(list_invitations)
        .service(set_role)
        .service(revoke)
        .service(accept);
}

/// Invites an e-mail address to the team with a role (team admin or owner). The answer
/// carries the one-time `token` the invitee accepts with: Querent sends no mail, so pass it
/// on; it is shown only here.
#[utoipa::path(tag = "teams", request_body = InviteRequest,
    responses((status = 201, body = InvitationCreated),
        (status = 409, description = "the address already has a pending invitation", body = ErrorBody)))]
#[post("/teams/{id}/invitations")]
pub async fn invite(
    caller: Caller,
    id: Path<TeamId>,
    body: Json<InviteRequest>,
) -> ApiResult<Created<InvitationCreated>> {
    caller
        .reply(|app, actor| async move { app.invite_member(&actor, *id, body.0).await })
        .await
}

/// The team's invitations not yet accepted (pending or expired; any member).
#[utoipa::path(tag = "teams", responses((status = 200, body = Vec<InvitationView>)))]
#[get("/teams/{id}/invitations")]
pub async fn list_invitations(
    caller: Caller,
    id: Path<TeamId>,
) -> ApiResult<Json<Vec<InvitationView>>> {
    caller
        .reply(|app, actor| async move { app.list_invitations(&actor, *id).await })
        .await
}

/// Changes the role a pending invitation grants.
#[utoipa::path(tag = "teams", request_body = MemberRequest,
    responses((status = 200, body = InvitationView)))]
#[patch("/teams/{id}/invitations/{invitation_id}")]
pub async fn set_role(
    caller: Caller,
    path: Path<(TeamId, InvitationId)>,
    body: Json<MemberRequest>,
) -> ApiResult<Json<InvitationView>> {
    let (team, inv) = path.into_inner();
    caller
        .reply(|app, actor| async move {
            app.set_invitation_role(&actor, team, inv, body.0.role)
                .await
        })
        .await
}

/// Revokes a pending invitation.
#[utoipa::path(tag = "teams", responses((status = 204, description = "revoked")))]
#[delete("/teams/{id}/invitations/{invitation_id}")]
pub async fn revoke(caller: Caller, path: Path<(TeamId, InvitationId)>) -> ApiResult<NoContent> {
    let (team, inv) = path.into_inner();
    caller
        .reply(|app, actor| async move { app.revoke_invitation(&actor, team, inv).await })
        .await
}

/// Accepts an invitation with its token (no bearer token): creates the user with the
/// invited address and the chosen username and password, and their membership. An unknown,
/// used, revoked or expired token is 404.
#[utoipa::path(tag = "teams", security(()), request_body = AcceptInvitation,
    responses((status = 201, body = InvitationAccepted),
        (status = 404, description = "unknown, used, revoked or expired token", body = ErrorBody),
        (status = 409, description = "the username is taken", body = ErrorBody)))]
#[post("/invitations/accept")]
pub async fn accept(
    public: Public,
    body: Json<AcceptInvitation>,
) -> ApiResult<Created<InvitationAccepted>> {
    public
        .reply(|app, ip| async move { app.accept_invitation(body.0, ip.as_deref()).await })
        .await
}
