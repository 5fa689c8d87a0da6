//! [`BenchServer`]: the real server with a temporary data directory, the generated demo
//! database, first-boot setup done over HTTP and the rate limit raised so that load is not
//! refused. Either in this process on `127.0.0.1:0`, composed like `querent serve`
//! ([`crate::build_app`] + [`querent_http::build_server`]) — [`BenchServer::start`], for the
//! benchmarks that also call the services directly — or as a child process running this very
//! binary's `querent serve` — [`BenchServer::spawn`], for the load benchmarks: its memory is
//! then the server's alone and its runtime is not shared with the load generator (the cores
//! still are).

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use querent_app::{Actor, App};
use serde_json::{Value, json};

use crate::{Config, build_app};

/// How [`BenchServer::spawn`]'s error begins when this process is not the `querent` binary.
const NOT_QUERENT: &str = "not running as the querent binary";

/// Username of the benchmark's administrator.
const USER: &str = "bench";
/// Its password.
const PASSWORD: &str = "benchmark-only-password";

/// A running in-process server and an administrator's token.
pub struct BenchServer {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// An HTTP client (connection pool shared by the callers).
    pub client: reqwest::Client,
    /// The administrator's access token.
    pub token: String,
    /// The id of the `demo` connection.
    pub demo: String,
    running: Running,
    _tmp: tempfile::TempDir,
}

/// Where the server runs.
enum Running {
    /// In this process: the services behind it (the instance the HTTP routes use) and the
    /// actix server.
    InProcess {
        app: App,
        handle: actix_web::dev::ServerHandle,
    },
    /// `querent serve` in a child process.
    Child(ChildServer),
}

/// A `querent serve` child, killed (by its id, only it) and reaped when dropped.
pub(crate) struct ChildServer(pub(crate) std::process::Child);

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The address a child server announces on stdout ("… listening on http://…"), read on a
/// thread that then keeps draining the pipe; `None` when stdout ends first.
pub(crate) fn listen_address(
    child: &mut ChildServer,
) -> Result<tokio::sync::oneshot::Receiver<Option<String>>, String> {
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = tokio::sync::oneshot::channel::<Option<String>>();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.split("listening on ").nth(1)
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(Some(rest.trim().to_owned()));
            }
        }
        if let Some(tx) = tx.take() {
            let _ = tx.send(None);
        }
    });
    Ok(rx)
}

impl BenchServer {
    /// Starts the server on the embedded store and does first-boot setup.
    pub async fn start() -> Result<BenchServer, String> {
        BenchServer::start_on(None).await
    }

    /// Starts the server on the PostgreSQL store at `database_url` (`None`: the embedded
    /// store) and does first-boot setup.
    pub async fn start_on(database_url: Option<&str>) -> Result<BenchServer, String> {
        let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let config = Config {
            bind: "127.0.0.1:0".into(),
            data_dir: tmp.path().to_path_buf(),
            database_url: database_url.map(str::to_owned),
            master_key: None,
            demo: true,
            log_level: "error".into(),
            access_token_ttl_secs: 3600,
            ..Config::default()
        };
        crate::demo::generate(
            &config.demo_database_path(),
            time::OffsetDateTime::now_utc().date(),
        )?;
        let parts = build_app(&config, None).await?;
        let listener =
            std::net::TcpListener::bind(&config.bind).map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = querent_http::build_server(parts.app.clone(), config.http_config(), listener)
            .map_err(|e| format!("server: {e}"))?;
        let handle = server.handle();
        tokio::spawn(server);
        BenchServer::set_up(
            format!("http://{addr}"),
            Running::InProcess {
                app: parts.app,
                handle,
            },
            tmp,
        )
        .await
    }

    /// The server of a load benchmark (`latency`, `throughput`, `sse`): a `querent serve`
    /// child on the store `database_url` selects (`None`: the embedded store), or, when this
    /// process is not the `querent` binary (a test harness), the server in this process.
    pub async fn for_load(database_url: Option<&str>) -> Result<BenchServer, String> {
        match BenchServer::spawn(database_url).await {
            Ok(s) => Ok(s),
            Err(e) if e.starts_with(NOT_QUERENT) => BenchServer::start_on(database_url).await,
            Err(e) => Err(e),
        }
    }

