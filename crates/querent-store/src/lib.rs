//! # querent-store
//!
//! Querent's metadata store: users, teams, refresh-token families, API clients, connections
//! (with encrypted secrets), audit log, login throttling and settings. Built on diesel +
//! diesel-async with two interchangeable backends: embedded SQLite (the default: one file
//! under the data directory, WAL, foreign keys on) and PostgreSQL (`QUERENT_DATABASE_URL`)
//! for several server instances sharing state. Both run the same queries (one `table!`
//! schema using only portable types) and pass one shared test suite. Migrations for each
//! backend live in `migrations/{sqlite,postgres}` and are embedded in the binary.
//!
//! [`Store`] is the repository the services in querent-app use, in their terms: each method
//! is one short unit of work that takes a pooled connection and gives it back before
//! returning, so no caller can hold a store connection across a stream or an LLM call.
//!
//! Depends on: querent-domain, diesel, diesel-async, diesel_migrations, libsqlite3-sys
//! (bundled). Must never: decide authorisation (querent-app does), see a plaintext secret,
//! or build SQL from strings (every query is diesel's, parameterised).

mod models;
mod schema;
mod store;

pub use models::RefreshTokenRow;
pub use store::{Backend, Store, StoreConfig};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No row matched.
    #[error("not found")]
    NotFound,
    /// A unique constraint was violated (duplicate name, …).
    #[error("already exists: {0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("referenced row does not exist: {0}")]
    MissingReference(String),
    /// First-boot setup already happened.
    #[error("the server is already initialised")]
    AlreadyInitialized,
    /// No connection could be had from the pool (database down or pool exhausted).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be read back (unknown enum spelling, broken JSON).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("store error: {0}")]
    Database(String),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
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
        }
    }
}

/// Result alias.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a list: items in id (= creation) order.
#[derive(Debug, Clone)]
pub struct Page {
    /// Only rows with an id greater than this (the previous page's last id).
    pub after: Option<String>,
    /// At most this many rows.
    pub limit: i64,
}

impl Page {
    /// The first `limit` rows.
    pub fn first(limit: i64) -> Self {
        Self { after: None, limit }
    }
}
