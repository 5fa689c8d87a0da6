use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::statements::KeptDsl;
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel::{Connection as _, SqliteConnection};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;
use querent_domain::chat::{ChatMessage, ChatSession};
use querent_domain::providers::ProviderConfig;
use querent_domain::{
    ApiClient, ApiClientId, AuditEntry, Connection, ConnectionId, ErrorCode, MessageId,
    MessageStatus, ProviderId, RefreshTokenId, RunId, SessionId, Team, TeamId, TeamMember,
    TeamRole, TokenFamilyId, User, UserId, now_millis,
};

use crate::models::*;
use crate::schema::*;
use crate::sync::{
    finish_and_beat, q_connection, q_family_revoked, q_heartbeat, q_membership, q_provider,
    q_schema_stamp, q_user,
};
use querent_domain::ports::{
    DocumentStamp, MetadataStore, RefreshToken, RequestWindow, StoreHealth,
};
use querent_domain::schema::SchemaSnapshot;

use crate::{DbError, Page, StoreError, StoreResult};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The key of the PostgreSQL advisory lock held while migrating ("querent" in ASCII): one
/// instance migrates a shared store at a time. Advisory locks are per database, so stores
/// in other databases of the same server do not wait for each other.
const MIGRATION_LOCK: i64 = 0x0071_7565_7265_6e74;

/// A pooled connection to the embedded SQLite store. Its statements run on the calling
/// task's thread ([`Inline`]), not on tokio's blocking pool.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection, Inline>;

/// Runs an embedded-store statement where it is called, instead of diesel-async's default
/// hop to tokio's blocking pool and back. A statement of the embedded store is a read of
/// SQLite's page cache or a WAL append (`synchronous = NORMAL`: no fsync per commit) of a
/// few to tens of µs, while each hop wakes a pool thread and then the task again: under
/// load the wake-ups and context switches cost more CPU than the statements themselves
/// (profile of the chat hit path: half the server's time in the kernel's scheduler, see
/// docs/BENCHMARKS.md, issue 19). Writers never wait inside SQLite for each other (the
/// write gate of `with_write!` queues them in this process) and WAL readers wait for
/// nobody, so a statement holds its thread only as long as SQLite works on it. The
/// exception: another process writing the same file (`querent admin …` while the server
/// runs) can make a writer wait in SQLite's busy handler, and that wait (at most
/// `busy_timeout`) now holds a runtime thread. PostgreSQL is asynchronous and unaffected.
pub(crate) struct Inline;

impl diesel_async::sync_connection_wrapper::SpawnBlocking for Inline {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> futures_util::future::BoxFuture<
        'a,
        Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>,
    >
    where
        R: Send + 'static,
    {
        futures_util::future::ready(Ok(task())).boxed()
    }

    fn get_runtime() -> Self {
        Inline
    }
}

/// The store's own clock, in Unix milliseconds, as SQL of each backend. Times that several
/// instances compare (the heartbeat of running chats) are written and compared with it, so
/// the instances' own clocks never meet.
pub(crate) trait StoreClock {
    /// An SQL expression for "now" in Unix milliseconds.
    const NOW_MS: &'static str;
}

impl StoreClock for SqliteConn {
    const NOW_MS: &'static str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
}

impl StoreClock for AsyncPgConnection {
    const NOW_MS: &'static str = "CAST(floor(extract(epoch FROM now()) * 1000) AS BIGINT)";
}

/// The store's "now" minus `minus_ms` milliseconds, for the connection `_c` of its backend.
pub(crate) fn store_now<C: StoreClock>(
    _c: &C,
    minus_ms: i64,
) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    // `minus_ms` is a number: formatting it into the SQL text injects nothing.
    diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!("({} - {minus_ms})", C::NOW_MS))
}

/// Which database holds the metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// How to open the store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `postgres://…` to use PostgreSQL; `None` for the embedded SQLite file.
    pub database_url: Option<String>,
    /// The SQLite file used when `database_url` is `None`.
    pub sqlite_path: PathBuf,
    /// Pool size.
    pub max_connections: usize,
    /// How long to wait for a pooled connection before reporting the store unavailable.
    pub acquire_timeout: Duration,
}

impl StoreConfig {
    /// Embedded SQLite at `path` with default pool settings.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self {
            database_url: None,
            sqlite_path: path.into(),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(5),
        }
    }

    /// PostgreSQL at `url` with default pool settings.
    pub fn postgres(url: impl Into<String>) -> Self {
        Self {
            database_url: Some(url.into()),
            sqlite_path: PathBuf::new(),
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }

    /// The backend this configuration selects.
    pub fn backend(&self) -> Backend {
        match &self.database_url {
            Some(_) => Backend::Postgres,
            None => Backend::Sqlite,
        }
    }
}

/// Runs `f` on a pooled embedded-store connection's synchronous diesel connection, in
/// place (`sync.rs`).
pub(crate) async fn run_sync<R: Send + 'static>(
    pool: &Pool<SqliteConn>,
    f: impl FnOnce(&mut SqliteConnection) -> Result<R, DbError> + Send + 'static,
) -> Result<R, DbError> {
    let mut guard = pool
        .get()
        .await
        .map_err(|e| DbError(StoreError::Unavailable(e.to_string())))?;
    let c: &mut SqliteConn = &mut guard;
    c.spawn_blocking(move |c| Ok(f(c))).await?
}

/// A pooled PostgreSQL connection, handed out without a test query: the pool's check
/// (`SELECT 1` before every use, deadpool's `RecyclingMethod::Verified`) was 10 of a cache
/// hit's 25 statements (issue 19). What it caught — a connection whose backend ended
/// (`pg_terminate_backend`, a restart, a failover) while it sat in the pool — reads catch
/// instead: one that fails on a lost connection ([`pg_lost`]) is run once more on a
/// connection checked first, and writes are given one checked first and run once
/// (`checked`: each pooled connection that fails the check is discarded, then a new one is
/// made). The pool still drops a connection it knows is closed (`RecyclingMethod::Fast`).
pub(crate) async fn pg_checkout(
    pool: &Pool<AsyncPgConnection>,
    checked: bool,
) -> Result<PgObject, DbError> {
    let unavailable = |e: String| DbError(StoreError::Unavailable(e));
    if !checked {
        return pool.get().await.map_err(|e| unavailable(e.to_string()));
    }
    // Every pooled connection may have been lost at once (a restart): try each, then a
    // new one.
    for _ in 0..=pool.status().max_size {
        let mut conn = pool.get().await.map_err(|e| unavailable(e.to_string()))?;
        if pg_ping(&mut conn).await {
            return Ok(conn);
        }
        drop(PgObject::take(conn));
    }
    Err(unavailable("no live connection to the store".into()))
}

pub(crate) type PgObject = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// `SELECT 1` answered, within 5 s (a half-open socket would otherwise hold the check
/// until TCP gives up).
async fn pg_ping(conn: &mut AsyncPgConnection) -> bool {
    use diesel::IntoSql;
    let ping =
        diesel::select(1_i32.into_sql::<diesel::sql_types::Integer>()).get_result::<i32>(conn);
    matches!(
        tokio::time::timeout(std::time::Duration::from_secs(5), ping).await,
        Ok(Ok(_))
    )
}

