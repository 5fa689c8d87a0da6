//! Configuration: defaults < `querent.toml` (or `--config FILE`) < `QUERENT_*` environment
//! variables < command-line flags.

#![allow(clippy::disallowed_methods)] // start-up code: configuration is read before the runtime serves anything

use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use querent_app::sqlite_files::SqliteSandbox;
use querent_app::{AppConfig, Secret};
use querent_http::HttpConfig;
use serde::{Deserialize, Deserializer, Serialize};

/// Every setting of the server, with its default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Listen address (`QUERENT_BIND`, `--bind`).
    pub bind: String,
    /// Data directory: embedded store, key file, demo database (`QUERENT_DATA_DIR`, `--data-dir`).
    pub data_dir: PathBuf,
    /// `postgres://…` to keep the metadata in PostgreSQL instead of the embedded SQLite file
    /// (`QUERENT_DATABASE_URL`).
    #[serde(skip_serializing)]
    pub database_url: Option<String>,
    /// Master key(s), base64 or hex of 32 bytes, comma separated, first current
    /// (`QUERENT_MASTER_KEY`); default: a key file under the data directory.
    #[serde(skip_serializing)]
    pub master_key: Option<String>,
    /// `info`, `debug`, … or a full filter like `querent=debug,actix_web=info`.
    pub log_level: String,
    /// Whether `log_level` was configured (by the file, `QUERENT_LOG_LEVEL` or
    /// `--log-level`) rather than left at its default: a configured level wins over the
    /// level an administrator stored with `PATCH /settings` when the server starts
    /// ([`Config::startup_log_level`]).
    #[serde(skip)]
    pub log_level_configured: bool,
    /// `pretty` or `json`.
    pub log_format: String,
    /// Access token lifetime, seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime, seconds.
    pub refresh_token_ttl_secs: u64,
    /// Failed logins per account per window before throttling.
    pub login_max_failures_per_account: i64,
    /// Failed logins per client address per window before throttling.
    pub login_max_failures_per_ip: i64,
    /// Throttling window, seconds.
    pub login_window_secs: u64,
    /// Timeout for connecting to target databases, milliseconds.
    pub connect_timeout_ms: u64,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Browser origins allowed by CORS (`*` for any), comma separated in the environment.
    #[serde(deserialize_with = "string_or_list")]
    pub cors_origins: Vec<String>,
    /// Reverse proxies (addresses or CIDR ranges, comma separated in the environment) whose
    /// `X-Forwarded-For` names the client; empty: the TCP peer is the client.
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
    /// Directories of SQLite files any team admin may register as connections
    /// (`QUERENT_SQLITE_DIRS`, comma separated; default: `<data_dir>/files`). Whatever is
    /// set, a team's uploads (`<data_dir>/files/<team_id>/`, only for that team) and the
    /// demo database are usable too, and Querent's own files never are.
    #[serde(
        alias = "sqlite_allowed_dirs",
        deserialize_with = "string_or_list_paths"
    )]
    pub sqlite_dirs: Vec<PathBuf>,
    /// Largest SQLite file `POST /connections/sqlite-files` accepts, in bytes.
    pub sqlite_upload_max_bytes: u64,
    /// Most bytes one team's upload folder (`<data_dir>/files/<team_id>/`) may hold, all
    /// files together (`QUERENT_SQLITE_TEAM_QUOTA_BYTES`); an upload beyond is refused with
    /// 413 `payload_too_large`. Free space with `DELETE /connections/sqlite-files`.
    pub sqlite_team_quota_bytes: u64,
    /// HTTP worker threads (default: one per core).
    pub workers: Option<usize>,
    /// On SIGTERM or Ctrl-C, the longest a server takes to stop, in seconds: open streams
    /// end with an `error` event (`shutting_down`), running target queries are cancelled,
    /// questions and workflow runs let go of their leases, queued cache writes are flushed;
    /// what is not done by then is cut off.
    pub shutdown_timeout_seconds: u64,
    /// Generate the demo database on first start and register it at first-boot setup.
    pub demo: bool,
    /// The largest row cap any query may have, whatever a request or connection asks.
    pub server_max_rows: u32,
    /// Whether provider base URLs may point at private networks (10/8, 192.168/16, …).
    /// Loopback (Ollama on this machine) is always allowed; link-local and cloud metadata
    /// addresses never are.
    pub allow_private_provider_urls: bool,
    /// Longest wait between retries of a provider call, in milliseconds.
    pub provider_max_retry_delay_ms: u64,
    /// Schemas with more tables than this are linked before the provider sees them.
    pub link_above_tables: usize,
    /// Embedder of the semantic cache: `auto` (the local model when this build has the
    /// `local-embeddings` feature and a model directory is found, else lexical), `local`,
    /// `openai` (an OpenAI-compatible `/embeddings` API) or `lexical` (hashed character
    /// trigrams, no model).
    pub embedder: String,
    /// Directory of a sentence-transformer (`model.safetensors`, `tokenizer.json`,
    /// `config.json`) for the local embedder; default `$QUERENT_EMBED_MODEL_DIR`.
    pub embedding_model_dir: Option<PathBuf>,
    /// Base URL of the OpenAI-compatible embeddings API (`embedder = "openai"`).
    pub embedding_base_url: Option<String>,
    /// Embedding model name (`embedder = "openai"`), e.g. `text-embedding-3-small`.
    pub embedding_model: Option<String>,
    /// API key of the embeddings API.
    #[serde(skip_serializing)]
    pub embedding_api_key: Option<String>,
    /// Bearer token `GET /metrics` asks for (`QUERENT_METRICS_TOKEN`); unset, the endpoint
    /// is open like `/health`.
    #[serde(skip_serializing)]
    pub metrics_token: Option<String>,
    /// The offline translator's least confidence, 0 to 1 (`QUERENT_OFFLINE_MIN_CONFIDENCE`):
    /// a translation it is less sure of is refused as `cannot_translate`, with its doubts.
    pub offline_min_confidence: f32,
    /// OpenTelemetry collector, e.g. `http://collector:4318` (`QUERENT_OTEL_ENDPOINT`): the
    /// spans go over OTLP/HTTP protobuf to `<otel_endpoint>/v1/traces`. Needs a build with
    /// the `otel` feature; set without it, `querent serve` refuses to start.
    pub otel_endpoint: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        let app = AppConfig::default();
        Self {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./querent-data"),
            database_url: None,
            master_key: None,
            log_level: "info".into(),
            log_level_configured: false,
            log_format: "pretty".into(),
            access_token_ttl_secs: app.access_token_ttl.as_secs(),
            refresh_token_ttl_secs: app.refresh_token_ttl.as_secs(),
            login_max_failures_per_account: app.login_max_failures_per_account,
            login_max_failures_per_ip: app.login_max_failures_per_ip,
            login_window_secs: app.login_window.as_secs(),
            connect_timeout_ms: app.connect_timeout.as_millis() as u64,
            max_body_bytes: HttpConfig::default().max_body_bytes,
            cors_origins: Vec::new(),
            trusted_proxies: Vec::new(),
            sqlite_dirs: Vec::new(),
            sqlite_upload_max_bytes: app.sqlite.max_upload_bytes,
            sqlite_team_quota_bytes: app.sqlite.team_quota_bytes,
            workers: None,
            shutdown_timeout_seconds: 10,
            demo: true,
            server_max_rows: app.server_max_rows,
            allow_private_provider_urls: false,
            provider_max_retry_delay_ms: 8_000,
            link_above_tables: app.link_above_tables,
            embedder: "auto".into(),
            embedding_model_dir: None,
            embedding_base_url: None,
            embedding_model: None,
            embedding_api_key: None,
            metrics_token: None,
            offline_min_confidence: querent_offline::MIN_CONFIDENCE,
            otel_endpoint: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

fn split(v: StringOrList) -> Vec<String> {
    match v {
        StringOrList::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        StringOrList::Many(v) => v,
    }
}

fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    StringOrList::deserialize(d).map(split)
}

