//! # querent-app
//!
//! The domain services every front end (the HTTP API, its compatibility layers, the CLI)
//! calls: first-boot setup and authentication (argon2id passwords, HS256 access tokens,
//! rotating refresh-token families with reuse detection, API clients), users, teams and
//! roles, connections to target databases (credentials encrypted by the vault, real
//! connection tests), settings, audit log and master-key rotation, and the chat pipeline
//! ([`chat`]: question → provider → guard → execution-mode gate → streamed rows), sessions
//! and their history, hand-written SQL ([`sql`]), LLM providers ([`providers`]), the
//! semantic cache ([`cache`]) and verified examples with chat feedback ([`examples`]),
//! the SQLite sandbox and uploads ([`sqlite_files`]), the refusal of Querent's own
//! metadata store as a target ([`own_store`]), the recovery of chats a crash
//! interrupted ([`recovery`]), asynchronous questions answered by a pool of background
//! workers ([`questions`]) and assistants, saved profiles for asking ([`assistants`]),
//! and scheduled workflows with their in-server scheduler ([`workflows`]). [`metrics`]
//! keeps the server's Prometheus series (one registry per `App`); [`row_filters`] the
//! connections' row filters, applied for whom they name wherever SQL runs; [`shutdown`]
//! ends chats, questions and workflow runs in progress when the server stops.
//!
//! Team isolation is enforced here, in one place ([`access`]): every team-owned resource is
//! loaded through a function that checks the caller's membership and role, and a caller who
//! is not a member gets `not_found`, exactly as if the resource did not exist.
//!
//! The services reach the outside world only through the ports of
//! [`querent_domain::ports`] (metadata store, vault cryptography, target probes), handed to
//! [`App::new`] by the binary, so this crate — and the HTTP layer above it — never links
//! diesel, ring, sqlparser, an LLM client or a database driver.
//!
//! Depends on: querent-domain, argon2 (password hashing), tokio, serde, prometheus-client.
//! Must never: know about HTTP (no status codes, headers or actix types — errors carry an
//! [`querent_domain::ErrorCode`]), return a secret in a response type, or hold a store
//! connection across a slow call (each store method is one short unit of work).

pub mod access;
mod actor;
pub mod aliases;
pub mod api_clients;
pub mod assistants;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod chat;
pub mod compat_support;
pub mod connections;
pub mod dashboards;
pub mod demo_model;
pub mod describe;
mod error;
pub mod examples;
pub mod export;
pub mod invitations;
pub mod jwt;
mod linking;
pub mod metrics;
pub mod own_store;
mod paging;
pub mod providers;
pub mod queries;
pub mod questions;
mod ratelimit;
pub mod recovery;
pub mod row_filters;
mod run;
pub mod schema;
pub mod secrets;
pub mod semantic;
pub mod sessions;
pub mod settings;
pub mod sharing;
pub mod shutdown;
pub mod sql;
pub mod sqlite_files;
mod stored_copies;
pub mod teams;
pub mod users;
pub mod workflows;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use actor::{Actor, Principal};
pub use error::{ServiceError, ServiceResult};
pub use paging::{ListParams, MAX_LIMIT, Paginated};
pub use querent_domain::Secret;

use querent_domain::embed::Embedder;
use querent_domain::ports::{Crypto, MetadataStore, SchemaReader, TargetProbe};
use querent_domain::query::{ProviderFactory, QueryEngine, SqlProvider};
use querent_domain::{AuditEntry, now_millis};

