//! # querent-http
//!
//! The HTTP face of Querent: actix-web routes for the native `/api/v1` API (and, later, the
//! compatibility layers of other products), extractors for the authenticated caller and
//! for JSON bodies, the client address (behind `trusted_proxies`, [`proxies`]), the error →
//! status mapping (`{"detail", "code"}`, one table in `querent_domain::ErrorCode`),
//! request ids, body size limit, CORS, `/health`, `/ready`,
//! `/metrics` (requests are recorded by route template in querent-app's metrics),
//! the OpenAPI document (utoipa) at `/openapi.json` and Swagger UI at `/docs/` from
//! vendored assets, and the web console at `/` ([`console`]: static files embedded at
//! compile time, a client of `/api/v1` like any other), and the MCP endpoint `/mcp` for
//! agent clients ([`mcp`], querent-mcp's streamable HTTP transport behind the same bearer
//! authentication).
//!
//! An endpoint is one handler in `routes/<resource>.rs`: its actix attribute gives the
//! method and path, `#[utoipa::path]` the tag, parameters and answers, and its return type
//! the body (`ApiResult<Json<T>>`, `Created<T>`, `NoContent`, `ChatReply`; see [`reply`]).
//! The file's `routes` registers it once; the same registrations feed the router
//! ([`routes::routes_only`]) and [`openapi::document`] ([`routes::endpoints`]), which adds
//! the error answers, path ids and operation ids.
//! A wrong method on a known path is 405 with `Allow` ([`fallback`]); the HTTP test suite
//! validates every answer against the document.
//!
//! Depends on: querent-app, querent-mcp, querent-domain, actix-web, actix-cors, utoipa, serde.
//! Must never: contain business rules or authorisation decisions (querent-app makes them),
//! or depend on diesel, sqlparser, ring, async-openai, deadpool or a database driver —
//! `just layering` checks this in CI.

pub mod compat;
pub mod console;
pub mod error;
pub mod extract;
pub mod mcp;
pub mod openapi;
pub mod proxies;
pub mod reply;
pub mod routes;

use std::net::TcpListener;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Server, Service as _, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use querent_app::App;
use querent_domain::ErrorCode;
use tracing::Instrument as _;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ApiError, error_response};

/// The services as handlers reach them. Every service call runs as its own task on the
/// application's (multi-threaded) tokio runtime rather than on the actix worker's
/// single-threaded one: a client that disconnects, or an extractor that fails while another
/// is mid-flight, then cannot cancel a store transaction half-way — the call finishes, its
/// writes land, and the result is dropped.
#[derive(Clone)]
pub struct Services {
    app: App,
    runtime: tokio::runtime::Handle,
}

impl Services {
    /// Runs `f(app)` to completion on the application runtime.
    pub async fn call<T, F, Fut>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(App) -> Fut,
        Fut: std::future::Future<Output = Result<T, querent_app::ServiceError>> + Send + 'static,
        T: Send + 'static,
    {
        match self.runtime.spawn(f(self.app.clone())).await {
            Ok(result) => result.map_err(ApiError),
            Err(e) => Err(ApiError(querent_app::ServiceError::internal(format!(
                "service task failed: {e}"
            )))),
        }
    }

    /// Runs a prepared chat on the application runtime and waits for its final answer (the
    /// JSON variant). No event crosses back to this thread, but the pipeline watches a
    /// channel whose receiver this future holds, so a client that goes away (this future
    /// dropped) cancels the pipeline and its query as for SSE.
    pub async fn run_chat(
        &self,
        prepared: querent_app::chat::PreparedChat,
    ) -> Result<querent_app::chat::ChatResponse, ApiError> {
        let (tx, _client) = tokio::sync::mpsc::channel(1);
        let app = self.app.clone();
        let events = querent_app::chat::Events::watching(tx);
        self.runtime
            .spawn(async move { app.run_chat(prepared, events).await })
            .await
            .map_err(|e| {
                ApiError(querent_app::ServiceError::internal(format!(
                    "the chat pipeline ended without an answer: {e}"
                )))
            })
    }

