use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::digest;
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};

use querent_domain::ports::{Crypto, CryptoError};

use crate::{Secret, VaultError};

/// Prefix of every ciphertext produced by this version of the vault.
const FORMAT: &str = "qv1";
const KEY_LEN: usize = 32;

/// The id of a master key: the first 8 bytes of SHA-256 of the key, in hex. Public: it
/// identifies a key without revealing it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    fn of(key: &[u8; KEY_LEN]) -> Self {
        let d = digest::digest(&digest::SHA256, key);
        KeyId(d.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

struct MasterKey {
    id: KeyId,
    bytes: Secret<[u8; KEY_LEN]>,
    aead: LessSafeKey,
    /// The HMAC keys of the sub-keys derived so far, by purpose (at most
    /// [`MAX_KEPT_PURPOSES`]): deriving one (HKDF) and keying HMAC with it took more than
    /// half of verifying an access token, on every authenticated request (issue 19). The
    /// purposes are the callers' constants.
    macs: std::sync::Mutex<Vec<(String, ring::hmac::Key)>>,
}

/// Purposes whose HMAC keys a master key keeps.
const MAX_KEPT_PURPOSES: usize = 16;

impl MasterKey {
    fn new(bytes: [u8; KEY_LEN]) -> Result<Self, VaultError> {
        let unbound = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| VaultError::InvalidKey("not a valid AES-256 key".into()))?;
        Ok(Self {
            id: KeyId::of(&bytes),
            bytes: Secret::new(bytes),
            aead: LessSafeKey::new(unbound),
            macs: std::sync::Mutex::new(Vec::new()),
        })
    }
}

/// Where the keyring came from, which decides how rotation persists the new key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// `QUERENT_MASTER_KEY`: rotation prints the new value for the operator to set.
    Environment,
    /// A key file under the data directory: rotation rewrites it.
    File(PathBuf),
    /// Built in memory (tests, embedding).
    Memory,
}

/// The master keys: one current key that encrypts, older ones that can still decrypt.
pub struct Keyring {
    keys: Vec<MasterKey>,
    source: KeySource,
    rng: SystemRandom,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current_key_id())
            .field("keys", &self.keys.len())
            .field("source", &self.source)
            .finish()
    }
}

fn decode_key(text: &str) -> Result<[u8; KEY_LEN], VaultError> {
    let t = text.trim();
    let bytes = if t.len() == 64 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| VaultError::InvalidKey("bad hex".into()))?
    } else {
        STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t))
            .map_err(|_| {
                VaultError::InvalidKey("expected 32 bytes as base64 or 64 hex digits".into())
            })?
    };
    bytes
        .try_into()
        .map_err(|v: Vec<u8>| VaultError::InvalidKey(format!("expected 32 bytes, got {}", v.len())))
}

fn encode_key(key: &[u8; KEY_LEN]) -> String {
    STANDARD.encode(key)
}