    /// Starts this binary as `querent --data-dir <temp dir> serve --bind 127.0.0.1:0` (the
    /// demo database generated on first start, `QUERENT_LOG_LEVEL=error`) on the PostgreSQL
    /// store at `database_url` (`QUERENT_DATABASE_URL`; `None`: the embedded store) and does
    /// first-boot setup. Fails when this process is not the `querent` binary.
    pub async fn spawn(database_url: Option<&str>) -> Result<BenchServer, String> {
        let exe = std::env::current_exe().map_err(|e| format!("the querent binary: {e}"))?;
        if exe.file_stem().and_then(|s| s.to_str()) != Some("querent") {
            return Err(format!(
                "{NOT_QUERENT} ({}); run `querent bench`",
                exe.display()
            ));
        }
        let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let mut command = Command::new(&exe);
        command
            .arg("--data-dir")
            .arg(tmp.path().join("data"))
            .args(["serve", "--bind", "127.0.0.1:0"])
            .current_dir(tmp.path())
            .env_remove("QUERENT_DATABASE_URL")
            .env_remove("QUERENT_BIND")
            .env("QUERENT_DEMO", "true")
            .env("QUERENT_LOG_LEVEL", "error")
            .envs(database_url.map(|url| ("QUERENT_DATABASE_URL", url)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = ChildServer(
            command
                .spawn()
                .map_err(|e| format!("spawn {}: {e}", exe.display()))?,
        );
        let rx = listen_address(&mut child)?;
        let base_url = match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Ok(Ok(Some(url))) => url,
            Ok(_) => return Err("the server exited before listening".into()),
            Err(_) => return Err("no `listening on` line within 60 s".into()),
        };
        BenchServer::set_up(base_url, Running::Child(child), tmp).await
    }

    /// First-boot setup over HTTP, the rate limit raised, the demo connection found.
    async fn set_up(
        base_url: String,
        running: Running,
        tmp: tempfile::TempDir,
    ) -> Result<BenchServer, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(usize::MAX)
            .build()
            .map_err(|e| e.to_string())?;
        let mut me = BenchServer {
            base_url,
            client,
            token: String::new(),
            demo: String::new(),
            running,
            _tmp: tmp,
        };
        let setup = me
            .call(
                "POST",
                "/api/v1/auth/setup",
                Some(json!({"username": USER, "password": PASSWORD})),
            )
            .await?;
        me.token = setup["access_token"]
            .as_str()
            .ok_or_else(|| format!("setup: no access token in {setup}"))?
            .to_owned();
        me.call(
            "PATCH",
            "/api/v1/settings",
            Some(json!({"rate_limit_per_minute": 1_000_000})),
        )
        .await?;
        let list = me.call("GET", "/api/v1/connections", None).await?;
        me.demo = list["items"]
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .find(|c| c["name"] == "demo")
                    .and_then(|c| c["id"].as_str())
            })
            .ok_or_else(|| format!("no demo connection after setup: {list}"))?
            .to_owned();
        Ok(me)
    }

    /// Sends an authenticated JSON request (the token once there is one); the JSON body of
    /// a 2xx answer, or an error with the status and body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut req = self
            .client
            .request(method.clone(), format!("{}{path}", self.base_url))
            .header("accept", "application/json");
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Registers an OpenAI-compatible provider named `name` at `base_url` (no key).
    pub async fn add_provider(&self, name: &str, base_url: &str) -> Result<(), String> {
        self.call(
            "POST",
            "/api/v1/providers",
            Some(json!({
                "name": name,
                "kind": "openai",
                "base_url": base_url,
                "model": "fake-model",
                "api_key": "sk-bench-not-a-secret",
                "options": {"max_retries": 0},
            })),
        )
        .await
        .map(|_| ())
    }

    /// The chat request body for a question, with a provider (`None`: the default).
    pub fn chat_body(&self, question: &str, provider: Option<&str>) -> Value {
        json!({
            "connection_id": self.demo,
            "message": question,
            "provider": provider,
            // These benchmarks measure the whole pipeline: never answer from the cache.
            "options": {"use_cache": false},
        })
    }

    /// Waits until the raised rate limit (set up by [`BenchServer::start`] and
    /// [`BenchServer::spawn`]) reaches the limiter, which re-reads the settings every 5 s:
    /// load sent before would be refused.
    pub async fn wait_for_rate_limit(&self) {
        tokio::time::sleep(std::time::Duration::from_millis(5_500)).await;
    }

    /// The services behind an in-process server.
    pub fn app(&self) -> Result<&App, String> {
        match &self.running {
            Running::InProcess { app, .. } => Ok(app),
            Running::Child(_) => Err("the server runs in a child process".into()),
        }
    }

    /// The administrator as a service-layer caller (for `App::prepare_chat`).
    pub async fn actor(&self) -> Result<Actor, String> {
        self.app()?
            .local_actor(Some(USER))
            .await
            .map_err(|e| e.detail)
    }

    /// The server's resident memory (`VmRSS`, KiB): the child's, or this whole process's
    /// for an in-process server.
    pub fn rss_kib(&self) -> Option<u64> {
        self.proc_status_kib("VmRSS:")
    }

    /// The server's peak resident memory (`VmHWM`, KiB).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.proc_status_kib("VmHWM:")
    }

    fn proc_status_kib(&self, key: &str) -> Option<u64> {
        super::parse_status_kib(&std::fs::read_to_string(self.status_path()).ok()?, key)
    }

    /// The server process's `/proc/…/status`.
    pub fn status_path(&self) -> String {
        match &self.running {
            Running::InProcess { .. } => "/proc/self/status".to_owned(),
            Running::Child(c) => format!("/proc/{}/status", c.0.id()),
        }
    }

    /// CPU time the server process has used so far (user + system, seconds; the whole
    /// process when in-process), from `/proc/…/stat` (clock ticks of 1/100 s).
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(self.status_path().replace("/status", "/stat")).ok()?;
        stat_cpu(&stat).map(|(_, secs)| secs)
    }

    /// Whether the server runs in a child process (its memory is its own).
    pub fn is_child(&self) -> bool {
        matches!(self.running, Running::Child(_))
    }

    /// Stops the server (gracefully in-process; a child is killed).
    pub async fn stop(self) {
        if let Running::InProcess { handle, .. } = &self.running {
            handle.stop(true).await;
        }
    }
}