    /// A chat request from start to answer in one task on the application runtime: the
    /// caller authenticated and counted (as [`extract::Caller`] does), the body checked,
    /// the chat prepared (`prepare`), then — for the JSON variant — run to its answer, or
    /// — for SSE — started with its events streamed. One task instead of one per step:
    /// each hop between the actix worker and the application runtime wakes a thread.
    /// As with [`Services::call`], the steps up to the stored message always complete;
    /// the pipeline after them stops when the client goes away.
    pub(crate) async fn chat<P, Fut>(
        &self,
        credentials: extract::Credentials,
        json: bool,
        prepare: P,
    ) -> Result<routes::chat::ChatReply, ApiError>
    where
        P: FnOnce(App, querent_app::Actor) -> Fut + Send + 'static,
        Fut: std::future::Future<
                Output = querent_app::ServiceResult<querent_app::chat::PreparedChat>,
            > + Send
            + 'static,
    {
        use querent_app::chat::{ChatEvent, Events};
        let app = self.app.clone();
        let (tx, rx) = tokio::sync::mpsc::channel::<ChatEvent>(16);
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        // The task's future (the whole pipeline's) and its answer are boxed: tokio keeps a
        // task's future and output in one slot of the larger size and moves that slot
        // whole when the task is created and when its output is read — the pipeline's
        // several kilobytes copied several times per chat (~8% of a cache hit's
        // instructions, issue 19).
        let task = self.runtime.spawn(Box::pin(async move {
            let prepared = async {
                let actor = credentials.authenticate(&app).await?;
                prepare(app.clone(), actor).await
            }
            .await;
            match prepared {
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    None
                }
                Ok(prepared) if json => {
                    Some(Box::new(app.run_chat(prepared, Events::watching(tx)).await))
                }
                Ok(prepared) => {
                    let _ = ready_tx.send(Ok(()));
                    app.run_chat(prepared, Events::channel(tx)).await;
                    None
                }
            }
        }));
        let failed = |e: tokio::task::JoinError| {
            ApiError(querent_app::ServiceError::internal(format!(
                "service task failed: {e}"
            )))
        };
        if json {
            // `rx` is held (not read) until the answer: dropped with this future, it
            // cancels the pipeline.
            let answer = task.await.map_err(failed)?;
            drop(rx);
            return match answer {
                Some(response) => Ok(routes::chat::ChatReply::Json(response)),
                None => Err(match ready_rx.await {
                    Ok(Err(e)) => ApiError(e),
                    _ => ApiError(querent_app::ServiceError::internal(
                        "the chat pipeline ended without an answer",
                    )),
                }),
            };
        }
        match ready_rx.await {
            Ok(Ok(())) => Ok(routes::chat::ChatReply::Events(rx)),
            Ok(Err(e)) => Err(ApiError(e)),
            Err(_) => Err(match task.await {
                Err(e) => failed(e),
                Ok(_) => ApiError(querent_app::ServiceError::internal(
                    "the chat pipeline ended without an answer",
                )),
            }),
        }
    }

    /// Runs a prepared chat on the application runtime, streaming its events; dropping the
    /// receiver (client gone) cancels it.
    pub fn stream_chat(
        &self,
        prepared: querent_app::chat::PreparedChat,
    ) -> tokio::sync::mpsc::Receiver<querent_app::chat::ChatEvent> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let app = self.app.clone();
        self.runtime.spawn(async move {
            app.run_chat(prepared, querent_app::chat::Events::channel(tx))
                .await
        });
        rx
    }
}

/// HTTP server settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Origins allowed to call the API from a browser; `*` allows any; empty allows none.
    pub cors_origins: Vec<String>,
    /// Worker threads (default: one per core).
    pub workers: Option<usize>,
    /// How long a stop waits for requests in progress before closing their connections.
    pub shutdown_timeout: std::time::Duration,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`proxies`]).
    pub trusted_proxies: proxies::TrustedProxies,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            cors_origins: Vec::new(),
            workers: None,
            shutdown_timeout: std::time::Duration::from_secs(10),
            trusted_proxies: proxies::TrustedProxies::default(),
        }
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut c = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers(["x-request-id", "retry-after"])
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        c = c.allow_any_origin();
    } else {
        for o in origins {
            c = c.allowed_origin(o);
        }
    }
    c
}

fn valid_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)))
    .then(|| s.to_owned())
}

