//! The one table of machine-readable error codes. Every error a client can see carries one
//! of these; the HTTP layer maps each to exactly one status. Codes are stable API: add new
//! ones, never rename.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::UnknownVariant;

// `$wire` is a `tt` rather than a `literal` so that utoipa reads the serde rename (a
// `literal` fragment reaches derive macros inside an invisible group).
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident => ($wire:tt, $status:literal)),+ $(,)?) => {
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

        impl FromStr for ErrorCode {
            type Err = UnknownVariant;
            /// Reads a wire spelling back (e.g. a code stored as text), from the same table.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire => Ok(ErrorCode::$variant),)+
                    _ => Err(UnknownVariant {
                        kind: "ErrorCode",
                        value: s.to_owned(),
                        expected: &[$($wire),+],
                    }),
                }
            }
        }
    };
}

/// An error that knows the stable code a client sees for it. Each crate's error enum
/// implements it (`GuardError`, `ExecError`, `ProviderError`, `StoreError`…), so the
/// services map a failure to its code in one place and nothing invents codes elsewhere.
pub trait HasErrorCode {
    /// The stable code a client sees for this error.
    fn code(&self) -> ErrorCode;
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
    /// The path exists but not with this method; the `Allow` header lists the methods.
    MethodNotAllowed => ("method_not_allowed", 405),
    /// The server is stopping (SIGTERM or Ctrl-C): an answer in progress was ended; another
    /// instance, or this one once restarted, answers when asked again.
    ShuttingDown => ("shutting_down", 503),
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
        for c in ErrorCode::ALL {
            assert_eq!(c.as_str().parse::<ErrorCode>().unwrap(), *c);
        }
        let unknown = "no_such_code".parse::<ErrorCode>().unwrap_err();
        assert!(unknown.to_string().contains("not_found"), "{unknown}");
        assert_eq!(
            (
                ErrorCode::Interrupted.as_str(),
                ErrorCode::Interrupted.http_status()
            ),
            ("interrupted", 503)
        );
    }
}
