//! Routes, one file per resource. Each file's `routes` registers its endpoints, once each;
//! [`endpoints`] and [`routes_only`] mount them. The actix router and the OpenAPI document
//! are both built from the same registrations (utoipa-actix-web reads each handler's path and
//! method from its actix attribute), so an endpoint cannot be routed without being
//! documented, or the reverse.

pub mod api_clients;
pub mod assistants;
pub mod auth;
pub mod cache;
pub mod chat;
pub mod connections;
pub mod dashboards;
pub mod examples;
pub mod invitations;
pub mod providers;
pub mod queries;
pub mod questions;
pub mod semantic;
pub mod sessions;
pub mod settings;
pub mod sql;
pub mod system;
pub mod teams;
pub mod users;
pub mod workflows;

use actix_web::dev::HttpServiceFactory;
use actix_web::web;
use utoipa_actix_web::OpenApiFactory;

/// Every endpoint, registered for the OpenAPI document as well as the router
/// ([`crate::openapi::document`]): utoipa-actix-web collects each handler's path and
/// schemas as it registers it.
pub fn endpoints(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    register(&mut ServiceConfig::Documented(cfg));
}

/// Every endpoint, for the router alone: the same registrations as [`endpoints`] without
/// collecting the document. Each server worker builds its router with this; the document
/// (~4.7 MB as a `utoipa` value, built from every handler's paths and schemas) is built
/// once, when first asked for (`/openapi.json`, or a 404/405 that needs its endpoint table),
/// instead of once per worker at start (issue 19: an idle server's memory).
pub fn routes_only(cfg: &mut web::ServiceConfig) {
    register(&mut ServiceConfig::Routed(cfg));
}

/// Where the endpoints are registered: see [`endpoints`] and [`routes_only`].
pub enum ServiceConfig<'a, 's> {
    /// The router and the OpenAPI document.
    Documented(&'a mut utoipa_actix_web::service_config::ServiceConfig<'s>),
    /// The router alone.
    Routed(&'a mut web::ServiceConfig),
}

impl ServiceConfig<'_, '_> {
    /// Registers one endpoint (a handler with an actix attribute and `#[utoipa::path]`).
    pub fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        match self {
            ServiceConfig::Documented(cfg) => {
                cfg.service(factory);
            }
            ServiceConfig::Routed(cfg) => {
                cfg.service(factory);
            }
        }
        self
    }

    /// Registers what `f` registers under the path prefix `path`.
    fn scope(&mut self, path: &str, f: impl FnOnce(&mut ServiceConfig<'_, '_>)) -> &mut Self {
        match self {
            ServiceConfig::Documented(cfg) => {
                cfg.service(
                    utoipa_actix_web::scope(path)
                        .configure(|cfg| f(&mut ServiceConfig::Documented(cfg))),
                );
            }
            ServiceConfig::Routed(cfg) => {
                cfg.service(web::scope(path).configure(|cfg| f(&mut ServiceConfig::Routed(cfg))));
            }
        }
        self
    }
}

/// Every endpoint: the system routes and the native `/api/v1` API.
fn register(cfg: &mut ServiceConfig<'_, '_>) {
    system::routes(cfg);
    // `/chat` first: actix tries resources in order and matches each dynamic path
    // with a regex, ~30 of them before `/chat` otherwise (5% of a cache hit's
    // instructions, issue 19). Every path of this scope starts with a fixed word,
    // so no resource of another file can match a `/chat…` path: the order changes
    // no match.
    cfg.scope("/api/v1", |cfg| {
        chat::routes(cfg);
        auth::routes(cfg);
        users::routes(cfg);
        teams::routes(cfg);
        invitations::routes(cfg);
        api_clients::routes(cfg);
        connections::routes(cfg);
        semantic::routes(cfg);
        providers::routes(cfg);
        examples::routes(cfg);
        cache::routes(cfg);
        sessions::routes(cfg);
        sql::routes(cfg);
        settings::routes(cfg);
        queries::routes(cfg);
        dashboards::routes(cfg);
        questions::routes(cfg);
        assistants::routes(cfg);
        workflows::routes(cfg);
    });
}
