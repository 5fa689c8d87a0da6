//! `/api/v1/auth/*`: setup, login, refresh, logout, me, password, client tokens.

use actix_web::{get, post};
use querent_app::auth::*;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Caller, Json, Public};
use crate::reply::{Created, NoContent};

/// Registers the endpoints of this file.
pub fn routes(cfg: &mut super::ServiceConfig<'_, '_>) {
    cfg.service(setup_status)
        .service(setup)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(logout_all)
        .service(me)
        .service(change_password)
        .service(client_token);
}

/// Whether first-boot setup is still needed.
#[utoipa::path(tag = "auth", security(()), responses((status = 200, body = SetupStatus)))]
#[get("/auth/setup-status")]
pub async fn setup_status(public: Public) -> ApiResult<Json<SetupStatus>> {
    public
        .reply(|app, _| async move { app.setup_status().await })
        .await
}

/// Creates the first administrator (and a team they own); only while no user exists.
#[utoipa::path(tag = "auth", security(()), request_body = SetupRequest,
    responses((status = 201, body = SetupResponse), (status = 409, description = "already_initialized", body = ErrorBody)))]
#[post("/auth/setup")]
pub async fn setup(public: Public, body: Json<SetupRequest>) -> ApiResult<Created<SetupResponse>> {
    public
        .reply(|app, ip| async move { app.setup(body.0, ip.as_deref()).await })
        .await
}

/// Username and password login.
#[utoipa::path(tag = "auth", security(()), request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 403, description = "the account is disabled", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody)))]
#[post("/auth/login")]
pub async fn login(public: Public, body: Json<LoginRequest>) -> ApiResult<Json<TokenPair>> {
    public
        .reply(|app, ip| async move { app.login(body.0, ip.as_deref()).await })
        .await
}

/// Exchanges a refresh token for a new pair; reusing a rotated-out token revokes its family.
#[utoipa::path(tag = "auth", security(()), request_body = RefreshRequest,
    responses((status = 200, body = TokenPair),
        (status = 401, description = "token_reused, invalid_token, token_expired", body = ErrorBody),
        (status = 403, description = "the account is disabled", body = ErrorBody)))]
#[post("/auth/refresh")]
pub async fn refresh(public: Public, body: Json<RefreshRequest>) -> ApiResult<Json<TokenPair>> {
    public
        .reply(|app, ip| async move { app.refresh(body.0, ip.as_deref()).await })
        .await
}

/// Ends the login a refresh token belongs to.
#[utoipa::path(tag = "auth", security(()), request_body = RefreshRequest,
    responses((status = 204, description = "logged out")))]
#[post("/auth/logout")]
pub async fn logout(public: Public, body: Json<RefreshRequest>) -> ApiResult<NoContent> {
    public
        .reply(|app, _| async move { app.logout(body.0).await })
        .await
}

/// Ends every session of the caller.
#[utoipa::path(tag = "auth", responses((status = 204, description = "all sessions ended")))]
#[post("/auth/logout-all")]
pub async fn logout_all(caller: Caller) -> ApiResult<NoContent> {
    caller
        .reply(|app, actor| async move { app.logout_all(&actor).await })
        .await
}

/// Who the caller is, with their teams.
#[utoipa::path(tag = "auth", responses((status = 200, body = MeView)))]
#[get("/auth/me")]
pub async fn me(caller: Caller) -> ApiResult<Json<MeView>> {
    caller
        .reply(|app, actor| async move { app.me(&actor).await })
        .await
}

/// Changes the caller's password; other sessions end and a fresh pair is returned.
#[utoipa::path(tag = "auth", request_body = ChangePasswordRequest, responses((status = 200, body = TokenPair)))]
#[post("/auth/change-password")]
pub async fn change_password(
    caller: Caller,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<Json<TokenPair>> {
    caller
        .reply(|app, actor| async move { app.change_password(&actor, body.0).await })
        .await
}

/// Exchanges API-client credentials for an access token.
#[utoipa::path(tag = "auth", security(()), request_body = ClientTokenRequest,
    responses((status = 200, body = ClientToken), (status = 401, description = "invalid_credentials", body = ErrorBody)))]
#[post("/auth/token")]
pub async fn client_token(
    public: Public,
    body: Json<ClientTokenRequest>,
) -> ApiResult<Json<ClientToken>> {
    public
        .reply(|app, ip| async move { app.client_token(body.0, ip.as_deref()).await })
        .await
}
