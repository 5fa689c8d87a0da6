//! MySQL and MariaDB targets (mysql_async): connecting, the version query, and the driver.
//! Its pool is `pool.rs`, execution `run.rs`, value decoding `values.rs`, the catalog
//! reader `catalog.rs`.

mod catalog;
mod pool;
mod run;
mod values;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool::managed::Pool;
use mysql_async::prelude::Queryable;
use querent_domain::query::{ExecError as RunError, QueryLimits, QueryOutcome, RowSink};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionTarget, Secret, SslMode};
use querent_sql::ValidatedSql;
use tokio::time::{Instant, timeout, timeout_at};

use self::pool::{MyManager, my_pool};
use crate::catalog::IntrospectOptions;
use crate::drivers::{Runner, RunnerSettings, TargetDriver};
use crate::error::{ExecError, chain, innermost_io, is_io_timeout, scrub};
use crate::pool::connect_error;
use crate::target::NetTarget;
use crate::{VERSION_QUERY_MARGIN, millis};

/// The MySQL and MariaDB driver.
pub(crate) struct Mysql;

#[async_trait]
impl TargetDriver for Mysql {
    async fn server_version(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        connect_timeout: Duration,
    ) -> Result<String, ExecError> {
        server_version(target, password, connect_timeout).await
    }

    fn runner(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        settings: &RunnerSettings<'_>,
    ) -> Result<Arc<dyn Runner>, RunError> {
        NetTarget::from_target(target).map_err(connect_error)?;
        Ok(Arc::new(MyRunner {
            pool: my_pool(target, password, settings.pool_size)?,
            password: password.cloned(),
        }))
    }

    async fn read_catalog(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        options: &IntrospectOptions,
    ) -> Result<SchemaSnapshot, ExecError> {
        catalog::introspect(target, password, options).await
    }
}

/// A target's pool of connections.
struct MyRunner {
    pool: Pool<MyManager>,
    /// Scrubbed from error messages.
    password: Option<Secret<String>>,
}

