//! # querent-test-support
//!
//! What Querent's integration tests stand on: [`TestApp`] starts the real server — the same
//! composition as `querent serve` ([`querent::build_app`] + [`querent_http::build_server`]) —
//! on a random port with a fresh data directory, and talks HTTP to it; [`PgDatabase`] and
//! [`MysqlDatabase`] create a uniquely named database on the local servers and drop it
//! afterwards. Tests that need a database server skip when it is not running — through
//! [`gate`] (querent-test-gate), which writes a `SKIPPED` line libtest does not swallow —
//! unless `QUERENT_REQUIRE_SERVICES=1`, where a missing service fails the test.
//!
//! Build it with [`TestAppBuilder::with_admin`] / [`TestAppBuilder::with_demo`] and talk
//! to it through a [`Client`] that holds its token and returns typed [`views`]
//! (`app.admin().ask(app.demo().id, "how many customers are there?").await.status`);
//! [`snapshot::redact`] prepares JSON for insta snapshots.
//!
//! With `QUERENT_TEST_PG_STORE=1`, every [`TestApp`] keeps its metadata in a fresh
//! PostgreSQL database instead of the embedded SQLite file, so the whole HTTP suite runs
//! against both store backends.
//!
//! [`fake_llm`] re-exports the fake LLM provider server (OpenAI and Anthropic wire formats).
//!
//! Depends on: the `querent` composition root, querent-app, querent-http, reqwest,
//! tokio-postgres, mysql_async. Must never: be a dependency of a non-test target, or reach
//! anything but loopback services.

#![allow(
    // Test tooling: a failure here is a failed test, and it may block (files, fixtures).
    clippy::unwrap_used,
    clippy::disallowed_methods,
    clippy::too_many_lines
)]

mod app;
mod client;
pub mod openapi_check;
mod services;
pub mod snapshot;
pub mod views;

pub use app::{Response, TestApp, TestAppBuilder, parse_sse};
pub use client::Client;
/// The fake LLM provider server (OpenAI and Anthropic wire formats).
pub use querent_fake_llm as fake_llm;
/// Skip or fail when a service is missing (the rule every test binary shares).
pub use querent_test_gate as gate;
pub use services::{
    MysqlDatabase, PgDatabase, mysql_url, pg_admin_url, require_services, service_missing,
};