impl Keyring {
    /// A keyring from key texts (base64 or hex of 32 bytes), the first one current.
    pub fn from_key_texts<S: AsRef<str>>(
        texts: &[S],
        source: KeySource,
    ) -> Result<Self, VaultError> {
        let keys = texts
            .iter()
            .filter(|t| !t.as_ref().trim().is_empty())
            .map(|t| decode_key(t.as_ref()).and_then(MasterKey::new))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(VaultError::InvalidKey("no key given".into()));
        }
        Ok(Self {
            keys,
            source,
            rng: SystemRandom::new(),
        })
    }

    /// A keyring with one freshly generated key, kept in memory only.
    pub fn generate_in_memory() -> Result<Self, VaultError> {
        let key = random_key(&SystemRandom::new())?;
        Ok(Self {
            keys: vec![MasterKey::new(key)?],
            source: KeySource::Memory,
            rng: SystemRandom::new(),
        })
    }

    /// The keyring from `QUERENT_MASTER_KEY` when given (comma-separated, first current),
    /// else from `key_file`, which is created with mode `0600` holding a new random key when
    /// it does not exist yet.
    #[allow(clippy::disallowed_methods)] // start-up: the key file is read or created before anything runs
    pub fn load_or_create(
        env_key: Option<&Secret<String>>,
        key_file: &Path,
    ) -> Result<Self, VaultError> {
        if let Some(k) = env_key.filter(|k| !k.expose().trim().is_empty()) {
            let parts: Vec<&str> = k.expose().split(',').collect();
            return Self::from_key_texts(&parts, KeySource::Environment);
        }
        let file_err = |message: String| VaultError::KeyFile {
            path: key_file.display().to_string(),
            message,
        };
        match std::fs::read_to_string(key_file) {
            Ok(text) => {
                let lines: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with('#'))
                    .collect();
                Self::from_key_texts(&lines, KeySource::File(key_file.to_path_buf()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let rng = SystemRandom::new();
                let key = random_key(&rng)?;
                write_key_file(key_file, &[encode_key(&key)]).map_err(file_err)?;
                tracing::info!(path = %key_file.display(), "created a new master key file (mode 0600)");
                Ok(Self {
                    keys: vec![MasterKey::new(key)?],
                    source: KeySource::File(key_file.to_path_buf()),
                    rng,
                })
            }
            Err(e) => Err(file_err(e.to_string())),
        }
    }

    /// The id of the key new values are encrypted with.
    pub fn current_key_id(&self) -> &KeyId {
        &self.keys[0].id
    }

    /// Where the keys came from.
    pub fn source(&self) -> &KeySource {
        &self.source
    }

    /// Encrypts `plaintext` under the current key: `qv1:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>`.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, VaultError> {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| VaultError::Random)?;
        let mut buf = plaintext.to_vec();
        key.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(&key.id)),
                &mut buf,
            )
            .map_err(|_| VaultError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!("{FORMAT}:{}:{}", key.id, STANDARD.encode(out)))
    }

    /// Encrypts a text secret.
    pub fn encrypt_str(&self, secret: &Secret<String>) -> Result<String, VaultError> {
        self.encrypt(secret.expose().as_bytes())
    }

    /// Decrypts a value made by [`Keyring::encrypt`] with any key of this keyring.
    pub fn decrypt(&self, ciphertext: &str) -> Result<Secret<Vec<u8>>, VaultError> {
        let mut parts = ciphertext.splitn(3, ':');
        let (Some(FORMAT), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let key = self
            .key(kid)
            .ok_or_else(|| VaultError::UnknownKey(kid.to_owned()))?;
        let raw = STANDARD.decode(body).map_err(|_| VaultError::Malformed)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(VaultError::Malformed);
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| VaultError::Malformed)?;
        let mut buf = sealed.to_vec();
        let plain = key
            .aead
            .open_in_place(nonce, Aad::from(aad(&key.id)), &mut buf)
            .map_err(|_| VaultError::Decrypt)?;
        Ok(Secret::new(plain.to_vec()))
    }

    /// Decrypts a text secret.
    pub fn decrypt_str(&self, ciphertext: &str) -> Result<Secret<String>, VaultError> {
        let bytes = self.decrypt(ciphertext)?.into_inner();
        String::from_utf8(bytes)
            .map(Secret::new)
            .map_err(|_| VaultError::Decrypt)
    }

    /// Whether a ciphertext was made with an older key and should be re-encrypted.
    pub fn is_stale(&self, ciphertext: &str) -> bool {
        ciphertext.split(':').nth(1) != Some(self.current_key_id().as_str())
    }

    /// Decrypts with whichever key made it and encrypts again under the current key.
    pub fn reencrypt(&self, ciphertext: &str) -> Result<String, VaultError> {
        let plain = self.decrypt(ciphertext)?;
        self.encrypt(plain.expose())
    }

    /// Derives a 32-byte sub-key for `purpose` (e.g. JWT signing) from the current master key
    /// with HKDF-SHA256. Returns it with the master key's id, usable as a `kid`.
    pub fn derive_key(&self, purpose: &str) -> (KeyId, Secret<[u8; 32]>) {
        let key = &self.keys[0];
        (key.id.clone(), derive(key, purpose))
    }

    /// The sub-key for `purpose` derived from the key with id `kid`, if this keyring has it.
    pub fn derive_key_for(&self, kid: &str, purpose: &str) -> Option<Secret<[u8; 32]>> {
        self.key(kid).map(|k| derive(k, purpose))
    }

    /// The master key with id `kid`, if this keyring has it.
    fn key(&self, kid: &str) -> Option<&MasterKey> {
        self.keys.iter().find(|k| k.id.as_str() == kid)
    }

    /// A new keyring whose current key is freshly generated and which still holds every key
    /// of this one, so existing values stay readable while they are re-encrypted.
    pub fn with_new_current_key(&self) -> Result<Keyring, VaultError> {
        let mut keys = vec![MasterKey::new(random_key(&self.rng)?)?];
        for k in &self.keys {
            keys.push(MasterKey::new(*k.bytes.expose())?);
        }
        Ok(Keyring {
            keys,
            source: self.source.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// A keyring holding only the current key (after everything was re-encrypted).
    pub fn only_current(&self) -> Result<Keyring, VaultError> {
        Ok(Keyring {
            keys: vec![MasterKey::new(*self.keys[0].bytes.expose())?],
            source: self.source.clone(),
            rng: SystemRandom::new(),
        })
    }

    /// The keys as the comma-separated text `QUERENT_MASTER_KEY` accepts, current first.
    /// Exposes key material: only for the operator running `rotate-key`.
    pub fn export_key_texts(&self) -> Secret<String> {
        Secret::new(
            self.keys
                .iter()
                .map(|k| encode_key(k.bytes.expose()))
                .collect::<Vec<_>>()
                .join(","),
        )
    }

    /// Writes the keys to the key file this keyring came from (mode 0600, atomically). Does
    /// nothing for other sources.
    pub fn persist(&self) -> Result<(), VaultError> {
        if let KeySource::File(path) = &self.source {
            let lines: Vec<String> = self
                .keys
                .iter()
                .map(|k| encode_key(k.bytes.expose()))
                .collect();
            write_key_file(path, &lines).map_err(|message| VaultError::KeyFile {
                path: path.display().to_string(),
                message,
            })?;
        }
        Ok(())
    }
}

fn aad(id: &KeyId) -> Vec<u8> {
    format!("{FORMAT}:{id}").into_bytes()
}

fn derive(key: &MasterKey, purpose: &str) -> Secret<[u8; 32]> {
    struct Len32;
    impl hkdf::KeyType for Len32 {
        fn len(&self) -> usize {
            32
        }
    }
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"querent-vault-v1");
    let prk = salt.extract(key.bytes.expose());
    let info = [purpose.as_bytes()];
    let mut out = [0u8; 32];
    // HKDF-SHA256 can expand up to 8160 bytes: 32 never fails.
    if let Ok(okm) = prk.expand(&info, Len32) {
        let _ = okm.fill(&mut out);
    }
    Secret::new(out)
}

/// The HMAC-SHA256 key of `key`'s sub-key for `purpose` (kept, see [`MasterKey::macs`]).
fn mac_key(key: &MasterKey, purpose: &str) -> ring::hmac::Key {
    let mut kept = key
        .macs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, k)) = kept.iter().find(|(p, _)| p == purpose) {
        return k.clone();
    }
    let derived = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derive(key, purpose).expose());
    if kept.len() < MAX_KEPT_PURPOSES {
        kept.push((purpose.to_owned(), derived.clone()));
    }
    derived
}

