//! Encrypting a stored credential, reading it back, and rotating the master key.
//!
//! `cargo run -p querent-vault --example encrypt_a_secret`

#![allow(
    // Example code: unwrapping keeps it short; it runs no async server.
    clippy::unwrap_used,
    clippy::disallowed_methods
)]

use querent_vault::{Keyring, Secret};

fn main() -> Result<(), querent_vault::VaultError> {
    // A keyring with one fresh key (a server loads its own from QUERENT_MASTER_KEY or the
    // key file, `Keyring::load_or_create`).
    let keyring = Keyring::generate_in_memory()?;
    let stored = keyring.encrypt_str(&Secret::new("warehouse-password".to_owned()))?;
    println!("stored: {stored}");
    assert!(!stored.contains("warehouse-password"));
    assert_eq!(keyring.decrypt_str(&stored)?.expose(), "warehouse-password");

    // Rotation: a new current key; the old one still decrypts, and re-encryption moves
    // each value to the new key.
    let rotated = keyring.with_new_current_key()?;
    assert!(rotated.is_stale(&stored));
    let moved = rotated.reencrypt(&stored)?;
    assert!(!rotated.is_stale(&moved));
    assert_eq!(rotated.decrypt_str(&moved)?.expose(), "warehouse-password");
    println!(
        "rotated from {} to {}",
        keyring.current_key_id().as_str(),
        rotated.current_key_id().as_str()
    );
    Ok(())
}
