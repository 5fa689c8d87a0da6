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
    /// Starts the server and does first-boot setup.
    pub async fn start() -> Result<BenchServer, String> {
        let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let config = Config {
            bind: "127.0.0.1:0".into(),
            data_dir: tmp.path().to_path_buf(),
            database_url: None,
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

    /// Starts this binary as `querent --data-dir <temp dir> serve --bind 127.0.0.1:0` (the
    /// embedded store, the demo database generated on first start, `QUERENT_LOG_LEVEL=error`
    /// plus `env`) and does first-boot setup. Fails when this process is not the `querent`
    /// binary.
    pub async fn spawn(env: &[(&str, &str)]) -> Result<BenchServer, String> {
        let exe = std::env::current_exe().map_err(|e| format!("the querent binary: {e}"))?;
        if exe.file_stem().and_then(|s| s.to_str()) != Some("querent") {
            return Err(format!(
                "not running as the querent binary ({}); run `querent bench`",
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
            .envs(env.iter().copied())
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
        // The fields after the command name, which is in parentheses.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
        Some((ticks(11)? + ticks(12)?) / 100.0)
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