/// The PostgreSQL server `--store postgres` names.
pub const DEFAULT_PG_STORE: &str = "postgres://postgres@127.0.0.1:5432";

/// `--store`: `sqlite` (the embedded store: `None`), `postgres` ([`DEFAULT_PG_STORE`]) or
/// the `postgres://` URL of a server (any database in it is ignored: the benchmark creates
/// its own).
pub fn parse_store(s: &str) -> Result<Option<String>, String> {
    match s.trim() {
        "" | "sqlite" => Ok(None),
        "postgres" | "postgresql" => Ok(Some(DEFAULT_PG_STORE.to_owned())),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Some(url.to_owned()))
        }
        other => Err(format!(
            "--store: `sqlite`, `postgres` or a postgres:// URL (got `{other}`)"
        )),
    }
}

/// A server URL's `scheme://authority` and its `?query` (empty when none), the database
/// path left out; and how to name the server in messages (host and port, no credentials).
fn split_server_url(url: &str) -> Result<(String, String, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "--store: not a postgres:// URL".to_owned())?;
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = before_query.split('/').next().unwrap_or_default();
    let shown = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
        .to_owned();
    Ok((format!("{scheme}://{authority}"), query, shown))
}

/// A uniquely named database on the `--store` PostgreSQL server, holding the metadata store
/// of one load benchmark's server; dropped by [`StoreDatabase::drop_now`].
struct StoreDatabase {
    admin: tokio_postgres::Client,
    name: String,
    /// `QUERENT_DATABASE_URL` of the server.
    url: String,
}

/// Why [`StoreDatabase::create`] gave up.
enum NoDatabase {
    /// The server did not answer: the benchmark is skipped.
    Unreachable(String),
    /// It answered but refused: the benchmark failed.
    Refused(String),
}

impl StoreDatabase {
    async fn create(server_url: &str) -> Result<StoreDatabase, NoDatabase> {
        let (base, query, shown) = split_server_url(server_url).map_err(NoDatabase::Refused)?;
        let admin_url = format!("{base}/postgres{query}");
        let admin = match tokio::time::timeout(
            Duration::from_secs(5),
            tokio_postgres::connect(&admin_url, tokio_postgres::NoTls),
        )
        .await
        {
            Ok(Ok((client, conn))) => {
                tokio::spawn(conn);
                client
            }
            Ok(Err(e)) => {
                // tokio-postgres's message leaves the cause (refused, unknown host) to
                // its source.
                let cause =
                    std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
                return Err(NoDatabase::Unreachable(format!(
                    "PostgreSQL store unreachable ({shown}): {e}{cause}"
                )));
            }
            Err(_) => {
                return Err(NoDatabase::Unreachable(format!(
                    "PostgreSQL store unreachable ({shown}): no answer within 5 s"
                )));
            }
        };
        let name = format!(
            "querent_bench_store_{}_{}",
            std::process::id(),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
        );
        // The name is made of digits and ASCII letters: nothing to quote.
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .map_err(|e| NoDatabase::Refused(format!("CREATE DATABASE {name} on {shown}: {e}")))?;
        let url = format!("{base}/{name}{query}");
        Ok(StoreDatabase { admin, name, url })
    }