fn string_or_list_paths<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    StringOrList::deserialize(d).map(|v| split(v).into_iter().map(PathBuf::from).collect())
}

impl Config {
    /// Loads defaults, then the file (if it exists; an explicitly given file must exist),
    /// then `QUERENT_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        // The layers over the defaults, kept apart to tell what was configured.
        let mut fig = Figment::new();
        match file {
            Some(f) if !f.exists() => {
                return Err(format!("config file {} does not exist", f.display()));
            }
            Some(f) => fig = fig.merge(known_keys_only(f)?),
            None if Path::new("querent.toml").exists() => {
                fig = fig.merge(known_keys_only(Path::new("querent.toml"))?)
            }
            None => {}
        }
        fig = fig.merge(
            Env::prefixed("QUERENT_")
                .filter(|k| KEYS.contains(&k.as_str().to_ascii_lowercase().as_str()))
                .map(|k| {
                    if k.as_str().eq_ignore_ascii_case(OLD_SQLITE_DIRS) {
                        "sqlite_dirs".into()
                    } else {
                        k.into()
                    }
                }),
        );
        let log_level_configured = fig.find_value("log_level").is_ok();
        let mut cfg: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(fig)
            .extract()
            .map_err(|e| format!("invalid configuration: {e}"))?;
        cfg.log_level_configured = log_level_configured;
        if cfg
            .database_url
            .as_deref()
            .is_some_and(|u| !(u.starts_with("postgres://") || u.starts_with("postgresql://")))
        {
            return Err(
                "database_url: must be a postgres:// URL (leave it unset for the embedded store)"
                    .into(),
            );
        }
        querent_http::proxies::TrustedProxies::parse(&cfg.trusted_proxies)?;
        if !(0.0..=1.0).contains(&cfg.offline_min_confidence) {
            return Err(format!(
                "offline_min_confidence: must be between 0 and 1 (got {})",
                cfg.offline_min_confidence
            ));
        }
        Ok(cfg)
    }

    /// Sets the log level from a command-line flag (the last layer).
    pub fn set_log_level(&mut self, level: String) {
        self.log_level = level;
        self.log_level_configured = true;
    }

    /// The level `querent serve` switches to once the store is open, over the configured
    /// one it started with, given the `log_level` an administrator stored with
    /// `PATCH /settings` (`None`: never stored) and whether `RUST_LOG` is set. The layers,
    /// lowest first: the default, `querent.toml`, `QUERENT_LOG_LEVEL`, `--log-level` (the
    /// configuration); the administrator's stored level applies only when the
    /// configuration left the level at its default; `RUST_LOG` replaces them all. A
    /// `PATCH /settings` at run time always changes the running level at once.
    pub fn startup_log_level<'a>(
        &self,
        stored: Option<&'a str>,
        rust_log: bool,
    ) -> Option<&'a str> {
        if rust_log || self.log_level_configured {
            return None;
        }
        stored.filter(|s| *s != self.log_level)
    }

    /// The service configuration.
    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            access_token_ttl: Duration::from_secs(self.access_token_ttl_secs),
            refresh_token_ttl: Duration::from_secs(self.refresh_token_ttl_secs),
            login_max_failures_per_account: self.login_max_failures_per_account,
            login_max_failures_per_ip: self.login_max_failures_per_ip,
            login_window: Duration::from_secs(self.login_window_secs),
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            sqlite: self.sqlite_sandbox(),
            demo_database: self.demo.then(|| self.demo_database_path()),
            own_store: self.own_store_location(),
            server_max_rows: self.server_max_rows,
            link_above_tables: self.link_above_tables,
            metrics_token: self
                .metrics_token
                .clone()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
        }
    }

    /// Where the PostgreSQL store of `database_url` lives (hosts, port, database), so that
    /// it is never accepted as a target; `None` with the embedded store or a URL that does
    /// not parse (the store would not open either).
    pub fn own_store_location(&self) -> Option<querent_app::own_store::StoreLocation> {
        let url = self.database_url.as_deref()?;
        let pg: tokio_postgres::Config = url.parse().ok()?;
        let hosts: Vec<String> = pg
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(dir) => dir.display().to_string(),
            })
            .collect();
        let hosts = if hosts.is_empty() {
            vec!["localhost".to_owned()]
        } else {
            hosts
        };
        // libpq defaults: port 5432, database named after the user.
        let port = pg.get_ports().first().copied().unwrap_or(5432);
        let database = pg
            .get_dbname()
            .or(pg.get_user())
            .unwrap_or("postgres")
            .to_owned();
        Some(querent_app::own_store::StoreLocation {
            hosts,
            port,
            database,
        })
    }

    /// Where SQLite targets may live: the shared directories (default `<data_dir>/files`),
    /// the teams' upload folders and the demo database; never the store or the key file.
    pub fn sqlite_sandbox(&self) -> SqliteSandbox {
        SqliteSandbox {
            data_dir: Some(self.data_dir.clone()),
            shared_dirs: if self.sqlite_dirs.is_empty() {
                vec![self.files_dir()]
            } else {
                self.sqlite_dirs.clone()
            },
            // The demo database is a target only while the demo is on; otherwise it is
            // one more file of the data directory.
            demo_database: self.demo.then(|| self.demo_database_path()),
            protected_files: vec![self.sqlite_store_path(), self.key_file_path()],
            max_upload_bytes: self.sqlite_upload_max_bytes,
            team_quota_bytes: self.sqlite_team_quota_bytes,
        }
    }

    /// The folder of uploaded and shared SQLite files: `<data_dir>/files`.
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join(querent_app::sqlite_files::FILES_DIR)
    }

    /// The HTTP configuration.
    pub fn http_config(&self) -> HttpConfig {
        HttpConfig {
            max_body_bytes: self.max_body_bytes,
            cors_origins: self.cors_origins.clone(),
            workers: self.workers,
            shutdown_timeout: std::time::Duration::from_secs(self.shutdown_timeout_seconds),
            // Checked by `Config::load`; a configuration built in code that does not parse
            // trusts no proxy.
            trusted_proxies: querent_http::proxies::TrustedProxies::parse(&self.trusted_proxies)
                .unwrap_or_default(),
        }
    }

    /// The embedded store file.
    pub fn sqlite_store_path(&self) -> PathBuf {
        self.data_dir.join("querent.db")
    }

    /// The generated demo database.
    pub fn demo_database_path(&self) -> PathBuf {
        self.data_dir.join("demo.sqlite")
    }

    /// The master key file.
    pub fn key_file_path(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }

    /// The master key from the environment, as a secret.
    pub fn master_key_secret(&self) -> Option<Secret<String>> {
        self.master_key.clone().map(Secret::new)
    }
}

