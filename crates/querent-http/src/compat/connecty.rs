//! Connecty's public API (seed 004), at `/compat/connecty/v1`: a health probe, the
//! client-credentials token exchange, and asynchronous questions about a *data workspace*
//! — a connection named by its integer alias `dw_id` (querent-app's [`querent_app::aliases`]).
//!
//! | seed | here | service |
//! |---|---|---|
//! | `GET /v1/health` | `GET /health` | — (the server answers) |
//! | `GET`/`POST /v1/auth/token` | both, JSON body (or query parameters on `GET`) | `App::client_token` |
//! | `POST /v1/dw/{dw_id}/questions` | same | `App::connection_by_dw_id`, `App::ask_question` |
//! | `GET /v1/dw/{dw_id}/questions/{question_id}/results` | same | `App::question` |
//! | — | `GET /dw`: the caller's data workspaces `[{dw_id, name}]` | `App::data_workspaces` |
//!
//! Errors (the seed documents none) are `{"detail": "..."}` with the status of the native
//! error code (401 without a valid token, 404 for a data workspace or question the caller
//! cannot see, 422 for a malformed request…), malformed paths, queries and bodies included.

use actix_web::dev::Payload;
use actix_web::web::{self, Path, Query};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use querent_app::ServiceError;
use querent_app::auth::ClientTokenRequest;
use querent_app::questions::{AskQuestion, QuestionResultsView, ResultsQuery};
use querent_domain::{ErrorCode, QuestionId, QuestionState, Secret};
use serde::{Deserialize, Serialize};

use crate::extract::{Caller, Json, Public};

/// Errors in this seed's format: `{"detail": "..."}` with the native code's status.
pub use super::DetailError as ConnectyError;

type Result<T> = std::result::Result<T, ConnectyError>;

fn error(code: ErrorCode, detail: impl Into<String>) -> actix_web::Error {
    ConnectyError(ServiceError::new(code, detail)).into()
}

/// The authenticated caller (native bearer token: a client token from `/auth/token`, a
/// user's token or an API key), with refusals in Connecty's format.
struct Authed(Caller);

impl FromRequest for Authed {
    type Error = ConnectyError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Caller::from_request(req, payload);
        Box::pin(async move { fut.await.map(Authed).map_err(ConnectyError::from) })
    }
}

/// A JSON body (read as the native API reads it), with refusals in Connecty's format.
struct Body<T>(T);

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ConnectyError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Self>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Json::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|j| Body(j.0)).map_err(ConnectyError::from) })
    }
}

/// Registers this layer's routes on its scope, with its error format for malformed
/// paths, queries and bodies, wrong methods and unknown paths.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let not_allowed = || {
        web::to(|| async {
            Err::<HttpResponse, _>(error(ErrorCode::MethodNotAllowed, "method not allowed"))
        })
    };
    cfg.app_data(web::PathConfig::default().error_handler(|err, _| {
        error(
            ErrorCode::ValidationError,
            format!("path: {err}; dw_id is an integer and question_id a UUID"),
        )
    }))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| error(ErrorCode::ValidationError, format!("query: {err}"))),
    )
    .service(
        web::resource("/health")
            .route(web::get().to(health))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/auth/token")
            .route(web::post().to(token))
            .route(web::get().to(token_get))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/dw")
            .route(web::get().to(workspaces))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/dw/{dw_id}/questions")
            .route(web::post().to(ask))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/dw/{dw_id}/questions/{question_id}/results")
            .route(web::get().to(results))
            .default_service(not_allowed()),
    )
    .default_service(web::to(|| async {
        Err::<HttpResponse, _>(error(ErrorCode::NotFound, "no such endpoint"))
    }));
}

/// `GET /health`: 200 while the server answers.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The credentials of `/auth/token`.
#[derive(Deserialize)]
struct TokenRequest {
    client_id: String,
    client_secret: Secret<String>,
}

/// The answer of `/auth/token`.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    /// RFC 3339 with a numeric offset (`+00:00`), as the seed's example writes it.
    expires_at: String,
}

