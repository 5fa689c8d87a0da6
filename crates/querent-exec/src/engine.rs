//! [`Engine`]: the [`QueryEngine`] port — the guard on every call, then pooled, read-only,
//! time-limited, row-capped execution.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use querent_domain::query::{
    CheckedSql, ConnectionPoolStats, ExecError as RunError, GuardRejection, PoolStatus,
    QueryEngine, QueryOutcome, QueryRequest, RowSink,
};
use querent_domain::schema::SchemaSnapshot;
use querent_domain::{ConnectionId, ConnectionTarget, Dialect, PrivacyPolicy, Secret};
use querent_sql::{GuardError, GuardPolicy, GuardSchema, ValidatedSql};

use crate::drivers::{Runner, RunnerSettings, driver};
use crate::pool::DEFAULT_POOL_SIZE;

/// Guard schemas kept, most recently used first out last.
const SCHEMA_CACHE_SIZE: usize = 32;

/// Guard verdicts kept (see [`Engine::validations`]); all are dropped when it is full.
const VALIDATIONS_KEPT: usize = 1024;

/// The application name announced to PostgreSQL unless set otherwise.
pub const DEFAULT_APPLICATION_NAME: &str = "querent";

/// Guard plus execution against target databases (implements [`QueryEngine`]).
///
/// - One bounded pool per connection id (PostgreSQL and MySQL/MariaDB; for a SQLite file,
///   its read-only connections kept while the file is unchanged), keyed also by a hash of
///   the target and the password, so an edited connection gets fresh connections;
///   [`QueryEngine::forget`] drops a pool. What runs a query is the dialect's driver (`drivers/<name>/`).
/// - Guard schemas built from snapshots are cached by fingerprint, and the guard's
///   verdicts by everything they depend on (a chat's SQL is validated once).
///
/// Construct once per process and share it (`Arc<Engine>`); it needs a tokio runtime with
/// the time driver when queries run (any flavour; the multi-threaded one in production).
pub struct Engine {
    pools: Mutex<HashMap<ConnectionId, PoolEntry>>,
    schemas: Mutex<Vec<(SchemaKey, Arc<GuardSchema>)>>,
    /// The guard's accepted statements, by everything the verdict depends on: the dialect,
    /// the SQL text, the snapshot's structure (the key its guard schema is reused by) and
    /// the policy with the row cap. The guard is a pure function of these, so a kept
    /// verdict is the one validating again would give: a chat's SQL is validated once
    /// although [`QueryEngine::check`] and then [`QueryEngine::run`] both ask (and a cached
    /// answer asked again is not parsed again). Refusals are not kept.
    validations: Mutex<HashMap<ValidationKey, ValidatedSql>>,
    hasher: std::collections::hash_map::RandomState,
    application_name: String,
    pool_size: usize,
}

/// A connection's pool and the hash of the settings it was built from.
struct PoolEntry {
    key: u64,
    runner: Arc<dyn Runner>,
    /// Queries that found the pool full (every connection busy) and waited.
    waits: Arc<AtomicU64>,
}

/// What identifies a snapshot's structure well enough to reuse its guard schema.
#[derive(Clone, PartialEq, Eq, Hash)]
struct SchemaKey {
    dialect: Dialect,
    fingerprint: String,
    database: Option<String>,
    taken_at: i64,
    tables: usize,
}

impl SchemaKey {
    /// The key of `snapshot`; `None` when it has no fingerprint (nothing is reused then).
    fn of(snapshot: &SchemaSnapshot) -> Option<Self> {
        (!snapshot.fingerprint.is_empty()).then(|| SchemaKey {
            dialect: snapshot.dialect,
            fingerprint: snapshot.fingerprint.clone(),
            database: snapshot.database.clone(),
            taken_at: snapshot.taken_at,
            tables: snapshot.tables.len(),
        })
    }
}

