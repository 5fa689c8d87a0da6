//! PostgreSQL targets (tokio-postgres): connecting, the version query, and the driver.
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
use querent_domain::query::{ExecError as RunError, QueryLimits, QueryOutcome, RowSink};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionTarget, Secret, SslMode};
use querent_sql::ValidatedSql;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_postgres::{NoTls, SimpleQueryMessage};

use self::pool::{PgManager, pg_pool};
use crate::catalog::IntrospectOptions;
use crate::drivers::{Runner, RunnerSettings, TargetDriver};
use crate::error::{ExecError, chain, is_io_timeout, scrub};
use crate::pool::connect_error;
use crate::target::NetTarget;
use crate::tls::PgTls;
use crate::{VERSION_QUERY_MARGIN, millis};

/// The PostgreSQL driver.
pub(crate) struct Postgres;

#[async_trait]
impl TargetDriver for Postgres {
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
        Ok(Arc::new(PgRunner {
            pool: pg_pool(
                target,
                password,
                settings.application_name,
                settings.pool_size,
            )?,
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
struct PgRunner {
    pool: Pool<PgManager>,
    /// Scrubbed from error messages.
    password: Option<Secret<String>>,
}

#[async_trait]
impl Runner for PgRunner {
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

/// Builds the driver configuration field by field: values are never spliced into a
/// connection string, so spaces, quotes and backslashes in them are harmless.
pub(crate) fn config(
    target: &NetTarget<'_>,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
    application_name: &str,
) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(target.host)
        .port(target.port)
        .dbname(target.database)
        .user(target.username)
        .application_name(application_name)
        .connect_timeout(connect_timeout)
        // `prefer` falls back to a plain connection when the server offers no TLS; the
        // certificate checks are the connector's (`crate::tls`).
        .ssl_mode(match target.ssl_mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        });
    if let Some(pw) = password {
        config.password(pw.expose().as_bytes());
    }
    config
}

/// Validates the target and connects within `connect_timeout`, announcing
/// `application_name`. Returns the client and the task driving the socket (it ends by itself
/// once the client is dropped; abort it to give up on a stuck server). Errors carry the
/// server's own message, never the password.
pub(crate) async fn connect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
    application_name: &str,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), ExecError> {
    let tls = pg_tls(target)?;
    connect_with(
        target,
        password,
        connect_timeout,
        application_name,
        tls.as_ref(),
    )
    .await
}

/// The TLS connector of a target's `ssl_mode` (`None` for `disable`).
pub(crate) fn pg_tls(target: &ConnectionTarget) -> Result<Option<PgTls>, ExecError> {
    Ok(crate::tls::client_config(target.ssl_mode, target.ca_certificate.as_deref())?.map(PgTls))
}

/// [`connect`] with a connector made beforehand (pools make it once).
pub(crate) async fn connect_with(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
    application_name: &str,
    tls: Option<&PgTls>,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), ExecError> {
    let net = NetTarget::from_target(target)?;
    let config = config(&net, password, connect_timeout, application_name);
    match tls {
        None => open(&config, NoTls, &net, password, connect_timeout).await,
        Some(tls) => open(&config, tls.clone(), &net, password, connect_timeout).await,
    }
}

async fn open<T>(
    config: &tokio_postgres::Config,
    tls: T,
    net: &NetTarget<'_>,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), ExecError>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = match timeout(connect_timeout, config.connect(tls)).await {
        Err(_) => return Err(ExecError::Timeout(millis(connect_timeout))),
        Ok(Err(e)) => return Err(map_error(&e, net, password, connect_timeout)),
        Ok(Ok(pair)) => pair,
    };
    let driver = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "postgres connection task ended with an error");
        }
    });
    Ok((client, driver))
}

/// Connects, runs `SELECT version()`, disconnects.
pub(crate) async fn server_version(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> Result<String, ExecError> {
    let started = Instant::now();
    let (client, driver) = connect(target, password, connect_timeout, "querent").await?;

    let budget = connect_timeout + VERSION_QUERY_MARGIN;
    let result = match timeout_at(started + budget, client.simple_query("SELECT version()")).await {
        Err(_) => Err(ExecError::Timeout(millis(budget))),
        Ok(Err(e)) => Err(ExecError::Query(scrub(pg_message(&e), password))),
        Ok(Ok(messages)) => messages
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .ok_or_else(|| ExecError::Query("SELECT version() returned no row".to_owned())),
    };
    drop(client);
    if result.is_err() {
        // The server may be stuck; do not leave a task waiting on it.
        driver.abort();
    }
    result
}

/// Turns a connect error into [`ExecError`]: the server's own message when it sent one
/// (authentication failed, database does not exist, …), else the driver's chain
/// (connection refused, name resolution, …) prefixed by the address.
fn map_error(
    err: &tokio_postgres::Error,
    net: &NetTarget<'_>,
    password: Option<&Secret<String>>,
    connect_timeout: Duration,
) -> ExecError {
    if is_io_timeout(err) {
        return ExecError::Timeout(millis(connect_timeout));
    }
    let message = if err.as_db_error().is_some() {
        pg_message(err)
    } else {
        format!("{}:{}: {}", net.host, net.port, pg_message(err))
    };
    ExecError::Connection(scrub(message, password))
}

/// The most useful text of a postgres error: for server errors the message, detail, hint
/// and SQLSTATE; otherwise the error with its sources.
pub(crate) fn pg_message(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => {
            let mut out = db.message().to_owned();
            if let Some(detail) = db.detail() {
                out.push_str(" (");
                out.push_str(detail);
                out.push(')');
            }
            if let Some(hint) = db.hint() {
                out.push_str("; hint: ");
                out.push_str(hint);
            }
            out.push_str(" [SQLSTATE ");
            out.push_str(db.code().code());
            out.push(']');
            out
        }
        None => chain(err),
    }
}

#[cfg(test)]
mod tests {
    use querent_domain::Dialect;
    use tokio_postgres::config::Host;

    use super::*;

    #[test]
    fn config_is_built_field_by_field() {
        let target = ConnectionTarget {
            dialect: Dialect::Postgres,
            host: Some("db.internal".to_owned()),
            port: None,
            database: Some("my db 'quoted'".to_owned()),
            username: Some("user name\\x".to_owned()),
            path: None,
            ssl_mode: SslMode::Disable,
            ca_certificate: None,
        };
        let net = NetTarget::from_target(&target).unwrap();
        let pw = Secret::new("p a s s' =w".to_owned());
        let c = config(&net, Some(&pw), Duration::from_millis(1500), "querent");
        assert!(matches!(c.get_hosts(), [Host::Tcp(h)] if h == "db.internal"));
        assert_eq!(c.get_ports(), &[5432]);
        assert_eq!(c.get_dbname(), Some("my db 'quoted'"));
        assert_eq!(c.get_user(), Some("user name\\x"));
        assert_eq!(c.get_password(), Some(&b"p a s s' =w"[..]));
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_millis(1500)));
        assert_eq!(c.get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        assert!(!format!("{c:?}").contains("p a s s"));
    }
}
