//! Whether this build has the local embedder, and where it would find its model.
//!
//! `cargo run -p querent-embed --example local_or_not` (add `--features local` for the model)

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

fn main() {
    println!(
        "local embedder compiled in: {}",
        querent_embed::local_available()
    );
    match querent_embed::find_model_dir(None) {
        Some(dir) => println!("model directory: {}", dir.display()),
        None => println!(
            "no model directory (set {} or run scripts/fetch-embedding-model.sh)",
            querent_embed::MODEL_DIR_ENV
        ),
    }
}
