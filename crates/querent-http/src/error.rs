//! Errors on the wire: `{"detail": "...", "code": "..."}` with the status of the code
//! (one table: `querent_domain::ErrorCode`). Rate-limit errors carry `Retry-After`; 401s
//! carry `WWW-Authenticate: Bearer`.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use querent_app::ServiceError;
use querent_domain::ErrorCode;
use serde::Serialize;

/// The error body every endpoint uses.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Human-readable message.
    pub detail: String,
    /// Stable machine code, e.g. `validation_error`, `not_found`.
    #[schema(value_type = String)]
    pub code: ErrorCode,
}

/// A service error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// A 422 naming what is wrong.
    pub fn validation(detail: impl Into<String>) -> Self {
        ApiError(ServiceError::validation(detail))
    }
}

impl ResponseError for ApiError {
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
        resp.json(ErrorBody {
            detail: self.0.detail.clone(),
            code: self.0.code,
        })
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// A plain error response for a code (used by the default service and extractor configs).
pub fn error_response(code: ErrorCode, detail: impl Into<String>) -> HttpResponse {
    ApiError(ServiceError::new(code, detail)).error_response()
}
