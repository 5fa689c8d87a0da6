//! What the adapters do with a model's reply and with a configured base URL, without a
//! network: SQL extraction and the base-URL policy.
//!
//! `cargo run -p querent-llm --example read_a_reply`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_llm::{UrlPolicy, check_base_url, extract_sql};

#[tokio::main]
async fn main() {
    let reply = "Here you go:\n```sql\nSELECT count(*) FROM customers;\n```\nIt counts them.";
    let found = extract_sql(reply).expect("a statement");
    println!("sql: {}", found.sql);
    println!("explanation: {:?}", found.explanation);

    let policy = UrlPolicy::default();
    for url in ["http://localhost:11434/v1", "http://169.254.169.254/latest"] {
        match check_base_url(url, &policy).await {
            Ok(()) => println!("{url}: allowed"),
            Err(why) => println!("{url}: refused ({why})"),
        }
    }
}
