//! The domain's shared vocabulary: ids, error codes, dialect facts and secrets.
//!
//! `cargo run -p querent-domain --example domain_types`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_domain::{ConnectionId, Dialect, ErrorCode, Secret};

fn main() {
    // Ids are UUIDv7 newtypes: they print and parse as UUIDs, and sort by creation time.
    let id = ConnectionId::new();
    let parsed: ConnectionId = id.to_string().parse().expect("an id parses back");
    assert_eq!(parsed, id);
    println!("a connection id: {id}");

    // One table of error codes: the wire spelling and the one HTTP status of each.
    let code: ErrorCode = "query_timeout".parse().expect("a known code");
    println!("{} → HTTP {}", code.as_str(), code.http_status());
    assert_eq!(ErrorCode::NotFound.http_status(), 404);

    // What is true of a dialect is a method of `Dialect`.
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        println!(
            "{:<10} default port {:?}, file-based {}, `order` quoted as {}",
            dialect.display_name(),
            dialect.default_port(),
            dialect.is_file_based(),
            dialect.quote_identifier("order"),
        );
    }

    // Secrets never print.
    let password = Secret::new("hunter2".to_owned());
    assert_eq!(format!("{password:?}"), "Secret([redacted])");
    println!("a password in a log line: {password:?}");
}
