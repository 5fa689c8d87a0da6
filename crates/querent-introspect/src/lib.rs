//! # querent-introspect
//!
//! Reads the catalogs of a target database (PostgreSQL `pg_catalog`, MySQL/MariaDB
//! `information_schema`, SQLite `sqlite_master` and the `pragma_*` table-valued functions)
//! into a [`SchemaSnapshot`]: tables and views, their columns (type, nullability, default,
//! comment), primary keys, unique constraints, foreign keys, comments, row-count estimates
//! and sampled values of low-cardinality text columns. Each snapshot carries a
//! [fingerprint](SchemaSnapshot::fingerprint) of the structure only, so that the semantic
//! model, the cache and drift reports can tell when the live schema changed (design §1, §8).
//!
//! Entry point: [`introspect`] with [`IntrospectOptions`]; failures are [`IntrospectError`].
//! [`Introspector`] is the `SchemaReader` port over it. The catalog queries themselves live
//! with each database's driver in querent-exec (`querent_exec::read_catalog`, one
//! `catalog.rs` per driver folder), next to the connection code they share; this crate
//! sorts, fingerprints and stamps what they read. Catalog reads are batched (a handful of
//! queries per call, never one per table); only sampling issues one small bounded query
//! per sampled column.
//!
//! Depends on: querent-domain (`ConnectionTarget`, `Secret`, the snapshot types),
//! querent-exec (the drivers), async-trait, thiserror. The snapshot is plain data, stored
//! as JSON in the metadata store and read by querent-sql (existence checks),
//! querent-semantic (linking, drafts, drift) and querent-offline (translation).
//!
//! Must never: write to a target database (PostgreSQL and MySQL reads run in a read-only
//! transaction with a statement timeout, SQLite files are opened read-only with
//! `query_only`), read table contents beyond bounded samples of low-cardinality text
//! columns (never of tables or columns the privacy policy excludes or masks), interpolate
//! an unquoted identifier or any value into SQL, put a password in an error or log line,
//! or depend on querent-app, querent-http or the metadata store.
//!
//! ## Example
//!
//! ```
//! use querent_domain::{ConnectionTarget, Dialect, SslMode};
//! use querent_introspect::{IntrospectOptions, introspect};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("shop.sqlite");
//! rusqlite::Connection::open(&path).unwrap()
//!     .execute_batch("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)").unwrap();
//! let target = ConnectionTarget {
//!     dialect: Dialect::Sqlite,
//!     host: None, port: None, database: None, username: None,
//!     path: Some(path.display().to_string()),
//!     ssl_mode: SslMode::Prefer,
//!     ca_certificate: None,
//! };
//! let snapshot = introspect(&target, None, &IntrospectOptions::default()).await.unwrap();
//! assert_eq!(snapshot.tables[0].name, "orders");
//! assert_eq!(snapshot.tables[0].primary_key, ["id"]);
//! # });
//! ```
//!
//! Also `examples/read_a_schema.rs`.

use querent_domain::{ConnectionTarget, Secret};

pub use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint, fingerprint,
};
pub use querent_exec::IntrospectOptions;

/// Why introspection failed. Messages carry the database's or driver's own text, never
/// the password.
#[derive(Debug, thiserror::Error)]
pub enum IntrospectError {
    /// Unreachable, refused, authentication failed, unknown database, or not a database file.
    #[error("connection to the target database failed: {0}")]
    Connection(String),
    /// The target did not answer within the given number of milliseconds.
    #[error("the target database did not answer within {0} ms")]
    Timeout(u64),
    /// A catalog query failed.
    #[error("reading the catalog failed: {0}")]
    Query(String),
    /// The connection settings are incomplete or malformed; the message names the field.
    #[error("invalid connection settings: {0}")]
    InvalidTarget(String),
}

impl From<querent_exec::ExecError> for IntrospectError {
    fn from(e: querent_exec::ExecError) -> Self {
        use querent_exec::ExecError;
        match e {
            ExecError::Connection(m) => IntrospectError::Connection(m),
            ExecError::Timeout(ms) => IntrospectError::Timeout(ms),
            ExecError::InvalidTarget(m) => IntrospectError::InvalidTarget(m),
            ExecError::Query(m) => IntrospectError::Query(m),
        }
    }
}

/// Reads the schema of `target` into a [`SchemaSnapshot`] (sorted, fingerprinted,
/// stamped with the current time).
pub async fn introspect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, IntrospectError> {
    let mut snapshot = querent_exec::read_catalog(target, password, options).await?;
    snapshot.taken_at = querent_domain::now_millis();
    snapshot.normalize();
    Ok(snapshot)
}

/// The [`querent_domain::ports::SchemaReader`] port implemented with [`introspect`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Introspector;

#[async_trait::async_trait]
impl querent_domain::ports::SchemaReader for Introspector {
    async fn read_schema(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        options: &querent_domain::ports::SchemaReadOptions,
    ) -> Result<SchemaSnapshot, querent_domain::ports::ProbeError> {
        use querent_domain::ports::ProbeError;
        let opts = IntrospectOptions {
            schemas: options.schemas.clone(),
            sample_values: options.sample_values,
            privacy: options.privacy.clone(),
            connect_timeout: options.connect_timeout,
            ..IntrospectOptions::default()
        };
        introspect(target, password, &opts)
            .await
            .map_err(|e| match e {
                IntrospectError::Timeout(ms) => ProbeError::Timeout(ms),
                IntrospectError::InvalidTarget(m) => ProbeError::InvalidTarget(m),
                other => ProbeError::Connection(other.to_string()),
            })
    }
}
