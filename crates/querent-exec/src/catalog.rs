//! Reading a target's catalog: what to read ([`IntrospectOptions`]) and the rules every
//! driver's catalog reader (`drivers/<name>/catalog.rs`) follows when it samples values —
//! never a column the privacy policy excludes or masks, at most so many columns, only
//! low-cardinality ones.

use std::time::Duration;

use querent_domain::schema::{SchemaSnapshot, TableInfo};
use querent_domain::{ConnectionTarget, PrivacyPolicy, Secret};

use crate::drivers::driver;
use crate::error::ExecError;

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

/// Reads the catalog of `target` with its dialect's driver: tables and views, columns,
/// keys, comments, row estimates and bounded samples, in one read-only transaction with a
/// statement timeout (SQLite: a file opened read-only). The snapshot comes back as read:
/// neither sorted nor fingerprinted nor stamped (querent-introspect's `introspect` does
/// that).
///
/// Errors: [`ExecError::InvalidTarget`] naming a missing field, [`ExecError::Connection`],
/// [`ExecError::Timeout`], [`ExecError::Query`] when a catalog query fails. The password
/// never appears in an error.
pub async fn read_catalog(
    target: &ConnectionTarget,
    password: Option<&Secret<String>>,
    options: &IntrospectOptions,
) -> Result<SchemaSnapshot, ExecError> {
    driver(target.dialect)
        .read_catalog(target, password, options)
        .await
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
    fn privacy_policy_blocks_sampling() {
        let policy = PrivacyPolicy {
            excluded_tables: vec!["hr.salaries".to_owned(), "secrets".to_owned()],
            excluded_columns: vec!["customers.email".to_owned()],
            masked_column_patterns: vec!["*phone*".to_owned(), "ssn".to_owned()],
            row_filters: Vec::new(),
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
