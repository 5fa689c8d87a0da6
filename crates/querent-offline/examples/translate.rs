//! The offline translator: a question and a schema in, SQL (or a clear refusal) out. No
//! model, no network.
//!
//! `cargo run -p querent-offline --example translate`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_domain::Dialect;
use querent_domain::schema::SchemaSnapshot;

fn main() {
    let schema: SchemaSnapshot = serde_json::from_value(serde_json::json!({
        "dialect": "sqlite",
        "fingerprint": "example",
        "taken_at": 0,
        "tables": [
            {"name": "customers", "kind": "table", "primary_key": ["id"], "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "name", "data_type": "text", "nullable": false},
                {"name": "country", "data_type": "text", "nullable": true,
                 "sample_values": ["DE", "FR", "US"]}]},
            {"name": "orders", "kind": "table", "primary_key": ["id"],
             "foreign_keys": [{"columns": ["customer_id"], "referenced_table": "customers",
                               "referenced_columns": ["id"]}],
             "columns": [
                {"name": "id", "data_type": "integer", "nullable": false},
                {"name": "customer_id", "data_type": "integer", "nullable": false},
                {"name": "total", "data_type": "real", "nullable": false}]}
        ]
    }))
    .expect("a schema");
    for question in [
        "how many customers are there?",
        "how many customers per country?",
        "what's the weather in Paris?",
    ] {
        match querent_offline::translate(question, &schema, Dialect::Sqlite) {
            Ok(t) => println!("{question}\n  {}\n  ({})", t.sql, t.explanation),
            Err(e) => println!("{question}\n  cannot translate: {e}"),
        }
    }
}
