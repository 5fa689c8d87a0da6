//! # querent-store
//!
//! Querent's metadata store: users, teams, refresh-token families, API clients, connections
//! (with encrypted secrets), audit log, login throttling and the per-caller request windows
//! of the rate limit (one atomic upsert per request), settings, schema snapshots, chat
//! sessions and messages, provider configurations, versioned semantic models
//! (`semantic.rs`), semantic cache entries and counters, verified examples (`cache.rs`), and
//! the analytics workspace (`workspace/`): saved queries with their tags and runs,
//! dashboards, workflows and their runs, asynchronous questions and assistants. Workflow
//! slots and questions are claimed by compare-and-set and leased rows are written only by
//! their lease's holder, so instances sharing one store never run a scheduled slot or take
//! a question twice. Built on diesel + diesel-async with two interchangeable backends:
//! embedded SQLite (the default: one file under the data directory, WAL, foreign keys on)
//! and PostgreSQL (`QUERENT_DATABASE_URL`) for several server instances sharing state. Both
//! run the same queries (one `table!` schema using only portable types) and pass one shared
//! test suite. Migrations for each backend live in `migrations/{sqlite,postgres}` and are
//! embedded in the binary; on PostgreSQL they run under an advisory lock, so instances
//! starting at once on one store migrate it once.
//!
//! [`Store`] implements the [`querent_domain::ports::MetadataStore`] port (and its
//! supertraits `SemanticModelStore`, `CacheStore`, `ExampleStore`, `WorkspaceStore`), the
//! repository the services in querent-app use, in their terms: each method is one short
//! unit of work that takes a pooled connection and gives it back before returning, so no
//! caller can hold a store connection across a stream or an LLM call. On SQLite, the reads
//! every chat makes run on diesel's synchronous connection (`sync.rs`), and a chat's two
//! writes (its question, its answer) are committed together with the other chats' writes
//! of the moment (`group.rs`), each still returning only once committed.
//!
//! Depends on: querent-domain, diesel, diesel-async, diesel_migrations, libsqlite3-sys
//! (bundled). Must never: decide authorisation (querent-app does), see a plaintext secret,
//! or build SQL from strings (every query is diesel's, parameterised).
//!
//! ## Example
//!
//! ```
//! use querent_domain::ports::MetadataStore;
//! use querent_store::{Store, StoreConfig};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(StoreConfig::sqlite(dir.path().join("querent.db"))).await?;
//! assert_eq!(store.count_users().await?, 0);
//! assert_eq!(store.migrate().await?, 0, "open ran the migrations");
//! # Ok::<(), querent_store::StoreError>(())
//! # }).unwrap();
//! ```
//!
//! Also `examples/embedded_store.rs`.

/// One unit of work on the PostgreSQL pool `$p` (for [`with_conn!`] and [`with_conn_sync!`]):
/// pooled connections are handed out unchecked to reads, and one that finds its connection
/// lost (its backend ended) runs once more on a checked one (`store::pg_lost`); with
/// `$verified` (writes) the connection is checked first and the body runs once.
macro_rules! pg_unit {
    ($p:expr, $verified:expr, $c:ident => $body:expr) => {{
        let mut checked: bool = $verified;
        loop {
            let mut guard = $crate::store::pg_checkout($p, checked).await?;
            let result = async {
                let $c: &mut diesel_async::AsyncPgConnection = &mut guard;
                $crate::store::unit_of_work($body)
            }
            .await;
            match result {
                Err(e) if !checked && $crate::store::pg_lost(&mut guard, &e.0).await => {
                    $crate::store::pg_discard(guard, &e.0);
                    checked = true;
                }
                other => break other,
            }
        }
    }};
}

