//! # querent-vault
//!
//! Keeps secrets secret. Stored credentials (target database passwords, provider API keys)
//! are encrypted with AES-256-GCM (ring) under a master key, with a fresh random nonce per
//! value and the key id in front of every ciphertext so keys can rotate
//! (`querent admin rotate-key` re-encrypts everything under a new key). Values in use are
//! wrapped in [`Secret`], which never prints: not in `Debug`, not in `Display`, not in logs,
//! and it cannot be serialised.
//!
//! The master key comes from `QUERENT_MASTER_KEY` (base64 or hex of 32 bytes; several keys
//! separated by commas, the first one current) or from a key file created with permissions
//! `0600` on first start ([`Keyring::load_or_create`]).
//!
//! [`Keyring`] implements the [`querent_domain::ports::Crypto`] port: encryption, HMAC
//! under derived sub-keys (used for access tokens), SHA-256 and secure random bytes, so
//! the services never link a cryptography library themselves.
//!
//! Depends on: querent-domain, ring, base64. Must never: log, print or serialise a
//! plaintext secret, reuse a nonce, or depend on a Querent crate other than the domain.
//!
//! ## Example
//!
//! ```
//! use querent_vault::{Keyring, Secret};
//!
//! let keyring = Keyring::generate_in_memory()?;
//! let stored = keyring.encrypt_str(&Secret::new("hunter2".to_owned()))?;
//! assert!(!stored.contains("hunter2"));
//! assert_eq!(keyring.decrypt_str(&stored)?.expose(), "hunter2");
//! # Ok::<(), querent_vault::VaultError>(())
//! ```
//!
//! Rotation in `examples/encrypt_a_secret.rs`.

mod keyring;

pub use keyring::{KeyId, KeySource, Keyring};
pub use querent_domain::Secret;

/// What can go wrong in the vault. Messages never contain secret material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The master key given in configuration is not 32 bytes of base64 or hex.
    #[error("invalid master key: {0}")]
    InvalidKey(String),
    /// The key file could not be read or written.
    #[error("key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: String,
        /// What failed.
        message: String,
    },
    /// A ciphertext is not in the vault's format.
    #[error("malformed ciphertext")]
    Malformed,
    /// A ciphertext was made with a key that is not in the keyring.
    #[error("ciphertext uses unknown key id `{0}`")]
    UnknownKey(String),
    /// Authentication of the ciphertext failed (wrong key or tampered data).
    #[error("decryption failed: wrong key or tampered data")]
    Decrypt,
    /// The system random generator failed.
    #[error("random generator failure")]
    Random,
}
