//! The `{"detail": "..."}` error answer (FastAPI's shape) that the Basejump and Connecty
//! layers share: the native error code's status, its message as `detail`, `Retry-After`
//! when the service gives one, and `WWW-Authenticate: Bearer` on a 401.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use querent_app::ServiceError;

use crate::error::ApiError;

/// An error answered as `{"detail": "..."}` with the native code's status.
#[derive(Debug)]
pub struct DetailError(pub ServiceError);

impl std::fmt::Display for DetailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ApiError> for DetailError {
    fn from(e: ApiError) -> Self {
        DetailError(e.0)
    }
}

impl From<ServiceError> for DetailError {
    fn from(e: ServiceError) -> Self {
        DetailError(e)
    }
}

impl ResponseError for DetailError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(secs) = self.0.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if self.status_code() == StatusCode::UNAUTHORIZED {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(serde_json::json!({ "detail": self.0.detail }))
    }
}
