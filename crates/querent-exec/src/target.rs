//! Validation of a [`ConnectionTarget`] into what a network driver needs.

use querent_domain::{ConnectionTarget, SslMode};

use crate::error::ExecError;

/// The fields a server target (PostgreSQL, MySQL) must have, checked and defaulted.
#[derive(Debug)]
pub(crate) struct NetTarget<'a> {
    pub host: &'a str,
    pub port: u16,
    pub database: &'a str,
    pub username: &'a str,
    /// TLS, as `crate::tls` reads it.
    pub ssl_mode: SslMode,
    /// The CA certificate(s), PEM, for `verify-ca` and `verify-full`.
    pub ca_certificate: Option<&'a str>,
}

impl<'a> NetTarget<'a> {
    /// Checks the required fields (naming the first one missing), applies the dialect's
    /// default port.
    pub fn from_target(target: &'a ConnectionTarget) -> Result<Self, ExecError> {
        let dialect = target.dialect;
        let host = required(target.host.as_deref(), "host", dialect)?;
        let database = required(target.database.as_deref(), "database", dialect)?;
        let username = required(target.username.as_deref(), "username", dialect)?;
        let port = match target.port {
            None => match dialect.default_port() {
                Some(p) => p,
                None => {
                    return Err(ExecError::InvalidTarget(format!(
                        "port is required for {dialect} connections"
                    )));
                }
            },
            Some(0) => {
                return Err(ExecError::InvalidTarget(
                    "port must be between 1 and 65535".to_owned(),
                ));
            }
            Some(p) => p,
        };
        Ok(Self {
            host,
            port,
            database,
            username,
            ssl_mode: target.ssl_mode,
            ca_certificate: target.ca_certificate.as_deref(),
        })
    }
}

/// A field that must be present and not blank; the error names it.
pub(crate) fn required<'a>(
    value: Option<&'a str>,
    field: &str,
    dialect: querent_domain::Dialect,
) -> Result<&'a str, ExecError> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ExecError::InvalidTarget(format!(
            "{field} is required for {dialect} connections"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use querent_domain::Dialect;

    use super::*;

    fn target() -> ConnectionTarget {
        ConnectionTarget {
            dialect: Dialect::Postgres,
            host: Some("db.example".to_owned()),
            port: None,
            database: Some("sales".to_owned()),
            username: Some("reader".to_owned()),
            path: None,
            ssl_mode: SslMode::Prefer,
            ca_certificate: None,
        }
    }

    fn invalid(t: &ConnectionTarget) -> String {
        match NetTarget::from_target(t) {
            Err(ExecError::InvalidTarget(m)) => m,
            other => panic!("expected InvalidTarget, got {other:?}"),
        }
    }

    #[test]
    fn defaults_the_port() {
        let t = target();
        let n = NetTarget::from_target(&t).unwrap();
        assert_eq!(
            (n.host, n.port, n.database, n.username),
            ("db.example", 5432, "sales", "reader")
        );
    }

    #[test]
    fn names_the_missing_field() {
        let mut t = target();
        t.host = None;
        assert!(invalid(&t).contains("host"));
        let mut t = target();
        t.host = Some("  ".to_owned());
        assert!(invalid(&t).contains("host"));
        let mut t = target();
        t.database = None;
        assert!(invalid(&t).contains("database"));
        let mut t = target();
        t.username = Some(String::new());
        assert!(invalid(&t).contains("username"));
        let mut t = target();
        t.port = Some(0);
        assert!(invalid(&t).contains("port"));
    }
}
