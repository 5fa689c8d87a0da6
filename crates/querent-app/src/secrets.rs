//! Passwords and random tokens. Passwords are hashed with argon2id (the crate's default
//! parameters: 19 MiB, 2 passes) on the blocking pool so hashing never stalls the async
//! runtime. Refresh tokens and API-client secrets are 256-bit random values from the
//! vault's generator; only their SHA-256 is stored (they are high-entropy, so a fast hash
//! is the right tool).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use querent_domain::Secret;
use querent_domain::ports::Crypto;

use crate::ServiceError;

/// Minimum password length.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Maximum password length (argon2 accepts more; this bounds the work per request).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Checks the password policy; the message names the field.
pub fn check_password_policy(field: &str, password: &str) -> Result<(), ServiceError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(ServiceError::validation(format!(
            "{field}: must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    if n > MAX_PASSWORD_LEN {
        return Err(ServiceError::validation(format!(
            "{field}: must be at most {MAX_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Hashes a password with argon2id (PHC string).
pub async fn hash_password(password: &Secret<String>) -> Result<String, ServiceError> {
    let pw = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(ServiceError::internal)
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Verifies a password against a PHC hash. With no hash (unknown user) it still does the
/// work of one verification, so unknown usernames take as long as wrong passwords.
pub async fn verify_password(password: &Secret<String>, hash: Option<String>) -> bool {
    let pw = password.clone();
    let real = hash.is_some();
    tokio::task::spawn_blocking(move || {
        let hash = match hash {
            Some(h) => h,
            None => {
                let salt = SaltString::generate(&mut OsRng);
                let _ = Argon2::default().hash_password(b"timing equaliser", &salt);
                return false;
            }
        };
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(pw.expose().as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
        && real
}

/// A new random 256-bit token with a readable prefix, e.g. `qrt_…`.
pub fn random_token(crypto: &dyn Crypto, prefix: &str) -> Result<Secret<String>, ServiceError> {
    let bytes = crypto.random_bytes(32)?;
    Ok(Secret::new(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(bytes)
    )))
}

/// Constant-time equality of two strings of public length (hashes).
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_and_verifies() {
        let pw = Secret::new("correct horse".to_owned());
        let h = hash_password(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&pw, Some(h.clone())).await);
        assert!(!verify_password(&Secret::new("wrong pass".into()), Some(h)).await);
        assert!(!verify_password(&pw, None).await);
    }

    #[test]
    fn policy_and_tokens() {
        let k = querent_vault::Keyring::generate_in_memory().unwrap();
        assert!(check_password_policy("password", "short").is_err());
        assert!(check_password_policy("password", "long enough").is_ok());
        let a = random_token(&k, "qrt_").unwrap();
        assert!(a.expose().starts_with("qrt_") && a.expose().len() > 40);
        assert_ne!(a.expose(), random_token(&k, "qrt_").unwrap().expose());
        assert!(hashes_equal("abc", "abc"));
        assert!(!hashes_equal("abc", "abd"));
        assert!(!hashes_equal("abc", "abcd"));
    }
}