/// Service configuration (the HTTP server's own settings live in querent-http).
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Lifetime of access tokens.
    pub access_token_ttl: Duration,
    /// Lifetime of refresh tokens.
    pub refresh_token_ttl: Duration,
    /// Failed logins per account within `login_window` before throttling.
    pub login_max_failures_per_account: i64,
    /// Failed logins per client address within `login_window` before throttling.
    pub login_max_failures_per_ip: i64,
    /// Throttling window.
    pub login_window: Duration,
    /// Timeout for connecting to target databases.
    pub connect_timeout: Duration,
    /// Where SQLite targets may live (shared directories, team upload folders, the demo)
    /// and what they may never be (Querent's own files).
    pub sqlite: sqlite_files::SqliteSandbox,
    /// The generated demo database, registered as connection `demo` of the first team at
    /// first-boot setup (and by `querent demo`); `None` to skip.
    pub demo_database: Option<PathBuf>,
    /// The server's own PostgreSQL store (from `database_url`), never accepted as a target;
    /// `None` with the embedded store (its files are in [`AppConfig::sqlite`]'s protected
    /// files).
    pub own_store: Option<own_store::StoreLocation>,
    /// The largest row cap any query may have, whatever a request or connection asks.
    pub server_max_rows: u32,
    /// Schemas with more tables than this are linked (the tables a question needs are
    /// picked) before the provider sees them; smaller ones are given whole.
    pub link_above_tables: usize,
    /// The bearer token `GET /metrics` asks for; `None` leaves the endpoint open.
    pub metrics_token: Option<Secret<String>>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            login_max_failures_per_account: 5,
            login_max_failures_per_ip: 50,
            login_window: Duration::from_secs(15 * 60),
            connect_timeout: Duration::from_secs(5),
            sqlite: Default::default(),
            demo_database: None,
            own_store: None,
            server_max_rows: 10_000,
            link_above_tables: 30,
            metrics_token: None,
        }
    }
}

/// The adapters the services run on.
#[derive(Clone)]
pub struct Ports {
    /// The metadata store (querent-store).
    pub store: Arc<dyn MetadataStore>,
    /// The vault (querent-vault).
    pub crypto: Arc<dyn Crypto>,
    /// Target database connection tests (querent-exec).
    pub probe: Arc<dyn TargetProbe>,
    /// Target database catalogs (querent-introspect).
    pub schema: Arc<dyn SchemaReader>,
    /// Guard and execution against target databases (querent-exec).
    pub engine: Arc<dyn QueryEngine>,
    /// The built-in SQL provider used when a team configured none (querent-offline).
    pub provider: Arc<dyn SqlProvider>,
    /// Builds configured providers (querent-llm) and checks their URLs.
    pub providers: Arc<dyn ProviderFactory>,
    /// Delivers workflow webhooks under the outbound URL policy (querent-llm).
    pub webhooks: Arc<dyn querent_domain::webhook::WebhookSender>,
    /// Embeds questions for the semantic cache: a local model, a remote `/embeddings`
    /// API, or the lexical fallback (querent-cache's `LexicalEmbedder`).
    pub embedder: Arc<dyn Embedder>,
    /// Why the embedder is the lexical fallback when a model was wanted (shown by `/ready`).
    pub embedder_note: Option<String>,
    /// Changes the process's log filter (`PATCH /settings` `log_level`), when the binary
    /// offers it.
    pub log_level_hook: Option<LogLevelHook>,
}

/// Sets the log filter to a level; returns why it could not.
pub type LogLevelHook = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

struct Inner {
    ports: Ports,
    config: AppConfig,
    limiter: ratelimit::RateLimiter,
    links: linking::LinkCache,
    cache: cache::CacheState,
    widgets: dashboards::WidgetCache,
    questions: questions::QuestionPool,
    workflows: workflows::WorkflowState,
    metrics: metrics::Metrics,
    settings: settings::SettingsCache,
    shutdown: shutdown::ShutdownState,
    copies: stored_copies::StoredCopies,
}

/// The service layer. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("store", &self.inner.ports.store.health().backend)
            .finish()
    }
}