/// Whether a unit of work failed because its connection was lost rather than for what it
/// asked: the error is one a lost connection gives (no SQLSTATE: closed, or a server error
/// such as the `FATAL` of a terminated backend) and the connection is closed or no longer
/// answers `SELECT 1` (checked only on such errors, which are rare). Only reads are run
/// again on it (`with_conn!`): a write may have committed before its reply was lost, and
/// applied twice it would answer wrongly (a refresh token's rotation read as its reuse, a
/// counter counted twice), so writes take a checked connection and run once.
pub(crate) async fn pg_lost(conn: &mut AsyncPgConnection, error: &StoreError) -> bool {
    use diesel_async::pooled_connection::PoolableConnection;
    matches!(error, StoreError::Unavailable(_) | StoreError::Database(_))
        && (conn.is_broken() || !pg_ping(conn).await)
}

/// A unit of work's outcome, as its body gave it (`with_conn!` runs the body in a block
/// of its own, whose `?`s end the body, not the retry around it).
pub(crate) fn unit_of_work<T>(result: Result<T, DbError>) -> Result<T, DbError> {
    result
}

/// Takes a lost connection out of the pool (it is closed, never handed out again).
pub(crate) fn pg_discard(conn: PgObject, error: &StoreError) {
    tracing::warn!(error = %error, "the store's connection was lost; running the unit of work again on another");
    drop(PgObject::take(conn));
}

pub(crate) enum Pools {
    Sqlite(Pool<SqliteConn>),
    Postgres(Pool<AsyncPgConnection>),
}

/// The metadata store. Cheap to clone; all clones share one pool.
#[derive(Clone)]
pub struct Store {
    pub(crate) pools: Arc<Pools>,
    /// Writers' turns on SQLite (see `with_write!`).
    pub(crate) write_gate: Arc<tokio::sync::Mutex<()>>,
    /// The chat's writes waiting to be committed together on SQLite (group.rs).
    pub(crate) group: Arc<crate::group::Group>,
    config: Arc<StoreConfig>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password: never print it.
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

fn sqlite_setup(
    url: &str,
) -> futures_util::future::BoxFuture<'_, diesel::ConnectionResult<SqliteConn>> {
    async move {
        let mut conn = SqliteConn::establish(url).await?;
        for pragma in [
            "PRAGMA busy_timeout = 10000",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA foreign_keys = ON",
        ] {
            diesel::sql_query(pragma)
                .execute(&mut conn)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
        }
        Ok(conn)
    }
    .boxed()
}

impl Store {
    /// Opens the store and runs pending migrations.
    pub async fn open(config: StoreConfig) -> StoreResult<Self> {
        let store = Self::connect(config)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the store without running migrations.
    #[allow(clippy::disallowed_methods)] // start-up: creates the embedded store's folder once
    pub fn connect(config: StoreConfig) -> StoreResult<Self> {
        let pools = match &config.database_url {
            Some(url) => {
                let mut mc = ManagerConfig::default();
                // Handed out without a test query: a unit of work that finds its connection
                // lost runs again on a checked one (`pg_checkout`, `with_conn!`).
                mc.recycling_method = RecyclingMethod::Fast;
                let mgr = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
                    url.clone(),
                    mc,
                );
                let pool = Pool::builder(mgr)
                    .max_size(config.max_connections)
                    .wait_timeout(Some(config.acquire_timeout))
                    .create_timeout(Some(config.acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                Pools::Postgres(pool)
            }
            None => {
                if let Some(dir) = config
                    .sqlite_path
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
                }
                let mut mc = ManagerConfig::default();
                mc.custom_setup = Box::new(sqlite_setup);
                // A pooled connection is handed out without a test query (`SELECT 1` by
                // default, one more statement on every store call: 11 per chat hit, 6.5%
                // of its instructions, issue 19). It checks nothing an embedded
                // connection can lose: the file is opened in this process and stays open
                // (a replaced or deleted file is not noticed by `SELECT 1` either); a
                // connection left inside a broken transaction is still discarded (`Fast`
                // keeps that check). PostgreSQL, a network peer, retries a unit of work
                // whose connection was lost instead (`pg_checkout`).
                mc.recycling_method = RecyclingMethod::Fast;
                let mgr = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(
                    config.sqlite_path.to_string_lossy().to_string(),
                    mc,
                );
                let pool = Pool::builder(mgr)
                    .max_size(config.max_connections)
                    .wait_timeout(Some(config.acquire_timeout))
                    .create_timeout(Some(config.acquire_timeout))
                    .runtime(deadpool::Runtime::Tokio1)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                Pools::Sqlite(pool)
            }
        };
        Ok(Self {
            pools: Arc::new(pools),
            write_gate: Arc::new(tokio::sync::Mutex::new(())),
            group: Arc::default(),
            config: Arc::new(config),
        })
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        self.config.backend()
    }

    /// Runs the pending embedded migrations; returns how many ran.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let config = self.config.clone();
        let ran = tokio::task::spawn_blocking(move || -> StoreResult<usize> {
            let mig = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
            match &config.database_url {
                Some(url) => {
                    let mut conn = <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(url)
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    // Instances starting at once migrate one after the other: the first to
                    // take the lock applies the migrations, the others then find none
                    // pending. The lock belongs to this session, so it is released when the
                    // connection closes, even if this process dies half-way.
                    let lock = |conn: &mut AsyncConnectionWrapper<AsyncPgConnection>, sql: &str| {
                        diesel::connection::SimpleConnection::batch_execute(conn, sql)
                            .map_err(|e| DbError::from(e).0)
                    };
                    // The key is a constant number: formatting it in injects nothing.
                    lock(&mut conn, &format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                    let ran = conn.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
                    let unlocked = lock(&mut conn, &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
                    let ran = ran.map_err(mig)?;
                    unlocked?;
                    Ok(ran)
                }
                None => {
                    let mut conn = SqliteConnection::establish(&config.sqlite_path.to_string_lossy())
                        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
                    diesel::connection::SimpleConnection::batch_execute(
                        &mut conn,
                        "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;",
                    )
                    .map_err(|e| DbError::from(e).0)?;
                    Ok(conn.run_pending_migrations(SQLITE_MIGRATIONS).map_err(mig)?.len())
                }
            }
        })
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))??;
        if ran > 0 {
            tracing::info!(migrations = ran, backend = ?self.backend(), "store migrations applied");
        }
        Ok(ran)
    }
}

#[async_trait::async_trait]
impl MetadataStore for Store {
    /// Checks that the store answers a trivial query (for `/ready`).
    async fn ping(&self) -> StoreResult<()> {
        with_conn!(self, c => {
            diesel::sql_query("SELECT 1").execute(c).await?;
            Ok(())
        })
    }

    fn health(&self) -> StoreHealth {
        let s = match &*self.pools {
            Pools::Sqlite(p) => p.status(),
            Pools::Postgres(p) => p.status(),
        };
        StoreHealth {
            backend: match self.backend() {
                Backend::Sqlite => "sqlite",
                Backend::Postgres => "postgres",
            },
            in_use: s.size.saturating_sub(s.available),
            size: s.max_size,
        }
    }

    // ---------------------------------------------------------------- setup and users

    /// Number of user accounts.
    async fn count_users(&self) -> StoreResult<i64> {
        with_conn!(self, c => Ok(users::table.count().get_result::<i64>(c).await?))
    }

