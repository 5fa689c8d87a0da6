//! Connection pools for networked targets (deadpool managers for tokio-postgres and
//! mysql_async) and the lease that decides what happens to a connection after a query:
//! back to the pool, thrown away, or cancelled on the server and thrown away.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, Pool, PoolError, RecycleError, TimeoutType};
use mysql_async::prelude::Queryable;
use querent_domain::query::ExecError as RunError;
use querent_domain::{ConnectionTarget, Secret};
use tokio_postgres::NoTls;

use crate::error::ExecError;
use crate::millis;

/// Connections per target at most, unless [`crate::Engine::with_pool_size`] says otherwise.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// The drivers' own connect timeout; the real bound is the request's connect timeout,
/// applied by the pool around connection creation.
const DRIVER_CONNECT_CAP: Duration = Duration::from_secs(30);

/// How long the server-side cancellation of an abandoned query may take.
const CANCEL_BUDGET: Duration = Duration::from_secs(5);

/// An idle connection older than this is checked with a round trip before reuse.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(30);

/// A connection that can be cancelled on the server when its query is abandoned.
pub(crate) trait Kill: Send + Sized + 'static {
    /// Cancels whatever the connection is running (from another connection), then closes
    /// it. Runs in the background; does nothing without a tokio runtime.
    fn kill(self);
}

/// Spawns `fut` on the current runtime, if there is one (drop guards may run anywhere).
fn spawn_detached(fut: impl Future<Output = ()> + Send + 'static) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(fut);
    }
}

// ---------------------------------------------------------------- postgres

/// Creates tokio-postgres connections to one target.
pub(crate) struct PgManager {
    target: ConnectionTarget,
    password: Option<Secret<String>>,
    application_name: String,
}

/// A pooled PostgreSQL connection.
pub(crate) struct PgConn {
    /// The client; its socket is driven by a spawned task that ends when it is dropped.
    pub client: tokio_postgres::Client,
}

impl managed::Manager for PgManager {
    type Type = PgConn;
    type Error = ExecError;

    async fn create(&self) -> Result<PgConn, ExecError> {
        let (client, _driver) = crate::postgres::connect(
            &self.target,
            self.password.as_ref(),
            DRIVER_CONNECT_CAP,
            &self.application_name,
        )
        .await?;
        Ok(PgConn { client })
    }

    async fn recycle(
        &self,
        conn: &mut PgConn,
        metrics: &Metrics,
    ) -> managed::RecycleResult<ExecError> {
        if conn.client.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        if metrics.last_used() > CHECK_AFTER_IDLE {
            conn.client
                .check_connection()
                .await
                .map_err(|e| RecycleError::message(format!("connection check failed: {e}")))?;
        }
        Ok(())
    }
}

impl Kill for PgConn {
    fn kill(self) {
        let token = self.client.cancel_token();
        spawn_detached(async move {
            match tokio::time::timeout(CANCEL_BUDGET, token.cancel_query(NoTls)).await {
                Ok(Ok(())) => tracing::debug!("cancelled an abandoned postgres query"),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not cancel an abandoned postgres query")
                }
                Err(_) => tracing::warn!("cancelling an abandoned postgres query timed out"),
            }
            drop(self);
        });
    }
}

/// A bounded pool of PostgreSQL connections to one target.
pub(crate) fn pg_pool(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    application_name: &str,
    max_size: usize,
) -> Result<Pool<PgManager>, RunError> {
    let manager = PgManager {
        target: target.clone(),
        password: password.cloned(),
        application_name: application_name.to_owned(),
    };
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| RunError::Connection(format!("could not build the connection pool: {e}")))
}

// ---------------------------------------------------------------- mysql / mariadb

/// Creates mysql_async connections to one target.
pub(crate) struct MyManager {
    target: ConnectionTarget,
    password: Option<Secret<String>>,
}

/// A pooled MySQL or MariaDB connection.
pub(crate) struct MyConn {
    /// The connection.
    pub conn: mysql_async::Conn,
    /// Whether the server is MariaDB (statement timeouts are set differently).
    pub mariadb: bool,
}

impl managed::Manager for MyManager {
    type Type = MyConn;
    type Error = ExecError;

    async fn create(&self) -> Result<MyConn, ExecError> {
        let mut conn =
            crate::mysql::connect(&self.target, self.password.as_ref(), DRIVER_CONNECT_CAP).await?;
        let version: Option<String> = conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(|e| ExecError::Connection(crate::mysql::my_message(&e)))?;
        let mariadb = version.is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"));
        Ok(MyConn { conn, mariadb })
    }

    async fn recycle(
        &self,
        conn: &mut MyConn,
        metrics: &Metrics,
    ) -> managed::RecycleResult<ExecError> {
        if metrics.last_used() > CHECK_AFTER_IDLE {
            conn.conn
                .ping()
                .await
                .map_err(|e| RecycleError::message(format!("connection check failed: {e}")))?;
        }
        Ok(())
    }
}

