//! The services' error type: a stable machine code plus a human message. Built from the
//! lower crates' errors so each failure keeps its meaning (a store conflict is a 409, an
//! unreachable target a 502) without leaking internals in the message.

use querent_domain::ports::{CryptoError, StoreError};
use querent_domain::{ErrorCode, HasErrorCode};

/// A failed service call, as a client will see it.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {detail}")]
pub struct ServiceError {
    /// Stable machine code; decides the HTTP status.
    pub code: ErrorCode,
    /// Human-readable explanation, safe to show (never a secret or an internal trace).
    pub detail: String,
    /// For `rate_limited`: seconds until a retry may succeed.
    pub retry_after: Option<u64>,
}

impl ServiceError {
    /// An error with a code and message.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            retry_after: None,
        }
    }
    /// 422: the input is invalid; name the field in `detail`.
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationError, detail)
    }
    /// 404 for a resource kind.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }
    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }
    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }
    /// 401 without credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }
    /// 500: logs the cause, shows a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::Internal, "internal error; see the server log")
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ServiceError::new(ErrorCode::NotFound, "not found"),
            StoreError::Conflict(_) => {
                ServiceError::conflict("a resource with that name already exists")
            }
            StoreError::MissingReference(_) => {
                ServiceError::new(ErrorCode::NotFound, "a referenced resource does not exist")
            }
            StoreError::AlreadyInitialized => ServiceError::new(
                ErrorCode::AlreadyInitialized,
                "the server is already set up; log in instead",
            ),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "store unavailable");
                ServiceError::new(
                    ErrorCode::Unavailable,
                    "the metadata store is unavailable; retry shortly",
                )
            }
            other => ServiceError::internal(other),
        }
    }
}

impl From<CryptoError> for ServiceError {
    fn from(e: CryptoError) -> Self {
        ServiceError::internal(e)
    }
}

impl HasErrorCode for ServiceError {
    fn code(&self) -> ErrorCode {
        self.code
    }
}

/// Result alias for service calls.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Maps store errors to messages that name the resource or field.
pub(crate) trait NotFoundAs<T> {
    /// A store "not found" becomes a 404 naming the resource kind.
    fn or_not_found(self, what: &str) -> ServiceResult<T>;
    /// A store unique-constraint violation becomes a 409 with `detail` (which names the field).
    fn or_conflict(self, detail: impl FnOnce() -> String) -> ServiceResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &str) -> ServiceResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => ServiceError::not_found(what),
            other => other.into(),
        })
    }

    fn or_conflict(self, detail: impl FnOnce() -> String) -> ServiceResult<T> {
        self.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::conflict(detail()),
            other => other.into(),
        })
    }
}
