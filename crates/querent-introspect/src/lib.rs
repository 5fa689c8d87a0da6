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
//! Catalog reads are batched (a handful of queries per call, never one per table); only
//! sampling issues one small bounded query per sampled column.
//!
//! Depends on: querent-domain (`ConnectionTarget`, `Secret`, `Dialect`), querent-exec (it
//! connects to PostgreSQL and MySQL with exec's `connect` functions, so target validation,
//! timeouts and error messages are the same as for connection tests), serde, the drivers
//! tokio-postgres, mysql_async and rusqlite (bundled SQLite). The snapshot is plain
//! data, stored as JSON in the metadata store and read by querent-sql (existence checks),
//! querent-semantic (linking, drafts, drift) and querent-offline (translation).
//!
//! Must never: write to a target database (PostgreSQL and MySQL reads run in a read-only
//! transaction with a statement timeout, SQLite files are opened read-only with
//! `query_only`), read table contents beyond bounded samples of low-cardinality text
//! columns (never of tables or columns the privacy policy excludes or masks), interpolate
//! an unquoted identifier or any value into SQL, put a password in an error or log line,
//! or depend on querent-exec, querent-app, querent-http or the metadata store.
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
//! };
//! let snapshot = introspect(&target, None, &IntrospectOptions::default()).await.unwrap();
//! assert_eq!(snapshot.tables[0].name, "orders");
//! assert_eq!(snapshot.tables[0].primary_key, ["id"]);
//! # });
//! ```
//!
//! Also `examples/read_a_schema.rs`.

use std::time::Duration;

use querent_domain::{ConnectionTarget, Dialect, PrivacyPolicy, Secret};

mod mysql;
mod postgres;
mod sqlite;

pub use querent_domain::schema::{
    ColumnInfo, ForeignKey, SchemaSnapshot, TableInfo, TableKind, UniqueConstraint, fingerprint,
};

/// What to read and how long to wait.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntrospectOptions {
    /// Schemas to read. Empty: PostgreSQL `public`, MySQL the connection's database,
    /// SQLite `main`.
    pub schemas: Vec<String>,
    /// Whether to sample distinct values of low-cardinality text columns of base tables.
    pub sample_values: bool,
    /// A column is sampled only when it shows at most this many distinct non-null values
    /// among the rows scanned; that many are kept (default 10).
    pub max_distinct_samples: usize,
    /// At most this many rows of a table are scanned per sampled column (a `LIMIT` in a
    /// subquery), which bounds the cost of sampling on large tables (default 10,000).
    pub max_sample_rows: u64,
    /// At most this many columns are sampled per call (default 200).
    pub max_sampled_columns: usize,
    /// Excluded tables, excluded columns and masked column patterns are never sampled
    /// (they are still listed in the snapshot).
    pub privacy: PrivacyPolicy,
    /// How long to wait for the connection (default 10 s).
    pub connect_timeout: Duration,
    /// Statement timeout for each catalog or sample query (default 30 s).
    pub query_timeout: Duration,
}

impl Default for IntrospectOptions {
    fn default() -> Self {
        Self {
            schemas: Vec::new(),
            sample_values: true,
            max_distinct_samples: 10,
            max_sample_rows: 10_000,
            max_sampled_columns: 200,
            privacy: PrivacyPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            query_timeout: Duration::from_secs(30),
        }
    }
}

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

pub(crate) use querent_exec::{chain, millis, required, scrub};

