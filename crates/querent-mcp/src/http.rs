//! The streamable HTTP transport, for querent-http's `/mcp`: rmcp's own
//! `StreamableHttpService` in stateless mode, handed one request that querent-http has
//! already authenticated. The exchange is plain data ([`McpHttpRequest`],
//! [`McpHttpReply`]) so the HTTP layer needs neither rmcp nor http 1 types.
//!
//! Stateless: each POST is served on its own with a fresh [`QuerentMcp`] for its caller,
//! answered as `application/json` (or an event stream should a tool send something before
//! its result), without `Mcp-Session-Id`; GET and DELETE are 405 as the specification
//! allows. Nothing is kept between requests, so any instance can answer any request.
//! The `Host` check of rmcp (against DNS rebinding of unauthenticated local servers) is
//! off: every request carries a bearer token a rebinding page cannot have.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::{BodyExt as _, Full};
use querent_app::{Actor, App};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::QuerentMcp;

/// A request to `/mcp`, as received.
#[derive(Debug)]
pub struct McpHttpRequest {
    /// `POST`, `GET`, `DELETE`…
    pub method: String,
    /// The request target (path and query).
    pub uri: String,
    /// The headers (names lower-case or not, as received).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The whole body.
    pub body: Bytes,
}

/// A body, streamed (an event stream) or whole.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

/// The answer to send back.
pub struct McpHttpReply {
    /// HTTP status.
    pub status: u16,
    /// Headers (`Content-Type`, `Allow`, …).
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: BodyStream,
}

impl std::fmt::Debug for McpHttpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHttpReply")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

fn plain(status: u16, text: &'static str) -> McpHttpReply {
    McpHttpReply {
        status,
        headers: vec![("content-type".into(), b"text/plain".to_vec())],
        body: Box::pin(futures_util::stream::once(async move {
            Ok(Bytes::from_static(text.as_bytes()))
        })),
    }
}

/// Serves one MCP request of an authenticated caller (call it on the application runtime:
/// the tools run the services).
pub async fn handle(app: App, actor: Actor, req: McpHttpRequest) -> McpHttpReply {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(req.body.len().max(1))
        .disable_allowed_hosts();
    let service = StreamableHttpService::new(
        move || Ok(QuerentMcp::request(app.clone(), actor.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let mut builder = http::Request::builder()
        .method(req.method.as_str())
        .uri(req.uri.as_str());
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.as_slice());
    }
    let Ok(request) = builder.body(Full::new(req.body)) else {
        return plain(400, "Bad Request: malformed request line or header");
    };
    let response = service.handle(request).await;
    let (parts, body) = response.into_parts();
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    let body = futures_util::stream::unfold(body, |mut body| async move {
        loop {
            match body.frame().await? {
                Ok(frame) => {
                    if let Ok(data) = frame.into_data() {
                        return Some((Ok(data), body));
                    }
                }
                Err(never) => match never {},
            }
        }
    });
    McpHttpReply {
        status: parts.status.as_u16(),
        headers,
        body: Box::pin(body),
    }
}
