//! MCP with the official SDK's client (rmcp): `/mcp` over streamable HTTP behind the bearer
//! auth, and `querent mcp` over stdio in a child process — initialise, list the tools, call
//! each, and the same rights as the REST API (a viewer cannot `run_sql`, a review_first
//! connection's `ask` does not run, policies apply, bad credentials are refused).

use querent_domain::{ExecutionMode, TeamRole};
use querent_test_support::TestApp;
use querent_test_support::views::ApiClientCreated;
use rmcp::model::{CallToolRequestParams, CallToolResult, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt as _, ServiceExt as _};
use serde_json::{Value, json};

type Mcp = RunningService<RoleClient, ClientConfig>;

/// An MCP client of `/mcp` as the bearer of `token`, after the handshake of `lifecycle`.
async fn connect_with(
    app: &TestApp,
    token: &str,
    lifecycle: ClientLifecycleMode,
) -> Result<Mcp, rmcp::service::ClientInitializeError> {
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", app.base_url))
            .auth_header(token),
    );
    ClientConfig::default()
        .serve_with_lifecycle(transport, lifecycle)
        .await
}

/// An MCP client of `/mcp` as the bearer of `token`, after the `initialize` handshake.
async fn connect(app: &TestApp, token: &str) -> Mcp {
    connect_with(app, token, ClientLifecycleMode::Initialize)
        .await
        .expect("initialize")
}

async fn call(mcp: &Mcp, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    mcp.call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
}

/// The structured answer of a successful call.
async fn ok(mcp: &Mcp, tool: &str, args: Value) -> Value {
    let r = call(mcp, tool, args).await;
    assert_ne!(r.is_error, Some(true), "{tool}: {r:?}");
    r.structured_content.expect("structured content")
}