/// Runs `$body` with `$c` bound to a pooled connection of whichever backend is configured.
/// The body is compiled once per backend; the connection goes back to the pool at the end.
/// On PostgreSQL a read's connection is handed out without a test query, and a read that
/// fails because the connection was lost (its backend ended while it sat in the pool) runs
/// once more on a checked connection (`store::pg_checkout`, `store::pg_lost`): so it may
/// run twice, and owns nothing it moves away (clone what it consumes). A write
/// ([`with_write!`]) gets a checked connection and runs once: a write that committed and
/// lost its reply is never applied again.
/// Defined before the modules so every one of them (store.rs, semantic.rs, cache.rs,
/// workspace/) can use it.
macro_rules! with_conn {
    ($self:expr, $c:ident => $body:expr) => {
        with_conn!(@verified false, $self, $c => $body)
    };
    // `$verified`: the connection is checked before the body runs, and the body never runs
    // again (a write: one that committed and lost its reply must not be applied twice).
    (@verified $verified:expr, $self:expr, $c:ident => $body:expr) => {{
        let result: Result<_, $crate::DbError> = async {
            match &*$self.pools {
                $crate::store::Pools::Sqlite(p) => {
                    let mut guard = p.get().await.map_err(|e| {
                        $crate::DbError($crate::StoreError::Unavailable(e.to_string()))
                    })?;
                    let $c: &mut $crate::store::SqliteConn = &mut guard;
                    $body
                }
                $crate::store::Pools::Postgres(p) => pg_unit!(p, $verified, $c => $body),
            }
        }
        .await;
        result.map_err(|e| e.0)
    }};
}

/// [`with_conn!`] for a unit of work that writes. On SQLite the process's writers take
/// turns at an async gate before taking a connection: SQLite has one writer at a time, and
/// writers that meet inside SQLite wait in its busy handler, which sleeps 1, 2, 5, 10, …
/// ms between attempts — under concurrent chats most of a request's time. Queued at the
/// gate they run back to back instead. Readers never take the gate (WAL: they do not block
/// the writer, nor it them). PostgreSQL has row locks and takes no gate; there a write's
/// connection is checked before use and the write runs once (see [`with_conn!`]).
macro_rules! with_write {
    ($self:expr, $c:ident => $body:expr) => {{
        let _turn = match &*$self.pools {
            $crate::store::Pools::Sqlite(_) => Some($self.write_gate.lock().await),
            $crate::store::Pools::Postgres(_) => None,
        };
        with_conn!(@verified true, $self, $c => $body)
    }};
}

/// [`with_conn!`] with the embedded store's statements on diesel's synchronous connection
/// (`sync.rs`): `$sync` is a `FnOnce(&mut SqliteConnection) -> Result<T, DbError>` owning
/// what it uses, run in place; `$c => $body` is PostgreSQL's, as in [`with_conn!`].
macro_rules! with_conn_sync {
    ($self:expr, $sync:expr, $c:ident => $body:expr) => {{
        let result: Result<_, $crate::DbError> = async {
            match &*$self.pools {
                $crate::store::Pools::Sqlite(p) => $crate::store::run_sync(p, $sync).await,
                $crate::store::Pools::Postgres(p) => pg_unit!(p, false, $c => $body),
            }
        }
        .await;
        result.map_err(|e| e.0)
    }};
}

mod aliases;
mod cache;
mod group;
mod invitations;
mod models;
mod schema;
mod semantic;
mod sharing;
mod statements;
mod store;
mod sync;
mod workspace;

pub use store::{Backend, Store, StoreConfig};

pub use querent_domain::ports::{Page, RefreshToken, StoreError, StoreResult};

/// Internal error wrapper: lets `?` turn diesel errors into [`StoreError`]s (diesel's
/// transaction API needs `From<diesel::result::Error>`, which the domain type cannot have).
#[derive(Debug)]
pub(crate) struct DbError(pub(crate) StoreError);

impl From<StoreError> for DbError {
    fn from(e: StoreError) -> Self {
        DbError(e)
    }
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        DbError(match e {
            Error::NotFound => StoreError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
                StoreError::MissingReference(info.message().to_owned())
            }
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Database(other.to_string()),
        })
    }
}

impl DbError {
    pub(crate) fn corrupt(what: String) -> Self {
        DbError(StoreError::Corrupt(what))
    }
}
