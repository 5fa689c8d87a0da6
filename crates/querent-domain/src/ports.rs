//! Ports: what the services need from the outside world, as traits. Adapters implement
//! them (querent-store: [`MetadataStore`]; querent-vault: [`Crypto`]; querent-exec:
//! [`TargetProbe`]); the binary and the test harness plug the adapters into querent-app.

use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::chat::{ChatMessage, ChatSession};
use crate::learning::{CacheCounters, CacheOutcome, CacheRecord, Example};
use crate::providers::ProviderConfig;
use crate::schema::SchemaSnapshot;
pub use crate::workspace::WorkspaceStore;
use crate::{
    ApiClient, ApiClientId, AuditEntry, CacheEntryId, Connection, ConnectionId, ConnectionTarget,
    Dialect, ExampleId, MessageId, MessageStatus, ProviderId, RefreshTokenId, RunId, Secret,
    SessionId, Team, TeamId, TeamMember, TeamRole, TokenFamilyId, UnixMillis, User, UserId,
};

/// What can go wrong in the metadata store.
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

impl crate::HasErrorCode for StoreError {
    fn code(&self) -> crate::ErrorCode {
        use crate::ErrorCode;
        match self {
            StoreError::NotFound | StoreError::MissingReference(_) => ErrorCode::NotFound,
            StoreError::Conflict(_) => ErrorCode::Conflict,
            StoreError::AlreadyInitialized => ErrorCode::AlreadyInitialized,
            StoreError::Unavailable(_) => ErrorCode::Unavailable,
            StoreError::Migration(_) | StoreError::Corrupt(_) | StoreError::Database(_) => {
                ErrorCode::Internal
            }
        }
    }
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page of a list: items in id (= creation) order.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A stored refresh token (only its hash is kept).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshToken {
    /// Id.
    pub id: RefreshTokenId,
    /// Family: all tokens rotated from one login. The family counts as revoked as soon as
    /// any of its tokens is.
    pub family_id: TokenFamilyId,
    /// Owner.
    pub user_id: UserId,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// Expiry (Unix ms).
    pub expires_at: i64,
    /// When it was exchanged for a new one (rotation), if it was.
    pub used_at: Option<i64>,
    /// Revoked by logout or reuse detection.
    pub revoked: bool,
    /// Creation time.
    pub created_at: i64,
}

/// A caller's requests in the current rate-limit window ([`MetadataStore::count_request`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestWindow {
    /// Requests counted in the window, the latest included.
    pub hits: i64,
    /// Milliseconds until the window ends.
    pub remaining_ms: i64,
}

/// What changes whenever a stored document — a connection's schema snapshot, the latest
/// version of its semantic model — is replaced, read without the document itself: a copy
/// kept in memory is current while its stamp equals the stored one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentStamp {
    /// The snapshot's fingerprint; the model's version number.
    pub key: String,
    /// When the snapshot was taken; when the model version was saved (ms).
    pub at: i64,
    /// The stored document's length in bytes (a snapshot stripped of samples after a
    /// policy change keeps its fingerprint and time). Read with `octet_length`, which both
    /// SQLite and PostgreSQL answer from the record without reading the document (`length`
    /// counted its characters, reading all of it, on every chat).
    pub len: i64,
}

/// Store pool occupancy and health, for `/ready`.
#[derive(Clone, Debug, Serialize)]
pub struct StoreHealth {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Connections in use.
    pub in_use: usize,
    /// Pool size.
    pub size: usize,
}

