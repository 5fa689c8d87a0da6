//! Seed 003, "AI for Database": its `/v1` API at `/compat/aifordb/v1`, translated to the
//! native services (`docs/COMPAT.md`, section "Seed 003").
//!
//! - **Auth**: `Authorization: Bearer <api_key>`, the `api_key` of a native API client
//!   (`POST /api/v1/api-clients`); its scopes apply (`query:read` reads, `query:write`
//!   writes queries, dashboards and workflows, `admin` manages connections and the team).
//!   A user's access token works too. "The team" is the key's team (a user's first team).
//! - **Answers**: `{"data": …}`; lists `{"data": [...], "next_cursor", "has_more"}` (with
//!   `limit` and `cursor`); deletions 204.
//! - **Errors**: `{"error": {"code", "message"}}` with exactly the seed's codes and statuses
//!   ([`error`]), also for malformed paths, query strings and bodies and unknown paths
//!   (this scope's own extractor configurations and fallback).
//!
//! Only translation lives here: every decision (access, roles, isolation, validation) is
//! the services'.

mod connections;
mod error;
mod queries;
mod team;
mod workspace;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Resource, web};
use querent_app::{ListParams, Paginated};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::extract::{Caller, Json};
pub use error::AiError;

/// A handler's answer.
type Reply = Result<HttpResponse, AiError>;

/// The caller, authenticated by its API key (or access token); failures in the seed's
/// format.
#[derive(Clone)]
struct Key(Caller);

impl FromRequest for Key {
    type Error = AiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Caller::from_request(req, payload);
        Box::pin(async move { fut.await.map(Key).map_err(AiError::from) })
    }
}

/// A JSON body read as the native extractor reads it; failures in the seed's format.
struct Body<T>(T);

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = AiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let fut = Json::<T>::from_request(req, payload);
        Box::pin(async move { fut.await.map(|j| Body(j.0)).map_err(AiError::from) })
    }
}

/// `{"data": value}` with `status`.
fn data<T: Serialize>(status: actix_web::http::StatusCode, value: T) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "data": value }))
}

/// 200 `{"data": value}`.
fn ok<T: Serialize>(value: T) -> Reply {
    Ok(data(actix_web::http::StatusCode::OK, value))
}

/// 201 `{"data": value}`.
fn created<T: Serialize>(value: T) -> Reply {
    Ok(data(actix_web::http::StatusCode::CREATED, value))
}

/// 204.
fn deleted() -> Reply {
    Ok(HttpResponse::NoContent().finish())
}

/// A page: `{"data": [...], "next_cursor", "has_more"}`.
fn page<T, U: Serialize>(p: Paginated<T>, map: impl Fn(T) -> U) -> Reply {
    let has_more = p.next_cursor.is_some();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "data": p.items.into_iter().map(map).collect::<Vec<_>>(),
        "next_cursor": p.next_cursor,
        "has_more": has_more,
    })))
}

/// An id from the path; one that cannot be an id of ours names nothing: `not_found`.
fn id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, AiError> {
    raw.parse()
        .map_err(|_| AiError::not_found(format!("{what} `{raw}` does not exist")))
}

/// A list's paging parameters.
type Paging = web::Query<ListParams>;

/// A path with the seed's answers for methods it does not have.
fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(|| async {
        AiError::not_found("this method is not supported on this path").respond()
    }))
}

/// Registers this layer's routes, extractor error handlers and fallback on its scope.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|err, _| AiError::not_found(format!("path: {err}")).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _| AiError::validation(format!("query: {err}")).into()),
    )
    .app_data(
        web::JsonConfig::default()
            .error_handler(|err, _| AiError::validation(format!("body: {err}")).into()),
    )
    .service(
        resource("/queries")
            .route(web::post().to(queries::run))
            .route(web::get().to(queries::list)),
    )
    .service(
        resource("/queries/{query_id}")
            .route(web::get().to(queries::get))
            .route(web::delete().to(queries::delete)),
    )
    .service(
        resource("/dashboards")
            .route(web::get().to(workspace::list_dashboards))
            .route(web::post().to(workspace::create_dashboard)),
    )
    .service(
        resource("/dashboards/{dashboard_id}")
            .route(web::get().to(workspace::get_dashboard))
            .route(web::patch().to(workspace::update_dashboard))
            .route(web::delete().to(workspace::delete_dashboard)),
    )
    .service(
        resource("/workflows")
            .route(web::get().to(workspace::list_workflows))
            .route(web::post().to(workspace::create_workflow)),
    )
    .service(
        resource("/workflows/{workflow_id}")
            .route(web::get().to(workspace::get_workflow))
            .route(web::patch().to(workspace::update_workflow))
            .route(web::delete().to(workspace::delete_workflow)),
    )
    .service(
        resource("/workflows/{workflow_id}/run").route(web::post().to(workspace::run_workflow)),
    )
    .service(
        resource("/workflows/{workflow_id}/runs").route(web::get().to(workspace::workflow_runs)),
    )
    .service(
        resource("/connections")
            .route(web::get().to(connections::list))
            .route(web::post().to(connections::create)),
    )
    .service(resource("/connections/{connection_id}").route(web::delete().to(connections::delete)))
    .service(resource("/connections/{connection_id}/test").route(web::post().to(connections::test)))
    .service(
        resource("/team/members")
            .route(web::get().to(team::list))
            .route(web::post().to(team::invite)),
    )
    .service(
        resource("/team/members/{member_id}")
            .route(web::patch().to(team::set_role))
            .route(web::delete().to(team::remove)),
    )
    .default_service(web::to(|| async {
        AiError::not_found("no such endpoint in the AI for Database API").respond()
    }));
}
