//! Routes, one file per resource. Each file's `routes` registers its endpoints, once each;
//! [`endpoints`] mounts them. The actix router and the OpenAPI document are both built from
//! [`endpoints`] (utoipa-actix-web reads each handler's path and method from its actix
//! attribute), so an endpoint cannot be routed without being documented, or the reverse.

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

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every endpoint: the system routes and the native `/api/v1` API.
pub fn endpoints(cfg: &mut ServiceConfig) {
    cfg.configure(system::routes).service(
        // `/chat` first: actix tries resources in order and matches each dynamic path
        // with a regex, ~30 of them before `/chat` otherwise (5% of a cache hit's
        // instructions, issue 19). Every path of this scope starts with a fixed word,
        // so no resource of another file can match a `/chat…` path: the order changes
        // no match.
        scope("/api/v1")
            .configure(chat::routes)
            .configure(auth::routes)
            .configure(users::routes)
            .configure(teams::routes)
            .configure(invitations::routes)
            .configure(api_clients::routes)
            .configure(connections::routes)
            .configure(semantic::routes)
            .configure(providers::routes)
            .configure(examples::routes)
            .configure(cache::routes)
            .configure(sessions::routes)
            .configure(sql::routes)
            .configure(settings::routes)
            .configure(queries::routes)
            .configure(dashboards::routes)
            .configure(questions::routes)
            .configure(assistants::routes)
            .configure(workflows::routes),
    );
}