/// The metadata store, in the services' terms. Each method is one short unit of work: it
/// takes a pooled connection and gives it back before returning.
///
/// The semantic layer's tables have their own traits ([`SemanticModelStore`],
/// [`CacheStore`], [`ExampleStore`]), implemented in their own files of querent-store and
/// reachable through any `dyn MetadataStore`.
#[async_trait]
pub trait MetadataStore:
    SemanticModelStore
    + CacheStore
    + ExampleStore
    + WorkspaceStore
    + crate::aliases::ConnectionAliasStore
    + crate::sharing::ConnectionShareStore
    + crate::invitations::InvitationStore
    + Send
    + Sync
    + 'static
{
    /// Checks that the store answers a trivial query.
    async fn ping(&self) -> StoreResult<()>;
    /// Backend name and pool occupancy.
    fn health(&self) -> StoreHealth;

    /// Number of user accounts.
    async fn count_users(&self) -> StoreResult<i64>;
    /// First-boot setup in one transaction: the admin, the first team, the admin as its
    /// owner. [`StoreError::AlreadyInitialized`] once any user exists, also under a race.
    async fn create_first_admin(
        &self,
        user: &User,
        password_hash: &str,
        team: &Team,
    ) -> StoreResult<()>;
    /// Inserts a user.
    async fn insert_user(&self, user: &User, password_hash: &str) -> StoreResult<()>;
    /// A user and their password hash.
    async fn get_user(&self, id: UserId) -> StoreResult<(User, String)>;
    /// A user and their password hash, by exact username.
    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// A page of users.
    async fn list_users(&self, page: &Page) -> StoreResult<Vec<User>>;
    /// Replaces username, email, role, disabled and token epoch.
    async fn update_user(&self, user: &User) -> StoreResult<()>;
    /// New password hash; bumps the token epoch and revokes all refresh tokens, atomically.
    async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()>;
    /// Bumps the token epoch and revokes all refresh tokens (logout everywhere).
    async fn revoke_all_sessions(&self, id: UserId) -> StoreResult<()>;
    /// Deletes a user with their memberships and tokens.
    async fn delete_user(&self, id: UserId) -> StoreResult<()>;
    /// Number of enabled server admins.
    async fn count_active_admins(&self) -> StoreResult<i64>;

    /// Creates a team, optionally with its first owner.
    async fn insert_team(&self, team: &Team, owner: Option<UserId>) -> StoreResult<()>;
    /// A team.
    async fn get_team(&self, id: TeamId) -> StoreResult<Team>;
    /// A page of teams, only those in `only` when given.
    async fn list_teams(&self, only: Option<&[TeamId]>, page: &Page) -> StoreResult<Vec<Team>>;
    /// Deletes a team and everything it owns.
    async fn delete_team(&self, id: TeamId) -> StoreResult<()>;
    /// Adds a member or changes their role.
    async fn upsert_member(&self, team: TeamId, user: UserId, role: TeamRole) -> StoreResult<()>;
    /// Removes a member.
    async fn remove_member(&self, team: TeamId, user: UserId) -> StoreResult<()>;
    /// The role of a user in a team, if a member.
    async fn membership(&self, team: TeamId, user: UserId) -> StoreResult<Option<TeamRole>>;
    /// Every membership of a user, oldest first.
    async fn memberships_of(&self, user: UserId) -> StoreResult<Vec<TeamMember>>;
    /// The members of a team, oldest first.
    async fn members_of(&self, team: TeamId) -> StoreResult<Vec<TeamMember>>;
    /// Number of owners of a team.
    async fn count_owners(&self, team: TeamId) -> StoreResult<i64>;

    /// Stores a new refresh token.
    async fn insert_refresh_token(&self, token: &RefreshToken) -> StoreResult<()>;
    /// The refresh token with this hash.
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks `old_id` used and stores `new`, atomically, only if `old_id` was unused and
    /// unrevoked *and no token of its family is revoked* (checked in the same statement, so
    /// a rotation racing a revocation of the family never leaves a live token behind);
    /// `false` (nothing stored) otherwise.
    async fn rotate_refresh_token(
        &self,
        old_id: RefreshTokenId,
        new: &RefreshToken,
    ) -> StoreResult<bool>;
    /// Revokes a whole token family.
    async fn revoke_token_family(&self, family_id: TokenFamilyId) -> StoreResult<()>;
    /// The user an access token names and whether the refresh-token family the token was
    /// issued from has been revoked (any of its tokens revoked; `false` when no family is
    /// given), in one unit of work: the per-request check of a bearer token.
    async fn user_for_token(
        &self,
        id: UserId,
        family_id: Option<TokenFamilyId>,
    ) -> StoreResult<(User, bool)>;

    /// Stores an API client with its secret hash.
    async fn insert_api_client(&self, client: &ApiClient, secret_hash: &str) -> StoreResult<()>;
    /// An API client and its secret hash.
    async fn get_api_client(&self, id: ApiClientId) -> StoreResult<(ApiClient, String)>;
    /// The API clients of some teams.
    async fn list_api_clients(&self, teams: &[TeamId]) -> StoreResult<Vec<ApiClient>>;
    /// Revokes an API client.
    async fn revoke_api_client(&self, id: ApiClientId) -> StoreResult<()>;

    /// Stores a new connection.
    async fn insert_connection(&self, conn: &Connection) -> StoreResult<()>;
    /// A connection by id, whatever its team (authorisation is the caller's job).
    async fn get_connection(&self, id: ConnectionId) -> StoreResult<Connection>;
    /// A page of the connections of some teams.
    async fn list_connections(&self, teams: &[TeamId], page: &Page)
    -> StoreResult<Vec<Connection>>;
    /// Every (connection, encrypted secret) pair, for key rotation.
    async fn connections_with_secrets(&self) -> StoreResult<Vec<(ConnectionId, String)>>;
    /// Replaces every field of a connection except id and team.
    async fn update_connection(&self, conn: &Connection) -> StoreResult<()>;
    /// Replaces encrypted secrets `(id, old, new)` in one transaction where still `old`;
    /// returns how many changed.
    async fn replace_connection_secrets(
        &self,
        updates: &[(ConnectionId, String, String)],
    ) -> StoreResult<usize>;
    /// Deletes a connection.
    async fn delete_connection(&self, id: ConnectionId) -> StoreResult<()>;

    /// Appends an audit entry.
    async fn append_audit(&self, entry: &AuditEntry) -> StoreResult<()>;
    /// The newest audit entries, newest first.
    async fn recent_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Records a failed login.
    async fn record_login_failure(&self, account: &str, ip: &str) -> StoreResult<()>;
    /// Failed logins since `since` (Unix ms) for the account and for the address.
    async fn count_login_failures(
        &self,
        account: &str,
        ip: &str,
        since: i64,
    ) -> StoreResult<(i64, i64)>;
    /// Forgets an account's failures and prunes rows older than `older_than`.
    async fn clear_login_failures(&self, account: &str, older_than: i64) -> StoreResult<()>;
    /// Counts one request of `caller` in the current one-minute window of the *store's*
    /// clock (one row per caller and window, upserted atomically, so instances sharing the
    /// store count together and their own clocks never meet): the window's hits so far,
    /// this one included, and the milliseconds left in the window.
    async fn count_request(&self, caller: &str) -> StoreResult<RequestWindow>;
    /// Deletes the request windows that ended before the current one; returns how many.
    async fn prune_request_windows(&self) -> StoreResult<u64>;

    /// Stores the latest schema snapshot of a connection (replacing the previous one).
    async fn save_schema_snapshot(
        &self,
        connection: ConnectionId,
        snapshot: &SchemaSnapshot,
    ) -> StoreResult<()>;
    /// The latest schema snapshot of a connection, if one was taken.
    async fn schema_snapshot(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<SchemaSnapshot>>;
    /// The stamp of the connection's stored snapshot (without reading the snapshot).
    async fn schema_snapshot_stamp(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<DocumentStamp>>;

    // ---- providers
    /// Stores a provider; when it is the default, the team's other providers stop being.
    async fn insert_provider(&self, provider: &ProviderConfig) -> StoreResult<()>;
    /// One provider.
    async fn get_provider(&self, id: ProviderId) -> StoreResult<ProviderConfig>;
    /// A page of the providers of some teams.
    async fn list_providers(
        &self,
        teams: &[TeamId],
        page: &Page,
    ) -> StoreResult<Vec<ProviderConfig>>;
    /// Replaces a provider (same default rule as insert).
    async fn update_provider(&self, provider: &ProviderConfig) -> StoreResult<()>;
    /// Deletes a provider.
    async fn delete_provider(&self, id: ProviderId) -> StoreResult<()>;
    /// A team's provider by name.
    async fn find_provider(&self, team: TeamId, name: &str) -> StoreResult<Option<ProviderConfig>>;
    /// A team's default provider.
    async fn default_provider(&self, team: TeamId) -> StoreResult<Option<ProviderConfig>>;
    /// Every provider with an encrypted API key (for key rotation).
    async fn provider_keys(&self) -> StoreResult<Vec<(ProviderId, String)>>;
    /// Replaces encrypted API keys `(id, old, new)` in one transaction where they still hold
    /// `old`; returns how many changed.
    async fn replace_provider_keys(
        &self,
        updates: &[(ProviderId, String, String)],
    ) -> StoreResult<usize>;
    /// Per message of a team's sessions created in `[from, to)`: provider, prompt tokens,
    /// completion tokens, cost.
    async fn usage_rows(
        &self,
        team: TeamId,
        from: UnixMillis,
        to: UnixMillis,
    ) -> StoreResult<Vec<(Option<String>, i64, i64, Option<f64>)>>;

    // ---- chat
    /// Stores a new session.
    async fn insert_session(&self, session: &ChatSession) -> StoreResult<()>;
    /// One session.
    async fn get_session(&self, id: SessionId) -> StoreResult<ChatSession>;
    /// A page of an owner's sessions (`user:<id>`/`client:<id>`), optionally of one
    /// connection, in id order.
    async fn list_sessions(
        &self,
        owner: &str,
        connection: Option<ConnectionId>,
        page: &Page,
    ) -> StoreResult<Vec<ChatSession>>;
    /// Deletes a session and its messages.
    async fn delete_session(&self, id: SessionId) -> StoreResult<()>;
    /// Stores a new message and bumps its session's `updated_at`. A `running` message's
    /// `updated_at` is the store's clock, not the one given (see
    /// [`MetadataStore::interrupt_running_messages`]).
    async fn insert_message(&self, message: &ChatMessage) -> StoreResult<()>;
    /// Stores a new session and its first message in one unit of work (as
    /// [`MetadataStore::insert_session`] then [`MetadataStore::insert_message`]: both or
    /// neither).
    async fn insert_session_with_message(
        &self,
        session: &ChatSession,
        message: &ChatMessage,
    ) -> StoreResult<()>;
    /// Replaces a message's stored fields (`updated_at` of a `running` one: the store's
    /// clock).
    async fn update_message(&self, message: &ChatMessage) -> StoreResult<()>;
    /// The final write of a run: replaces a message's stored fields (its `run_id`
    /// included) only while the stored message still belongs to run `run` — a run that
    /// was overtaken (the message was edited, approved again or re-run since) writes
    /// nothing. `false` when nothing was written.
    async fn finish_message(&self, message: &ChatMessage, run: Option<RunId>) -> StoreResult<bool>;
    /// A running chat's heartbeat: sets `updated_at` to the store's clock while the
    /// message is `running` and still run `run`'s; `false` otherwise.
    async fn heartbeat_message(&self, id: MessageId, run: Option<RunId>) -> StoreResult<bool>;
    /// One message.
    async fn get_message(&self, id: MessageId) -> StoreResult<ChatMessage>;
    /// The messages of a session, oldest first.
    async fn list_messages(&self, session: SessionId) -> StoreResult<Vec<ChatMessage>>;
    /// Moves a message from status `from` to `to` atomically (`updated_at`: the store's
    /// clock); with `run`, the message becomes that run's in the same statement. False
    /// when it was not in `from` (someone else got there first).
    async fn transition_message(
        &self,
        id: MessageId,
        from: MessageStatus,
        to: MessageStatus,
        run: Option<RunId>,
    ) -> StoreResult<bool>;
    /// Ends the messages still `running` that nobody touched for `idle_for` (every running
    /// message when `None`): status `error` with this code and detail (recovery after a
    /// crash). Idleness is measured on the store's clock alone — `updated_at` of running
    /// messages is stamped by the store and compared with its own `now` in the same
    /// statement — so instances with skewed clocks never mark each other's live chats.
    /// The message's run is left as it is. Returns how many.
    async fn interrupt_running_messages(
        &self,
        idle_for: Option<Duration>,
        error_code: crate::ErrorCode,
        error_detail: &str,
    ) -> StoreResult<u64>;
    /// Messages in `status` of sessions of these teams (optionally on one connection),
    /// oldest first (e.g. the approvals waiting for a reviewer).
    async fn messages_with_status(
        &self,
        teams: &[TeamId],
        connection: Option<ConnectionId>,
        status: MessageStatus,
        page: &Page,
    ) -> StoreResult<Vec<(ChatSession, ChatMessage)>>;

    /// Every stored setting as (key, JSON text).
    async fn all_settings(&self) -> StoreResult<Vec<(String, String)>>;
    /// Inserts or replaces settings in one transaction.
    async fn put_settings(&self, values: &[(String, String)]) -> StoreResult<()>;
}

/// The vault's cryptography, as the services need it.
pub trait Crypto: Send + Sync + 'static {
    /// Encrypts a secret for storage (authenticated, fresh nonce, key id inside).
    fn encrypt(&self, plaintext: &Secret<String>) -> Result<String, CryptoError>;
    /// Decrypts a stored secret.
    fn decrypt(&self, ciphertext: &str) -> Result<Secret<String>, CryptoError>;
    /// HMAC-SHA256 of `data` under the sub-key for `purpose` of the current master key;
    /// returns the key id and the tag.
    fn mac(&self, purpose: &str, data: &[u8]) -> (String, Vec<u8>);
    /// Verifies a tag made by [`Crypto::mac`] with the key `key_id`, in constant time.
    fn verify_mac(&self, key_id: &str, purpose: &str, data: &[u8], tag: &[u8]) -> bool;
    /// SHA-256 of `data`, lowercase hex.
    fn sha256_hex(&self, data: &[u8]) -> String;
    /// Cryptographically secure random bytes.
    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, CryptoError>;
}

/// A cryptographic failure. Never carries secret material.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CryptoError(pub String);

/// What a successful connection test reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInfo {
    /// The dialect spoken.
    pub dialect: Dialect,
    /// The server's own version string.
    pub server_version: String,
    /// Time to connect and answer, in milliseconds.
    pub latency_ms: u64,
}