/// Registers the services, the extractor settings and the docs (`/docs/`, serving
/// the serialised [`openapi::document`] that `docs` keeps at `/openapi.json`) on an actix
/// `App`; the endpoints are [`routes::routes_only`]. Service calls run on `runtime`. The
/// document is kept serialised and shared by the workers: as a `utoipa` value it took
/// ~4.7 MB, and each worker held two copies (22 of an idle server's 23 MB of heap,
/// docs/BENCHMARKS.md).
pub fn configure(
    app: App,
    runtime: tokio::runtime::Handle,
    http: &HttpConfig,
    docs: std::sync::Arc<Docs>,
) -> impl FnOnce(&mut web::ServiceConfig) + Clone + use<> {
    let max_body = http.max_body_bytes;
    let trusted = web::Data::new(http.trusted_proxies.clone());
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(Services { app, runtime }))
            .app_data(trusted)
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::validation(format!(
                    "path: {err}; ids are UUIDs as returned by this API"
                ))
                .into()
            }))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|err, _| ApiError::validation(format!("query: {err}")).into()),
            )
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }),
            )
            .service(
                web::resource("/openapi.json")
                    .guard(actix_web::guard::Get())
                    .to(move || {
                        let body = docs.get().json.clone();
                        async move {
                            match body {
                                Ok(body) => HttpResponse::Ok()
                                    .content_type(header::ContentType::json())
                                    .body(body),
                                Err(e) => error_response(ErrorCode::Internal, e),
                            }
                        }
                    }),
            )
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::new(["/openapi.json"])),
            );
    }
}

/// The answer where no endpoint matched: 405 `method_not_allowed` with an `Allow` header
/// when the path is one of `doc`'s with other methods, 404 `not_found` otherwise.
pub fn fallback(doc: &utoipa::openapi::OpenApi) -> actix_web::Route {
    fallback_route(std::sync::Arc::new(Docs::of(doc)))
}

/// The OpenAPI document ([`openapi::document`]) serialised, and its endpoint table for
/// [`fallback`], built on first use and shared by the workers. Not at start: building the
/// document walks every handler's paths and schemas (~4.7 MB of `utoipa` values, freed
/// after serialising), which an idle server never needs (issue 19).
#[derive(Default)]
pub struct Docs(std::sync::OnceLock<DocParts>);

/// What [`Docs`] keeps.
struct DocParts {
    /// The document as served at `/openapi.json` (or why it could not be serialised).
    json: Result<web::Bytes, String>,
    /// Its paths and methods.
    endpoints: Endpoints,
}

impl Docs {
    /// Kept for `doc` (built now).
    fn of(doc: &utoipa::openapi::OpenApi) -> Docs {
        let docs = Docs::default();
        let _ = docs.0.set(DocParts::of(doc));
        docs
    }

    /// [`openapi::document`]'s, built on the first call.
    fn get(&self) -> &DocParts {
        self.0.get_or_init(|| DocParts::of(&openapi::document()))
    }
}

impl DocParts {
    fn of(doc: &utoipa::openapi::OpenApi) -> DocParts {
        DocParts {
            json: serde_json::to_vec(doc)
                .map(web::Bytes::from)
                .map_err(|e| format!("cannot serialise the OpenAPI document: {e}")),
            endpoints: endpoints_of(doc),
        }
    }
}

/// The paths of the document, `None` for a `{parameter}` segment, with their methods.
type Endpoints = Vec<(Vec<Option<String>>, Vec<&'static str>)>;

fn endpoints_of(doc: &utoipa::openapi::OpenApi) -> Endpoints {
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let segments = path
                .split('/')
                .map(|s| (!s.starts_with('{')).then(|| s.to_owned()))
                .collect();
            let methods = [
                ("GET", item.get.is_some()),
                ("PUT", item.put.is_some()),
                ("POST", item.post.is_some()),
                ("DELETE", item.delete.is_some()),
                ("PATCH", item.patch.is_some()),
            ];
            (
                segments,
                methods.into_iter().filter(|m| m.1).map(|m| m.0).collect(),
            )
        })
        .collect()
}

