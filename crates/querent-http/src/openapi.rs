//! The OpenAPI document, generated from the handlers' annotations, served at
//! `/openapi.json`; Swagger UI (vendored assets, works offline) at `/docs/`.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::*;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// Querent's native API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Querent API",
        description = "Ask your databases questions in plain language; get safe, validated SQL and the answer. \
Errors are `{\"detail\": \"…\", \"code\": \"…\"}` with a stable code. Lists take `?limit=&cursor=` and return \
`{items, next_cursor}`."
    ),
    paths(
        system::health, system::ready,
        auth::setup_status, auth::setup, auth::login, auth::refresh, auth::logout, auth::logout_all, auth::me,
        auth::change_password, auth::client_token,
        users::list, users::create, users::get, users::update, users::remove,
        teams::list, teams::create, teams::get, teams::remove, teams::set_member, teams::remove_member,
        api_clients::create, api_clients::list, api_clients::revoke,
        connections::list, connections::create, connections::test_unsaved, connections::upload_sqlite,
        connections::delete_sqlite,
        connections::get, connections::update,
        connections::remove, connections::test_saved, connections::execution_mode, connections::privacy,
        connections::config, connections::schema, connections::schema_refresh,
        semantic::get, semantic::save, semantic::remove, semantic::generate, semantic::drift, semantic::versions,
        providers::create, providers::list, providers::get, providers::update, providers::remove,
        providers::test, providers::models, providers::usage,
        chat::chat, chat::execute, chat::reject, chat::edit, chat::pending, examples::feedback,
        examples::create, examples::list, examples::get, examples::update, examples::remove,
        cache::stats, cache::entries, cache::remove_entry, cache::clear,
        sessions::list, sessions::get, sessions::remove,
        sql::validate, sql::run,
        settings::get, settings::update, settings::audit,
    ),
    components(schemas(crate::error::ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "system", description = "Liveness and readiness"),
        (name = "auth", description = "First-boot setup, login, tokens"),
        (name = "users", description = "User accounts (server administrators)"),
        (name = "teams", description = "Teams and memberships"),
        (name = "api-clients", description = "Machine credentials per team"),
        (name = "connections", description = "Target databases"),
        (name = "semantic", description = "Semantic models of connections: names, synonyms, joins, metrics; drafts and drift"),
        (name = "providers", description = "LLM providers per team, token and cost usage"),
        (name = "chat", description = "Questions, answers, approvals and sessions"),
        (name = "examples", description = "Verified question/SQL examples shown to providers"),
        (name = "cache", description = "The semantic cache of answered questions"),
        (name = "sql", description = "Hand-written SQL through the same guard"),
        (name = "settings", description = "Server settings and audit log"),
    )
)]
pub struct ApiDoc;
