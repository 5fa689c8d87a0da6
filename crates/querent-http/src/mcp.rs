//! `/mcp`: the Model Context Protocol's streamable HTTP transport for agent clients,
//! behind the same bearer authentication (access tokens or API client secrets) and rate
//! limit as `/api/v1`. The protocol itself is querent-mcp's (rmcp's stateless service);
//! this only passes the authenticated request through and the answer back. It is not REST,
//! so it is not in the OpenAPI document.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use querent_mcp::http::McpHttpRequest;

use crate::error::ApiResult;
use crate::extract::Caller;

/// Registers `/mcp` for every method (the MCP service answers 405 itself).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/mcp", web::route().to(mcp));
}

async fn mcp(caller: Caller, req: HttpRequest, body: Bytes) -> ApiResult<HttpResponse> {
    let exchange = McpHttpRequest {
        method: req.method().as_str().to_owned(),
        uri: req.uri().to_string(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body,
    };
    // The whole exchange runs on the application runtime, like every service call.
    let reply =
        caller
            .call(move |app, actor| async move {
                Ok(querent_mcp::http::handle(app, actor, exchange).await)
            })
            .await?;
    let mut response = HttpResponse::build(
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
    );
    for (name, value) in &reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            response.append_header((n, v));
        }
    }
    Ok(response.streaming(reply.body))
}
