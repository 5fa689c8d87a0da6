//! The seed's errors: `{"error": {"code", "message"}}` with exactly its seven codes and
//! their statuses. Every native [`ErrorCode`] is given the closest of them (the table in
//! [`seed_code`], also in `docs/COMPAT.md`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use querent_app::ServiceError;
use querent_domain::ErrorCode;

use crate::error::ApiError;

/// An error on its way to a client of this layer.
#[derive(Debug)]
pub struct AiError(pub ServiceError);

impl From<ApiError> for AiError {
    fn from(e: ApiError) -> Self {
        AiError(e.0)
    }
}

impl From<ServiceError> for AiError {
    fn from(e: ServiceError) -> Self {
        AiError(e)
    }
}

impl std::fmt::Display for AiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl AiError {
    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        AiError(ServiceError::new(ErrorCode::NotFound, message))
    }

    /// 422 `validation_error`.
    pub fn validation(message: impl Into<String>) -> Self {
        AiError(ServiceError::validation(message))
    }

    /// The answer.
    pub fn respond(&self) -> HttpResponse {
        self.error_response()
    }
}

/// The seed's code and status for a native code.
pub fn seed_code(code: ErrorCode) -> (&'static str, u16) {
    use ErrorCode::*;
    match code {
        Unauthorized | InvalidCredentials | TokenExpired | InvalidToken | TokenReused => {
            ("authentication_error", 401)
        }
        Forbidden => ("authorization_error", 403),
        NotFound | MethodNotAllowed => ("not_found", 404),
        ValidationError | PayloadTooLarge | Conflict | AlreadyInitialized => {
            ("validation_error", 422)
        }
        RateLimited => ("rate_limit_exceeded", 429),
        ConnectionError => ("connection_error", 502),
        QueryError | QueryTimeout | GuardRejected | PolicyViolation | CannotTranslate
        | ProviderError | Unavailable | Internal | Interrupted | ShuttingDown => {
            ("query_error", 500)
        }
    }
}

impl ResponseError for AiError {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(seed_code(self.0.code).1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let (code, _) = seed_code(self.0.code);
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(secs) = self.0.retry_after {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if code == "authentication_error" {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(serde_json::json!({
            "error": {"code": code, "message": self.0.detail}
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_native_code_has_one_of_the_seeds() {
        let seed = [
            ("authentication_error", 401),
            ("authorization_error", 403),
            ("not_found", 404),
            ("validation_error", 422),
            ("rate_limit_exceeded", 429),
            ("query_error", 500),
            ("connection_error", 502),
        ];
        for c in ErrorCode::ALL {
            assert!(seed.contains(&seed_code(*c)), "{c}");
        }
    }
}
