//! The semantic cache's matching: exact and similar questions hit, different numbers miss.
//!
//! `cargo run -p querent-cache --example cache_lookup`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_cache::{CacheConfig, CacheIndex, Entry, Scope};
use querent_domain::ConnectionId;

fn main() {
    let scope = Scope {
        connection_id: ConnectionId::new(),
        schema_fingerprint: "f1".into(),
        semantic_version: None,
    };
    let mut index = CacheIndex::new(CacheConfig::default());
    let ttl_ms = 60_000;
    for (n, (question, sql)) in [
        (
            "How many customers are there?",
            "SELECT count(*) FROM customers",
        ),
        ("top 5 products by revenue", "SELECT … LIMIT 5"),
    ]
    .into_iter()
    .enumerate()
    {
        index.insert(Entry::new(
            format!("e{n}"),
            scope.clone(),
            question,
            sql.into(),
            0,
            ttl_ms,
        ));
    }
    for question in [
        "how many customers are there",
        "how many customers in total?",
        "top 10 products by revenue",
    ] {
        match index.lookup(&scope, question, 1) {
            Some(hit) => println!("{question:?} → {:?} hit: {}", hit.kind, hit.sql),
            None => println!("{question:?} → miss"),
        }
    }
}
