//! Routes, one file per resource; wired in [`configure`].

pub mod api_clients;
pub mod auth;
pub mod cache;
pub mod chat;
pub mod connections;
pub mod examples;
pub mod providers;
pub mod semantic;
pub mod sessions;
pub mod settings;
pub mod sql;
pub mod system;
pub mod teams;
pub mod users;

use actix_web::web;

/// Registers every native `/api/v1` route and the system routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(system::health).service(system::ready).service(
        web::scope("/api/v1")
            .service(auth::setup_status)
            .service(auth::setup)
            .service(auth::login)
            .service(auth::refresh)
            .service(auth::logout)
            .service(auth::logout_all)
            .service(auth::me)
            .service(auth::change_password)
            .service(auth::client_token)
            .service(users::list)
            .service(users::create)
            .service(users::get)
            .service(users::update)
            .service(users::remove)
            .service(teams::list)
            .service(teams::create)
            .service(teams::get)
            .service(teams::remove)
            .service(teams::set_member)
            .service(teams::remove_member)
            .service(api_clients::create)
            .service(api_clients::list)
            .service(api_clients::revoke)
            .service(connections::list)
            .service(connections::create)
            // `/connections/test` and `/connections/sqlite-files` before `/connections/{id}`
            // so they are not taken for an id.
            .service(connections::test_unsaved)
            .service(connections::upload_sqlite)
            .service(connections::delete_sqlite)
            .service(connections::get)
            .service(connections::update)
            .service(connections::remove)
            .service(connections::test_saved)
            .service(connections::execution_mode)
            .service(connections::privacy)
            .service(connections::config)
            .service(connections::schema)
            .service(connections::schema_refresh)
            .service(semantic::get)
            .service(semantic::save)
            .service(semantic::remove)
            .service(semantic::generate)
            .service(semantic::drift)
            .service(semantic::versions)
            .service(providers::create)
            .service(providers::list)
            .service(providers::get)
            .service(providers::update)
            .service(providers::remove)
            .service(providers::test)
            .service(providers::models)
            .service(providers::usage)
            .service(chat::chat)
            .service(chat::pending)
            .service(chat::execute)
            .service(chat::reject)
            .service(chat::edit)
            .service(examples::feedback)
            .service(examples::create)
            .service(examples::list)
            .service(examples::get)
            .service(examples::update)
            .service(examples::remove)
            .service(cache::stats)
            .service(cache::entries)
            .service(cache::remove_entry)
            .service(cache::clear)
            .service(sessions::list)
            .service(sessions::get)
            .service(sessions::remove)
            .service(sql::validate)
            .service(sql::run)
            .service(settings::get)
            .service(settings::update)
            .service(settings::audit),
    );
}
