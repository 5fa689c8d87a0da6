//! Schema linking: which tables of a (large) schema a question needs, before any prompt is
//! written.
//!
//! `cargo run -p querent-semantic --example link_a_question`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_semantic::{LinkIndex, LinkOptions, synthetic_schema};

fn main() {
    // A generated schema of 300 business tables (querent bench uses the same generator).
    let schema = synthetic_schema(300, 7);
    let index = LinkIndex::new(&schema);
    let question = format!("how many rows does {} have?", schema.tables[42].name);
    let linked = index.link(&question, &LinkOptions::default());
    println!("{question}");
    for t in linked.tables.iter().take(3) {
        println!(
            "  {} (score {:.2}, matched {:?})",
            schema.tables[t.index].name, t.score, t.matched_terms
        );
    }
}