/// Everything a guard verdict depends on (see [`Engine::validations`]).
#[derive(PartialEq, Eq, Hash)]
struct ValidationKey {
    dialect: Dialect,
    sql: String,
    schema: SchemaKey,
    policy: GuardPolicy,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("application_name", &self.application_name)
            .field("pool_size", &self.pool_size)
            .field("status", &self.pool_status())
            .finish_non_exhaustive()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the maps stay
/// consistent: every update is a single insert or remove).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Engine {
    /// An engine with pools of [`DEFAULT_POOL_SIZE`] connections per target announcing
    /// itself to PostgreSQL as [`DEFAULT_APPLICATION_NAME`]. Creates no connection and needs
    /// no runtime.
    pub fn new() -> Self {
        Self {
            pools: Mutex::new(HashMap::new()),
            schemas: Mutex::new(Vec::new()),
            validations: Mutex::new(HashMap::new()),
            hasher: std::collections::hash_map::RandomState::new(),
            application_name: DEFAULT_APPLICATION_NAME.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
        }
    }

    /// Sets the `application_name` PostgreSQL connections announce (visible in
    /// `pg_stat_activity`).
    pub fn with_application_name(mut self, name: impl Into<String>) -> Self {
        self.application_name = name.into();
        self
    }

    /// Sets the number of connections per target (at least 1).
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Validates with the guard (the only way to obtain a [`ValidatedSql`]).
    fn validate(
        &self,
        dialect: Dialect,
        sql: &str,
        schema: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        max_rows: u64,
    ) -> Result<ValidatedSql, GuardRejection> {
        let policy = GuardPolicy::from_privacy(policy, max_rows);
        let Some(schema_key) = SchemaKey::of(schema) else {
            let guard_schema = GuardSchema::from_snapshot(schema);
            return querent_sql::validate(dialect, sql, &guard_schema, &policy).map_err(rejection);
        };
        let key = ValidationKey {
            dialect,
            sql: sql.to_owned(),
            schema: schema_key,
            policy,
        };
        if let Some(validated) = lock(&self.validations).get(&key) {
            return Ok(validated.clone());
        }
        let guard_schema = self.guard_schema(schema, &key.schema);
        let validated =
            querent_sql::validate(dialect, sql, &guard_schema, &key.policy).map_err(rejection)?;
        let mut kept = lock(&self.validations);
        if kept.len() >= VALIDATIONS_KEPT {
            kept.clear();
        }
        kept.insert(key, validated.clone());
        Ok(validated)
    }

    /// The guard's schema for a snapshot (whose key is `key`), from the cache when its
    /// fingerprint was seen.
    fn guard_schema(&self, snapshot: &SchemaSnapshot, key: &SchemaKey) -> Arc<GuardSchema> {
        {
            let mut cache = lock(&self.schemas);
            if let Some(pos) = cache.iter().position(|(k, _)| k == key) {
                let entry = cache.remove(pos);
                let schema = entry.1.clone();
                cache.push(entry);
                return schema;
            }
        }
        // Built outside the lock: big schemas take a while.
        let schema = Arc::new(GuardSchema::from_snapshot(snapshot));
        let mut cache = lock(&self.schemas);
        if !cache.iter().any(|(k, _)| k == key) {
            if cache.len() >= SCHEMA_CACHE_SIZE {
                cache.remove(0);
            }
            cache.push((key.clone(), schema.clone()));
        }
        schema
    }

    /// A hash of everything that decides where and as whom the pool connects.
    fn settings_key(&self, target: &ConnectionTarget, password: Option<&Secret<String>>) -> u64 {
        let mut h = self.hasher.build_hasher();
        target.dialect.hash(&mut h);
        target.host.hash(&mut h);
        target.port.hash(&mut h);
        target.database.hash(&mut h);
        target.username.hash(&mut h);
        target.path.hash(&mut h);
        target.ssl_mode.hash(&mut h);
        password.map(|p| p.expose().as_str()).hash(&mut h);
        h.finish()
    }