/// The configuration file, refused when it names a key Querent does not know (a misspelled
/// key would otherwise be silently ignored and its default used). The older name
/// `sqlite_allowed_dirs` is read as `sqlite_dirs`.
fn known_keys_only(path: &Path) -> Result<Serialized<figment::value::Dict>, String> {
    let mut keys: figment::value::Dict = Figment::from(Toml::file(path))
        .extract()
        .map_err(|e| format!("invalid configuration file {}: {e}", path.display()))?;
    if let Some(key) = keys.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(format!(
            "{}: unknown key `{key}`{}",
            path.display(),
            match did_you_mean(key) {
                Some(k) => format!(" (did you mean `{k}`?)"),
                None => " (see the Configuration table in README.md)".to_owned(),
            }
        ));
    }
    if let Some(dirs) = keys.remove(OLD_SQLITE_DIRS) {
        keys.entry("sqlite_dirs".to_owned()).or_insert(dirs);
    }
    Ok(Serialized::globals(keys))
}

/// The older name of `sqlite_dirs`, still read from the file and the environment.
const OLD_SQLITE_DIRS: &str = "sqlite_allowed_dirs";

/// The known key closest to `key`, if it is close enough to be a typo.
fn did_you_mean(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    KEYS.iter()
        .map(|k| (edit_distance(&key, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Every configuration key: what `querent.toml` may contain and the `QUERENT_*` variables
/// read (others, like `QUERENT_REQUIRE_SERVICES`, are not configuration).
const KEYS: &[&str] = &[
    "bind",
    "data_dir",
    "database_url",
    "master_key",
    "log_level",
    "log_format",
    "access_token_ttl_secs",
    "refresh_token_ttl_secs",
    "login_max_failures_per_account",
    "login_max_failures_per_ip",
    "login_window_secs",
    "connect_timeout_ms",
    "max_body_bytes",
    "cors_origins",
    "trusted_proxies",
    "sqlite_dirs",
    "sqlite_allowed_dirs",
    "sqlite_upload_max_bytes",
    "sqlite_team_quota_bytes",
    "workers",
    "shutdown_timeout_seconds",
    "demo",
    "server_max_rows",
    "allow_private_provider_urls",
    "provider_max_retry_delay_ms",
    "link_above_tables",
    "embedder",
    "embedding_model_dir",
    "embedding_base_url",
    "embedding_model",
    "embedding_api_key",
    "metrics_token",
    "offline_min_confidence",
    "otel_endpoint",
];

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    #[test]
    fn the_postgres_store_location_comes_from_database_url() {
        let with = |url: &str| Config {
            database_url: Some(url.to_owned()),
            ..Default::default()
        };
        let loc = with("postgres://q:pw@db.internal:6543/querent?sslmode=disable")
            .own_store_location()
            .unwrap();
        assert_eq!(
            (loc.hosts, loc.port, loc.database.as_str()),
            (vec!["db.internal".to_owned()], 6543, "querent")
        );
        // libpq defaults: localhost, 5432, the user's name as the database.
        let loc = with("postgresql://alice@/").own_store_location().unwrap();
        assert_eq!(
            (loc.hosts, loc.port, loc.database.as_str()),
            (vec!["localhost".to_owned()], 5432, "alice")
        );
        assert!(Config::default().own_store_location().is_none());
    }

    #[test]
    fn every_setting_is_a_known_key() {
        let defaults = serde_json::to_value(Config::default()).unwrap();
        for key in defaults.as_object().unwrap().keys() {
            assert!(KEYS.contains(&key.as_str()), "{key} is missing from KEYS");
        }
        for secret in [
            "database_url",
            "master_key",
            "embedding_api_key",
            "metrics_token",
        ] {
            assert!(KEYS.contains(&secret));
        }
    }

    #[test]
    fn a_misspelled_key_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("querent.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\nlog_levle = \"debug\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(
            err.ends_with("unknown key `log_levle` (did you mean `log_level`?)"),
            "{err}"
        );
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(
            err.contains("unknown key `colour` (see the Configuration table"),
            "{err}"
        );
        std::fs::write(
            &file,
            "bind = \"127.0.0.1:9000\"\nsqlite_allowed_dirs = \"/srv\"\n",
        )
        .unwrap();
        let cfg = Config::load(Some(&file)).unwrap();
        assert_eq!(cfg.sqlite_dirs, vec![PathBuf::from("/srv")]);
        // A confidence threshold outside 0..=1 is refused by name.
        std::fs::write(&file, "offline_min_confidence = 1.5\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(
            err.starts_with("offline_min_confidence: must be between 0 and 1"),
            "{err}"
        );
        std::fs::write(&file, "offline_min_confidence = 0.5\n").unwrap();
        if std::env::var_os("QUERENT_OFFLINE_MIN_CONFIDENCE").is_none() {
            assert!((Config::load(Some(&file)).unwrap().offline_min_confidence - 0.5).abs() < 1e-6);
        }
        assert_eq!(did_you_mean("workerz"), Some("workers"));
        assert_eq!(did_you_mean("cors_origin"), Some("cors_origins"));
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn a_configured_log_level_wins_over_the_stored_one_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("querent.toml");
        std::fs::write(&file, "bind = \"127.0.0.1:9000\"\n").unwrap();
        let default = Config::load(Some(&file)).unwrap();
        if std::env::var_os("QUERENT_LOG_LEVEL").is_none() {
            assert!(!default.log_level_configured);
            // Left at its default: an administrator's stored level applies.
            assert_eq!(
                default.startup_log_level(Some("debug"), false),
                Some("debug")
            );
            assert_eq!(default.startup_log_level(Some("info"), false), None);
            assert_eq!(default.startup_log_level(None, false), None);
        }
        std::fs::write(&file, "log_level = \"warn\"\n").unwrap();
        let from_file = Config::load(Some(&file)).unwrap();
        assert!(from_file.log_level_configured);
        assert_eq!(from_file.startup_log_level(Some("info"), false), None);
        let mut flag = default.clone();
        flag.set_log_level("error".into());
        assert_eq!(
            (
                flag.log_level.as_str(),
                flag.startup_log_level(Some("debug"), false)
            ),
            ("error", None)
        );
        // RUST_LOG replaces every layer.
        assert_eq!(default.startup_log_level(Some("debug"), true), None);
    }

    #[test]
    fn the_demo_database_is_a_target_only_while_the_demo_is_on() {
        let on = Config::default();
        assert_eq!(
            on.sqlite_sandbox().demo_database,
            Some(on.demo_database_path())
        );
        let off = Config {
            demo: false,
            ..Default::default()
        };
        assert_eq!(off.sqlite_sandbox().demo_database, None);
    }
}