/// Reads the schema of `target` into a [`SchemaSnapshot`] (sorted, fingerprinted,
/// stamped with the current time).
pub async fn introspect(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, IntrospectError> {
    let mut snapshot = match target.dialect {
        Dialect::Postgres => postgres::introspect(target, password, options).await?,
        Dialect::Mysql => mysql::introspect(target, password, options).await?,
        Dialect::Sqlite => sqlite::introspect(target, options).await?,
    };
    snapshot.taken_at = querent_domain::now_millis();
    snapshot.normalize();
    Ok(snapshot)
}

/// Quotes an identifier with double quotes, doubling embedded ones (PostgreSQL, SQLite).
pub(crate) fn quote_double(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Quotes an identifier with backticks, doubling embedded ones (MySQL, MariaDB).
pub(crate) fn quote_backtick(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

/// The candidate columns (table index, column index) that may be sampled: not excluded or
/// masked by the privacy policy, at most `max_sampled_columns` of them.
pub(crate) fn sampling_plan(
    tables: &[TableInfo],
    candidates: &[(usize, usize)],
    options: &IntrospectOptions,
) -> Vec<(usize, usize)> {
    candidates
        .iter()
        .copied()
        .filter(|&(ti, ci)| {
            let t = &tables[ti];
            may_sample(
                &options.privacy,
                t.schema.as_deref(),
                &t.name,
                &t.columns[ci].name,
            )
        })
        .take(options.max_sampled_columns)
        .collect()
}

/// Whether the privacy policy lets introspection read values of this column: not when it
/// is masked (a pattern `column`, `table.column` or `schema.table.column` with `*`
/// wildcards matches it), excluded (`table.column` or `schema.table.column`) or in an
/// excluded table (`table` or `schema.table`) — the rules of
/// [`PrivacyPolicy::hides_values_of`], names compared case-insensitively.
pub(crate) fn may_sample(
    policy: &PrivacyPolicy,
    schema: Option<&str>,
    table: &str,
    column: &str,
) -> bool {
    !policy.hides_values_of(schema, table, column)
}

/// Keeps a sampled value list only when it shows a low-cardinality column: at most `max`
/// values, none of them long.
pub(crate) fn accept_samples(values: Vec<String>, max: usize) -> Vec<String> {
    const MAX_VALUE_CHARS: usize = 200;
    if values.len() > max || values.iter().any(|v| v.chars().count() > MAX_VALUE_CHARS) {
        Vec::new()
    } else {
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_the_quote_character() {
        assert_eq!(quote_double(r#"we"ird"#), r#""we""ird""#);
        assert_eq!(quote_backtick("we`ird"), "`we``ird`");
        assert_eq!(quote_double("plain"), "\"plain\"");
    }

    #[test]
    fn privacy_policy_blocks_sampling() {
        let policy = PrivacyPolicy {
            excluded_tables: vec!["hr.salaries".to_owned(), "secrets".to_owned()],
            excluded_columns: vec!["customers.email".to_owned()],
            masked_column_patterns: vec!["*phone*".to_owned(), "ssn".to_owned()],
        };
        let ok = |s: Option<&str>, t: &str, c: &str| may_sample(&policy, s, t, c);
        assert!(ok(Some("public"), "customers", "segment"));
        assert!(!ok(Some("public"), "customers", "email"));
        assert!(!ok(Some("public"), "Customers", "EMAIL"));
        assert!(!ok(Some("hr"), "salaries", "grade"));
        assert!(ok(Some("public"), "salaries", "grade"));
        assert!(!ok(None, "secrets", "x"));
        assert!(!ok(None, "people", "mobile_phone_no"));
        assert!(!ok(None, "people", "SSN"));
        assert!(ok(None, "people", "ssn_kind"));
        // Qualified masking patterns name the table (and schema) too.
        let policy = PrivacyPolicy {
            masked_column_patterns: vec!["customers.phone".to_owned(), "*.iban".to_owned()],
            ..PrivacyPolicy::default()
        };
        let ok = |s: Option<&str>, t: &str, c: &str| may_sample(&policy, s, t, c);
        assert!(!ok(Some("public"), "customers", "phone"));
        assert!(ok(Some("public"), "suppliers", "phone"));
        assert!(!ok(None, "accounts", "IBAN"));
    }

    #[test]
    fn samples_are_kept_only_for_low_cardinality() {
        let v = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        assert_eq!(accept_samples(v(3), 3).len(), 3);
        assert!(accept_samples(v(4), 3).is_empty());
        assert!(accept_samples(vec!["x".repeat(300)], 3).is_empty());
    }
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
