//! Cryptographic primitives, all on aws-lc-rs: secret generation and keyed hashing,
//! encryption at rest, signing keys and JWS.

pub mod jwt;
pub mod keys;
pub mod vault;

use aws_lc_rs::{constant_time, digest, hmac, rand};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::{Error, Result};

/// Prefixes of every secret Heimdall issues (docs/src/apps-and-keys.md).
pub mod prefix {
    pub const ROOT_KEY: &str = "hm_root_";
    pub const APP_KEY: &str = "hm_pak_";
    pub const CLIENT_SECRET: &str = "hm_sec_";
    pub const AUTH_CODE: &str = "hm_ac_";
    pub const ACCESS_TOKEN: &str = "hm_at_";
    pub const REFRESH_TOKEN: &str = "hm_rt_";
    pub const INVITE: &str = "hm_inv_";
    pub const EMAIL_VERIFICATION: &str = "hm_ev_";
    pub const PASSWORD_RESET: &str = "hm_pr_";
    pub const WEBHOOK_SECRET: &str = "whsec_";
    /// The admin console's session cookie.
    pub const CONSOLE_SESSION: &str = "hm_cs_";
    /// The second step of a sign-in with multi-factor authentication (docs/src/mfa.md).
    pub const MFA_TOKEN: &str = "hm_mfa_";
    /// Dynamic client registration (docs/src/oauth-extensions.md): initial access
    /// tokens and registration access tokens.
    pub const INITIAL_ACCESS_TOKEN: &str = "hm_iat_";
    pub const REGISTRATION_TOKEN: &str = "hm_rat_";
    /// The device code of the device authorization grant (RFC 8628).
    pub const DEVICE_CODE: &str = "hm_dc_";
}

/// The `request_uri` prefix of pushed authorization requests (RFC 9126 §2.2).
pub mod urn {
    pub const REQUEST_URI: &str = "urn:ietf:params:oauth:request_uri:";
}

/// `n` random bytes from the system CSPRNG.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes).map_err(|_| Error::internal("system random generator failed"))?;
    Ok(bytes)
}

/// A new secret: `prefix` + 256 random bits, base64url (43 characters).
pub fn generate_secret(prefix: &str) -> Result<String> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes(32)?)
    ))
}

/// Short random identifier (128 bits, base64url), e.g. for key ids.
pub fn random_id() -> Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes(16)?))
}

pub fn sha256(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA256, data).as_ref().to_vec()
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

/// Lower-case hex (a table lookup per nibble; `format!` per byte cost ~100
/// instructions a byte on hot paths).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Constant-time equality.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    #[allow(deprecated)]
    constant_time::verify_slices_are_equal(a, b).is_ok()
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

/// Keyed SHA-256 (HMAC) of high-entropy secrets, with keys derived from the current
/// and previous master keys so that a master-key rotation keeps old secrets valid.
#[derive(Clone)]
pub struct SecretHasher {
    keys: Vec<hmac::Key>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher")
    }
}

impl SecretHasher {
    pub fn new(master: &vault::MasterKeys) -> Self {
        let keys = master
            .hash_keys()
            .iter()
            .map(|k| hmac::Key::new(hmac::HMAC_SHA256, k))
            .collect();
        Self { keys }
    }

    /// The hash to store for a new secret (hex).
    pub fn hash(&self, secret: &str) -> String {
        // `keys` is never empty: MasterKeys always holds the current key.
        self.keys
            .first()
            .map(|key| hex(hmac::sign(key, secret.as_bytes()).as_ref()))
            .unwrap_or_default()
    }

    /// Every hash the secret may be stored under (current key first).
    pub fn candidates(&self, secret: &str) -> Vec<String> {
        self.keys
            .iter()
            .map(|key| hex(hmac::sign(key, secret.as_bytes()).as_ref()))
            .collect()
    }

    /// Whether `secret` hashes to `stored` under any key, compared in constant time.
    pub fn verify(&self, secret: &str, stored: &str) -> bool {
        self.candidates(secret)
            .iter()
            .fold(false, |ok, c| ct_eq(c.as_bytes(), stored.as_bytes()) | ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_prefix_and_256_bits() {
        let s = generate_secret(prefix::APP_KEY).unwrap();
        assert!(s.starts_with("hm_pak_"));
        assert_eq!(s.len(), "hm_pak_".len() + 43);
        assert_ne!(s, generate_secret(prefix::APP_KEY).unwrap());
    }

    #[test]
    fn hex_is_lower_case_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff, 0x10]), "000fa5ff10");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn hasher_accepts_previous_master_keys() {
        let old = vault::MasterKeys::from_parts([1u8; 32], vec![]);
        let stored = SecretHasher::new(&old).hash("hm_pak_x");
        let rotated = vault::MasterKeys::from_parts([2u8; 32], vec![[1u8; 32]]);
        let hasher = SecretHasher::new(&rotated);
        assert!(hasher.verify("hm_pak_x", &stored));
        assert!(!hasher.verify("hm_pak_y", &stored));
        assert_ne!(hasher.hash("hm_pak_x"), stored);
    }
}
