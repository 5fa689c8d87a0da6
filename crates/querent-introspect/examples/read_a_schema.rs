//! Reading a SQLite database's catalog into a `SchemaSnapshot`: tables, columns, keys,
//! sampled values and a structural fingerprint.
//!
//! `cargo run -p querent-introspect --example read_a_schema`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_domain::{ConnectionTarget, Dialect, SslMode};
use querent_introspect::{IntrospectOptions, introspect};

#[tokio::main]
async fn main() {
    let path = std::env::temp_dir().join(format!(
        "querent-introspect-example-{}.sqlite",
        std::process::id()
    ));
    rusqlite::Connection::open(&path)
        .and_then(|c| {
            c.execute_batch(
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, country TEXT);
                 CREATE TABLE orders (id INTEGER PRIMARY KEY,
                                      customer_id INTEGER REFERENCES customers(id));
                 INSERT INTO customers (country) VALUES ('DE'), ('FR'), ('DE');",
            )
        })
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
    let snapshot = introspect(&target, None, &IntrospectOptions::default())
        .await
        .expect("the schema");
    println!("fingerprint {}", snapshot.fingerprint);
    for table in &snapshot.tables {
        let columns: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("{} {} {:?}", c.name, c.data_type, c.sample_values))
            .collect();
        println!("{}: {}", table.name, columns.join(", "));
    }
    let _ = std::fs::remove_file(path);
}
