//! The crate's error type and helpers that turn driver errors into safe messages.

use querent_domain::Secret;

/// Why talking to a target database failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Unreachable, refused, authentication failed, the database does not exist, TLS
    /// required but unavailable, or the file is not a database. Carries the server's or the
    /// driver's message (never the password).
    #[error("connection to the target database failed: {0}")]
    Connection(String),
    /// The target did not answer within the given number of milliseconds.
    #[error("the target database did not answer within {0} ms")]
    Timeout(u64),
    /// The connection settings are incomplete or malformed; the message names the field.
    #[error("invalid connection settings: {0}")]
    InvalidTarget(String),
    /// A statement sent to the target failed.
    #[error("query failed: {0}")]
    Query(String),
}

/// Passwords shorter than this are not scrubbed from messages: replacing every occurrence
/// of one or two characters would mangle the message while protecting nothing.
const MIN_SCRUB_LEN: usize = 3;

/// Removes every occurrence of the password from a driver message (defence in depth: no
/// driver is known to echo it, but a message must never carry it).
pub(crate) fn scrub(message: String, password: Option<&Secret<String>>) -> String {
    match password.map(|p| p.expose().as_str()) {
        Some(pw) if pw.len() >= MIN_SCRUB_LEN && message.contains(pw) => {
            message.replace(pw, "[redacted]")
        }
        _ => message,
    }
}

/// An error and its chain of sources, joined with `: ` (skipping repeats), because several
/// drivers put the useful part (e.g. "Connection refused") only in the source.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The deepest I/O error in an error's chain, if any (its text, e.g. "Connection refused
/// (os error 111)", is often all a person needs).
pub(crate) fn innermost_io<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a std::io::Error> {
    let mut found = None;
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            found = Some(io);
        }
        current = e.source();
    }
    found
}

/// Whether an I/O timeout appears anywhere in an error's chain.
pub(crate) fn is_io_timeout(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_the_password() {
        let pw = Secret::new("s3cr3t pw".to_owned());
        let msg = scrub("auth failed for 's3cr3t pw'".to_owned(), Some(&pw));
        assert!(!msg.contains("s3cr3t"));
        assert!(msg.contains("[redacted]"));
        assert_eq!(scrub("x".to_owned(), None), "x");
        let short = Secret::new("a".to_owned());
        assert_eq!(scrub("abc".to_owned(), Some(&short)), "abc");
    }

    #[test]
    fn chain_includes_sources_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused",
        ));
        assert_eq!(chain(&e), "outer: Connection refused");
        assert!(!is_io_timeout(&e));
        assert_eq!(
            innermost_io(&e).map(|io| io.to_string()).as_deref(),
            Some("Connection refused")
        );
        let t = Outer(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
        assert!(is_io_timeout(&t));
    }

    #[test]
    fn messages_read_well() {
        assert_eq!(
            ExecError::Timeout(300).to_string(),
            "the target database did not answer within 300 ms"
        );
        assert_eq!(
            ExecError::Connection("refused".to_owned()).to_string(),
            "connection to the target database failed: refused"
        );
    }
}