impl Kill for MyConn {
    fn kill(self) {
        let id = self.conn.id();
        let opts = self.conn.opts().clone();
        spawn_detached(async move {
            let killed = tokio::time::timeout(CANCEL_BUDGET, async move {
                let mut killer = mysql_async::Conn::new(opts).await?;
                killer.query_drop(format!("KILL QUERY {id}")).await?;
                killer.disconnect().await
            })
            .await;
            match killed {
                Ok(Ok(())) => tracing::debug!(id, "killed an abandoned mysql query"),
                Ok(Err(e)) => {
                    tracing::warn!(id, error = %e, "could not kill an abandoned mysql query")
                }
                Err(_) => tracing::warn!(id, "killing an abandoned mysql query timed out"),
            }
            drop(self);
        });
    }
}

/// A bounded pool of MySQL/MariaDB connections to one target.
pub(crate) fn my_pool(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    max_size: usize,
) -> Result<Pool<MyManager>, RunError> {
    let manager = MyManager {
        target: target.clone(),
        password: password.cloned(),
    };
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| RunError::Connection(format!("could not build the connection pool: {e}")))
}

// ---------------------------------------------------------------- checkout and lease

/// A connect-time error as the query engine reports it.
pub(crate) fn connect_error(e: ExecError) -> RunError {
    match e {
        ExecError::Connection(m) | ExecError::Query(m) => RunError::Connection(m),
        ExecError::Timeout(ms) => {
            RunError::Connection(format!("the target database did not answer within {ms} ms"))
        }
        ExecError::InvalidTarget(m) => {
            RunError::Connection(format!("invalid connection settings: {m}"))
        }
    }
}

/// Takes a connection from the pool: creating one must finish within `connect_timeout`
/// ([`RunError::Connection`] otherwise), and waiting for a free slot too
/// ([`RunError::Busy`] otherwise).
pub(crate) async fn checkout<M>(
    pool: &Pool<M>,
    connect_timeout: Duration,
) -> Result<Lease<M>, RunError>
where
    M: managed::Manager<Error = ExecError>,
    M::Type: Kill,
{
    let timeouts = managed::Timeouts {
        wait: Some(connect_timeout),
        create: Some(connect_timeout),
        recycle: Some(connect_timeout),
    };
    match pool.timeout_get(&timeouts).await {
        Ok(obj) => Ok(Lease {
            obj: Some(obj),
            on_drop: OnDrop::Kill,
        }),
        Err(PoolError::Timeout(TimeoutType::Wait)) => Err(RunError::Busy),
        Err(PoolError::Timeout(_)) => Err(RunError::Connection(format!(
            "the target database did not answer within {} ms",
            millis(connect_timeout)
        ))),
        Err(PoolError::Backend(e)) => Err(connect_error(e)),
        Err(PoolError::Closed) => Err(RunError::Connection(
            "the connection was changed or removed while the query was starting".to_owned(),
        )),
        Err(other) => Err(RunError::Connection(format!("connection pool: {other}"))),
    }
}

/// What a [`Lease`] does with its connection when it is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OnDrop {
    /// The query may still be running: cancel it on the server, close the connection.
    Kill,
    /// The connection's state is unknown: close it.
    Discard,
    /// The transaction was rolled back cleanly: return it to the pool.
    Return,
}

/// A checked-out connection. Unless [`Lease::release`] or [`Lease::discard`] is called,
/// dropping it (the request future was dropped, the sink went away, the safety timeout
/// fired) cancels the running query on the server and never returns the connection.
pub(crate) struct Lease<M>
where
    M: managed::Manager,
    M::Type: Kill,
{
    obj: Option<Object<M>>,
    on_drop: OnDrop,
}

impl<M> Lease<M>
where
    M: managed::Manager,
    M::Type: Kill,
{
    /// The connection.
    pub fn conn(&mut self) -> &mut M::Type {
        // Invariant: `obj` is only taken in `drop`, so it is present for the lease's life.
        self.obj
            .as_deref_mut()
            .expect("a lease holds its connection until dropped")
    }

    /// Returns the connection to the pool (after a clean rollback).
    pub fn release(mut self) {
        self.on_drop = OnDrop::Return;
    }

    /// Closes the connection instead of returning it (after an error).
    pub fn discard(mut self) {
        self.on_drop = OnDrop::Discard;
    }
}

impl<M> Drop for Lease<M>
where
    M: managed::Manager,
    M::Type: Kill,
{
    fn drop(&mut self) {
        let Some(obj) = self.obj.take() else { return };
        match self.on_drop {
            OnDrop::Return => drop(obj),
            OnDrop::Discard => drop(Object::take(obj)),
            OnDrop::Kill => Object::take(obj).kill(),
        }
    }
}
