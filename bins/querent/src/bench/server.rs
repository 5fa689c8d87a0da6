//! [`BenchServer`]: the real server, composed like `querent serve` ([`crate::build_app`] +
//! [`querent_http::build_server`]), in this process on `127.0.0.1:0`, with a temporary data
//! directory, the generated demo database, first-boot setup done over HTTP and the rate
//! limit raised so that load is not refused.

use querent_app::{Actor, App};
use serde_json::{Value, json};

use crate::{Config, build_app};

/// Username of the benchmark's administrator.
const USER: &str = "bench";
/// Its password.
const PASSWORD: &str = "benchmark-only-password";

/// A running in-process server and an administrator's token.
pub struct BenchServer {
    /// The services behind the server (same instance the HTTP routes use).
    pub app: App,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// An HTTP client (connection pool shared by the callers).
    pub client: reqwest::Client,
    /// The administrator's access token.
    pub token: String,
    /// The id of the `demo` connection.
    pub demo: String,
    handle: actix_web::dev::ServerHandle,
    _tmp: tempfile::TempDir,
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
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()
            .map_err(|e| e.to_string())?;
        let mut me = BenchServer {
            app: parts.app,
            base_url: format!("http://{addr}"),
            client,
            token: String::new(),
            demo: String::new(),
            handle,
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

    /// The administrator as a service-layer caller (for `App::prepare_chat`).
    pub async fn actor(&self) -> Result<Actor, String> {
        self.app.local_actor(Some(USER)).await.map_err(|e| e.detail)
    }

    /// Stops the server gracefully.
    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}