fn random_key(rng: &SystemRandom) -> Result<[u8; KEY_LEN], VaultError> {
    let mut key = [0u8; KEY_LEN];
    rng.fill(&mut key).map_err(|_| VaultError::Random)?;
    Ok(key)
}

#[allow(clippy::disallowed_methods)] // start-up and `querent admin rotate-key`: synchronous by design
fn write_key_file(path: &Path, lines: &[String]) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(|e| e.to_string())?;
    let mut text = String::from(
        "# Querent master keys (base64). First line encrypts; the others only decrypt.\n",
    );
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}

impl Crypto for Keyring {
    fn encrypt(&self, plaintext: &Secret<String>) -> Result<String, CryptoError> {
        self.encrypt_str(plaintext)
            .map_err(|e| CryptoError(e.to_string()))
    }

    fn decrypt(&self, ciphertext: &str) -> Result<Secret<String>, CryptoError> {
        self.decrypt_str(ciphertext)
            .map_err(|e| CryptoError(e.to_string()))
    }

    fn mac(&self, purpose: &str, data: &[u8]) -> (String, Vec<u8>) {
        let key = &self.keys[0];
        let tag = ring::hmac::sign(&mac_key(key, purpose), data);
        (key.id.to_string(), tag.as_ref().to_vec())
    }

    fn verify_mac(&self, key_id: &str, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        self.key(key_id)
            .is_some_and(|key| ring::hmac::verify(&mac_key(key, purpose), data, tag).is_ok())
    }