    /// What runs the connection's queries: its pool (for a SQLite file, its kept
    /// connections), created (or replaced, when its settings changed) on demand.
    /// Also counts a wait when the pool is full (see [`PoolEntry::waits`]).
    fn runner(&self, request: &QueryRequest<'_>) -> Result<Arc<dyn Runner>, RunError> {
        let target = request.target;
        let key = self.settings_key(target, request.password);
        let mut pools = lock(&self.pools);
        if let Some(entry) = pools.get(&request.connection_id)
            && entry.key == key
        {
            if entry
                .runner
                .pool_status()
                .is_some_and(|s| s.available == 0 && s.size >= s.max_size)
            {
                entry.waits.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(entry.runner.clone());
        }
        let settings = RunnerSettings {
            application_name: &self.application_name,
            pool_size: self.pool_size,
        };
        let runner = driver(target.dialect).runner(target, request.password, &settings)?;
        let waits = pools
            .get(&request.connection_id)
            .map(|old| old.waits.clone())
            .unwrap_or_default();
        if let Some(old) = pools.insert(
            request.connection_id,
            PoolEntry {
                key,
                runner: runner.clone(),
                waits,
            },
        ) {
            old.runner.close();
        }
        Ok(runner)
    }
}

/// A guard refusal as the port reports it.
fn rejection(e: GuardError) -> GuardRejection {
    let suggestions = match &e {
        GuardError::UnknownTable { suggestions, .. }
        | GuardError::UnknownColumn { suggestions, .. } => suggestions.clone(),
        _ => Vec::new(),
    };
    GuardRejection {
        code: querent_domain::HasErrorCode::code(&e),
        message: e.to_string(),
        suggestions,
    }
}

#[async_trait]
impl QueryEngine for Engine {
    fn check(
        &self,
        dialect: Dialect,
        sql: &str,
        schema: &SchemaSnapshot,
        policy: &PrivacyPolicy,
        max_rows: u64,
    ) -> Result<CheckedSql, GuardRejection> {
        let v = self.validate(dialect, sql, schema, policy, max_rows)?;
        Ok(CheckedSql {
            sql: v.sql().to_owned(),
            tables: v.tables().to_vec(),
            max_rows: v.max_rows(),
        })
    }

