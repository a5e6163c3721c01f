//! Encryption at rest: AES-256-GCM under a key derived from the master key. Sealed
//! values carry the master key's id, so a rotated master key (kept in
//! `HEIMDALL_MASTER_KEY_PREVIOUS`) still opens what it sealed.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, RandomizedNonceKey};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD},
};

use super::{hex, hmac_sha256, sha256};
use crate::error::{Error, Result};

/// One 32-byte master key and its public id.
#[derive(Clone)]
pub struct MasterKey {
    bytes: [u8; 32],
    id: String,
}

impl MasterKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        let id = hex(&sha256(&bytes)[..4]);
        Self { bytes, id }
    }

    /// Parses base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        let decoded = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE.decode(text))
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| "the master key must be base64".to_owned())?;
        let bytes: [u8; 32] = decoded
            .try_into()
            .map_err(|_| "the master key must decode to exactly 32 bytes".to_owned())?;
        Ok(Self::new(bytes))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A sub-key for one purpose, so the same master key never serves two algorithms.
    pub fn derive(&self, purpose: &[u8]) -> Vec<u8> {
        hmac_sha256(&self.bytes, purpose)
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.bytes)
    }
}

/// The purpose of the sub-key that keys the hashes of stored secrets.
pub const HASH_KEY_PURPOSE: &[u8] = b"heimdall/secret-hash/v1";

/// The current master key plus earlier ones still accepted for reading, and the
/// hash sub-keys of master keys retired by a re-key (kept in the database).
#[derive(Clone)]
pub struct MasterKeys {
    current: MasterKey,
    previous: Vec<MasterKey>,
    retained_hash_keys: Vec<Vec<u8>>,
}

impl MasterKeys {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        Self {
            current,
            previous,
            retained_hash_keys: Vec::new(),
        }
    }

    pub fn previous(&self) -> &[MasterKey] {
        &self.previous
    }

    /// Adds hash sub-keys of retired master keys (secrets hashed under them still
    /// verify); those equal to a configured key's are skipped.
    pub fn with_retained_hash_keys(mut self, keys: Vec<Vec<u8>>) -> Self {
        let configured: Vec<Vec<u8>> = self.all().map(|k| k.derive(HASH_KEY_PURPOSE)).collect();
        for key in keys {
            if !configured.contains(&key) && !self.retained_hash_keys.contains(&key) {
                self.retained_hash_keys.push(key);
            }
        }
        self
    }

    /// Every hash sub-key: the current key's first, then previous and retained ones.
    pub fn hash_keys(&self) -> Vec<Vec<u8>> {
        self.all()
            .map(|k| k.derive(HASH_KEY_PURPOSE))
            .chain(self.retained_hash_keys.iter().cloned())
            .collect()
    }

    pub fn from_parts(current: [u8; 32], previous: Vec<[u8; 32]>) -> Self {
        Self::new(
            MasterKey::new(current),
            previous.into_iter().map(MasterKey::new).collect(),
        )
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    pub fn all(&self) -> impl Iterator<Item = &MasterKey> {
        std::iter::once(&self.current).chain(self.previous.iter())
    }

    /// Reads the development master key from `data_dir`, creating it when missing.
    pub fn load_or_create_dev_key(data_dir: &Path) -> std::io::Result<MasterKey> {
        let path = data_dir.join("heimdall.master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return MasterKey::parse(&text).map_err(std::io::Error::other);
        }
        std::fs::create_dir_all(data_dir)?;
        let bytes: [u8; 32] = super::random_bytes(32)
            .map_err(|_| std::io::Error::other("random generator failed"))?
            .try_into()
            .map_err(|_| std::io::Error::other("random generator failed"))?;
        let key = MasterKey::new(bytes);
        write_private_file(&path, key.to_base64().as_bytes())?;
        Ok(key)
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Seals and opens values with AES-256-GCM. The format is
/// `v1.<master key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`; `aad` binds a sealed
/// value to its row so that ciphertexts cannot be swapped between records.
#[derive(Clone)]
pub struct Vault {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault")
    }
}

const NONCE_LEN: usize = 12;

impl Vault {
    pub fn new(master: &MasterKeys) -> Self {
        let keys = master
            .all()
            .map(|k| {
                let mut key = [0u8; 32];
                key.copy_from_slice(&k.derive(b"heimdall/vault/aes-256-gcm/v1")[..32]);
                (k.id().to_owned(), key)
            })
            .collect();
        Self { keys }
    }

    fn cipher(key: &[u8; 32]) -> Result<RandomizedNonceKey> {
        RandomizedNonceKey::new(&AES_256_GCM, key).map_err(|_| Error::internal("bad vault key"))
    }

    pub fn seal(&self, plaintext: &[u8], aad: &str) -> Result<String> {
        let (id, key) = self
            .keys
            .first()
            .ok_or_else(|| Error::internal("vault has no key"))?;
        let mut in_out = plaintext.to_vec();
        let nonce = Self::cipher(key)?
            .seal_in_place_append_tag(Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&in_out);
        Ok(format!("v1.{id}.{}", URL_SAFE_NO_PAD.encode(out)))
    }

    pub fn open(&self, sealed: &str, aad: &str) -> Result<Vec<u8>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::internal("sealed value has an unknown format"));
        };
        let (_, key) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| {
            Error::internal(format!(
                "sealed with master key {id}, which is not configured (set HEIMDALL_MASTER_KEY_PREVIOUS)"
            ))
        })?;
        let data = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| Error::internal("sealed value is not base64url"))?;
        if data.len() < NONCE_LEN {
            return Err(Error::internal("sealed value is truncated"));
        }
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let nonce = aws_lc_rs::aead::Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::internal("bad nonce"))?;
        let mut in_out = ciphertext.to_vec();
        let plain = Self::cipher(key)?
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut in_out)
            .map_err(|_| {
                Error::internal("decryption failed (wrong master key or tampered data)")
            })?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_roundtrip_and_aad_binding() {
        let vault = Vault::new(&MasterKeys::from_parts([7u8; 32], vec![]));
        let sealed = vault.seal(b"private", "row-1").unwrap();
        assert!(!sealed.contains("private"));
        assert_eq!(vault.open(&sealed, "row-1").unwrap(), b"private");
        assert!(vault.open(&sealed, "row-2").is_err());
    }

    #[test]
    fn rotated_master_key_still_opens_old_values() {
        let old = Vault::new(&MasterKeys::from_parts([1u8; 32], vec![]));
        let sealed = old.seal(b"x", "a").unwrap();
        let rotated = Vault::new(&MasterKeys::from_parts([2u8; 32], vec![[1u8; 32]]));
        assert_eq!(rotated.open(&sealed, "a").unwrap(), b"x");
        let without_previous = Vault::new(&MasterKeys::from_parts([2u8; 32], vec![]));
        assert!(without_previous.open(&sealed, "a").is_err());
    }

    #[test]
    fn master_key_parsing() {
        assert!(MasterKey::parse("too-short").is_err());
        let key = MasterKey::new([9u8; 32]);
        assert_eq!(MasterKey::parse(&key.to_base64()).unwrap().id(), key.id());
    }
}
