//! What every pooled driver shares: bounded deadpool pools of server connections, and the
//! lease that decides what happens to a connection after a query — back to the pool, thrown
//! away, or cancelled on the server and thrown away. Each driver's manager (how a
//! connection is made, checked and killed) is its `pool.rs` (`drivers/<name>/pool.rs`).

use std::time::Duration;

use deadpool::managed::{self, Object, Pool, PoolError, TimeoutType};
use querent_domain::query::ExecError as RunError;

use crate::error::ExecError;
use crate::millis;

/// Connections per target at most, unless [`crate::Engine::with_pool_size`] says otherwise.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// The drivers' own connect timeout; the real bound is the request's connect timeout,
/// applied by the pool around connection creation.
pub(crate) const DRIVER_CONNECT_CAP: Duration = Duration::from_secs(30);

/// How long the server-side cancellation of an abandoned query may take.
pub(crate) const CANCEL_BUDGET: Duration = Duration::from_secs(5);

/// An idle connection older than this is checked with a round trip before reuse.
pub(crate) const CHECK_AFTER_IDLE: Duration = Duration::from_secs(30);

/// A connection that can be cancelled on the server when its query is abandoned.
pub(crate) trait Kill: Send + Sized + 'static {
    /// Cancels whatever the connection is running (from another connection), then closes
    /// it. Runs in the background; does nothing without a tokio runtime.
    fn kill(self);
}

/// Spawns `fut` on the current runtime, if there is one (drop guards may run anywhere).
pub(crate) fn spawn_detached(fut: impl Future<Output = ()> + Send + 'static) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(fut);
    }
}

/// A bounded pool of `max_size` connections made by `manager`.
pub(crate) fn bounded<M: managed::Manager>(
    manager: M,
    max_size: usize,
) -> Result<Pool<M>, RunError> {
    Pool::builder(manager)
        .max_size(max_size)
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| RunError::Connection(format!("could not build the connection pool: {e}")))
}

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

/// Test helpers shared by the drivers' pool tests.
#[cfg(test)]
pub(crate) mod tests {
    use querent_domain::{ConnectionTarget, Dialect, SslMode};

    /// Whether a local service is up; without it querent-test-gate skips the test (or
    /// fails it under `QUERENT_REQUIRE_SERVICES=1`).
    pub(crate) async fn up(name: &str, addr: &str) -> bool {
        querent_test_gate::tcp(name, addr)
    }

    /// A target on the local test server.
    pub(crate) fn target(dialect: Dialect, port: u16, user: &str) -> ConnectionTarget {
        ConnectionTarget {
            dialect,
            host: Some("127.0.0.1".into()),
            port: Some(port),
            database: Some("test".into()),
            username: Some(user.into()),
            path: None,
            ssl_mode: SslMode::Prefer,
            ca_certificate: None,
        }
    }
}
