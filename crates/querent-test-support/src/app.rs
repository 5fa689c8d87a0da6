//! [`TestApp`]: the real server on a random port with its own data directory (and, with
//! `QUERENT_TEST_PG_STORE=1`, its own PostgreSQL store database).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use querent::Config;
use serde_json::Value;

use crate::client::Client;
use crate::services::PgDatabase;
use crate::views::{ConnectionView, Setup};

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub json: Value,
    /// The raw body.
    pub text: String,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Response {
    /// `json[key]` as a string, panicking with the whole body when absent.
    pub fn str(&self, key: &str) -> String {
        match self.json.get(key).and_then(Value::as_str) {
            Some(s) => s.to_owned(),
            None => panic!("no string `{key}` in {} {}", self.status, self.text),
        }
    }

    /// The error code of an error body.
    pub fn code(&self) -> String {
        self.json
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The error message of an error body.
    pub fn detail(&self) -> String {
        self.json
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

/// Builds a [`TestApp`].
pub struct TestAppBuilder {
    config: Config,
    data_dir: Option<PathBuf>,
    pg_store: Option<Arc<PgDatabase>>,
    demo: bool,
    admin: bool,
}

impl Default for TestAppBuilder {
    fn default() -> Self {
        let config = Config {
            bind: "127.0.0.1:0".into(),
            workers: Some(1),
            log_level: "warn".into(),
            ..Default::default()
        };
        Self {
            config,
            data_dir: None,
            pg_store: None,
            demo: false,
            admin: false,
        }
    }
}

impl TestAppBuilder {
    /// Changes the configuration before start.
    pub fn config(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Generates the demo database (dated today) in the data directory before start, so
    /// first-boot setup registers it as connection `demo`.
    pub fn demo(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Runs first-boot setup after start: [`TestApp::admin`] is then a [`Client`] of the
    /// admin (`admin` / `admin-password-1`) and [`TestApp::setup`] its setup answer.
    pub fn with_admin(mut self) -> Self {
        self.admin = true;
        self
    }

    /// The demo database, registered at setup as the admin's connection `demo`
    /// ([`TestApp::demo`]): [`demo`](Self::demo) plus [`with_admin`](Self::with_admin).
    pub fn with_demo(self) -> Self {
        self.demo().with_admin()
    }

    /// Keeps the metadata in this PostgreSQL database (whatever `QUERENT_TEST_PG_STORE`
    /// says): for tests that need a second instance with a store of its own.
    pub fn pg_store(mut self, db: Arc<PgDatabase>) -> Self {
        self.pg_store = Some(db);
        self
    }

    /// Runs on an existing data directory (kept after the test) instead of a fresh one.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Starts the server. Uses a fresh temporary data directory, and a fresh PostgreSQL
    /// store database when `QUERENT_TEST_PG_STORE=1` (panicking if PostgreSQL is missing).
    pub async fn spawn(self) -> TestApp {
        let tmp = match &self.data_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir().expect("temp dir")),
        };
        let data_dir = self.data_dir.clone().unwrap_or_else(|| {
            tmp.as_ref()
                .map(|t| t.path().to_path_buf())
                .unwrap_or_default()
        });
        let pg_store = match self.pg_store {
            Some(db) => Some(db),
            None if std::env::var("QUERENT_TEST_PG_STORE").is_ok_and(|v| v == "1") => {
                Some(Arc::new(
                    PgDatabase::create("TestApp (QUERENT_TEST_PG_STORE=1)")
                        .await
                        .unwrap_or_else(|| panic!("QUERENT_TEST_PG_STORE=1 needs PostgreSQL")),
                ))
            }
            None => None,
        };
        let mut config = self.config;
        config.data_dir = data_dir.clone();
        if self.demo && !config.demo_database_path().exists() {
            std::fs::create_dir_all(&data_dir).expect("data dir");
            querent::demo::generate(
                &config.demo_database_path(),
                time::OffsetDateTime::now_utc().date(),
            )
            .expect("generate the demo database");
        }
        config.database_url = pg_store.as_ref().map(|db| db.url.clone());
        let parts = querent::build_app(&config, None).await.expect("build app");
        let background = querent::start_background(&parts.app).await;
        let listener = std::net::TcpListener::bind(&config.bind).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server =
            querent_http::build_server(parts.app, config.http_config(), listener).expect("server");
        let handle = server.handle();
        tokio::spawn(server);
        let mut app = TestApp {
            base_url: format!("http://{addr}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            data_dir,
            config,
            handle,
            background,
            tmp,
            pg_store,
            setup: None,
            demo_connection: None,
        };
        if self.admin {
            let setup: Setup = app.setup_admin().await.typed();
            let admin = app.anonymous().with_token(setup.access_token.clone());
            if self.demo {
                app.demo_connection = Some(
                    admin
                        .connections()
                        .await
                        .into_iter()
                        .find(|c| c.name == "demo")
                        .expect("setup registers the demo database as `demo`"),
                );
            }
            app.setup = Some(setup);
        }
        app
    }
}

/// The running server and an HTTP client for it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The client used by the helpers (public for custom requests).
    pub client: reqwest::Client,
    /// The data directory (embedded store, key file).
    pub data_dir: PathBuf,
    /// The configuration it runs with.
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
    background: tokio::task::JoinHandle<()>,
    tmp: Option<tempfile::TempDir>,
    pg_store: Option<Arc<PgDatabase>>,
    setup: Option<Setup>,
    demo_connection: Option<ConnectionView>,
}

impl TestApp {
    /// A default server.
    pub async fn spawn() -> TestApp {
        TestAppBuilder::default().spawn().await
    }

    /// A builder for a customised server.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// A client without a token.
    pub fn anonymous(&self) -> Client {
        Client {
            base_url: self.base_url.clone(),
            http: self.client.clone(),
            token: None,
        }
    }

    /// A client sending `token`.
    pub fn client(&self, token: impl Into<String>) -> Client {
        self.anonymous().with_token(token)
    }

    /// The first admin's client (built [`with_admin`](TestAppBuilder::with_admin)).
    pub fn admin(&self) -> Client {
        self.client(self.setup().access_token.clone())
    }

    /// First-boot setup's answer: the admin, their team, their tokens (built
    /// [`with_admin`](TestAppBuilder::with_admin)).
    pub fn setup(&self) -> &Setup {
        self.setup
            .as_ref()
            .expect("build the TestApp with_admin() (or with_demo())")
    }

    /// The demo connection (built [`with_demo`](TestAppBuilder::with_demo)).
    pub fn demo(&self) -> &ConnectionView {
        self.demo_connection
            .as_ref()
            .expect("build the TestApp with_demo()")
    }

    /// Whether the metadata lives in PostgreSQL (`QUERENT_TEST_PG_STORE=1`).
    pub fn pg_store(&self) -> Option<&PgDatabase> {
        self.pg_store.as_deref()
    }

    /// The embedded store's files (database, WAL, shared memory), for tests that inspect
    /// them.
    pub fn store_files(&self) -> Vec<PathBuf> {
        let db = self.config.sqlite_store_path();
        ["", "-wal", "-shm"]
            .iter()
            .map(|s| PathBuf::from(format!("{}{s}", db.display())))
            .filter(|p| p.exists())
            .collect()
    }

    /// Stops the server and starts a new one on the same data directory and store.
    pub async fn restart(mut self) -> TestApp {
        self.background.abort();
        self.handle.stop(true).await;
        let tmp = self.tmp.take();
        let mut next = TestAppBuilder {
            config: self.config.clone(),
            data_dir: Some(self.data_dir.clone()),
            pg_store: self.pg_store.clone(),
            demo: false,
            admin: false,
        };
        next.config.bind = "127.0.0.1:0".into();
        let mut app = next.spawn().await;
        app.tmp = tmp;
        // Tokens outlive a restart (the signing key comes from the kept master key).
        app.setup = self.setup.take();
        app.demo_connection = self.demo_connection.take();
        app
    }

    /// Stops the server, keeping the data directory while `self` lives.
    pub async fn stop(&self) {
        self.background.abort();
        self.handle.stop(true).await;
    }

    /// Runs SQL statements directly on the metadata store (the embedded SQLite file or the
    /// PostgreSQL store database), bypassing the server: for tests that stage states the
    /// API cannot produce, such as a crash.
    pub async fn store_execute(&self, sql: &str) {
        match &self.pg_store {
            Some(db) => db.execute(sql).await.expect("store statement"),
            None => {
                let path = self.config.sqlite_store_path();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(path).expect("open the store");
                    c.busy_timeout(std::time::Duration::from_secs(10))
                        .expect("busy timeout");
                    c.execute_batch(&sql).expect("store statement");
                })
                .await
                .expect("store statement task");
            }
        }
    }

    /// Runs a query returning one text column directly on the metadata store.
    pub async fn store_strings(&self, sql: &str) -> Vec<Option<String>> {
        match &self.pg_store {
            Some(db) => db.query_strings(sql).await.expect("store query"),
            None => {
                let path = self.config.sqlite_store_path();
                let sql = sql.to_owned();
                tokio::task::spawn_blocking(move || {
                    let c = rusqlite::Connection::open(path).expect("open the store");
                    c.busy_timeout(std::time::Duration::from_secs(10))
                        .expect("busy timeout");
                    let mut stmt = c.prepare(&sql).expect("store query");
                    stmt.query_map([], |r| r.get::<_, Option<String>>(0))
                        .expect("store query")
                        .collect::<Result<Vec<_>, _>>()
                        .expect("store rows")
                })
                .await
                .expect("store query task")
            }
        }
    }

    /// Creates an empty SQLite file (a valid, empty database) in the server's shared SQLite
    /// directory (`<data_dir>/files`, the default `sqlite_dirs`) and returns its path.
    pub fn sqlite_file(&self) -> String {
        let dir = self.config.files_dir();
        std::fs::create_dir_all(&dir).expect("files dir");
        let path = dir.join(format!("target-{}.sqlite", uuid::Uuid::new_v4().simple()));
        std::fs::write(&path, b"").expect("sqlite file");
        path.display().to_string()
    }

    /// `POST /api/v1/connections/sqlite-files?filename=…` with `bytes` as the raw body.
    pub async fn upload_sqlite(&self, token: &str, query: &str, bytes: Vec<u8>) -> Response {
        let resp = self
            .client
            .post(format!(
                "{}/api/v1/connections/sqlite-files?{query}",
                self.base_url
            ))
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        Self::read(resp).await
    }

    /// The data directory path.
    pub fn data_path(&self) -> &Path {
        &self.data_dir
    }

    /// Sends a request; `body` as JSON when given.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base_url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request")).await
    }

    /// Sends a raw body with a content type.
    pub async fn request_raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &str,
    ) -> Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("request")).await
    }

    /// Reads a response whole.
    pub async fn read(resp: reqwest::Response) -> Response {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let url = resp.url().clone();
        let text = resp.text().await.unwrap_or_default();
        crate::openapi_check::check_response(None, &url, status, &headers, &text);
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Response {
            status,
            json,
            text,
            headers,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request("GET", path, token, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request("POST", path, token, Some(body)).await
    }

    /// PUT with a JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request("PUT", path, token, Some(body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request("PATCH", path, token, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request("DELETE", path, token, None).await
    }

    /// POSTs and reads a server-sent event stream whole: the status and the `(event, data)`
    /// pairs in order (data parsed as JSON). A non-stream answer comes back with no events
    /// and its body in the returned [`Response`].
    pub async fn sse(
        &self,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> (Response, Vec<(String, Value)>) {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header("accept", "text/event-stream")
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = Self::read(req.send().await.expect("request")).await;
        let events = if resp
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"))
        {
            parse_sse(&resp.text)
        } else {
            Vec::new()
        };
        (resp, events)
    }

    /// POSTs with `Accept: application/json` (the JSON variant of streaming endpoints).
    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base_url))
            .header("accept", "application/json")
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Self::read(req.send().await.expect("request")).await
    }

    /// First-boot setup as `admin` / `admin-password-1`; returns the setup response.
    pub async fn setup_admin(&self) -> Response {
        let r = self
            .post(
                "/api/v1/auth/setup",
                None,
                serde_json::json!({"username": "admin", "password": "admin-password-1"}),
            )
            .await;
        assert_eq!(r.status, 201, "setup failed: {}", r.text);
        r
    }

    /// Logs in; returns the response (tokens on success).
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            None,
            serde_json::json!({"username": username, "password": password}),
        )
        .await
    }

    /// As admin: creates a member user and returns their access token.
    pub async fn create_user(&self, admin_token: &str, username: &str) -> (String, String) {
        let password = format!("{username}-password-1");
        let r = self
            .post(
                "/api/v1/users",
                Some(admin_token),
                serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 201, "create user failed: {}", r.text);
        let id = r.str("id");
        let login = self.login(username, &password).await;
        assert_eq!(login.status, 200, "login failed: {}", login.text);
        (id, login.str("access_token"))
    }

    /// Creates a user with `role` in `team` (as the admin) and returns their access token.
    pub async fn create_member(
        &self,
        admin_token: &str,
        team: &str,
        username: &str,
        role: &str,
    ) -> String {
        let (id, token) = self.create_user(admin_token, username).await;
        let r = self
            .post(
                &format!("/api/v1/teams/{team}/members/{id}"),
                Some(admin_token),
                serde_json::json!({ "role": role }),
            )
            .await;
        assert!(
            r.status == 200 || r.status == 201,
            "adding a member failed: {}",
            r.text
        );
        token
    }
}

/// Splits an SSE body into `(event, data)` pairs (comment-only blocks such as keep-alives
/// are skipped).
pub fn parse_sse(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| !l.is_empty() && !l.starts_with(':')))
        .map(|block| {
            let mut event = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_owned();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            (
                event,
                serde_json::from_str(&data).unwrap_or(Value::String(data)),
            )
        })
        .collect()
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop without waiting: the runtime may be going away with the test.
        self.background.abort();
        let h = self.handle.clone();
        drop(h.stop(false));
    }
}