    /// Drops the database (its remaining sessions ended); what happened, for the report.
    async fn drop_now(self) -> String {
        let name = &self.name;
        match self
            .admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
        {
            Ok(()) => format!("store database {name} dropped"),
            Err(e) => format!("could not drop store database {name}: {e}"),
        }
    }
}

/// Runs a load benchmark's `measure` on the store `--store` selects: the embedded store,
/// or a fresh PostgreSQL database (its `QUERENT_DATABASE_URL` passed to `measure`) dropped
/// afterwards, also when `measure` fails. Skipped when that server does not answer.
pub(crate) async fn on_store<F, Fut>(args: &super::BenchArgs, measure: F) -> super::Outcome
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<(String, Value), String>>,
{
    use super::Outcome;
    let Some(server_url) = &args.store else {
        return match measure(None).await {
            Ok((text, json)) => Outcome::Done { text, json },
            Err(e) => Outcome::Failed(e),
        };
    };
    let db = match StoreDatabase::create(server_url).await {
        Ok(db) => db,
        Err(NoDatabase::Unreachable(why)) => return Outcome::Skipped(why),
        Err(NoDatabase::Refused(why)) => return Outcome::Failed(why),
    };
    let result = measure(Some(db.url.clone())).await;
    let name = db.name.clone();
    let note = db.drop_now().await;
    match result {
        Ok((text, mut json)) => {
            if let Value::Object(m) = &mut json {
                m.insert("store".into(), json!("postgres"));
                m.insert("store_database".into(), json!(name));
            }
            Outcome::Done {
                text: format!("{text}{note}\n"),
                json,
            }
        }
        Err(e) => Outcome::Failed(format!("{e} ({note})")),
    }
}

/// CPU time (user + system, seconds) used so far by every process of this machine named
/// `postgres` (the local PostgreSQL server's backends, WAL writer, checkpointer …), from
/// `/proc/<pid>/stat`; `None` when there are none. Backends that exit between two readings
/// take their time with them, and other users of the same server count too.
pub(crate) fn postgres_cpu_secs() -> Option<f64> {
    let mut secs = 0.0;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(("postgres", cpu)) = stat_cpu(&stat) {
            secs += cpu;
            found = true;
        }
    }
    found.then_some(secs)
}

/// A `/proc/<pid>/stat` line's command name and CPU time (user + system, seconds; clock
/// ticks of 1/100 s).
fn stat_cpu(stat: &str) -> Option<(&str, f64)> {
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    // After the command: state is field 0, utime 11, stime 12.
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    Some((
        stat.get(open + 1..close)?,
        (ticks(11)? + ticks(12)?) / 100.0,
    ))
}

/// How a load benchmark's table names the store (`database_url` of its server).
pub(crate) fn store_label(database_url: Option<&str>) -> &'static str {
    match database_url {
        Some(_) => "PostgreSQL store",
        None => "embedded store",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_of_a_stat_line() {
        // A command with a space and a parenthesis in it, as `/proc/<pid>/stat` may hold.
        let stat = "42 (post gres)) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(stat_cpu(stat), Some(("post gres)", 3.0)));
        assert_eq!(stat_cpu("42 (postgres) S 1"), None);
    }

    #[test]
    fn store_option_and_server_urls() {
        assert_eq!(parse_store("sqlite"), Ok(None));
        assert_eq!(
            parse_store("postgres"),
            Ok(Some(DEFAULT_PG_STORE.to_owned()))
        );
        assert_eq!(
            parse_store("postgresql://u:p@db:5433/x"),
            Ok(Some("postgresql://u:p@db:5433/x".to_owned()))
        );
        assert!(parse_store("mysql://root@db").is_err());
        let (base, query, shown) =
            split_server_url("postgres://u:secret@db:5433/ignored?sslmode=disable").unwrap();
        assert_eq!(base, "postgres://u:secret@db:5433");
        assert_eq!(query, "?sslmode=disable");
        assert_eq!(shown, "db:5433");
        let (base, query, shown) = split_server_url(DEFAULT_PG_STORE).unwrap();
        assert_eq!(
            (base.as_str(), query.as_str(), shown.as_str()),
            (DEFAULT_PG_STORE, "", "127.0.0.1:5432")
        );
    }
}
