//! `/api/v1/auth/*`: setup, login, refresh, logout, me, password, client tokens.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use querent_app::auth::*;

use crate::Services;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Auth, Json, client_ip};

/// Whether first-boot setup is still needed.
#[utoipa::path(get, path = "/api/v1/auth/setup-status", tag = "auth", responses((status = 200, body = SetupStatus)))]
#[get("/auth/setup-status")]
pub async fn setup_status(svc: web::Data<Services>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.setup_status().await })
            .await?,
    ))
}

/// Creates the first administrator (and a team they own); only while no user exists.
#[utoipa::path(post, path = "/api/v1/auth/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, body = SetupResponse), (status = 409, description = "already_initialized", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
#[post("/auth/setup")]
pub async fn setup(
    svc: web::Data<Services>,
    req: HttpRequest,
    body: Json<SetupRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req);
    Ok(HttpResponse::Created().json(
        svc.call(move |app| async move { app.setup(body.0, ip.as_deref()).await })
            .await?,
    ))
}

/// Username and password login.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_credentials", body = ErrorBody),
        (status = 429, description = "rate_limited", body = ErrorBody)))]
#[post("/auth/login")]
pub async fn login(
    svc: web::Data<Services>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req);
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.login(body.0, ip.as_deref()).await })
            .await?,
    ))
}

/// Exchanges a refresh token for a new pair; reusing a rotated-out token revokes its family.
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "token_reused, invalid_token, token_expired", body = ErrorBody)))]
#[post("/auth/refresh")]
pub async fn refresh(
    svc: web::Data<Services>,
    req: HttpRequest,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req);
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.refresh(body.0, ip.as_deref()).await })
            .await?,
    ))
}

/// Ends the login a refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "logged out")))]
#[post("/auth/logout")]
pub async fn logout(
    svc: web::Data<Services>,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.logout(body.0).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ends every session of the caller.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "all sessions ended"), (status = 401, body = ErrorBody)))]
#[post("/auth/logout-all")]
pub async fn logout_all(svc: web::Data<Services>, auth: Auth) -> ApiResult<HttpResponse> {
    svc.call(move |app| async move { app.logout_all(&auth.0).await })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the caller is, with their teams.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
#[get("/auth/me")]
pub async fn me(svc: web::Data<Services>, auth: Auth) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.me(&auth.0).await })
            .await?,
    ))
}

/// Changes the caller's password; other sessions end and a fresh pair is returned.
#[utoipa::path(post, path = "/api/v1/auth/change-password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = TokenPair), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
#[post("/auth/change-password")]
pub async fn change_password(
    svc: web::Data<Services>,
    auth: Auth,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.change_password(&auth.0, body.0).await })
            .await?,
    ))
}

/// Exchanges API-client credentials for an access token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = ClientTokenRequest,
    responses((status = 200, body = ClientToken), (status = 401, body = ErrorBody)))]
#[post("/auth/token")]
pub async fn client_token(
    svc: web::Data<Services>,
    req: HttpRequest,
    body: Json<ClientTokenRequest>,
) -> ApiResult<HttpResponse> {
    let ip = client_ip(&req);
    Ok(HttpResponse::Ok().json(
        svc.call(move |app| async move { app.client_token(body.0, ip.as_deref()).await })
            .await?,
    ))
}
