//! # querent-mcp
//!
//! Querent as a Model Context Protocol server, for agent clients (desktop assistants, IDE
//! agents): the tools `list_connections`, `describe_schema`, `ask`, `run_sql`,
//! `list_saved_queries` and `run_saved_query`, each one call into querent-app's services
//! as the caller — so roles, team isolation, the guard, execution modes, privacy policies,
//! row filters, rate limits and the audit log apply exactly as they do to the REST API.
//! A refusal (a viewer calling `run_sql`, a policy violation, a guard rejection) is a tool
//! result with `isError: true` and the stable error code, never a protocol failure.
//!
//! Two transports, both of the official Rust SDK (rmcp):
//! - **stdio** ([`serve_stdio`], `querent mcp`): one caller for the whole process,
//!   authenticated once from an API client's key;
//! - **streamable HTTP** ([`http::handle`]): querent-http mounts it at `/mcp` behind the
//!   same bearer authentication as `/api/v1`, in rmcp's *stateless* mode (every POST is
//!   answered on its own, as `application/json`; no `Mcp-Session-Id`, so any instance of a
//!   cluster can answer any request; GET and DELETE are 405).
//!
//! Depends on: querent-app, querent-domain; rmcp (server side), http 1.
//! Must never: decide authorisation, run or parse SQL, or reach the store, a driver or
//! diesel/sqlparser (the services do all of that; `scripts/layering.sh` checks it).

pub mod http;
mod tools;

use querent_app::App;
use rmcp::ServiceExt as _;

pub use tools::QuerentMcp;

/// What can stop the MCP server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The credential was missing or refused.
    #[error("{0}")]
    Unauthenticated(String),
    /// The transport failed (the client went away mid-handshake, stdio closed…).
    #[error("MCP transport: {0}")]
    Transport(String),
}

/// Serves MCP over this process's stdin and stdout as the caller `credential` (an API
/// client's API key, `qk_…`, or an access token) authenticates as, until the client closes
/// stdin. Every tool call is rate limited like a REST request.
pub async fn serve_stdio(app: App, credential: &str) -> Result<(), McpError> {
    let actor = app
        .authenticate(credential.trim(), None)
        .await
        .map_err(|e| {
            McpError::Unauthenticated(format!("the credential was refused: {}", e.detail))
        })?;
    let server = QuerentMcp::session(app, actor)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Transport(e.to_string()))?;
    server
        .waiting()
        .await
        .map_err(|e| McpError::Transport(e.to_string()))?;
    Ok(())
}
