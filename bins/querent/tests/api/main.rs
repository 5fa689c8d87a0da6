//! HTTP integration tests: the real server (same composition as `querent serve`) on a
//! random port, spoken to over HTTP. One binary for the whole suite, to keep link time
//! down. Run against the PostgreSQL store too with `QUERENT_TEST_PG_STORE=1`.

#![allow(
    // Test code: unwrapping is the assertion, blocking I/O and long tests are fine.
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod aifordb;
mod assistants;
mod auth;
mod basejump;
mod chat;
mod cli;
mod codemie;
mod connections;
mod connecty;
mod console;
mod docs;
mod eval;
mod instances;
mod isolation;
mod leaks;
mod learning;
mod mcp;
mod metrics;
mod otel;
mod own_store;
mod providers;
mod questions;
mod row_filters;
mod semantic;
mod served;
mod sharing;
mod shutdown;
mod snapshots;
mod system;
mod targets;
mod tls;
mod users_teams;
mod validation;
mod workflows;
mod workspace;

/// An access token for `sub` signed with the server's own key file (to forge expired or
/// odd tokens the way only the server could).
pub fn sign_with_server_key(
    app: &querent_test_support::TestApp,
    sub: &str,
    ttl_secs: i64,
    epoch: Option<i64>,
) -> String {
    let keyring = querent_vault::Keyring::load_or_create(None, &app.config.key_file_path())
        .expect("key file");
    querent_app::jwt::sign(&keyring, sub.to_owned(), ttl_secs, epoch)
}
