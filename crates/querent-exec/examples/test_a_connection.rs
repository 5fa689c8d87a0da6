//! A connection test against a SQLite target: the file is opened read-only, never created,
//! and the server version comes back.
//!
//! `cargo run -p querent-exec --example test_a_connection`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use std::time::Duration;

use querent_domain::{ConnectionTarget, Dialect, SslMode};

#[tokio::main]
async fn main() {
    let path = std::env::temp_dir().join(format!(
        "querent-exec-example-{}.sqlite",
        std::process::id()
    ));
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);"))
        .expect("a SQLite file");
    let target = ConnectionTarget {
        dialect: Dialect::Sqlite,
        host: None,
        port: None,
        database: None,
        username: None,
        path: Some(path.display().to_string()),
        ssl_mode: SslMode::Prefer,
        ca_certificate: None,
    };
    match querent_exec::test_connection(&target, None, Duration::from_secs(5)).await {
        Ok(info) => println!(
            "connected: {} ({} ms)",
            info.server_version, info.latency_ms
        ),
        Err(e) => println!("refused: {e}"),
    }
    let missing = ConnectionTarget {
        path: Some("/nonexistent/querent.sqlite".into()),
        ..target
    };
    let e = querent_exec::test_connection(&missing, None, Duration::from_secs(5))
        .await
        .expect_err("a missing file is never created");
    println!("missing file: {e}");
    let _ = std::fs::remove_file(path);
}
