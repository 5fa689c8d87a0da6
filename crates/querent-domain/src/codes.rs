//! The one table of machine-readable error codes. Every error a client can see carries one
//! of these; the HTTP layer maps each to exactly one status. Codes are stable API: add new
//! ones, never rename.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => ($wire:literal, $status:literal)),+ $(,)?) => {
        /// A stable machine error code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $wire)] $variant),+
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];
            /// The stable wire spelling, e.g. `not_found`.
            pub fn as_str(&self) -> &'static str {
                match self { $(ErrorCode::$variant => $wire),+ }
            }
            /// The HTTP status this code is served with.
            pub fn http_status(&self) -> u16 {
                match self { $(ErrorCode::$variant => $status),+ }
            }
        }
    };
}

codes! {
    /// The request body or a parameter is malformed or fails validation.
    ValidationError => ("validation_error", 422),
    /// The request body exceeds the configured size limit.
    PayloadTooLarge => ("payload_too_large", 413),
    /// No valid credentials were presented.
    Unauthorized => ("unauthorized", 401),
    /// Username or password is wrong (deliberately not saying which).
    InvalidCredentials => ("invalid_credentials", 401),
    /// The access token has expired.
    TokenExpired => ("token_expired", 401),
    /// The token is malformed, tampered with, or of an unaccepted algorithm.
    InvalidToken => ("invalid_token", 401),
    /// A rotated-out refresh token was presented; its whole family is now revoked.
    TokenReused => ("token_reused", 401),
    /// Authenticated, but the role or scope does not allow this.
    Forbidden => ("forbidden", 403),
    /// The resource does not exist or is not visible to the caller.
    NotFound => ("not_found", 404),
    /// The request conflicts with the current state (duplicate name, …).
    Conflict => ("conflict", 409),
    /// First-boot setup was already done.
    AlreadyInitialized => ("already_initialized", 409),
    /// Too many attempts; retry later.
    RateLimited => ("rate_limited", 429),
    /// A target database could not be reached or refused the connection.
    ConnectionError => ("connection_error", 502),
    /// The target database rejected the query.
    QueryError => ("query_error", 422),
    /// The query ran longer than the statement timeout and was cancelled.
    QueryTimeout => ("query_timeout", 504),
    /// The SQL guard refused the statement.
    GuardRejected => ("guard_rejected", 422),
    /// The statement touches something the privacy policy excludes.
    PolicyViolation => ("policy_violation", 403),
    /// The translator could not understand the question.
    CannotTranslate => ("cannot_translate", 422),
    /// An LLM provider failed.
    ProviderError => ("provider_error", 502),
    /// The server is not ready (store unreachable, pool exhausted).
    Unavailable => ("unavailable", 503),
    /// A bug or an unexpected failure on our side.
    Internal => ("internal_error", 500),
    /// The server stopped (crash or restart) while it was answering; the question can be
    /// asked again.
    Interrupted => ("interrupted", 503),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_client_errors_are_4xx() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert!((400..600).contains(&c.http_status()));
        }
        assert_eq!(ErrorCode::ValidationError.http_status(), 422);
        assert_eq!(ErrorCode::Internal.http_status(), 500);
        assert_eq!(
            (
                ErrorCode::Interrupted.as_str(),
                ErrorCode::Interrupted.http_status()
            ),
            ("interrupted", 503)
        );
    }
}
