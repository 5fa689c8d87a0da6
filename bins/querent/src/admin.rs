//! Administrative commands that work on the store and keys directly: creating a user from
//! the terminal and rotating the master key.

use querent_domain::ports::MetadataStore as _;
use querent_vault::{KeySource, Keyring};

use crate::{Config, Parts, open_keyring, store_config};

/// Re-encrypts every stored secret under a new master key.
///
/// With a key file the new key is written first next to the old one (so a crash halfway
/// leaves every value readable), all values are re-encrypted in one transaction, and then
/// the old key is dropped from the file. With `QUERENT_MASTER_KEY` the new key text is
/// returned for the operator to set. Running servers keep the old key in memory: restart
/// them afterwards.
pub async fn rotate_key(config: &Config) -> Result<RotateReport, String> {
    let current = open_keyring(config)?;
    let rotated = current.with_new_current_key().map_err(|e| e.to_string())?;
    rotated.persist().map_err(|e| e.to_string())?;
    let store = querent_store::Store::open(store_config(config))
        .await
        .map_err(|e| e.to_string())?;
    let secrets = store
        .connections_with_secrets()
        .await
        .map_err(|e| e.to_string())?;
    let mut updates = Vec::with_capacity(secrets.len());
    for (id, old) in secrets {
        let new = rotated
            .reencrypt(&old)
            .map_err(|e| format!("connection {id}: {e}"))?;
        updates.push((id, old, new));
    }
    let mut changed = store
        .replace_connection_secrets(&updates)
        .await
        .map_err(|e| e.to_string())?;
    let mut key_updates = Vec::new();
    for (id, old) in store.provider_keys().await.map_err(|e| e.to_string())? {
        let new = rotated
            .reencrypt(&old)
            .map_err(|e| format!("provider {id}: {e}"))?;
        key_updates.push((id, old, new));
    }
    changed += store
        .replace_provider_keys(&key_updates)
        .await
        .map_err(|e| e.to_string())?;
    let final_ring: Keyring = rotated.only_current().map_err(|e| e.to_string())?;
    final_ring.persist().map_err(|e| e.to_string())?;
    Ok(RotateReport {
        old_key_id: current.current_key_id().to_string(),
        new_key_id: final_ring.current_key_id().to_string(),
        reencrypted: changed,
        new_env_value: (final_ring.source() == &KeySource::Environment)
            .then(|| final_ring.export_key_texts().into_inner()),
    })
}

/// What [`rotate_key`] did.
#[derive(Debug)]
pub struct RotateReport {
    /// Id of the key replaced.
    pub old_key_id: String,
    /// Id of the new key.
    pub new_key_id: String,
    /// How many stored secrets were re-encrypted.
    pub reencrypted: usize,
    /// For keys from the environment: the new `QUERENT_MASTER_KEY` value to set.
    pub new_env_value: Option<String>,
}

/// Creates a user from the terminal. On an empty server the first user is the admin of a
/// new team (as `POST /auth/setup` does).
pub async fn create_user(
    parts: &Parts,
    username: &str,
    password: String,
    admin: bool,
) -> Result<String, String> {
    let app = &parts.app;
    let password = querent_app::Secret::new(password);
    if app.setup_status().await.map_err(|e| e.detail)?.needs_setup {
        let out = app
            .setup(
                querent_app::auth::SetupRequest {
                    username: username.to_owned(),
                    password,
                    email: None,
                },
                None,
            )
            .await
            .map_err(|e| e.detail)?;
        return Ok(format!(
            "created admin `{}` ({}) and team `{}`",
            out.user.username, out.user.id, out.team.name
        ));
    }
    let role = if admin {
        querent_domain::Role::Admin
    } else {
        querent_domain::Role::Member
    };
    let user = app
        .create_user_as_system(username, password, role)
        .await
        .map_err(|e| e.detail)?;
    Ok(format!(
        "created {} `{}` ({})",
        user.role, user.username, user.id
    ))
}