/// Why a target database could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProbeError {
    /// Unreachable, refused, authentication failed, unknown database, TLS unavailable.
    #[error("{0}")]
    Connection(String),
    /// No answer within the timeout.
    #[error("the target database did not answer within {0} ms")]
    Timeout(u64),
    /// The settings are incomplete or invalid (the message names the field).
    #[error("{0}")]
    InvalidTarget(String),
}

impl crate::HasErrorCode for ProbeError {
    fn code(&self) -> crate::ErrorCode {
        match self {
            ProbeError::InvalidTarget(_) => crate::ErrorCode::ValidationError,
            ProbeError::Connection(_) | ProbeError::Timeout(_) => crate::ErrorCode::ConnectionError,
        }
    }
}

/// What to read when introspecting a target.
#[derive(Debug, Clone, Default)]
pub struct SchemaReadOptions {
    /// Schemas to read (empty: the server's default).
    pub schemas: Vec<String>,
    /// Whether to sample values of low-cardinality text columns.
    pub sample_values: bool,
    /// Excluded and masked parts are never sampled.
    pub privacy: crate::PrivacyPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
}

/// Reads a target database's catalog into a [`SchemaSnapshot`].
#[async_trait]
pub trait SchemaReader: Send + Sync + 'static {
    /// Reads the catalog (read-only, bounded).
    async fn read_schema(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        options: &SchemaReadOptions,
    ) -> Result<SchemaSnapshot, ProbeError>;
}

