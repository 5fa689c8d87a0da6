//! The tools: their descriptions and input schemas, and each one's call into querent-app.

use std::sync::Arc;

use querent_app::chat::{ChatRequest, Events};
use querent_app::queries::{RunSavedQuery, SavedQueryParams};
use querent_app::sql::RunSqlRequest;
use querent_app::{Actor, App, ListParams, ServiceError};
use querent_domain::chat::ChatOptions;
use querent_domain::{ConnectionId, MessageStatus, SavedQueryId, SessionId};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, JsonObject,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::schemars::JsonSchema;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Who the tools act for.
#[derive(Clone, Debug)]
enum Caller {
    /// One HTTP request's authenticated caller (querent-http already rate limited it).
    Request(Actor),
    /// The caller of a whole stdio session: every tool call is rate limited here.
    Session(Actor),
}

/// The MCP server: Querent's tools, acting as one caller.
#[derive(Clone, Debug)]
pub struct QuerentMcp {
    app: App,
    caller: Caller,
}

impl QuerentMcp {
    /// The tools for one authenticated HTTP request.
    pub fn request(app: App, actor: Actor) -> Self {
        Self {
            app,
            caller: Caller::Request(actor),
        }
    }

    /// The tools for a whole session (stdio) of one caller.
    pub fn session(app: App, actor: Actor) -> Self {
        Self {
            app,
            caller: Caller::Session(actor),
        }
    }