    fn sha256_hex(&self, data: &[u8]) -> String {
        digest::digest(&digest::SHA256, data)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn random_bytes(&self, n: usize) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; n];
        self.rng
            .fill(&mut out)
            .map_err(|_| CryptoError("random generator failure".into()))?;
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // test code may block
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let k = Keyring::generate_in_memory().unwrap();
        let a = k.encrypt(b"s3cret").unwrap();
        let b = k.encrypt(b"s3cret").unwrap();
        assert_ne!(a, b, "nonce must differ per value");
        assert!(a.starts_with(&format!("qv1:{}:", k.current_key_id())));
        assert!(!a.contains("s3cret"));
        assert_eq!(k.decrypt(&a).unwrap().expose(), b"s3cret");
    }

    #[test]
    fn tampering_and_wrong_keys_fail() {
        let k = Keyring::generate_in_memory().unwrap();
        let c = k.encrypt(b"value").unwrap();
        let mut raw = STANDARD.decode(c.rsplit(':').next().unwrap()).unwrap();
        raw[NONCE_LEN] ^= 1;
        let tampered = format!("qv1:{}:{}", k.current_key_id(), STANDARD.encode(raw));
        assert!(matches!(k.decrypt(&tampered), Err(VaultError::Decrypt)));
        let other = Keyring::generate_in_memory().unwrap();
        assert!(matches!(other.decrypt(&c), Err(VaultError::UnknownKey(_))));
        assert!(matches!(k.decrypt("nonsense"), Err(VaultError::Malformed)));
        // A ciphertext moved under another key id does not decrypt either (key id is in the AAD).
        let body = c.rsplit(':').next().unwrap();
        assert!(
            k.decrypt(&format!("qv1:{}:{body}", other.current_key_id()))
                .is_err()
        );
    }

    #[test]
    fn rotation_keeps_old_values_readable_then_reencrypts() {
        let old = Keyring::generate_in_memory().unwrap();
        let c = old.encrypt(b"pw").unwrap();
        let rotated = old.with_new_current_key().unwrap();
        assert_ne!(rotated.current_key_id(), old.current_key_id());
        assert!(rotated.is_stale(&c));
        let fresh = rotated.reencrypt(&c).unwrap();
        assert!(!rotated.is_stale(&fresh));
        let only = rotated.only_current().unwrap();
        assert_eq!(only.decrypt(&fresh).unwrap().expose(), b"pw");
        assert!(only.decrypt(&c).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/master.key");
        let k1 = Keyring::load_or_create(None, &path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let k2 = Keyring::load_or_create(None, &path).unwrap();
        assert_eq!(k1.current_key_id(), k2.current_key_id());
        let c = k1.encrypt(b"x").unwrap();
        assert_eq!(k2.decrypt(&c).unwrap().expose(), b"x");
    }

    #[test]
    fn env_keys_take_precedence_and_accept_hex_and_base64() {
        let hex = "00".repeat(32);
        let b64 = STANDARD.encode([7u8; 32]);
        let env = Secret::new(format!("{b64},{hex}"));
        let dir = tempfile::tempdir().unwrap();
        let k = Keyring::load_or_create(Some(&env), &dir.path().join("unused")).unwrap();
        assert_eq!(k.source(), &KeySource::Environment);
        assert!(!dir.path().join("unused").exists());
        assert!(matches!(
            Keyring::from_key_texts(&["short"], KeySource::Memory),
            Err(VaultError::InvalidKey(_))
        ));
        assert!(!format!("{k:?}").contains(&b64));
    }

    #[test]
    fn crypto_port_macs_and_hashes() {
        let k = Keyring::generate_in_memory().unwrap();
        let (kid, tag) = Crypto::mac(&k, "jwt", b"data");
        assert!(k.verify_mac(&kid, "jwt", b"data", &tag));
        assert!(!k.verify_mac(&kid, "jwt", b"datb", &tag));
        assert!(!k.verify_mac(&kid, "other", b"data", &tag));
        assert!(!k.verify_mac("unknown", "jwt", b"data", &tag));
        // The kept HMAC keys sign as the derived sub-keys do, the first time and after,
        // for every purpose and every key of a rotated keyring.
        let expected = |k: &Keyring, purpose: &str| {
            let (_, sub) = k.derive_key(purpose);
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, sub.expose());
            ring::hmac::sign(&key, b"data").as_ref().to_vec()
        };
        assert_eq!(tag, expected(&k, "jwt"));
        assert_eq!(Crypto::mac(&k, "jwt", b"data").1, expected(&k, "jwt"));
        assert_eq!(Crypto::mac(&k, "other", b"data").1, expected(&k, "other"));
        assert_ne!(expected(&k, "other"), tag);
        let rotated = k.with_new_current_key().unwrap();
        assert!(rotated.verify_mac(&kid, "jwt", b"data", &tag));
        let (new_kid, new_tag) = Crypto::mac(&rotated, "jwt", b"data");
        assert_ne!(new_kid, kid);
        assert_eq!(new_tag, expected(&rotated, "jwt"));
        assert!(!k.verify_mac(&new_kid, "jwt", b"data", &new_tag));
        assert_eq!(
            k.sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(k.random_bytes(16).unwrap().len(), 16);
        let c = Crypto::encrypt(&k, &Secret::new("pw".into())).unwrap();
        assert_eq!(Crypto::decrypt(&k, &c).unwrap().expose(), "pw");
    }

    #[test]
    fn derived_keys_are_stable_per_purpose() {
        let k = Keyring::generate_in_memory().unwrap();
        let (kid, a) = k.derive_key("jwt");
        let b = k.derive_key_for(kid.as_str(), "jwt").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(k.derive_key("other").1.expose(), a.expose());
    }
}