#[async_trait]
impl Runner for MyRunner {
    async fn run(
        &self,
        validated: &ValidatedSql,
        limits: &QueryLimits,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, RunError> {
        run::run(&self.pool, validated, limits, sink, self.password.as_ref()).await
    }

    fn pool_status(&self) -> Option<deadpool::Status> {
        Some(self.pool.status())
    }

    fn close(&self) {
        self.pool.close();
    }
}

/// Builds the driver options field by field (never a URL, so no escaping issues), with TLS
/// as `ssl` says (`crate::tls::mysql_ssl_opts`).
pub(crate) fn opts(
    target: &NetTarget<'_>,
    password: Option<&Secret<String>>,
    ssl: Option<mysql_async::SslOpts>,
) -> mysql_async::Opts {
    mysql_async::OptsBuilder::default()
        .ip_or_hostname(target.host)
        .tcp_port(target.port)
        .user(Some(target.username))
        .pass(password.map(|p| p.expose().as_str()))
        .db_name(Some(target.database))
        // Stay on the TCP connection the user configured: by default the driver switches
        // to the server's unix socket when the host is local.
        .prefer_socket(false)
        .ssl_opts(ssl)
        .into()
}

/// Validates the target and connects within `connect_timeout` (over TCP, never the local
/// socket). Errors carry the server's own message, never the password.
pub(crate) async fn connect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> Result<mysql_async::Conn, ExecError> {
    let net = NetTarget::from_target(target)?;
    let deadline = Instant::now() + connect_timeout;
    let ssl = crate::tls::mysql_ssl_opts(net.ssl_mode, net.ca_certificate)?;
    let tried_tls = ssl.is_some();
    let first = timeout_at(deadline, mysql_async::Conn::new(opts(&net, password, ssl))).await;
    let result = match first {
        // `prefer`: a server without TLS is spoken to in plain text.
        Ok(Err(mysql_async::Error::Driver(
            mysql_async::DriverError::NoClientSslFlagFromServer,
        ))) if tried_tls && net.ssl_mode == SslMode::Prefer => {
            timeout_at(deadline, mysql_async::Conn::new(opts(&net, password, None))).await
        }
        other => other,
    };
    match result {
        Err(_) => Err(ExecError::Timeout(millis(connect_timeout))),
        Ok(Err(e)) => Err(map_error(&e, &net, password, connect_timeout)),
        Ok(Ok(conn)) => Ok(conn),
    }
}

/// Connects, runs `SELECT VERSION()`, disconnects.
pub(crate) async fn server_version(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> Result<String, ExecError> {
    let started = Instant::now();
    let mut conn = connect(target, password, connect_timeout).await?;

    let budget = connect_timeout + VERSION_QUERY_MARGIN;
    let version = timeout_at(
        started + budget,
        conn.query_first::<String, _>("SELECT VERSION()"),
    )
    .await;
    let result = match version {
        Err(_) => Err(ExecError::Timeout(millis(budget))),
        Ok(Err(e)) => Err(ExecError::Query(scrub(my_message(&e), password))),
        Ok(Ok(None)) => Err(ExecError::Query(
            "SELECT VERSION() returned no row".to_owned(),
        )),
        Ok(Ok(Some(v))) => Ok(v),
    };
    if result.is_ok() {
        // A polite COM_QUIT; failing to say goodbye does not make the test fail.
        match timeout(VERSION_QUERY_MARGIN, conn.disconnect()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(error = %e, "mysql disconnect failed"),
            Err(_) => tracing::debug!("mysql disconnect timed out"),
        }
    }
    result
}

/// Turns a connect error into [`ExecError`]: the server's message when it sent one
/// (access denied, unknown database, …), else the driver's chain prefixed by the address.
fn map_error(
    err: &mysql_async::Error,
    net: &NetTarget<'_>,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> ExecError {
    if is_io_timeout(err) {
        return ExecError::Timeout(millis(connect_timeout));
    }
    let message = match err {
        mysql_async::Error::Server(_) => my_message(err),
        // The driver wraps socket errors twice ("Input/output error: Input/output error: …");
        // the socket error itself says it all.
        _ => match innermost_io(err) {
            Some(io) => format!("{}:{}: {io}", net.host, net.port),
            None => format!("{}:{}: {}", net.host, net.port, my_message(err)),
        },
    };
    ExecError::Connection(scrub(message, password))
}

/// The most useful text of a mysql_async error: for server errors the message with code
/// and SQLSTATE; otherwise the error with its sources.
pub(crate) fn my_message(err: &mysql_async::Error) -> String {
    match err {
        mysql_async::Error::Server(e) => {
            format!("{} [error {}, SQLSTATE {}]", e.message, e.code, e.state)
        }
        other => chain(other),
    }
}

#[cfg(test)]
mod tests {
    use querent_domain::{Dialect, SslMode};

    use super::*;

    #[test]
    fn opts_are_built_field_by_field() {
        let target = ConnectionTarget {
            dialect: Dialect::Mysql,
            host: Some("db.internal".to_owned()),
            port: Some(3307),
            database: Some("my db`x".to_owned()),
            username: Some("o'neil".to_owned()),
            path: None,
            ssl_mode: SslMode::Prefer,
            ca_certificate: None,
        };
        let net = NetTarget::from_target(&target).unwrap();
        let pw = Secret::new("p@ss:w/rd?".to_owned());
        let o = opts(&net, Some(&pw), None);
        assert_eq!(o.ip_or_hostname(), "db.internal");
        assert_eq!(o.tcp_port(), 3307);
        assert_eq!(o.user(), Some("o'neil"));
        assert_eq!(o.pass(), Some("p@ss:w/rd?"));
        assert_eq!(o.db_name(), Some("my db`x"));
        assert!(!o.prefer_socket());
        assert!(o.ssl_opts().is_none());
    }
}