/// The `{code, detail}` of a refused call.
async fn refused(mcp: &Mcp, tool: &str, args: Value) -> Value {
    let r = call(mcp, tool, args).await;
    assert_eq!(r.is_error, Some(true), "{tool} should be refused: {r:?}");
    r.structured_content.expect("structured error")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_serves_every_tool_with_the_callers_rights() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn, team) = (app.admin(), app.demo().id, app.demo().team_id);
    let _: Value = admin
        .put(
            &format!("/api/v1/connections/{conn}/privacy"),
            json!({"excluded_tables": ["employees"], "excluded_columns": ["customers.email"],
                   "masked_column_patterns": ["customers.city"]}),
        )
        .await;

    let mcp = connect(&app, admin.token()).await;
    let info = mcp.peer_info().expect("initialize result");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("querent")
    );
    let tools = mcp.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "ask",
            "describe_schema",
            "list_connections",
            "list_saved_queries",
            "run_saved_query",
            "run_sql"
        ]
    );

    let listed = ok(&mcp, "list_connections", json!({})).await;
    assert!(
        listed["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == conn.to_string() && c["name"] == "demo"),
        "{listed}"
    );

    let schema = ok(&mcp, "describe_schema", json!({"connection_id": conn})).await;
    let customers = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "customers")
        .unwrap_or_else(|| panic!("customers in {schema}"));
    let column = |name: &str| {
        customers["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
    };
    assert_eq!(column("email"), None, "excluded columns are not described");
    let tables: Vec<&str> = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tables.contains(&"orders") && !tables.contains(&"employees"),
        "excluded tables are not described: {tables:?}"
    );
    let orders_table = &schema["tables"][tables.iter().position(|t| *t == "orders").unwrap()];
    assert_eq!(
        orders_table["foreign_keys"],
        json!(["customer_id -> customers(id)"]),
        "keys to excluded tables are left out: {orders_table}"
    );
    assert!(!customers.to_string().contains("employees"), "{customers}");
    assert_eq!(column("city").unwrap()["masked"], true);
    assert!(
        column("city").unwrap().get("sample_values").is_none(),
        "no samples of a masked column"
    );
    assert!(
        column("country").unwrap()["sample_values"].is_array(),
        "other columns keep their samples: {customers}"
    );
    assert_eq!(schema["execution_mode"], "auto_execute");
    // The semantic model's names and metrics come with it.
    assert_eq!(customers["display_name"], "Customers");
    assert!(
        customers["synonyms"]
            .as_array()
            .unwrap()
            .contains(&json!("clients"))
    );
    assert_eq!(
        column("last_name").unwrap()["synonyms"],
        json!(["surname", "family name"])
    );
    assert!(
        schema["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "revenue"),
        "{}",
        schema["metrics"]
    );

    let answer = ok(
        &mcp,
        "ask",
        json!({"connection_id": conn, "question": "how many orders are there?"}),
    )
    .await;
    assert_eq!(answer["status"], "executed", "{answer}");
    assert!(
        answer["sql"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("orders")
    );
    let orders = answer["results"]["rows"][0][0].as_i64().unwrap();
    assert!(orders > 1000, "{answer}");
    assert!(
        answer["summary"].as_str().is_some_and(|s| !s.is_empty()),
        "{answer}"
    );
    assert_eq!(answer["review_id"], Value::Null);
    let unanswered = refused(
        &mcp,
        "ask",
        json!({"connection_id": conn, "question": "what is the meaning of life?"}),
    )
    .await;
    assert_eq!(unanswered["code"], "cannot_translate", "{unanswered}");
    assert!(unanswered["session_id"].is_string(), "{unanswered}");

    let rows = ok(
        &mcp,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT count(*) AS n FROM orders"}),
    )
    .await;
    assert_eq!(rows["rows"][0][0].as_i64(), Some(orders), "{rows}");
    let guard = refused(
        &mcp,
        "run_sql",
        json!({"connection_id": conn, "sql": "DELETE FROM orders"}),
    )
    .await;
    assert_eq!(guard["code"], "guard_rejected", "{guard}");
    let policy = refused(
        &mcp,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT email FROM customers"}),
    )
    .await;
    assert_eq!(policy["code"], "policy_violation", "{policy}");

    let saved: Value = admin
        .post(
            "/api/v1/queries",
            json!({"connection_id": conn, "name": "order count",
                   "sql": "SELECT count(*) AS n FROM orders"}),
        )
        .await;
    let queries = ok(&mcp, "list_saved_queries", json!({"connection_id": conn})).await;
    assert_eq!(queries["queries"][0]["id"], saved["id"], "{queries}");
    let run = ok(&mcp, "run_saved_query", json!({"query_id": saved["id"]})).await;
    assert_eq!(run["result"]["rows"][0][0].as_i64(), Some(orders), "{run}");
    assert!(run["summary"].is_string(), "{run}");

    // Malformed arguments and unknown tools are protocol errors, not tool results.
    let bad = mcp
        .call_tool(
            CallToolRequestParams::new("describe_schema").with_arguments(
                json!({"connection_id": "nope"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await;
    assert!(bad.is_err(), "{bad:?}");

    // A viewer asks but cannot run SQL; on a review_first connection nothing runs.
    let viewer = admin.create_member(team, "vic", TeamRole::Viewer).await;
    let as_viewer = connect(&app, viewer.token()).await;
    let denied = refused(
        &as_viewer,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT 1"}),
    )
    .await;
    assert_eq!(denied["code"], "forbidden", "{denied}");
    admin.set_mode(conn, ExecutionMode::ReviewFirst).await;
    let pending = ok(
        &as_viewer,
        "ask",
        json!({"connection_id": conn, "question": "how many orders are there?"}),
    )
    .await;
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    assert_eq!(
        pending["results"],
        Value::Null,
        "review_first never runs: {pending}"
    );
    assert!(pending["sql"].is_string());
    assert_eq!(pending["review_id"], pending["message_id"]);
    let queue: Value = admin.get("/api/v1/chat/pending").await;
    assert_eq!(queue["items"][0]["id"], pending["review_id"], "{queue}");
    // generate_only: the SQL comes back, nothing runs, and run_sql is refused there too.
    admin.set_mode(conn, ExecutionMode::GenerateOnly).await;
    let generated = ok(
        &mcp,
        "ask",
        json!({"connection_id": conn, "question": "how many orders are there?"}),
    )
    .await;
    assert_eq!(generated["status"], "query_only", "{generated}");
    assert_eq!(generated["results"], Value::Null);
    let refused_run = refused(
        &mcp,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT 1"}),
    )
    .await;
    assert_eq!(refused_run["code"], "forbidden", "{refused_run}");
    admin.set_mode(conn, ExecutionMode::AutoExecute).await;

    // An API client's key is a bearer credential here too, with its scopes' rights.
    let created: ApiClientCreated = admin
        .post(
            "/api/v1/api-clients",
            json!({"name": "agent", "scopes": ["query:read"]}),
        )
        .await;
    let as_client = connect(&app, &created.api_key).await;
    let listed = ok(&as_client, "list_connections", json!({})).await;
    assert_eq!(listed["connections"][0]["id"], conn.to_string());
    let denied = refused(
        &as_client,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT 1"}),
    )
    .await;
    assert_eq!(denied["code"], "forbidden");

    // No token, or a wrong one: the initialize request itself is refused.
    for token in ["qk_not-a-key", "not.a.jwt"] {
        let refused = connect_with(&app, token, ClientLifecycleMode::Initialize).await;
        assert!(refused.is_err(), "{token} must be refused");
    }
    let raw = app
        .client
        .post(format!("{}/mcp", app.base_url))
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_over_http_speaks_the_stateless_2026_protocol_too() {
    let app = TestApp::builder().with_demo().spawn().await;
    let conn = app.demo().id;
    let mcp = connect_with(
        &app,
        app.admin().token(),
        ClientLifecycleMode::Discover {
            preferred_versions: vec![rmcp::model::ProtocolVersion::V_2026_07_28],
        },
    )
    .await
    .expect("server/discover");
    let answer = ok(
        &mcp,
        "ask",
        json!({"connection_id": conn, "question": "how many customers are there?"}),
    )
    .await;
    assert_eq!(answer["status"], "executed", "{answer}");
    // The README's request by hand: no handshake, no session, JSON back.
    let listed: Value = app
        .client
        .post(format!("{}/mcp", app.base_url))
        .bearer_auth(app.admin().token())
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["result"]["tools"].as_array().map(Vec::len),
        Some(6),
        "{listed}"
    );
    // No session: GET (a server-to-client stream) and DELETE (end a session) are 405.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = app
            .client
            .request(method.clone(), format!("{}/mcp", app.base_url))
            .bearer_auth(app.admin().token())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
    }
}

/// `querent mcp` in a child process on the test server's data directory (the same store
/// and key file), killed when dropped.
struct Stdio {
    child: std::process::Child,
}

impl Stdio {
    /// The README's Claude Desktop configuration block, run as the agent would run it: its
    /// command (this build's binary), its arguments with the test server's data directory
    /// for the example one, and its environment with `key` for the example key.
    fn command(app: &TestApp, key: Option<&str>) -> std::process::Command {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
                .expect("README.md");
        let config: Value = readme
            .split("```json\n")
            .skip(1)
            .filter_map(|block| block.split("```").next())
            .find(|block| block.contains("\"command\""))
            .map(|block| serde_json::from_str(block).expect("the README's block is JSON"))
            .expect("the README has the desktop agent's configuration");
        let server = &config["mcpServers"]["querent"];
        assert_eq!(server["command"], "querent");
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_querent"));
        for arg in server["args"].as_array().unwrap() {
            match arg.as_str().unwrap() {
                "/srv/querent-data" => cmd.arg(app.data_path()),
                other => cmd.arg(other),
            };
        }
        cmd.env_remove("QUERENT_DATABASE_URL")
            .env_remove("QUERENT_API_KEY");
        for (name, value) in server["env"].as_object().unwrap() {
            match (name.as_str(), key) {
                ("QUERENT_API_KEY", Some(key)) => cmd.env(name, key),
                ("QUERENT_API_KEY", None) => &mut cmd,
                _ => cmd.env(name, value.as_str().unwrap()),
            };
        }
        if let Some(url) = &app.config.database_url {
            cmd.env("QUERENT_DATABASE_URL", url);
        }
        cmd
    }

    /// Starts it and speaks MCP to it over its stdin and stdout.
    async fn connect(app: &TestApp, key: &str) -> (Stdio, Mcp) {
        use std::os::fd::OwnedFd;
        use std::process::Stdio as Pipe;
        use tokio::net::unix::pipe;

        let mut child = Self::command(app, Some(key))
            .stdin(Pipe::piped())
            .stdout(Pipe::piped())
            .stderr(Pipe::inherit())
            .spawn()
            .expect("spawn querent mcp");
        let to_child =
            pipe::Sender::from_owned_fd(OwnedFd::from(child.stdin.take().unwrap())).unwrap();
        let from_child =
            pipe::Receiver::from_owned_fd(OwnedFd::from(child.stdout.take().unwrap())).unwrap();
        let guard = Stdio { child };
        let mcp = ClientConfig::default()
            .serve((from_child, to_child))
            .await
            .expect("initialize over stdio");
        (guard, mcp)
    }
}

impl Drop for Stdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn querent_mcp_serves_stdio_as_the_api_client_of_its_key() {
    let app = TestApp::builder().with_demo().spawn().await;
    let (admin, conn) = (app.admin(), app.demo().id);
    let created: ApiClientCreated = admin
        .post(
            "/api/v1/api-clients",
            json!({"name": "desktop", "scopes": ["query:write"]}),
        )
        .await;

    let (_child, mcp) = Stdio::connect(&app, &created.api_key).await;
    let info = mcp.peer_info().expect("initialize result");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("querent")
    );
    assert_eq!(mcp.list_all_tools().await.unwrap().len(), 6);
    let listed = ok(&mcp, "list_connections", json!({})).await;
    assert_eq!(listed["connections"][0]["id"], conn.to_string());
    let schema = ok(&mcp, "describe_schema", json!({"connection_id": conn})).await;
    assert!(schema["tables"].as_array().unwrap().len() > 3, "{schema}");
    let answer = ok(
        &mcp,
        "ask",
        json!({"connection_id": conn, "question": "how many orders are there?"}),
    )
    .await;
    assert_eq!(answer["status"], "executed", "{answer}");
    let orders = answer["results"]["rows"][0][0].as_i64().unwrap();
    let rows = ok(
        &mcp,
        "run_sql",
        json!({"connection_id": conn, "sql": "SELECT count(*) FROM orders"}),
    )
    .await;
    assert_eq!(rows["rows"][0][0].as_i64(), Some(orders), "{rows}");
    let queries = ok(&mcp, "list_saved_queries", json!({})).await;
    assert_eq!(queries["queries"], json!([]));
    mcp.cancel().await.unwrap();

    // A missing or wrong key fails at once, saying why.
    for key in [None, Some("qk_wrong")] {
        let out = Stdio::command(&app, key)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run querent mcp");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{key:?}: {err}");
        assert!(err.contains("QUERENT_API_KEY"), "{key:?}: {err}");
        assert!(
            out.stdout.is_empty(),
            "nothing on the protocol stream: {key:?}"
        );
    }
}