    async fn run(
        &self,
        request: QueryRequest<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<QueryOutcome, RunError> {
        let dialect = request.target.dialect;
        let validated = self.validate(
            dialect,
            request.sql,
            request.schema,
            request.policy,
            request.limits.max_rows,
        )?;
        tracing::debug!(
            connection = %request.connection_id,
            %dialect,
            max_rows = validated.max_rows(),
            "running validated sql"
        );
        let runner = self.runner(&request)?;
        let result = runner.run(&validated, &request.limits, sink).await;
        match &result {
            Ok(o) => tracing::debug!(
                connection = %request.connection_id,
                rows = o.row_count,
                truncated = o.truncated,
                ms = o.execution_time_ms,
                "query finished"
            ),
            Err(e) => {
                tracing::debug!(connection = %request.connection_id, error = %e, "query failed")
            }
        }
        result
    }

    fn forget(&self, connection: ConnectionId) {
        if let Some(entry) = lock(&self.pools).remove(&connection) {
            entry.runner.close();
        }
    }

    fn pool_status(&self) -> PoolStatus {
        let pools = lock(&self.pools);
        let mut status = PoolStatus::default();
        // SQLite files' kept connections are no pool: a query never waits for one.
        for s in pools
            .values()
            .filter_map(|entry| entry.runner.pool_status())
        {
            status.pools += 1;
            status.in_use += s.size.saturating_sub(s.available) as u64;
            if s.waiting > 0 && s.available == 0 {
                status.exhausted += 1;
            }
        }
        status
    }

    fn connection_pools(&self) -> Vec<ConnectionPoolStats> {
        let pools = lock(&self.pools);
        pools
            .iter()
            .filter_map(|(connection, entry)| {
                let s = entry.runner.pool_status()?;
                Some(ConnectionPoolStats {
                    connection: *connection,
                    max_size: s.max_size as u64,
                    open: s.size as u64,
                    in_use: s.size.saturating_sub(s.available) as u64,
                    waiting: s.waiting as u64,
                    waits: entry.waits.load(Ordering::Relaxed),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use querent_domain::schema::{ColumnInfo, TableInfo};

    fn snapshot(tables: &[(&str, &[&str])]) -> SchemaSnapshot {
        let mut s = SchemaSnapshot {
            dialect: Dialect::Sqlite,
            database: None,
            fingerprint: String::new(),
            taken_at: 1,
            tables: tables
                .iter()
                .map(|(name, cols)| {
                    let columns = cols.iter().map(|c| ColumnInfo::plain(c, "text")).collect();
                    TableInfo::plain(None, name, columns)
                })
                .collect(),
        };
        s.normalize();
        s
    }

    #[test]
    fn a_kept_verdict_serves_only_the_same_inputs() {
        let engine = Engine::new();
        let schema = snapshot(&[("customers", &["id", "name", "ssn"])]);
        let open = PrivacyPolicy::default();
        let sql = "SELECT ssn FROM customers";
        let first = engine
            .validate(Dialect::Sqlite, sql, &schema, &open, 10)
            .unwrap();
        assert_eq!(lock(&engine.validations).len(), 1);
        // Asked again (the chat's `run` after its `check`): the same verdict, kept once.
        let again = engine
            .validate(Dialect::Sqlite, sql, &schema, &open, 10)
            .unwrap();
        assert_eq!(again, first);
        assert_eq!(lock(&engine.validations).len(), 1);

        // Another row cap, policy, schema, dialect or text is validated on its own.
        let capped = engine
            .validate(Dialect::Sqlite, sql, &schema, &open, 3)
            .unwrap();
        assert!(capped.executable().contains('4'), "{}", capped.executable());
        assert_ne!(capped.executable(), first.executable());
        let private = PrivacyPolicy {
            excluded_columns: vec!["customers.ssn".to_owned()],
            ..PrivacyPolicy::default()
        };
        let refused = engine
            .validate(Dialect::Sqlite, sql, &schema, &private, 10)
            .unwrap_err();
        assert_eq!(refused.code, querent_domain::ErrorCode::PolicyViolation);
        let without = snapshot(&[("customers", &["id", "name"])]);
        assert!(
            engine
                .validate(Dialect::Sqlite, sql, &without, &open, 10)
                .is_err()
        );
        let mut later = schema.clone();
        later.taken_at = 2;
        assert!(
            engine
                .validate(Dialect::Sqlite, sql, &later, &open, 10)
                .is_ok()
        );
        assert!(
            engine
                .validate(
                    Dialect::Sqlite,
                    "SELECT nothing FROM customers",
                    &schema,
                    &open,
                    10
                )
                .is_err()
        );
        // Refusals are not kept.
        assert_eq!(lock(&engine.validations).len(), 3);

        // A snapshot without a fingerprint is validated every time.
        let mut bare = schema.clone();
        bare.fingerprint.clear();
        assert!(
            engine
                .validate(Dialect::Sqlite, sql, &bare, &open, 10)
                .is_ok()
        );
        assert_eq!(lock(&engine.validations).len(), 3);
    }

    #[test]
    fn kept_verdicts_are_bounded() {
        let engine = Engine::new();
        let schema = snapshot(&[("t", &["a"])]);
        let open = PrivacyPolicy::default();
        for i in 0..=VALIDATIONS_KEPT {
            let sql = format!("SELECT a FROM t WHERE a = {i}");
            engine
                .validate(Dialect::Sqlite, &sql, &schema, &open, 10)
                .unwrap();
        }
        assert!(lock(&engine.validations).len() <= VALIDATIONS_KEPT);
    }
}