    /// First-boot setup in one transaction: creates the admin, the first team, and makes the
    /// admin its owner. Fails with [`StoreError::AlreadyInitialized`] once any user exists,
    /// also when two setups race (the `setup_done` settings row is the lock).
    async fn create_first_admin(
        &self,
        user: &User,
        password_hash: &str,
        team: &Team,
    ) -> StoreResult<()> {
        let urow = UserRow::from_domain(user, password_hash);
        let trow = TeamRow::from_domain(team);
        let mrow = MemberRow {
            team_id: team.id.to_string(),
            user_id: user.id.to_string(),
            role: TeamRole::Owner.to_string(),
            created_at: user.created_at,
        };
        let now = now_millis();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    // Write first so the transaction holds the write lock from the start.
                    let marker = diesel::insert_into(settings::table)
                        .values((settings::key.eq("setup_done"), settings::value.eq("true"), settings::updated_at.eq(now)))
                        .execute(c)
                        .await;
                    if let Err(e) = marker {
                        return Err(match DbError::from(e).0 {
                            StoreError::Conflict(_) => StoreError::AlreadyInitialized.into(),
                            other => other.into(),
                        });
                    }
                    let existing: i64 = users::table.count().get_result(c).await?;
                    if existing > 0 {
                        return Err(StoreError::AlreadyInitialized.into());
                    }
                    diesel::insert_into(users::table).values(&urow).execute(c).await?;
                    diesel::insert_into(teams::table).values(&trow).execute(c).await?;
                    diesel::insert_into(team_members::table).values(&mrow).execute(c).await?;
                    Ok(())
                }
            })
            .await
        })
    }

    /// Inserts a user.
    async fn insert_user(&self, user: &User, password_hash: &str) -> StoreResult<()> {
        let row = UserRow::from_domain(user, password_hash);
        with_write!(self, c => {
            diesel::insert_into(users::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    /// A user and their password hash, by id.
    async fn get_user(&self, id: UserId) -> StoreResult<(User, String)> {
        with_conn!(self, c => {
            let row: UserRow = users::table.find(id.to_string()).limit_one().get_result(c).await?;
            row.into_domain()
        })
    }

    /// A user and their password hash, by username (exact match).
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        with_conn!(self, c => {
            let row: Option<UserRow> = users::table.filter(users::username.eq(username)).limit_one().get_result(c).await.optional()?;
            row.map(UserRow::into_domain).transpose()
        })
    }

    /// A page of users.
    async fn list_users(&self, page: &Page) -> StoreResult<Vec<User>> {
        with_conn!(self, c => {
            let mut q = users::table.order(users::id.asc()).limit(page.limit).into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(users::id.gt(after.clone()));
            }
            let rows: Vec<UserRow> = q.load(c).await?;
            rows.into_iter().map(|r| r.into_domain().map(|(u, _)| u)).collect()
        })
    }

    /// Replaces the profile fields of a user (username, email, role, disabled, epoch).
    async fn update_user(&self, user: &User) -> StoreResult<()> {
        let now = now_millis();
        with_write!(self, c => {
            let n = diesel::update(users::table.find(user.id.to_string()))
                .set((
                    users::username.eq(&user.username),
                    users::email.eq(&user.email),
                    users::role.eq(user.role.as_str()),
                    users::disabled.eq(user.disabled),
                    users::token_epoch.eq(user.token_epoch),
                    users::updated_at.eq(now),
                ))
                .execute(c)
                .await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    /// Sets a new password hash and bumps the token epoch (all access tokens die), and
    /// revokes every refresh token of the user, in one transaction.
    async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let now = now_millis();
        let id = id.to_string();
        let hash = password_hash.to_owned();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    let n = diesel::update(users::table.find(&id))
                        .set((
                            users::password_hash.eq(&hash),
                            users::token_epoch.eq(users::token_epoch + 1),
                            users::updated_at.eq(now),
                        ))
                        .execute(c)
                        .await?;
                    if n == 0 {
                        return Err(StoreError::NotFound.into());
                    }
                    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(&id)))
                        .set(refresh_tokens::revoked.eq(true))
                        .execute(c)
                        .await?;
                    Ok(())
                }
            })
            .await
        })
    }

    /// Bumps the token epoch and revokes every refresh token (logout everywhere).
    async fn revoke_all_sessions(&self, id: UserId) -> StoreResult<()> {
        let id = id.to_string();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    diesel::update(users::table.find(&id))
                        .set(users::token_epoch.eq(users::token_epoch + 1))
                        .execute(c)
                        .await?;
                    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(&id)))
                        .set(refresh_tokens::revoked.eq(true))
                        .execute(c)
                        .await?;
                    Ok(())
                }
            })
            .await
        })
    }

    /// Deletes a user (memberships and refresh tokens go with it).
    async fn delete_user(&self, id: UserId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(users::table.find(id.to_string())).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    /// Number of enabled server admins.
    async fn count_active_admins(&self) -> StoreResult<i64> {
        with_conn!(self, c => Ok(users::table
            .filter(users::role.eq("admin").and(users::disabled.eq(false)))
            .count()
            .get_result::<i64>(c)
            .await?))
    }

    // ---------------------------------------------------------------- teams

    /// Creates a team, optionally with a first member (its owner).
    async fn insert_team(&self, team: &Team, owner: Option<UserId>) -> StoreResult<()> {
        let trow = TeamRow::from_domain(team);
        let mrow = owner.map(|u| MemberRow {
            team_id: team.id.to_string(),
            user_id: u.to_string(),
            role: TeamRole::Owner.to_string(),
            created_at: team.created_at,
        });
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    diesel::insert_into(teams::table).values(&trow).execute(c).await?;
                    if let Some(m) = &mrow {
                        diesel::insert_into(team_members::table).values(m).execute(c).await?;
                    }
                    Ok(())
                }
            })
            .await
        })
    }

    /// A team by id.
    async fn get_team(&self, id: TeamId) -> StoreResult<Team> {
        with_conn!(self, c => {
            let row: TeamRow = teams::table.find(id.to_string()).limit_one().get_result(c).await?;
            row.into_domain()
        })
    }

    /// A page of teams; only those in `only` when given.
    async fn list_teams(&self, only: Option<&[TeamId]>, page: &Page) -> StoreResult<Vec<Team>> {
        let only: Option<Vec<String>> = only.map(|ids| ids.iter().map(|t| t.to_string()).collect());
        with_conn!(self, c => {
            let mut q = teams::table.order(teams::id.asc()).limit(page.limit).into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(teams::id.gt(after.clone()));
            }
            if let Some(ids) = &only {
                q = q.filter(teams::id.eq_any(ids.clone()));
            }
            let rows: Vec<TeamRow> = q.load(c).await?;
            rows.into_iter().map(TeamRow::into_domain).collect()
        })
    }

    /// Deletes a team and everything it owns.
    async fn delete_team(&self, id: TeamId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(teams::table.find(id.to_string())).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    /// Adds a member or changes their role.
    async fn upsert_member(&self, team: TeamId, user: UserId, role: TeamRole) -> StoreResult<()> {
        let row = MemberRow {
            team_id: team.to_string(),
            user_id: user.to_string(),
            role: role.to_string(),
            created_at: now_millis(),
        };
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    let n = diesel::update(team_members::table.find((&row.team_id, &row.user_id)))
                        .set(team_members::role.eq(&row.role))
                        .execute(c)
                        .await?;
                    if n == 0 {
                        diesel::insert_into(team_members::table).values(&row).execute(c).await?;
                    }
                    Ok(())
                }
            })
            .await
        })
    }

    /// Removes a member.
    async fn remove_member(&self, team: TeamId, user: UserId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(team_members::table.find((team.to_string(), user.to_string()))).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    /// The role of `user` in `team`, if a member.
    async fn membership(&self, team: TeamId, user: UserId) -> StoreResult<Option<TeamRole>> {
        let (team, user) = (team.to_string(), user.to_string());
        let role: Option<String> = with_conn_sync!(self,
            move |c| crate::sync::membership(c, &team, &user),
            c => Ok(q_membership!(&team, &user).get_result(c).await.optional()?))?;
        Ok(role
            .map(|r| {
                r.parse()
                    .map_err(|_| StoreError::Corrupt(format!("team role `{r}`")))
            })
            .transpose()?)
    }

    /// Every membership of a user, oldest first.
    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<TeamMember>> {
        with_conn!(self, c => {
            let rows: Vec<MemberRow> = team_members::table
                .filter(team_members::user_id.eq(user.to_string()))
                .order(team_members::created_at.asc())
                .load(c)
                .await?;
            rows.into_iter().map(MemberRow::into_domain).collect()
        })
    }

    /// The members of a team.
    async fn members_of(&self, team: TeamId) -> StoreResult<Vec<TeamMember>> {
        with_conn!(self, c => {
            let rows: Vec<MemberRow> = team_members::table
                .filter(team_members::team_id.eq(team.to_string()))
                .order(team_members::created_at.asc())
                .load(c)
                .await?;
            rows.into_iter().map(MemberRow::into_domain).collect()
        })
    }

    /// Number of owners of a team.
    async fn count_owners(&self, team: TeamId) -> StoreResult<i64> {
        with_conn!(self, c => Ok(team_members::table
            .filter(team_members::team_id.eq(team.to_string()).and(team_members::role.eq("owner")))
            .count()
            .get_result::<i64>(c)
            .await?))
    }

    // ---------------------------------------------------------------- refresh tokens

    /// Stores a new refresh token (its hash).
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()> {
        with_write!(self, c => {
            diesel::insert_into(refresh_tokens::table).values(RefreshTokenRow::from_domain(token)).execute(c).await?;
            Ok(())
        })
    }

    /// The refresh token with this hash.
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        with_conn!(self, c => {
            let row = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(token_hash))
                .first::<RefreshTokenRow>(c)
                .await
                .optional()?;
            row.map(RefreshTokenRow::into_domain).transpose()
        })
    }

    /// Rotation: marks `old_id` used and stores `new` in one transaction, but only if `old_id`
    /// was still unused and unrevoked. Returns `false` (and stores nothing) when it was not:
    /// the caller treats that as reuse.
    async fn rotate_refresh_token(
        &self,
        old_id: RefreshTokenId,
        new: &RefreshToken,
    ) -> StoreResult<bool> {
        let now = now_millis();
        let old_id = old_id.to_string();
        let new = RefreshTokenRow::from_domain(new);
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    // One statement: the token is unused and unrevoked, and no token of its
                    // family is revoked. A revocation racing this rotation either revoked
                    // the old token first (no row matches) or comes after and finds the
                    // family's rows — and a family with any revoked token counts as revoked
                    // everywhere (`user_for_token`, the next rotation), even for a new
                    // token its UPDATE did not see.
                    let fam_tokens = diesel::alias!(refresh_tokens as family_tokens);
                    let family_revoked = diesel::dsl::exists(
                        fam_tokens
                            .filter(
                                fam_tokens
                                    .field(refresh_tokens::family_id)
                                    .eq(&new.family_id),
                            )
                            .filter(fam_tokens.field(refresh_tokens::revoked).eq(true)),
                    );
                    let n = diesel::update(
                        refresh_tokens::table.filter(
                            refresh_tokens::id
                                .eq(&old_id)
                                .and(refresh_tokens::family_id.eq(&new.family_id))
                                .and(refresh_tokens::used_at.is_null())
                                .and(refresh_tokens::revoked.eq(false))
                                .and(diesel::dsl::not(family_revoked)),
                        ),
                    )
                    .set(refresh_tokens::used_at.eq(Some(now)))
                    .execute(c)
                    .await?;
                    if n == 0 {
                        return Ok(false);
                    }
                    diesel::insert_into(refresh_tokens::table).values(&new).execute(c).await?;
                    Ok(true)
                }
            })
            .await
        })
    }

    /// Revokes every token of a family.
    async fn revoke_token_family(&self, family_id: TokenFamilyId) -> StoreResult<()> {
        let family_id = family_id.to_string();
        with_write!(self, c => {
            diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(&family_id)))
                .set(refresh_tokens::revoked.eq(true))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    /// The user and whether the token family is revoked: two indexed reads on one pooled
    /// connection (on PostgreSQL sent together).
    async fn user_for_token(
        &self,
        id: UserId,
        family_id: Option<TokenFamilyId>,
    ) -> StoreResult<(User, bool)> {
        let id = id.to_string();
        let family = family_id.map(|f| f.to_string());
        let (row, revoked) = with_conn_sync!(self,
        move |c| crate::sync::user_for_token(c, &id, family.as_deref()),
        c => {
            match &family {
                // Pipelined: both statements sent at once, one round trip.
                Some(f) => {
                    let (mut one, mut two): (&AsyncPgConnection, &AsyncPgConnection) = (c, c);
                    let (row, revoked) = futures_util::future::try_join(
                        q_user!(&id).get_result::<UserRow>(&mut one),
                        q_family_revoked!(f).get_result::<bool>(&mut two),
                    )
                    .await?;
                    Ok((row, revoked))
                }
                None => Ok((q_user!(&id).get_result::<UserRow>(c).await?, false)),
            }
        })?;
        let (user, _) = row.into_domain().map_err(|e| e.0)?;
        Ok((user, revoked))
    }

    // ---------------------------------------------------------------- API clients

    /// Stores a new API client with its secret hash.
    async fn insert_api_client(&self, client: &ApiClient, secret_hash: &str) -> StoreResult<()> {
        let row = ApiClientRow::from_domain(client, secret_hash);
        with_write!(self, c => {
            diesel::insert_into(api_clients::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    /// An API client and its secret hash.
    async fn get_api_client(&self, id: ApiClientId) -> StoreResult<(ApiClient, String)> {
        with_conn!(self, c => {
            let row: ApiClientRow = api_clients::table.find(id.to_string()).limit_one().get_result(c).await?;
            row.into_domain()
        })
    }

    /// The API clients of some teams.
    async fn list_api_clients(&self, teams: &[TeamId]) -> StoreResult<Vec<ApiClient>> {
        let ids: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        with_conn!(self, c => {
            let rows: Vec<ApiClientRow> = api_clients::table
                .filter(api_clients::team_id.eq_any(&ids))
                .order(api_clients::id.asc())
                .load(c)
                .await?;
            rows.into_iter().map(|r| r.into_domain().map(|(a, _)| a)).collect()
        })
    }

    /// Revokes an API client.
    async fn revoke_api_client(&self, id: ApiClientId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::update(api_clients::table.find(id.to_string()))
                .set(api_clients::revoked.eq(true))
                .execute(c)
                .await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    // ---------------------------------------------------------------- connections

    /// Stores a new connection.
    async fn insert_connection(&self, conn: &Connection) -> StoreResult<()> {
        let row = ConnectionRow::from_domain(conn);
        with_write!(self, c => {
            diesel::insert_into(connections::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    /// A connection by id (whatever its team: authorisation is the caller's job).
    async fn get_connection(&self, id: ConnectionId) -> StoreResult<Connection> {
        let id = id.to_string();
        let row: ConnectionRow = with_conn_sync!(self,
            move |c| crate::sync::connection(c, &id),
            c => Ok(q_connection!(&id).get_result(c).await?))?;
        row.into_domain().map_err(|e| e.0)
    }

    /// A page of the connections of some teams: owned by one of them or shared with one.
    async fn list_connections(
        &self,
        teams: &[TeamId],
        page: &Page,
    ) -> StoreResult<Vec<Connection>> {
        let ids: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        with_conn!(self, c => {
            let shared = crate::sharing::connection_teams::table
                .filter(crate::sharing::connection_teams::team_id.eq_any(ids.clone()))
                .select(crate::sharing::connection_teams::connection_id);
            let mut q = connections::table
                .filter(connections::team_id.eq_any(ids.clone()).or(connections::id.eq_any(shared)))
                .order(connections::id.asc())
                .limit(page.limit)
                .into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(connections::id.gt(after.clone()));
            }
            let rows: Vec<ConnectionRow> = q.load(c).await?;
            rows.into_iter().map(ConnectionRow::into_domain).collect()
        })
    }

    /// Every connection that has an encrypted secret (for key rotation).
    async fn connections_with_secrets(&self) -> StoreResult<Vec<(ConnectionId, String)>> {
        with_conn!(self, c => {
            let rows: Vec<(String, Option<String>)> = connections::table
                .filter(connections::encrypted_secret.is_not_null())
                .select((connections::id, connections::encrypted_secret))
                .load(c)
                .await?;
            rows.into_iter()
                .filter_map(|(id, s)| s.map(|s| (id, s)))
                .map(|(id, s)| Ok((id.parse().map_err(|_| DbError::corrupt(format!("connection id `{id}`")))?, s)))
                .collect()
        })
    }

    /// Replaces every field of a stored connection (the id and team stay).
    async fn update_connection(&self, conn: &Connection) -> StoreResult<()> {
        let row = ConnectionRow::from_domain(conn);
        with_write!(self, c => {
            let n = diesel::update(connections::table.find(&row.id)).set(&row).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    /// Replaces encrypted secrets (key rotation), all in one transaction; only rows whose
    /// secret is still the one read (`old`) are changed.
    async fn replace_connection_secrets(
        &self,
        updates: &[(ConnectionId, String, String)],
    ) -> StoreResult<usize> {
        let updates: Vec<(String, String, String)> = updates
            .iter()
            .map(|(id, old, new)| (id.to_string(), old.clone(), new.clone()))
            .collect();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    let mut changed = 0;
                    for (id, old, new) in &updates {
                        changed += diesel::update(
                            connections::table.filter(connections::id.eq(id).and(connections::encrypted_secret.eq(old))),
                        )
                        .set(connections::encrypted_secret.eq(Some(new)))
                        .execute(c)
                        .await?;
                    }
                    Ok(changed)
                }
            })
            .await
        })
    }

    /// Deletes a connection.
    async fn delete_connection(&self, id: ConnectionId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(connections::table.find(id.to_string())).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    // ---------------------------------------------------------------- audit and throttling

    /// Appends an audit entry.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        let row = AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
            detail: entry.detail.clone(),
            ip: entry.ip.clone(),
            at: entry.at,
        };
        with_write!(self, c => {
            diesel::insert_into(audit_log::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    /// The most recent audit entries, newest first.
    async fn recent_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        with_conn!(self, c => {
            let rows: Vec<AuditRow> = audit_log::table.order(audit_log::id.desc()).limit(limit).load(c).await?;
            Ok(rows.into_iter().map(AuditRow::into_domain).collect())
        })
    }

    /// Records a failed login for throttling.
    async fn record_login_failure(&self, account: &str, ip: &str) -> StoreResult<()> {
        let values = (
            login_failures::id.eq(uuid::Uuid::now_v7().to_string()),
            login_failures::account.eq(account),
            login_failures::ip.eq(ip),
            login_failures::at.eq(now_millis()),
        );
        with_write!(self, c => {
            diesel::insert_into(login_failures::table).values(values.clone()).execute(c).await?;
            Ok(())
        })
    }

    /// Failed logins since `since` for the account, and for the address.
    async fn count_login_failures(
        &self,
        account: &str,
        ip: &str,
        since: i64,
    ) -> StoreResult<(i64, i64)> {
        with_conn!(self, c => {
            let by_account: i64 = login_failures::table
                .filter(login_failures::account.eq(account).and(login_failures::at.ge(since)))
                .count()
                .get_result(c)
                .await?;
            let by_ip: i64 = login_failures::table
                .filter(login_failures::ip.eq(ip).and(login_failures::at.ge(since)))
                .count()
                .get_result(c)
                .await?;
            Ok((by_account, by_ip))
        })
    }

    /// Forgets the failures of an account (after a successful login) and prunes old rows.
    async fn clear_login_failures(&self, account: &str, older_than: i64) -> StoreResult<()> {
        with_write!(self, c => {
            diesel::delete(login_failures::table.filter(login_failures::account.eq(account).or(login_failures::at.lt(older_than))))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    /// One request of `caller` in the store clock's current minute. PostgreSQL: one
    /// statement (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), atomic however many
    /// instances count at once. SQLite (one server; querent-app counts in memory there, but
    /// the contract holds on both): the store's now, then the upsert, in one write turn.
    async fn count_request(&self, caller: &str) -> StoreResult<RequestWindow> {
        const WINDOW_MS: i64 = 60_000;
        let window = |now: i64| now - now.rem_euclid(WINDOW_MS);
        let answer = |(hits, start, now): (i64, i64, i64)| RequestWindow {
            hits,
            remaining_ms: (start + WINDOW_MS - now).clamp(0, WINDOW_MS),
        };
        match &*self.pools {
            Pools::Postgres(p) => {
                // A write (a counter): on a checked connection, run once, as `with_write!`.
                let mut c = pg_checkout(p, true).await.map_err(|e| e.0)?;
                Self::count_request_pg(&mut c, caller).await.map(answer)
            }
            Pools::Sqlite(_) => with_write!(self, c => {
                let now: i64 = diesel::select(store_now(&*c, 0)).get_result(c).await?;
                let start = window(now);
                diesel::insert_into(request_windows::table)
                    .values((
                        request_windows::caller.eq(caller),
                        request_windows::window_start.eq(start),
                        request_windows::hits.eq(1_i64),
                    ))
                    .on_conflict((request_windows::caller, request_windows::window_start))
                    .do_update()
                    .set(request_windows::hits.eq(request_windows::hits + 1_i64))
                    .execute(c)
                    .await?;
                let hits: i64 = request_windows::table
                    .find((caller, start))
                    .select(request_windows::hits)
                    .limit_one()
                    .get_result(c)
                    .await?;
                Ok(answer((hits, start, now)))
            }),
        }
    }

    /// Deletes the windows that ended before the store clock's current minute.
    async fn prune_request_windows(&self) -> StoreResult<u64> {
        with_write!(self, c => {
            let cutoff = store_now(&*c, 60_000);
            let n = diesel::delete(request_windows::table.filter(request_windows::window_start.le(cutoff)))
                .execute(c)
                .await?;
            Ok(n as u64)
        })
    }

    // ---------------------------------------------------------------- settings

    async fn save_schema_snapshot(
        &self,
        connection: ConnectionId,
        snapshot: &SchemaSnapshot,
    ) -> StoreResult<()> {
        let id = connection.to_string();
        let json =
            serde_json::to_string(snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let fp = snapshot.fingerprint.clone();
        let taken_at = snapshot.taken_at;
        // One upsert: two first uses of a connection at once (both reading its catalog)
        // must not collide on the primary key, as an update-then-insert would on PostgreSQL.
        with_write!(self, c => {
            diesel::insert_into(schema_snapshots::table)
                .values((
                    schema_snapshots::connection_id.eq(&id),
                    schema_snapshots::fingerprint.eq(&fp),
                    schema_snapshots::snapshot.eq(&json),
                    schema_snapshots::taken_at.eq(taken_at),
                ))
                .on_conflict(schema_snapshots::connection_id)
                .do_update()
                .set((
                    schema_snapshots::fingerprint.eq(&fp),
                    schema_snapshots::snapshot.eq(&json),
                    schema_snapshots::taken_at.eq(taken_at),
                ))
                .execute(c)
                .await?;
            Ok(())
        })
    }

    async fn schema_snapshot(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<SchemaSnapshot>> {
        with_conn!(self, c => {
            let json: Option<String> = schema_snapshots::table
                .find(connection.to_string())
                .select(schema_snapshots::snapshot)
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(json
                .map(|j| serde_json::from_str(&j).map_err(|e| DbError::corrupt(format!("schema snapshot: {e}"))))
                .transpose()?)
        })
    }

    async fn schema_snapshot_stamp(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<DocumentStamp>> {
        let id = connection.to_string();
        let row: Option<(String, i64, i64)> = with_conn_sync!(self,
            move |c| crate::sync::schema_stamp(c, &id),
            c => Ok(q_schema_stamp!(&id).get_result(c).await.optional()?))?;
        Ok(row.map(|(key, at, len)| DocumentStamp { key, at, len }))
    }

    async fn insert_provider(&self, provider: &ProviderConfig) -> StoreResult<()> {
        let row = ProviderRow::from_domain(provider);
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                if row.is_default {
                    diesel::update(provider_configs::table.filter(provider_configs::team_id.eq(&row.team_id)))
                        .set(provider_configs::is_default.eq(false))
                        .execute(c)
                        .await?;
                }
                diesel::insert_into(provider_configs::table).values(&row).execute(c).await?;
                Ok(())
            })
            .await
        })
    }

    async fn get_provider(&self, id: ProviderId) -> StoreResult<ProviderConfig> {
        with_conn!(self, c => {
            let row: ProviderRow = provider_configs::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn list_providers(
        &self,
        teams: &[TeamId],
        page: &Page,
    ) -> StoreResult<Vec<ProviderConfig>> {
        let ids: Vec<String> = teams.iter().map(|t| t.to_string()).collect();
        with_conn!(self, c => {
            let mut q = provider_configs::table
                .filter(provider_configs::team_id.eq_any(ids.clone()))
                .order(provider_configs::id.asc())
                .limit(page.limit)
                .into_boxed();
            if let Some(after) = &page.after {
                q = q.filter(provider_configs::id.gt(after.clone()));
            }
            let rows: Vec<ProviderRow> = q.load(c).await?;
            Ok(rows.into_iter().map(ProviderRow::into_domain).collect::<Result<_, _>>()?)
        })
    }

    async fn update_provider(&self, provider: &ProviderConfig) -> StoreResult<()> {
        let row = ProviderRow::from_domain(provider);
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                if row.is_default {
                    diesel::update(provider_configs::table.filter(provider_configs::team_id.eq(&row.team_id)))
                        .set(provider_configs::is_default.eq(false))
                        .execute(c)
                        .await?;
                }
                let n = diesel::update(provider_configs::table.find(&row.id)).set(&row).execute(c).await?;
                if n == 0 {
                    return Err(diesel::result::Error::NotFound.into());
                }
                Ok(())
            })
            .await
        })
    }

    async fn delete_provider(&self, id: ProviderId) -> StoreResult<()> {
        with_write!(self, c => {
            let n = diesel::delete(provider_configs::table.find(id.to_string())).execute(c).await?;
            if n == 0 { Err(StoreError::NotFound.into()) } else { Ok(()) }
        })
    }

    async fn find_provider(&self, team: TeamId, name: &str) -> StoreResult<Option<ProviderConfig>> {
        let (team, name) = (team.to_string(), name.to_owned());
        let row: Option<ProviderRow> = with_conn_sync!(self,
            move |c| crate::sync::provider(c, &team, &name),
            c => Ok(q_provider!(&team, &name).get_result(c).await.optional()?))?;
        row.map(ProviderRow::into_domain)
            .transpose()
            .map_err(|e| e.0)
    }

    async fn default_provider(&self, team: TeamId) -> StoreResult<Option<ProviderConfig>> {
        with_conn!(self, c => {
            let row: Option<ProviderRow> = provider_configs::table
                .filter(provider_configs::team_id.eq(team.to_string()))
                .filter(provider_configs::is_default.eq(true))
                .limit_one()
                .get_result(c)
                .await
                .optional()?;
            Ok(row.map(ProviderRow::into_domain).transpose()?)
        })
    }

    async fn provider_keys(&self) -> StoreResult<Vec<(ProviderId, String)>> {
        with_conn!(self, c => {
            let rows: Vec<(String, Option<String>)> = provider_configs::table
                .filter(provider_configs::encrypted_api_key.is_not_null())
                .select((provider_configs::id, provider_configs::encrypted_api_key))
                .load(c)
                .await?;
            rows.into_iter()
                .filter_map(|(id, k)| k.map(|k| (id, k)))
                .map(|(id, k)| Ok((id.parse().map_err(|_| DbError::corrupt(format!("provider id `{id}`")))?, k)))
                .collect()
        })
    }

    async fn replace_provider_keys(
        &self,
        updates: &[(ProviderId, String, String)],
    ) -> StoreResult<usize> {
        let updates: Vec<(String, String, String)> = updates
            .iter()
            .map(|(id, old, new)| (id.to_string(), old.clone(), new.clone()))
            .collect();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                let mut changed = 0;
                for (id, old, new) in &updates {
                    changed += diesel::update(
                        provider_configs::table
                            .filter(provider_configs::id.eq(id).and(provider_configs::encrypted_api_key.eq(old))),
                    )
                    .set(provider_configs::encrypted_api_key.eq(Some(new)))
                    .execute(c)
                    .await?;
                }
                Ok(changed)
            })
            .await
        })
    }

    async fn usage_rows(
        &self,
        team: TeamId,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(Option<String>, i64, i64, Option<f64>)>> {
        with_conn!(self, c => {
            Ok(messages::table
                .inner_join(chat_sessions::table)
                .filter(chat_sessions::team_id.eq(team.to_string()))
                .filter(messages::created_at.ge(from))
                .filter(messages::created_at.lt(to))
                .select((
                    messages::provider,
                    messages::prompt_tokens,
                    messages::completion_tokens,
                    messages::cost_usd,
                ))
                .load(c)
                .await?)
        })
    }

    async fn insert_session(&self, session: &ChatSession) -> StoreResult<()> {
        let row = SessionRow::from_domain(session);
        with_write!(self, c => {
            diesel::insert_into(chat_sessions::table).values(&row).execute(c).await?;
            Ok(())
        })
    }

    async fn get_session(&self, id: SessionId) -> StoreResult<ChatSession> {
        with_conn!(self, c => {
            let row: SessionRow = chat_sessions::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn list_sessions(
        &self,
        owner: &str,
        connection: Option<ConnectionId>,
        page: &Page,
    ) -> StoreResult<Vec<ChatSession>> {
        let owner = owner.to_owned();
        with_conn!(self, c => {
            let mut q = chat_sessions::table
                .filter(chat_sessions::owner.eq(owner.clone()))
                .order(chat_sessions::id.asc())
                .limit(page.limit)
                .into_boxed();
            if let Some(conn) = connection {
                q = q.filter(chat_sessions::connection_id.eq(conn.to_string()));
            }
            if let Some(after) = &page.after {
                q = q.filter(chat_sessions::id.gt(after.clone()));
            }
            let rows: Vec<SessionRow> = q.load(c).await?;
            Ok(rows.into_iter().map(SessionRow::into_domain).collect::<Result<_, _>>()?)
        })
    }

    async fn delete_session(&self, id: SessionId) -> StoreResult<()> {
        let id = id.to_string();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                diesel::delete(messages::table.filter(messages::session_id.eq(&id))).execute(c).await?;
                let n = diesel::delete(chat_sessions::table.find(&id)).execute(c).await?;
                if n == 0 {
                    return Err(diesel::result::Error::NotFound.into());
                }
                Ok(())
            })
            .await
        })
    }

    async fn insert_message(&self, message: &ChatMessage) -> StoreResult<()> {
        let row = MessageRow::from_domain(message);
        let running = message.status == MessageStatus::Running;
        with_write!(self, c => {
            let row = row.clone();
            c.transaction::<_, DbError, _>(async |c| {
                diesel::update(chat_sessions::table.find(&row.session_id))
                    .set(chat_sessions::updated_at.eq(row.created_at))
                    .kept()
                    .execute(c)
                    .await?;
                diesel::insert_into(messages::table).values(&row).execute(c).await?;
                if running {
                    // Heartbeats are on the store's clock (see interrupt_running_messages).
                    let now = store_now(&*c, 0);
                    diesel::update(messages::table.find(&row.id))
                        .set(messages::updated_at.eq(now))
                        .kept()
                        .execute(c)
                        .await?;
                }
                Ok(())
            })
            .await
        })
    }

    async fn insert_session_with_message(
        &self,
        session: &ChatSession,
        message: &ChatMessage,
    ) -> StoreResult<()> {
        let mut session_row = SessionRow::from_domain(session);
        // What insert_message would have bumped it to.
        session_row.updated_at = message.created_at;
        let row = MessageRow::from_domain(message);
        let running = message.status == MessageStatus::Running;
        // Committed with the other chats' writes of the moment on SQLite (group.rs): this
        // returns once the transaction holding it is committed.
        if let Pools::Sqlite(pool) = &*self.pools {
            let work: crate::group::Work = Box::new(move |c| {
                let (session_row, row) = (session_row.clone(), row.clone());
                async move {
                    diesel::insert_into(chat_sessions::table)
                        .values(&session_row)
                        .execute(c)
                        .await?;
                    diesel::insert_into(messages::table)
                        .values(&row)
                        .execute(c)
                        .await?;
                    if running {
                        // Heartbeats are on the store's clock (see interrupt_running_messages).
                        q_heartbeat!(&*c, &row.id).execute(c).await?;
                    }
                    Ok(true)
                }
                .boxed()
            });
            return self
                .grouped_write(pool, work)
                .await
                .map(|_| ())
                .map_err(|e| e.0);
        }
        // On diesel-async's connection (not `sync.rs`): diesel's synchronous `execute`
        // takes its statement by reference, and a reference to a kept `UPDATE` (the
        // heartbeat) is not cached: it would be prepared every time.
        with_write!(self, c => {
            let (session_row, row) = (session_row.clone(), row.clone());
            c.transaction::<_, DbError, _>(async |c| {
                // Kept: diesel-async prepares an `INSERT` again on every call otherwise (a
                // round trip and a parse and plan in PostgreSQL). A one-row insert's SQL is
                // one of a few (which of the row's optional fields are `DEFAULT`).
                diesel::insert_into(chat_sessions::table).values(&session_row).kept().execute(c).await?;
                diesel::insert_into(messages::table).values(&row).kept().execute(c).await?;
                if running {
                    // Heartbeats are on the store's clock (see interrupt_running_messages).
                    q_heartbeat!(&*c, &row.id).execute(c).await?;
                }
                Ok(())
            })
            .await
        })
    }

    async fn update_message(&self, message: &ChatMessage) -> StoreResult<()> {
        let row = MessageRow::from_domain(message);
        let running = message.status == MessageStatus::Running;
        with_write!(self, c => {
            let row = row.clone();
            c.transaction::<_, DbError, _>(async |c| {
                let n = diesel::update(messages::table.find(&row.id)).set(&row).kept().execute(c).await?;
                if n == 0 {
                    return Err(diesel::result::Error::NotFound.into());
                }
                if running {
                    let now = store_now(&*c, 0);
                    diesel::update(messages::table.find(&row.id))
                        .set(messages::updated_at.eq(now))
                        .kept()
                        .execute(c)
                        .await?;
                }
                Ok(())
            })
            .await
        })
    }

    async fn finish_message(&self, message: &ChatMessage, run: Option<RunId>) -> StoreResult<bool> {
        let row = MessageRow::from_domain(message);
        let run = run.map(|r| r.to_string());
        let running = message.status == MessageStatus::Running;
        // The run check and the write are one statement: a newer run that took the message
        // over (edit, approval) is never overwritten, whatever the timing.
        // Committed with the other chats' writes of the moment on SQLite, as
        // insert_session_with_message.
        if let Pools::Sqlite(pool) = &*self.pools {
            let work: crate::group::Work = Box::new(move |c| {
                let (row, run) = (row.clone(), run.clone());
                async move { finish_and_beat!(c, &row, &run, running) }.boxed()
            });
            return self.grouped_write(pool, work).await.map_err(|e| e.0);
        }
        // On diesel-async's connection, as insert_session_with_message. A message that is
        // no longer running is one `UPDATE` (atomic alone): no `BEGIN` and `COMMIT` round
        // trips around it.
        with_write!(self, c => {
            let (row, run) = (row.clone(), run.clone());
            if !running {
                return finish_and_beat!(c, &row, &run, false);
            }
            c.transaction::<_, DbError, _>(async |c| {
                finish_and_beat!(c, &row, &run, running)
            })
            .await
        })
    }

    async fn heartbeat_message(&self, id: MessageId, run: Option<RunId>) -> StoreResult<bool> {
        let id = id.to_string();
        let run = run.map(|r| r.to_string());
        with_write!(self, c => {
            let now = store_now(&*c, 0);
            let q = messages::table
                .find(&id)
                .filter(messages::status.eq(MessageStatus::Running.as_str()));
            let n = match &run {
                Some(r) => {
                    diesel::update(q.filter(messages::run_id.eq(r)))
                        .set(messages::updated_at.eq(now))
                        .kept()
                        .execute(c)
                        .await?
                }
                None => {
                    diesel::update(q.filter(messages::run_id.is_null()))
                        .set(messages::updated_at.eq(now))
                        .kept()
                        .execute(c)
                        .await?
                }
            };
            Ok(n == 1)
        })
    }

    async fn get_message(&self, id: MessageId) -> StoreResult<ChatMessage> {
        with_conn!(self, c => {
            let row: MessageRow = messages::table.find(id.to_string()).limit_one().get_result(c).await?;
            Ok(row.into_domain()?)
        })
    }

    async fn list_messages(&self, session: SessionId) -> StoreResult<Vec<ChatMessage>> {
        with_conn!(self, c => {
            let rows: Vec<MessageRow> = messages::table
                .filter(messages::session_id.eq(session.to_string()))
                .order(messages::id.asc())
                .load(c)
                .await?;
            Ok(rows.into_iter().map(MessageRow::into_domain).collect::<Result<_, _>>()?)
        })
    }

    async fn transition_message(
        &self,
        id: MessageId,
        from: MessageStatus,
        to: MessageStatus,
        run: Option<RunId>,
    ) -> StoreResult<bool> {
        let id = id.to_string();
        let run = run.map(|r| r.to_string());
        with_write!(self, c => {
            let now = store_now(&*c, 0);
            let q = messages::table.find(&id).filter(messages::status.eq(from.as_str()));
            let n = match &run {
                Some(r) => {
                    diesel::update(q)
                        .set((
                            messages::status.eq(to.as_str()),
                            messages::updated_at.eq(now),
                            messages::run_id.eq(Some(r)),
                        ))
                        .execute(c)
                        .await?
                }
                None => {
                    diesel::update(q)
                        .set((messages::status.eq(to.as_str()), messages::updated_at.eq(now)))
                        .execute(c)
                        .await?
                }
            };
            Ok(n == 1)
        })
    }

    async fn messages_with_status(
        &self,
        teams: &[TeamId],
        connection: Option<ConnectionId>,
        status: MessageStatus,
        page: &Page,
    ) -> StoreResult<Vec<(ChatSession, ChatMessage)>> {
        let ids: Vec<String> = teams.iter().map(|c| c.to_string()).collect();
        with_conn!(self, c => {
            let mut q = messages::table
                .inner_join(chat_sessions::table)
                .filter(chat_sessions::team_id.eq_any(ids.clone()))
                .filter(messages::status.eq(status.as_str()))
                .order(messages::id.asc())
                .limit(page.limit)
                .select((chat_sessions::all_columns, messages::all_columns))
                .into_boxed();
            if let Some(conn) = connection {
                q = q.filter(chat_sessions::connection_id.eq(conn.to_string()));
            }
            if let Some(after) = &page.after {
                q = q.filter(messages::id.gt(after.clone()));
            }
            let rows: Vec<(SessionRow, MessageRow)> = q.load(c).await?;
            Ok(rows
                .into_iter()
                .map(|(s, m)| Ok((s.into_domain()?, m.into_domain()?)))
                .collect::<Result<_, DbError>>()?)
        })
    }

    async fn interrupt_running_messages(
        &self,
        idle_for: Option<Duration>,
        error_code: ErrorCode,
        error_detail: &str,
    ) -> StoreResult<u64> {
        let idle_ms = idle_for.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2));
        with_write!(self, c => {
            // Both sides of the comparison are the store's clock: the heartbeat wrote
            // `updated_at` with it, and "now" is read in this very statement.
            let set = (
                messages::status.eq(MessageStatus::Error.as_str()),
                messages::error_code.eq(Some(error_code.as_str())),
                messages::error_detail.eq(Some(error_detail)),
                messages::updated_at.eq(store_now(&*c, 0)),
            );
            let running = messages::table.filter(messages::status.eq(MessageStatus::Running.as_str()));
            let n = match idle_ms {
                Some(ms) => {
                    diesel::update(running.filter(messages::updated_at.lt(store_now(&*c, ms))))
                        .set(set)
                        .execute(c)
                        .await?
                }
                None => diesel::update(running).set(set).execute(c).await?,
            };
            Ok(n as u64)
        })
    }

    /// Every stored setting as (key, JSON text).
    async fn all_settings(&self) -> StoreResult<Vec<(String, String)>> {
        with_conn!(self, c => Ok(settings::table.select((settings::key, settings::value)).load(c).await?))
    }

    /// Stores settings (insert or replace), all in one transaction.
    async fn put_settings(&self, values: &[(String, String)]) -> StoreResult<()> {
        let values = values.to_vec();
        let now = now_millis();
        with_write!(self, c => {
            c.transaction::<_, DbError, _>(async |c| {
                {
                    for (k, v) in &values {
                        let n = diesel::update(settings::table.find(k))
                            .set((settings::value.eq(v), settings::updated_at.eq(now)))
                            .execute(c)
                            .await?;
                        if n == 0 {
                            diesel::insert_into(settings::table)
                                .values((settings::key.eq(k), settings::value.eq(v), settings::updated_at.eq(now)))
                                .execute(c)
                                .await?;
                        }
                    }
                    Ok(())
                }
            })
            .await
        })
    }
}

impl Store {
    /// The rate limit's upsert on PostgreSQL: the caller's hits in the store's current
    /// window, the window's start and the store's now.
    async fn count_request_pg(
        c: &mut AsyncPgConnection,
        caller: &str,
    ) -> StoreResult<(i64, i64, i64)> {
        const WINDOW_MS: i64 = 60_000;
        // The window is computed by the store in the statement itself; the SQL is a
        // constant, formatting injects nothing.
        let now = <AsyncPgConnection as StoreClock>::NOW_MS;
        let start = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(({now}) - ({now}) % {WINDOW_MS})"
        ));
        let row: (i64, i64, i64) = diesel::insert_into(request_windows::table)
            .values((
                request_windows::caller.eq(caller),
                request_windows::window_start.eq(start),
                request_windows::hits.eq(1_i64),
            ))
            .on_conflict((request_windows::caller, request_windows::window_start))
            .do_update()
            .set(request_windows::hits.eq(request_windows::hits + 1_i64))
            .returning((
                request_windows::hits,
                request_windows::window_start,
                store_now(&*c, 0),
            ))
            // One SQL text (its literals are constants): prepared once per
            // connection, not on every request.
            .kept()
            .get_result(c)
            .await
            .map_err(|e| DbError::from(e).0)?;
        Ok(row)
    }
}