/// [`fallback`] over an endpoint table shared by the workers.
fn fallback_route(docs: std::sync::Arc<Docs>) -> actix_web::Route {
    web::to(move |req: actix_web::HttpRequest| {
        let docs = docs.clone();
        async move {
            let path: Vec<&str> = req.path().split('/').collect();
            let mut allow: Vec<&str> = docs
                .get()
                .endpoints
                .iter()
                .filter(|(segments, _)| {
                    segments.len() == path.len()
                        && segments
                            .iter()
                            .zip(&path)
                            .all(|(t, s)| t.as_deref().is_none_or(|t| t == *s))
                })
                .flat_map(|(_, methods)| methods.iter().copied())
                .collect();
            allow.sort_unstable();
            allow.dedup();
            if allow.is_empty() {
                return error_response(ErrorCode::NotFound, "no such endpoint; see /docs");
            }
            let allow = allow.join(", ");
            let mut resp = error_response(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} is not allowed on {}; allowed: {allow}",
                    req.method(),
                    req.path()
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            resp
        }
    })
}

/// Gives an error answer that has no body (one actix makes itself, such as a 413 for an
/// oversized body) the `{"detail", "code"}` body of its status's code.
pub fn error_body<B: MessageBody>(res: ServiceResponse<B>) -> ServiceResponse<EitherBody<B>> {
    let status = res.status();
    let empty = matches!(
        res.response().body().size(),
        BodySize::None | BodySize::Sized(0)
    );
    let code = ErrorCode::ALL
        .iter()
        .find(|c| c.http_status() == status.as_u16());
    match code {
        Some(code) if empty && (status.is_client_error() || status.is_server_error()) => {
            let detail = status.canonical_reason().unwrap_or("error").to_owned();
            let mut answer = error_response(*code, detail);
            for (name, value) in res.headers() {
                if !answer.headers().contains_key(name) {
                    answer.headers_mut().insert(name.clone(), value.clone());
                }
            }
            res.into_response(answer).map_into_right_body()
        }
        _ => res.map_into_left_body(),
    }
}

/// Builds the server on a bound listener (port 0 works: tests use it). Must be called
/// inside a multi-threaded tokio runtime: service calls run on it.
pub fn build_server(app: App, http: HttpConfig, listener: TcpListener) -> std::io::Result<Server> {
    let (workers, shutdown_timeout) = (http.workers, http.shutdown_timeout);
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|e| std::io::Error::other(format!("build_server needs a tokio runtime: {e}")))?;
    // The document, serialised, and its endpoint table: built once when first needed and
    // shared by the workers (see `Docs`); the workers' routers do not collect it.
    let docs = std::sync::Arc::new(Docs::default());
    let mut server = actix_web::HttpServer::new(move || {
        let metrics = app.metrics().clone();
        actix_web::App::new()
            .configure(routes::routes_only)
            .configure(configure(app.clone(), runtime.clone(), &http, docs.clone()))
            .configure(compat::configure)
            .configure(mcp::configure)
            .configure(console::configure)
            .default_service(fallback_route(docs.clone()))
            .wrap(cors(&http.cors_origins))
            .wrap_fn(move |req, srv| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(valid_request_id)
                    .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
                // `status` is recorded when the response is ready: a field of the span itself,
                // so an OpenTelemetry export (bins/querent, feature `otel`) carries it too.
                let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path(), status = tracing::field::Empty);
                let started = Instant::now();
                let method = req.method().clone();
                let metrics = metrics.clone();
                let fut = srv.call(req);
                async move {
                    let mut res = fut.instrument(span.clone()).await?;
                    if let Ok(v) = HeaderValue::from_str(&id) {
                        res.headers_mut().insert(header::HeaderName::from_static("x-request-id"), v);
                    }
                    let status = res.status().as_u16();
                    span.record("status", status);
                    span.in_scope(|| tracing::info!(status, elapsed_ms = started.elapsed().as_millis() as u64, "request"));
                    let route = res.request().match_pattern();
                    metrics.http_request(method.as_str(), route.as_deref(), status, started.elapsed());
                    Ok(error_body(res))
                }
            })
    })
    // Small writes (each SSE event, a short JSON answer) go out at once: without
    // TCP_NODELAY, Nagle's algorithm holds a write back until the client ACKs the previous
    // one, which a delayed-ACK client does ~40 ms later — on every event of a reused
    // connection.
    .tcp_nodelay(true)
    // The binary catches SIGTERM and Ctrl-C itself and stops the server through its handle,
    // after telling the services (streams end with `shutting_down`, see querent-app's
    // `shutdown`); a stop waits this long for requests in progress.
    .disable_signals()
    .shutdown_timeout(shutdown_timeout.as_secs());
    if let Some(w) = workers {
        server = server.workers(w);
    }
    Ok(server.listen(listener)?.run())
}