async fn exchange(public: Public, body: TokenRequest) -> Result<web::Json<TokenResponse>> {
    let req = ClientTokenRequest {
        client_id: body.client_id,
        client_secret: body.client_secret,
        grant_type: None,
    };
    let issued_at = querent_domain::now_millis();
    let token: Json<querent_app::auth::ClientToken> = public
        .reply(|app, ip| async move { app.client_token(req, ip.as_deref()).await })
        .await?;
    let expires = issued_at.saturating_add(token.0.expires_in.saturating_mul(1000));
    let at = querent_domain::millis_to_rfc3339(expires);
    let expires_at = match at.strip_suffix('Z') {
        Some(local) => format!("{local}+00:00"),
        None => at,
    };
    Ok(web::Json(TokenResponse {
        access_token: token.0.access_token,
        expires_at,
    }))
}

/// `POST /auth/token` {client_id, client_secret}.
async fn token(public: Public, body: Body<TokenRequest>) -> Result<web::Json<TokenResponse>> {
    exchange(public, body.0).await
}

/// `GET /auth/token`: the seed's heading says GET with a JSON body; a body is read when
/// there is one, query parameters otherwise.
async fn token_get(
    req: HttpRequest,
    public: Public,
    bytes: web::Bytes,
) -> Result<web::Json<TokenResponse>> {
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        Query::<TokenRequest>::from_query(req.query_string())
            .map_err(|e| ConnectyError(ServiceError::validation(format!("query: {e}"))))?
            .into_inner()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ConnectyError(ServiceError::validation(format!("body: {e}"))))?
    };
    exchange(public, body).await
}

/// One data workspace of `GET /dw`.
#[derive(Serialize)]
struct Workspace {
    dw_id: i64,
    name: String,
}

/// `GET /dw`: the caller's data workspaces.
async fn workspaces(caller: Authed) -> Result<web::Json<Vec<Workspace>>> {
    let list = caller
        .0
        .call(|app, actor| async move { app.data_workspaces(&actor).await })
        .await?;
    Ok(web::Json(
        list.into_iter()
            .map(|d| Workspace {
                dw_id: d.dw_id,
                name: d.name,
            })
            .collect(),
    ))
}

/// `POST /dw/{dw_id}/questions` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuestionRequest {
    question: String,
}

/// `POST /dw/{dw_id}/questions`: `{question_id}` at once.
async fn ask(
    caller: Authed,
    dw_id: Path<i64>,
    body: Body<QuestionRequest>,
) -> Result<web::Json<serde_json::Value>> {
    let dw_id = dw_id.into_inner();
    let question = body.0.question;
    let accepted = caller
        .0
        .call(move |app, actor| async move {
            let connection_id = app.connection_by_dw_id(&actor, dw_id).await?;
            app.ask_question(
                &actor,
                AskQuestion {
                    connection_id,
                    question,
                    provider: None,
                    assistant_id: None,
                },
            )
            .await
        })
        .await?;
    Ok(web::Json(
        serde_json::json!({ "question_id": accepted.question_id }),
    ))
}

/// `GET …/results` query.
#[derive(Deserialize)]
struct ResultsParams {
    include: Option<String>,
    max_rows: Option<usize>,
}

/// `GET …/results` answer: only `state` until the question is completed.
#[derive(Serialize)]
struct ResultsResponse {
    state: QuestionState,
    /// Why a `FAILED` question failed (not in the seed, which shows no failed answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    results: Option<QuestionResultsView>,
}

/// `GET /dw/{dw_id}/questions/{question_id}/results?include=…&max_rows=…`.
async fn results(
    caller: Authed,
    path: Path<(i64, QuestionId)>,
    q: Query<ResultsParams>,
) -> Result<web::Json<ResultsResponse>> {
    let (dw_id, question_id) = path.into_inner();
    let q = q.into_inner();
    let query = ResultsQuery {
        include: q.include,
        max_rows: q.max_rows,
    };
    let view = caller
        .0
        .call(move |app, actor| async move {
            let connection_id = app.connection_by_dw_id(&actor, dw_id).await?;
            let view = app.question(&actor, question_id, &query).await?;
            // A question of another data workspace is not one of this one.
            if view.connection_id != connection_id {
                return Err(ServiceError::not_found("question"));
            }
            Ok(view)
        })
        .await?;
    Ok(web::Json(ResultsResponse {
        state: view.state,
        detail: view.error.map(|e| e.detail),
        results: view.results,
    }))
}