impl App {
    /// Builds the services on their adapters.
    pub fn new(mut ports: Ports, config: AppConfig) -> Self {
        let metrics = metrics::Metrics::new();
        ports.engine = Arc::new(metrics::MeteredEngine {
            inner: ports.engine,
            metrics: metrics.clone(),
        });
        Self {
            inner: Arc::new(Inner {
                ports,
                config,
                limiter: Default::default(),
                links: Default::default(),
                cache: Default::default(),
                widgets: Default::default(),
                questions: Default::default(),
                workflows: Default::default(),
                metrics,
                settings: Default::default(),
                shutdown: Default::default(),
                copies: Default::default(),
            }),
        }
    }

    pub(crate) fn store(&self) -> &dyn MetadataStore {
        self.inner.ports.store.as_ref()
    }

    pub(crate) fn crypto(&self) -> &dyn Crypto {
        self.inner.ports.crypto.as_ref()
    }

    pub(crate) fn probe(&self) -> &dyn TargetProbe {
        self.inner.ports.probe.as_ref()
    }

    pub(crate) fn schema_reader(&self) -> &dyn SchemaReader {
        self.inner.ports.schema.as_ref()
    }

    pub(crate) fn engine(&self) -> &dyn QueryEngine {
        self.inner.ports.engine.as_ref()
    }

    pub(crate) fn widget_cache(&self) -> &dashboards::WidgetCache {
        &self.inner.widgets
    }

    /// The configuration.
    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// Readiness: the store answers and its pool is not exhausted.
    pub async fn readiness(&self) -> ServiceResult<Readiness> {
        let started = std::time::Instant::now();
        self.store().ping().await?;
        let h = self.store().health();
        if h.size > 0 && h.in_use >= h.size {
            return Err(ServiceError::new(
                querent_domain::ErrorCode::Unavailable,
                format!(
                    "store pool exhausted ({} of {} connections in use)",
                    h.in_use, h.size
                ),
            ));
        }
        Ok(Readiness {
            store: h.backend,
            store_latency_ms: started.elapsed().as_millis() as u64,
            store_pool_in_use: h.in_use,
            store_pool_size: h.size,
            targets: self.engine().pool_status(),
            provider: self.inner.ports.provider.name().to_owned(),
            embedder: self.inner.ports.embedder.id().to_owned(),
            embedder_note: self.inner.ports.embedder_note.clone(),
        })
    }

    /// Appends to the audit log. Audit failures are logged, never turned into request
    /// failures (the action itself already happened).
    pub(crate) async fn audit(
        &self,
        actor: &str,
        ip: Option<&str>,
        action: &str,
        target: Option<String>,
        detail: Option<String>,
    ) {
        let entry = AuditEntry {
            actor: actor.to_owned(),
            action: action.to_owned(),
            target,
            detail,
            ip: ip.map(str::to_owned),
            at: now_millis(),
        };
        if let Err(e) = self.store().append_audit(&entry).await {
            tracing::error!(error = %e, action, "could not write audit entry");
        }
    }

    /// Audit helper for an authenticated actor.
    pub(crate) async fn audit_by(
        &self,
        actor: &Actor,
        action: &str,
        target: String,
        detail: Option<String>,
    ) {
        self.audit(
            &actor.audit_name(),
            actor.ip.as_deref(),
            action,
            Some(target),
            detail,
        )
        .await;
    }
}

/// What `/ready` reports.
#[derive(Clone, Debug, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// Store backend: `sqlite` or `postgres`.
    pub store: &'static str,
    /// Round trip of a trivial store query.
    pub store_latency_ms: u64,
    /// Store connections in use.
    pub store_pool_in_use: usize,
    /// Store pool size.
    pub store_pool_size: usize,
    /// Target database pools: open pools, connections in use, and pools that are exhausted
    /// (every connection busy and callers waiting). An exhausted target pool slows that
    /// connection's queries but does not make the server unready.
    pub targets: querent_domain::query::PoolStatus,
    /// The default SQL provider.
    pub provider: String,
    /// The embedder the semantic cache uses (`lexical-trigram-256` is the built-in fallback).
    pub embedder: String,
    /// Why the lexical fallback is in use although a model was configured, if it is.
    pub embedder_note: Option<String>,
}
