//! # querent (the binary's library half)
//!
//! The composition root: loads configuration, sets up logging, opens the adapters (the
//! metadata store, the vault's keyring, the target-database prober), plugs them into
//! querent-app's services and serves them with querent-http. The CLI (`main.rs`) and the
//! integration-test harness (querent-test-support) both start Querent through
//! [`build_app`] and [`querent_http::build_server`], so tests run exactly what users run.
//!
//! Depends on: every Querent crate. Must never: contain business rules (querent-app) or
//! HTTP handling (querent-http); it only wires.

pub mod admin;
pub mod ask;
pub mod at_rest;
#[cfg(feature = "bench")]
pub mod bench;
pub mod config;
pub mod demo;
pub mod embedder;
pub mod eval;
pub mod llm;
pub mod logging;

use std::sync::Arc;

use querent_app::{App, LogLevelHook, Ports};
use querent_exec::TargetTester;
use querent_store::{Store, StoreConfig};
use querent_vault::Keyring;

pub use config::Config;

/// The adapters behind an [`App`], for commands that need them directly.
pub struct Parts {
    /// The services.
    pub app: App,
    /// The metadata store.
    pub store: Store,
    /// The master keys.
    pub keyring: Arc<Keyring>,
}

/// The store configuration a [`Config`] selects.
pub fn store_config(config: &Config) -> StoreConfig {
    match &config.database_url {
        Some(url) => StoreConfig::postgres(url.clone()),
        None => StoreConfig::sqlite(config.sqlite_store_path()),
    }
}

/// Opens the keyring (creating the key file on first start), after preparing the data
/// directory (created private, permissions tightened: see [`at_rest`]).
pub fn open_keyring(config: &Config) -> Result<Keyring, String> {
    at_rest::prepare_data_dir(config)?;
    Keyring::load_or_create(config.master_key_secret().as_ref(), &config.key_file_path())
        .map_err(|e| e.to_string())
}

/// Opens the store (running migrations) and the keyring, and builds the services.
pub async fn build_app(
    config: &Config,
    log_level_hook: Option<LogLevelHook>,
) -> Result<Parts, String> {
    let keyring = Arc::new(open_keyring(config)?);
    let store = Store::open(store_config(config))
        .await
        .map_err(|e| format!("cannot open the metadata store: {e}"))?;
    let (embedder, embedder_note) = embedder::build(config).await;
    let offline: Arc<dyn querent_domain::query::SqlProvider> = Arc::new(
        querent_offline::OfflineProvider::new(querent_offline::TranslatorOptions {
            min_confidence: config.offline_min_confidence,
            ..querent_offline::TranslatorOptions::default()
        }),
    );
    let ports = Ports {
        store: Arc::new(store.clone()),
        crypto: keyring.clone(),
        probe: Arc::new(TargetTester),
        schema: Arc::new(querent_introspect::Introspector),
        engine: Arc::new(querent_exec::Engine::new()),
        provider: offline.clone(),
        providers: Arc::new(llm::LlmProviders::new(
            querent_llm::UrlPolicy {
                allow_private: config.allow_private_provider_urls,
                allow_loopback: true,
            },
            offline,
            std::time::Duration::from_millis(config.provider_max_retry_delay_ms),
        )),
        webhooks: Arc::new(querent_llm::HttpWebhooks::new(querent_llm::UrlPolicy {
            allow_private: config.allow_private_provider_urls,
            allow_loopback: true,
        })),
        embedder,
        embedder_note,
        log_level_hook,
    };
    Ok(Parts {
        app: App::new(ports, config.app_config()),
        store,
        keyring,
    })
}

/// What a serving process runs besides the HTTP server: at start, chats a crash left
/// `running` are ended with the code `interrupted`; then a sweep ends stale ones every
/// minute (see `querent_app::recovery` for why this is safe with several instances on one
/// PostgreSQL store); and the asynchronous questions' workers (`querent_app::questions`:
/// questions a stopped server left in progress are run again first); and the workflow
/// scheduler (`querent_app::workflows`: due slots claimed in the store, once across
/// instances); and, on a shared store, the pruning of the rate limit's ended windows
/// (`querent_app::ratelimit`). Only `querent serve`
/// (and the test harness, which serves the same way) calls it — not one-shot commands like
/// `querent ask`. Abort the handle to stop them all.
pub async fn start_background(app: &App) -> tokio::task::JoinHandle<()> {
    // A demo connection registered before the demo had a semantic model gets it now.
    match app.ensure_demo_models().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(connections = n, "saved the demo semantic model"),
        Err(e) => tracing::warn!(error = %e.detail, "could not save the demo semantic model"),
    }
    match app.recover_interrupted_chats().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            messages = n,
            "chats interrupted by the last stop were ended"
        ),
        Err(e) => tracing::warn!(error = %e.detail, "could not end interrupted chats"),
    }
    // This process's name in the store's leases: unique per start (a UUIDv7), so a
    // restarted server never mistakes its predecessor's leases for its own.
    let instance = format!("querent-{}", querent_domain::RunId::new());
    let handles = vec![
        app.spawn_recovery_sweep(),
        app.spawn_question_workers(instance, querent_app::questions::DEFAULT_WORKERS),
        app.spawn_scheduler(),
        app.spawn_rate_window_pruning(),
    ];
    // Aborting the returned task drops the guards, which abort every background task.
    tokio::spawn(async move {
        let _guards: Vec<AbortOnDrop> = handles.into_iter().map(AbortOnDrop).collect();
        std::future::pending::<()>().await
    })
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT): the signals that stop `querent serve`.
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot catch SIGTERM; stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Stops a serving process within `bound` (`shutdown_timeout_seconds`): the services end
/// what is in progress (`querent_app::shutdown`: streams get an `error` event with the code
/// `shutting_down`, target queries are cancelled, questions and workflow runs let go of
/// their leases) while the server stops accepting and waits for requests in progress; then
/// queued cache writes are flushed and the background tasks stop. Returns whether all of
/// it finished within the bound (what did not is cut off when the process exits).
pub async fn shutdown(
    app: &App,
    server: actix_web::dev::ServerHandle,
    background: tokio::task::JoinHandle<()>,
    bound: std::time::Duration,
) -> bool {
    tracing::info!(
        bound_secs = bound.as_secs(),
        "shutting down: no new connections; ending streams and queries in progress"
    );
    app.begin_shutdown();
    let done = tokio::time::timeout(bound, async {
        server.stop(true).await;
        app.drain().await;
    })
    .await
    .is_ok();
    background.abort();
    if done {
        tracing::info!("stopped");
    } else {
        tracing::warn!(
            bound_secs = bound.as_secs(),
            "shutdown_timeout_seconds passed; stopping with work still in progress"
        );
    }
    done
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