    async fn actor(&self) -> Result<Actor, ServiceError> {
        match &self.caller {
            Caller::Request(actor) => Ok(actor.clone()),
            Caller::Session(actor) => {
                self.app.check_rate_limit(actor).await?;
                Ok(actor.clone())
            }
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct NoArguments {}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct ConnectionArg {
    /// The connection's id, from `list_connections`.
    #[schemars(with = "String")]
    connection_id: ConnectionId,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct AskArgs {
    /// The connection's id, from `list_connections`.
    #[schemars(with = "String")]
    connection_id: ConnectionId,
    /// The question in plain language, e.g. "revenue by month this year".
    question: String,
    /// Continue this conversation (the `session_id` of an earlier answer) so a follow-up
    /// like "and by country?" is read with it; omit to start a new one.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    session_id: Option<SessionId>,
    /// Rows to return at most (default 100; the connection's and the server's caps apply).
    #[serde(default)]
    max_rows: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct RunSqlArgs {
    /// The connection's id, from `list_connections`.
    #[schemars(with = "String")]
    connection_id: ConnectionId,
    /// One read-only statement (SELECT/WITH) in the connection's dialect.
    sql: String,
    /// Rows to return at most (the connection's and the server's caps apply).
    #[serde(default)]
    max_rows: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct ListSavedQueriesArgs {
    /// Only this connection's queries.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    connection_id: Option<ConnectionId>,
    /// Only queries whose name, description, question or SQL contains this text.
    #[serde(default)]
    search: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars")]
#[serde(deny_unknown_fields)]
struct RunSavedQueryArgs {
    /// The saved query's id, from `list_saved_queries`.
    #[schemars(with = "String")]
    query_id: SavedQueryId,
    /// Rows to return at most (the connection's and the server's caps apply).
    #[serde(default)]
    max_rows: Option<u32>,
}

/// Rows a listing tool returns at most (the services' largest page).
const LIST_LIMIT: i64 = querent_app::MAX_LIMIT;

fn tool<T: JsonSchema + 'static>(name: &'static str, description: &'static str) -> Tool {
    Tool::new(name, description, Arc::new(JsonObject::new())).with_input_schema::<T>()
}

fn tools() -> Vec<Tool> {
    let read_only = || ToolAnnotations::new().read_only(true).destructive(false);
    vec![
        tool::<NoArguments>(
            "list_connections",
            "The databases you can ask about: id, name, dialect, and execution mode \
             (auto_execute runs answers; review_first returns SQL for an editor to approve; \
             generate_only never runs).",
        )
        .annotate(read_only().idempotent(true)),
        tool::<ConnectionArg>(
            "describe_schema",
            "Tables and columns of a connection with their comments and semantic names, as \
             your privacy policy lets you see them (excluded tables and columns are left \
             out; masked columns are marked). Use it before writing SQL.",
        )
        .annotate(read_only().idempotent(true)),
        tool::<AskArgs>(
            "ask",
            "Ask a question in plain language: Querent writes SQL, checks it with its guard \
             and, on auto_execute connections, runs it read-only and returns the rows with a \
             summary. On review_first connections nothing runs: you get the SQL and a \
             review_id that an editor approves in Querent. Pass session_id for follow-ups.",
        )
        .annotate(read_only()),
        tool::<RunSqlArgs>(
            "run_sql",
            "Run one read-only SQL statement you wrote (editor role or above). It goes \
             through the same guard, privacy policy, row filters, timeout and row cap as \
             generated SQL.",
        )
        .annotate(read_only()),
        tool::<ListSavedQueriesArgs>(
            "list_saved_queries",
            "Saved queries of your teams (id, name, description, question, SQL), optionally \
             for one connection or matching a text.",
        )
        .annotate(read_only().idempotent(true)),
        tool::<RunSavedQueryArgs>(
            "run_saved_query",
            "Run a saved query now (through the guard and the connection's limits); returns \
             the rows, a summary and a chart suggestion. The run is recorded.",
        )
        .annotate(read_only()),
    ]
}

fn arguments<T: DeserializeOwned>(args: Option<JsonObject>) -> Result<T, ErrorData> {
    serde_json::from_value(Value::Object(args.unwrap_or_default()))
        .map_err(|e| ErrorData::invalid_params(format!("arguments: {e}"), None))
}

/// A service refusal as a tool error the agent can read: the stable code and the reason.
fn refusal(e: &ServiceError) -> CallToolResult {
    CallToolResult::structured_error(json!({"code": e.code.as_str(), "detail": e.detail}))
}

fn answer<T: serde::Serialize>(result: Result<T, ServiceError>) -> CallToolResult {
    match result.map(|v| serde_json::to_value(v)) {
        Ok(Ok(v)) => CallToolResult::structured(v),
        Ok(Err(e)) => refusal(&ServiceError::internal(format!(
            "cannot encode the answer: {e}"
        ))),
        Err(e) => refusal(&e),
    }
}

impl QuerentMcp {
    /// The chat pipeline's answer; a failure after the question was taken (the guard
    /// refused the SQL, the database failed…) is a tool error that still carries the SQL
    /// and the session, so the agent can correct itself or follow up.
    async fn ask(&self, actor: &Actor, args: AskArgs) -> Result<CallToolResult, ServiceError> {
        let defaults = ChatOptions::default();
        let request = ChatRequest {
            connection_id: args.connection_id,
            session_id: args.session_id,
            message: args.question,
            provider: None,
            options: ChatOptions {
                max_rows: args.max_rows.unwrap_or(defaults.max_rows),
                explain_results: true,
                ..defaults
            },
        };
        let prepared = self.app.prepare_chat(actor, request).await?;
        let r = self.app.run_chat(prepared, Events::none()).await;
        if let Some(e) = &r.error {
            return Ok(CallToolResult::structured_error(json!({
                "code": e.code.as_str(),
                "detail": e.detail,
                "sql": r.query,
                "session_id": r.session_id,
                "message_id": r.message_id,
            })));
        }
        let note = match r.status {
            MessageStatus::PendingApproval => Some(
                "This connection is review_first: the SQL did not run. An editor approves it \
                 in Querent (POST /api/v1/chat/execute/{review_id}); ask them, or use \
                 run_sql if you are an editor.",
            ),
            MessageStatus::QueryOnly => {
                Some("This connection is generate_only: the SQL is returned, never run.")
            }
            _ => None,
        };
        let review_id = (r.status == MessageStatus::PendingApproval).then_some(r.message_id);
        Ok(CallToolResult::structured(json!({
            "status": r.status,
            "sql": r.query,
            "dialect": r.query_dialect,
            "summary": r.explanation,
            "results": r.results,
            "cache_hit": r.cache_hit,
            "session_id": r.session_id,
            "message_id": r.message_id,
            "review_id": review_id,
            "note": note,
        })))
    }

    async fn call(
        &self,
        name: &str,
        args: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        let app = &self.app;
        // Parse before the caller is charged a request, so a malformed call is a protocol
        // error (invalid params) and an unknown tool one too.
        macro_rules! with_actor {
            ($actor:ident => $body:expr) => {
                match self.actor().await {
                    Ok($actor) => answer($body),
                    Err(e) => refusal(&e),
                }
            };
        }
        Ok(match name {
            "list_connections" => {
                let NoArguments {} = arguments(args)?;
                let params = ListParams {
                    limit: Some(LIST_LIMIT),
                    cursor: None,
                };
                with_actor!(a => app
                    .list_connections(&a, &params)
                    .await
                    .map(|p| json!({"connections": p.items, "more": p.next_cursor.is_some()})))
            }
            "describe_schema" => {
                let ConnectionArg { connection_id } = arguments(args)?;
                with_actor!(a => app.describe_schema(&a, connection_id).await)
            }
            "ask" => {
                let args: AskArgs = arguments(args)?;
                match self.actor().await {
                    Ok(a) => self.ask(&a, args).await.unwrap_or_else(|e| refusal(&e)),
                    Err(e) => refusal(&e),
                }
            }
            "run_sql" => {
                let a: RunSqlArgs = arguments(args)?;
                let request = RunSqlRequest {
                    connection_id: a.connection_id,
                    sql: a.sql,
                    max_rows: a.max_rows,
                };
                with_actor!(actor => app.run_sql(&actor, &request).await)
            }
            "list_saved_queries" => {
                let a: ListSavedQueriesArgs = arguments(args)?;
                let params = ListParams {
                    limit: Some(LIST_LIMIT),
                    cursor: None,
                };
                let filter = SavedQueryParams {
                    connection_id: a.connection_id,
                    tag: None,
                    q: a.search,
                };
                with_actor!(actor => app
                    .list_saved_queries(&actor, &params, &filter)
                    .await
                    .map(|p| json!({"queries": p.items, "more": p.next_cursor.is_some()})))
            }
            "run_saved_query" => {
                let a: RunSavedQueryArgs = arguments(args)?;
                let request = RunSavedQuery {
                    max_rows: a.max_rows,
                    snapshot: false,
                    statistics: true,
                };
                with_actor!(actor => app.run_saved_query_now(&actor, a.query_id, &request).await)
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no tool named `{other}`; see tools/list"),
                    None,
                ));
            }
        })
    }
}

impl ServerHandler for QuerentMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("querent", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Querent answers questions about databases with guarded, read-only SQL. Call \
                 list_connections, then describe_schema for a connection, then ask (plain \
                 language) or run_sql (your own SELECT). Your Querent role and the \
                 connection's privacy policy decide what you may see and run.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(&request.name, request.arguments)
            .await
            .map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_a_description() {
        let tools = tools();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(
            names,
            [
                "list_connections",
                "describe_schema",
                "ask",
                "run_sql",
                "list_saved_queries",
                "run_saved_query"
            ]
        );
        for t in &tools {
            assert_eq!(
                t.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                t.name
            );
            assert!(t.description.as_ref().is_some_and(|d| d.len() > 40));
        }
        let ask = tools.iter().find(|t| t.name == "ask").unwrap();
        assert_eq!(
            ask.input_schema["required"],
            json!(["connection_id", "question"])
        );
        assert_eq!(
            ask.input_schema["properties"]["connection_id"]["type"],
            "string"
        );
    }

    #[test]
    fn arguments_name_the_mistake() {
        let bad = arguments::<RunSqlArgs>(Some(
            json!({"connection_id": "not-a-uuid", "sql": "select 1"})
                .as_object()
                .unwrap()
                .clone(),
        ))
        .err()
        .unwrap();
        assert!(bad.message.contains("arguments"), "{bad:?}");
        let missing = arguments::<AskArgs>(None).err().unwrap();
        assert!(missing.message.contains("connection_id"), "{missing:?}");
    }
}