/// Connects to target databases to check that they are reachable.
#[async_trait]
pub trait TargetProbe: Send + Sync + 'static {
    /// Connects within `timeout`, asks the server its version, disconnects.
    async fn probe(
        &self,
        target: &ConnectionTarget,
        password: Option<&Secret<String>>,
        timeout: Duration,
    ) -> Result<ServerInfo, ProbeError>;
}

/// Versioned semantic models per connection (`semantic_models`). Every saved version is
/// kept (history); the latest is the one in force.
#[async_trait]
pub trait SemanticModelStore: Send + Sync + 'static {
    /// Stores `model` as version `model.version` of its connection, saved by `created_by`
    /// (`user:<id>`/`client:<id>`). [`StoreError::Conflict`] when that version exists
    /// already (someone else saved first: optimistic concurrency);
    /// [`StoreError::MissingReference`] when the connection does not exist.
    async fn insert_semantic_model(
        &self,
        model: &crate::semantic::SemanticModel,
        created_by: Option<&str>,
    ) -> StoreResult<()>;
    /// The highest version of a connection's model, if it has one.
    async fn latest_semantic_model(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<crate::semantic::SemanticModel>>;
    /// The stamp of the highest version of a connection's model (without reading it).
    async fn latest_semantic_model_stamp(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Option<DocumentStamp>>;
    /// One version of a connection's model, if it exists.
    async fn semantic_model_version(
        &self,
        connection: ConnectionId,
        version: u32,
    ) -> StoreResult<Option<crate::semantic::SemanticModel>>;
    /// Every saved version of a connection's model (number, fingerprint, author, time),
    /// newest first.
    async fn list_semantic_model_versions(
        &self,
        connection: ConnectionId,
    ) -> StoreResult<Vec<crate::semantic::SemanticModelVersion>>;
    /// Deletes every version of a connection's model; returns how many there were.
    async fn delete_semantic_models(&self, connection: ConnectionId) -> StoreResult<u64>;
}

/// The semantic cache's entries (`cache_entries`) and counters (`cache_counters`).
#[async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// Stores an entry, replacing one with the same connection, fingerprint, model version
    /// and normalised question; then drops the connection's expired entries and, beyond
    /// `max_entries`, its least recently used ones (one statement each, oldest first, so
    /// concurrent writers cannot deadlock).
    async fn put_cache_entry(&self, entry: &CacheRecord, max_entries: u64) -> StoreResult<()>;
    /// Stores several entries in one transaction, each as [`CacheStore::put_cache_entry`]
    /// does, then trims each connection they belong to once (expired entries, then the
    /// least recently used beyond `max_entries`) — not once per entry.
    async fn put_cache_entries(&self, entries: &[CacheRecord], max_entries: u64)
    -> StoreResult<()>;
    /// Whether an entry exists and is unexpired (a read: hits on it are recorded later,
    /// batched, by [`CacheStore::record_cache_use`]).
    async fn cache_entry_live(&self, id: CacheEntryId, now: UnixMillis) -> StoreResult<bool>;
    /// In one transaction: adds lookup outcomes to connections' counters, and hits to
    /// entries (`(id, hits, last used)`: the count is added, `last_used` raised to at
    /// least that time; entries gone meanwhile are skipped).
    async fn record_cache_use(
        &self,
        counts: &[(ConnectionId, CacheCounters)],
        hits: &[(CacheEntryId, u64, UnixMillis)],
    ) -> StoreResult<()>;
    /// An entry by id.
    async fn cache_entry(&self, id: CacheEntryId) -> StoreResult<CacheRecord>;
    /// The live (unexpired) entries of a connection, most recently used first, at most `limit`.
    async fn cache_entries_of(
        &self,
        connection: ConnectionId,
        now: UnixMillis,
        limit: i64,
    ) -> StoreResult<Vec<CacheRecord>>;
    /// The live entry with exactly this key, if any.
    async fn find_cache_entry(
        &self,
        connection: ConnectionId,
        schema_fingerprint: &str,
        semantic_version: u32,
        normalized: &str,
        now: UnixMillis,
    ) -> StoreResult<Option<CacheRecord>>;
    /// Records a hit on a live entry; false when it is gone or expired (another instance
    /// evicted it), in which case it must not be served.
    async fn touch_cache_entry(&self, id: CacheEntryId, now: UnixMillis) -> StoreResult<bool>;
    /// A page of the live entries of some connections, by id (keyset paging).
    async fn list_cache_entries(
        &self,
        connections: &[ConnectionId],
        now: UnixMillis,
        page: &Page,
    ) -> StoreResult<Vec<CacheRecord>>;
    /// Deletes an entry; false when there was none.
    async fn delete_cache_entry(&self, id: CacheEntryId) -> StoreResult<bool>;
    /// Deletes a connection's entries whose normalised question is this; returns how many.
    async fn delete_cache_entries_for(
        &self,
        connection: ConnectionId,
        normalized: &str,
    ) -> StoreResult<u64>;
    /// Deletes every entry of a connection, or only those not on `keep_fingerprint`
    /// (a schema refresh keeps entries of the schema it found); returns how many.
    async fn clear_cache(
        &self,
        connection: ConnectionId,
        keep_fingerprint: Option<&str>,
    ) -> StoreResult<u64>;
    /// Increases one counter of a connection.
    async fn count_cache(&self, connection: ConnectionId, outcome: CacheOutcome)
    -> StoreResult<()>;
    /// Counters, entry counts and live entry counts per connection.
    async fn cache_stats(
        &self,
        connections: &[ConnectionId],
        now: UnixMillis,
    ) -> StoreResult<Vec<(ConnectionId, CacheCounters, u64)>>;
}

/// Verified question/SQL examples (`examples`).
#[async_trait]
pub trait ExampleStore: Send + Sync + 'static {
    /// Inserts an example.
    async fn insert_example(&self, example: &Example) -> StoreResult<()>;
    /// An example.
    async fn get_example(&self, id: ExampleId) -> StoreResult<Example>;
    /// Replaces question, SQL, source, verified_by and updated_at.
    async fn update_example(&self, example: &Example) -> StoreResult<()>;
    /// Deletes an example.
    async fn delete_example(&self, id: ExampleId) -> StoreResult<()>;
    /// A page of the examples of some teams, optionally of one connection, by id.
    async fn list_examples(
        &self,
        teams: &[TeamId],
        connection: Option<ConnectionId>,
        page: &Page,
    ) -> StoreResult<Vec<Example>>;
    /// The newest `limit` examples of a connection (candidates for few-shot prompts).
    async fn examples_of(&self, connection: ConnectionId, limit: i64) -> StoreResult<Vec<Example>>;
    /// The example recorded from a chat message, if any.
    async fn example_of_message(&self, message: MessageId) -> StoreResult<Option<Example>>;
}
