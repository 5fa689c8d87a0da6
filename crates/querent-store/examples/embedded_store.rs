//! The embedded metadata store: open (and migrate) a SQLite file, write and read settings.
//!
//! `cargo run -p querent-store --example embedded_store`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_domain::ports::MetadataStore;
use querent_store::{Store, StoreConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(StoreConfig::sqlite(dir.path().join("querent.db"))).await?;
    println!(
        "opened a {:?} store; users: {}",
        store.backend(),
        store.count_users().await?
    );
    store
        .put_settings(&[("default_max_rows".into(), "500".into())])
        .await?;
    println!("settings: {:?}", store.all_settings().await?);
    assert_eq!(store.migrate().await?, 0, "open already ran the migrations");
    Ok(())
}
